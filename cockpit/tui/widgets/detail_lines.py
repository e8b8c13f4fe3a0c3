"""Detail views: one thing (a timeline entry, a runbook step) read whole, in a modal.

`DetailLines` shows labelled rows wrapped to the width, rendered line by line on demand like
the timeline, so a pasted log of thousands of lines opens and scrolls as fast as one line.
User text is drawn as plain segments: nothing in it is read as markup. `DetailScreen` is the
modal both views share: ↑/↓ move to the previous or next item, PgUp/PgDn scroll, Esc closes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from textual.app import ComposeResult
from textual.binding import Binding
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Label

from cockpit.domain import strip_control
from cockpit.tui.keys import key_text

TEXT_LIMIT = 200_000
"""Characters of one text shown (a 4 MiB paste is cut here; `cockpit export` has it all)."""

_WORD = re.compile(r"\S+\s*|\s+")


def readable(text: str, limit: int = TEXT_LIMIT) -> str:
    """User text for a wrapped view: control sequences removed, line breaks kept, tabs expanded,
    cut at `limit` characters with a line saying how much was left out."""
    clean = strip_control(text.replace("\r\n", "\n").replace("\r", "\n")).expandtabs(4)
    if len(clean) > limit:
        left = len(clean) - limit
        clean = clean[:limit] + f"\n… {left:,} more characters (`cockpit export` has them all)"
    return clean


def wrap(text: str, width: int, limit: int | None = None) -> list[str]:
    """`text` as lines of at most `width` cells: words kept whole where they fit, longer ones
    cut, line breaks and leading indentation kept (logs and commands stay readable). With
    `limit`, stops once it has more lines than that (enough to know the text overflows)."""
    width = max(width, 1)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if limit is not None and len(lines) > limit:
            break
        # Printable ASCII (control characters are stripped before) is one cell a character.
        measure = len if paragraph.isascii() else cell_len
        if measure(paragraph) <= width:
            lines.append(paragraph)
            continue
        line, size = "", 0
        for match in _WORD.finditer(paragraph):
            word = match.group()
            cells = measure(word)
            if size + cells <= width:
                line, size = line + word, size + cells
                continue
            bare = word.rstrip()
            if bare and size + measure(bare) <= width:  # fits without its trailing space
                lines.append(line + bare)
                line, size = "", 0
                continue
            if line:
                lines.append(line.rstrip())
            space = word[len(bare) :]
            if measure(bare) > width:
                pieces = chop_cells(bare, width)
                lines.extend(pieces[:-1])
                bare = pieces[-1]
            line = bare + space
            size = measure(line)
        lines.append(line.rstrip())
    return lines


@dataclass(frozen=True)
class Row:
    """One labelled value; an empty label spans the whole width (the item's own text)."""

    label: str
    text: str
    style: str = ""  # "", "muted" or "strong": a component class of `DetailLines`


class DetailLines(ScrollView, can_focus=False):
    """Rows wrapped to the width (values hang under themselves), drawn only where visible."""

    COMPONENT_CLASSES = {"detail--label", "detail--muted", "detail--strong"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: tuple[Row, ...] = ()
        # Layout asks at one width and renders at another (the scrollbar's gutter): keep both.
        self._wrapped: LRUCache[int, list[tuple[str, str, str]]] = LRUCache(4)

    def show(self, rows: Sequence[Row]) -> None:
        """Show other rows, from the top."""
        self.rows = tuple(rows)
        self._wrapped.clear()
        self._resize(self.scrollable_content_region.width)
        self.scroll_home(animate=False, immediate=True)
        self.refresh(layout=True)

    def lines(self, width: int, limit: int | None = None) -> list[tuple[str, str, str]]:
        """(label cell, text, style) per screen line at `width`, computed once per width;
        with `limit`, only about that many (not cached)."""
        cached = self._wrapped.get(width)
        if cached is not None:
            return cached
        labels = [row.label for row in self.rows if row.label]
        gutter = max(map(cell_len, labels)) + 2 if labels else 0
        lines: list[tuple[str, str, str]] = []
        for row in self.rows:
            if limit is not None and len(lines) > limit:
                return lines
            if not row.label:
                lines.extend(("", part, row.style) for part in wrap(row.text, width, limit))
                continue
            label = row.label + " " * (gutter - cell_len(row.label))
            for index, part in enumerate(wrap(row.text, width - gutter, limit)):
                lines.append((label if index == 0 else " " * gutter, part, row.style))
        if limit is None:
            self._wrapped[width] = lines
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        # Layout tries several widths; past the screen's height the answer no longer matters
        # (max-height cuts it), so a long text is not wrapped whole for each try.
        return len(self.lines(width, limit=viewport.height))

    def _resize(self, width: int) -> None:
        if width > 0:
            self.virtual_size = Size(width, len(self.lines(width)))

    def on_resize(self) -> None:
        self._resize(self.scrollable_content_region.width)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        lines = self.lines(width)
        index = self.scroll_offset.y + y
        if not 0 <= index < len(lines):
            return Strip.blank(width, self.rich_style)
        label, text, style = lines[index]
        segments = []
        if label:
            segments.append(
                Segment(label, self.rich_style + self.get_component_rich_style("detail--label"))
            )
        text_style = self.rich_style
        if style:
            text_style += self.get_component_rich_style(f"detail--{style}")
        segments.append(Segment(text, text_style))
        return Strip(segments).extend_cell_length(width, self.rich_style).crop(0, width)


class DetailScreen(ModalScreen[None]):
    """A modal reading one item whole; subclasses say which rows and how to move."""

    BINDINGS = [
        Binding("escape", "close", "close", id="dialog.cancel"),
        Binding("enter", "close", "close", id="detail.close"),
        Binding("up,k", "previous", "previous", id="detail.previous"),
        Binding("down,j", "next", "next", id="detail.next"),
        Binding("pageup", "scroll(-1)", "scroll up", id="detail.page_up"),
        Binding("pagedown", "scroll(1)", "scroll down", id="detail.page_down"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="dialog")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box -wide", id="detail"):
            yield DetailLines(id="detail-lines")
            yield Label(self.keys_hint(), classes="dialog-hint", id="detail-hint", markup=False)

    def keys_hint(self) -> str:
        """The keys line under the rows, with the keys as configured."""
        previous, following, up, down, close = (
            key_text(self.app, binding_id)
            for binding_id in (
                "detail.previous",
                "detail.next",
                "detail.page_up",
                "detail.page_down",
                "dialog.cancel",
            )
        )
        return f"{previous}{following} previous/next · {up}/{down} scroll · {close} close"

    def on_mount(self) -> None:
        self.refresh_detail()

    def refresh_detail(self) -> None:
        """Show the current item again (its state may have changed)."""

    def show(self, title: str, position: str, rows: Sequence[Row]) -> None:
        box = self.query_one("#detail")
        box.border_title = Content(title)  # a step's title is text from a runbook file
        box.border_subtitle = Content(position)
        self.query_one(DetailLines).show(rows)

    def action_scroll(self, pages: int) -> None:
        lines = self.query_one(DetailLines)
        if pages < 0:
            lines.scroll_page_up(animate=False)
        else:
            lines.scroll_page_down(animate=False)

    def action_previous(self) -> None:
        """Show the item before this one."""

    def action_next(self) -> None:
        """Show the item after this one."""

    def action_close(self) -> None:
        self.dismiss(None)
