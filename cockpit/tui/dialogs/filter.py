"""Filter the timeline by text and kind: `db kind:action`; an empty line shows everything."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.validation import Function
from textual.widgets import Input, Label

from cockpit.domain import Kind, one_line
from cockpit.tui.keys import key_text
from cockpit.tui.widgets.timeline import TimelineFilter, parse_filter


def _valid(query: str) -> bool:
    try:
        parse_filter(query)
    except ValueError:
        return False
    return True


def _as_query(current: TimelineFilter) -> str:
    return " ".join([current.text, *(f"kind:{kind.value}" for kind in current.kinds)]).strip()


class FilterDialog(ModalScreen[TimelineFilter | None]):
    """Ask for a filter; dismisses with it (empty = show all), or None on Esc."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, current: TimelineFilter) -> None:
        super().__init__(classes="dialog")
        self.current = current

    def compose(self) -> ComposeResult:
        kinds = " ".join(kind.value for kind in Kind)
        with Vertical(classes="dialog-box") as box:
            box.border_title = "Filter the timeline"
            yield Input(
                value=_as_query(self.current),
                placeholder="text and/or kind:decision",
                validators=[Function(_valid, "unknown kind")],
                id="query",
            )
            yield Label(f"kinds: {kinds}", classes="dialog-hint")
            cancel = key_text(self.app, "dialog.cancel")
            yield Label(
                f"Enter applies (empty shows all) · {cancel} cancels",
                classes="dialog-hint",
                id="hint",
                markup=False,
            )

    @on(Input.Submitted, "#query")
    def submit(self, event: Input.Submitted) -> None:
        try:
            chosen = parse_filter(event.value)
        except ValueError as exc:  # names the kind typed: plain text, never markup
            self.query_one("#hint", Label).update(Content(one_line(str(exc))))
            return
        self.dismiss(chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)
