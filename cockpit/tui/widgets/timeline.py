"""The timeline pane: a virtualised line widget over the entries table.

Only the visible lines are rendered, from pages of entries read from SQLite on demand and kept
in a small cache. An incident with 50,000 entries opens as fast as one with ten, and a new entry
costs one count query and the lines it changes, never a rebuild.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cockpit.domain import Clock, Entry, Kind, format_local, one_line, unreadable_note
from cockpit.store import Store, StoreError

PAGE_SIZE = 200
"""Entries read from SQLite at a time."""

KIND_LABELS: dict[Kind, str] = {
    Kind.NOTE: "note",
    Kind.ACTION: "action",
    Kind.DECISION: "decision",
    Kind.UPDATE: "update",
    Kind.SEVERITY: "severity",
    Kind.STATUS: "status",
    Kind.ROLE: "role",
    Kind.STEP: "step",
    Kind.ESCALATION: "escalate",
    Kind.SYSTEM: "system",
    Kind.EXTERNAL: "external",
}
KIND_WIDTH = max(len(label) for label in KIND_LABELS.values())
AUTHOR_WIDTH = 8


@dataclass(frozen=True)
class TimelineFilter:
    """What the timeline shows: entries whose text or author contains `text`, of `kinds`."""

    text: str = ""
    kinds: tuple[Kind, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.text or self.kinds)

    def describe(self) -> str:
        parts = []
        if self.text:
            parts.append(f"“{self.text}”")  # as typed: repr() would double a backslash
        if self.kinds:
            parts.append(", ".join(kind.value for kind in self.kinds))
        return " · ".join(parts)


def parse_filter(query: str) -> TimelineFilter:
    """`db kind:action kind:decision` -> text "db", kinds (action, decision); ValueError if a kind
    is unknown."""
    words: list[str] = []
    kinds: list[Kind] = []
    for word in query.split():
        prefix, _, value = word.partition(":")
        if value and prefix.lower() in ("kind", "k"):
            try:
                kinds.append(Kind(value.lower()))
            except ValueError:
                names = ", ".join(kind.value for kind in Kind)
                raise ValueError(f"unknown kind {value!r} (expected one of {names})") from None
        else:
            words.append(word)
    return TimelineFilter(" ".join(words), tuple(dict.fromkeys(kinds)))


class Timeline(ScrollView, can_focus=True):
    """Every entry of one incident: local time, kind, author, text. Follows the bottom live."""

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", id="timeline.up", show=False),
        Binding("down,j", "cursor_down", "Down", id="timeline.down", show=False),
        Binding("pageup", "page_up", "Page up", id="timeline.page_up", show=False),
        Binding("pagedown", "page_down", "Page down", id="timeline.page_down", show=False),
        Binding("home", "first", "First entry", id="timeline.first", show=False),
        Binding("end", "last", "Last entry (follow)", id="timeline.last", show=False),
        Binding(
            "enter",
            "read",
            "read",
            id="cockpit.timeline.read",
            tooltip="Read the selected timeline entry whole",
            show=False,  # no room in the footer at 80 columns: the border names it
        ),
    ]

    COMPONENT_CLASSES = {
        "timeline--time",
        "timeline--author",
        "timeline--cursor",
        "timeline--backdated",
        "timeline--empty",
        "timeline--starred",
        "timeline--unreadable",
        *(f"timeline--{kind.value}" for kind in Kind),
    }

    cursor: reactive[int] = reactive(-1, init=False)
    """Index of the selected entry in the (filtered) timeline; -1 when empty."""

    class Selected(Message):
        """The cursor moved to another entry."""

        def __init__(self, entry: Entry | None) -> None:
            super().__init__()
            self.entry = entry

    def __init__(
        self,
        store: Store,
        clock: Clock,
        reader: Callable[[Timeline], Screen[Any]],
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.store = store
        self.clock = clock
        self.reader = reader
        """The screen that shows one entry whole (its screen is above this widget's floor)."""
        self.incident_id: int | None = None
        self.filter = TimelineFilter()
        self.count = 0
        self.following = True
        self.starred: set[int] = set()  # entries starred as key moments for the post-mortem
        self._pages: LRUCache[int, list[Entry]] = LRUCache(16)
        self._lines: LRUCache[tuple[int, int, bool, bool, str, bool], Strip] = LRUCache(1024)
        self._styles: dict[bool, dict[str, Style]] = {}
        self._last_error = ""

    def on_mount(self) -> None:
        self.anchor()

    # -- what is shown

    def show_incident(self, incident_id: int | None) -> None:
        """Show another incident (or none), from its newest entry."""
        self.incident_id = incident_id
        self.filter = TimelineFilter()
        self.starred = self.store.starred(incident_id) if incident_id is not None else set()
        self._reload()

    def set_filter(self, timeline_filter: TimelineFilter) -> None:
        self.filter = timeline_filter
        self._reload()

    def _reload(self) -> None:
        self._pages.clear()
        self.count = self._count()
        self.following = True
        self._resize()
        self._move_cursor(self.count - 1)
        self.call_after_refresh(self._scroll_to_cursor)
        self.refresh()

    def _count(self) -> int:
        if self.incident_id is None:
            return 0
        try:
            return self.store.entry_count(
                self.incident_id, kinds=self.filter.kinds or None, contains=self.filter.text or None
            )
        except StoreError as exc:
            self._failed(exc)
            return 0

    def _resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self.count)

    def entries_added(self, entries: Sequence[Entry]) -> None:
        """New entries were committed (here or by another process): show them.

        Every cached page is dropped: an entry dated after everything shown shifts the pages
        read from the newest end, a backdated one the pages after it. Only the pages drawn are
        read again, each from its nearer end.
        """
        if not entries or self.incident_id is None:
            return
        self.count = self._count()
        # Pages read from the newest end shift with every new entry: read again the ones drawn.
        self._pages.clear()
        self._resize()
        if self.following:
            self._move_cursor(self.count - 1)
        self.refresh()

    def refresh_stars(self) -> None:
        """Re-read which entries are starred; redraw if that changed."""
        starred = self.store.starred(self.incident_id) if self.incident_id is not None else set()
        if starred != self.starred:
            self.starred = starred
            self.refresh()

    def entry_at(self, index: int) -> Entry | None:
        """The entry at `index` in the (filtered) timeline, read from SQLite if not cached."""
        if self.incident_id is None or not 0 <= index < self.count:
            return None
        number, offset = divmod(index, PAGE_SIZE)
        page = self._pages.get(number)
        if page is None:
            start = number * PAGE_SIZE
            size = min(PAGE_SIZE, self.count - start)
            after = self.count - start - size  # entries newer than this page
            try:
                # From whichever end is nearer: the newest pages cost as little as the first.
                page = self.store.entries(
                    self.incident_id,
                    offset=min(start, after),
                    limit=size,
                    kinds=self.filter.kinds or None,
                    contains=self.filter.text or None,
                    from_newest=after < start,
                )
            except StoreError as exc:  # a damaged page of the database: say so, keep drawing
                self._failed(exc)
                return None
            self._pages[number] = page
        return page[offset] if offset < len(page) else None

    def _failed(self, error: StoreError) -> None:
        """One notification per distinct problem, not one per line drawn."""
        if str(error) != self._last_error:
            self._last_error = str(error)
            self.notify(str(error), severity="error", timeout=15)

    @property
    def selected(self) -> Entry | None:
        """The entry under the cursor."""
        return self.entry_at(self.cursor)

    # -- cursor

    def _move_cursor(self, index: int) -> None:
        index = max(-1, min(index, self.count - 1))
        if self.count and index < 0:
            index = 0
        self.following = index == self.count - 1
        if index != self.cursor:
            self.cursor = index
        self._scroll_to_cursor()

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh()
        self.post_message(self.Selected(self.selected))

    def _scroll_to_cursor(self) -> None:
        if self.following:
            # Anchored: layout keeps the bottom in view, from the very first frame on.
            self.scroll_end(animate=False, immediate=True)
            return
        height = self.scrollable_content_region.height
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif height and self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        self._move_cursor(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self._move_cursor(self.cursor + 1)

    def action_page_up(self) -> None:
        self._move_cursor(self.cursor - max(1, self.scrollable_content_region.height - 1))

    def action_page_down(self) -> None:
        self._move_cursor(self.cursor + max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self._move_cursor(0)

    def action_last(self) -> None:
        self._move_cursor(self.count - 1)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Nothing to read in an empty timeline: the palette does not offer it then.
        return self.count > 0 if action == "read" else True

    def action_read(self) -> None:
        """Open the selected entry whole (text wrapped, times, reason, corrections, source)."""
        if self.selected is None:
            return
        self.app.push_screen(self.reader(self))

    def on_resize(self) -> None:
        self._resize()
        # The new size is laid out on the next refresh; scroll once the limits are known.
        self.call_after_refresh(self._scroll_to_cursor)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None:
            self._move_cursor(self.scroll_offset.y + offset.y)

    # -- rendering

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._lines.clear()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        entry = self.entry_at(index)
        if entry is None:
            if index == 0 and self.count == 0 and self.incident_id is not None:
                style = self.get_component_rich_style("timeline--empty")
                text = "no entries match the filter" if self.filter.active else "no entries yet"
                return Strip([Segment(text[:width], style)]).extend_cell_length(
                    width, self.rich_style
                )
            return Strip.blank(width, self.rich_style)
        today = self.clock().astimezone().date().isoformat()
        key = (
            entry.id,
            width,
            index == self.cursor,
            self.has_focus,
            today,
            entry.id in self.starred,
        )
        strip = self._lines.get(key)
        if strip is None:
            strip = self._render_entry(entry, width, index == self.cursor)
            self._lines[key] = strip
        return strip

    def _render_entry(self, entry: Entry, width: int, is_cursor: bool) -> Strip:
        """One entry as a line of segments (built directly: this runs for every new line)."""
        # Component styles depend on focus (the cursor is brighter in a focused timeline).
        styles = self._styles.get(self.has_focus)
        if styles is None:
            styles = self._styles[self.has_focus] = {
                name: self.get_component_rich_style(name) for name in self.COMPONENT_CLASSES
            }
        base = self.rich_style + styles["timeline--cursor"] if is_cursor else self.rich_style
        author = one_line(entry.author)
        if cell_len(author) > AUTHOR_WIDTH:
            author = set_cell_size(author, AUTHOR_WIDTH - 1) + "…"
        when = "??:??" if "at" in entry.unreadable else format_local(entry.at, self.clock())
        parts = [
            (when, styles["timeline--time"]),
            (" ", None),
            (KIND_LABELS[entry.kind].ljust(KIND_WIDTH), styles[f"timeline--{entry.kind}"]),
            (" ", None),
            (set_cell_size(author, AUTHOR_WIDTH), styles["timeline--author"]),
            (" ", None),
        ]
        if entry.backdated:
            parts.append(("↶ ", styles["timeline--backdated"]))
        if entry.id in self.starred:
            parts.append(("★ ", styles["timeline--starred"]))
        if entry.unreadable:  # the marker first, the words, then what could not be read
            parts.append(("⚠ ", styles["timeline--unreadable"]))
        parts.append((one_line(entry.text), None))
        if entry.unreadable:
            note = unreadable_note(entry.unreadable).removeprefix("⚠ ")
            parts.append((f"  ({note})", styles["timeline--unreadable"]))
        segments: list[Segment] = []
        room = width
        for text, style in parts:
            if room <= 0:
                break
            size = cell_len(text)
            if size > room:
                text = set_cell_size(text, room - 1) + "…" if room > 1 else "…"
                size = room
            segments.append(Segment(text, base + style if style else base))
            room -= size
        if room > 0:
            segments.append(Segment(" " * room, base))
        return Strip(segments, width)
