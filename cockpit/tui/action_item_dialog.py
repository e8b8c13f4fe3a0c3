"""Add or edit one action item: title, owner, deadline, state. Enter saves, Esc cancels."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.validation import Function, Length
from textual.widgets import Input, Label, Select

from cockpit.domain import NAME_TEXT, TITLE_TEXT, strip_control
from cockpit.postmortem import ActionItem, ItemState, parse_deadline
from cockpit.store import StoreError
from cockpit.tui.keys import key_text


class ActionItemDialog(ModalScreen[ActionItem | None]):
    """`save(title, owner, deadline text, state)` commits the item before the dialog closes.

    A store error or a bad deadline keeps the dialog open with everything typed intact.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(
        self,
        save: Callable[[str, str, str, ItemState], ActionItem],
        now: datetime,
        item: ActionItem | None = None,
    ) -> None:
        super().__init__(classes="dialog")
        self.save = save
        self.now = now
        self.item = item

    def compose(self) -> ComposeResult:
        item = self.item
        with Vertical(classes="dialog-box") as box:
            box.border_title = f"Action item #{item.id}" if item else "New action item"
            yield Input(
                strip_control(item.title) if item else "",
                placeholder="what will be done: specific and assignable",
                validators=[Length(minimum=1, failure_description="a title is required")],
                max_length=TITLE_TEXT.chars,
                id="title",
            )
            yield Input(
                strip_control(item.owner) if item else "",
                placeholder="owner",
                max_length=NAME_TEXT.chars,
                id="owner",
            )
            yield Input(
                item.deadline.isoformat() if item and item.deadline else "",
                placeholder="deadline: YYYY-MM-DD, +7d or 2w (empty: none)",
                validators=[Function(self._valid_deadline, "use YYYY-MM-DD, +7d or 2w")],
                id="deadline",
            )
            yield Select(
                [(state.label, state.value) for state in ItemState],
                value=(item.state if item else ItemState.OPEN).value,
                allow_blank=False,
                id="state",
            )
            cancel = key_text(self.app, "dialog.cancel")
            yield Label(
                f"Tab moves · Enter saves · {cancel} cancels",
                classes="dialog-hint",
                id="hint",
                markup=False,
            )

    def _valid_deadline(self, text: str) -> bool:
        try:
            parse_deadline(text, self.now)
        except ValueError:
            return False
        return True

    @on(Input.Submitted)
    def submit(self) -> None:
        title = self.query_one("#title", Input)
        deadline = self.query_one("#deadline", Input)
        hint = self.query_one("#hint", Label)
        if not title.value.strip():
            hint.update(f"A title is required ({key_text(self.app, 'dialog.cancel')} cancels).")
            title.focus()
            return
        if not self._valid_deadline(deadline.value):
            hint.update("Deadline: YYYY-MM-DD, +7d or 2w, or empty for none.")
            deadline.focus()
            return
        state = ItemState(str(self.query_one("#state", Select).value))
        owner = self.query_one("#owner", Input).value
        try:
            item = self.save(title.value, owner, deadline.value, state)
        except StoreError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self.dismiss(item)

    def action_cancel(self) -> None:
        self.dismiss(None)
