"""Add or edit one action item: title, owner, deadline, state. Enter saves, Esc cancels."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.validation import Function, Length
from textual.widgets import Input, Label, Select

from cockpit.domain import (
    NAME_TEXT,
    TITLE_TEXT,
    ActionItem,
    ItemState,
    parse_deadline,
    strip_control,
)
from cockpit.store import Store
from cockpit.tui.dialog import Dialog
from cockpit.tui.keys import key_text
from cockpit.tui.unsaved import Unsaved


class ActionItemDialog(Dialog[ActionItem | None]):
    """`save(store, title, owner, deadline text, state)` commits the item before the dialog
    closes.

    A store error, a busy database or a bad deadline keeps the dialog open with everything typed
    intact.
    """

    def __init__(
        self,
        save: Callable[[Store, str, str, str, ItemState], ActionItem],
        now: datetime,
        item: ActionItem | None = None,
    ) -> None:
        super().__init__()
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
                [(Text(state.label), state.value) for state in ItemState],
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

    def _typed(self) -> tuple[str, str, str, ItemState]:
        return (
            self.query_one("#title", Input).value,
            self.query_one("#owner", Input).value,
            self.query_one("#deadline", Input).value,
            ItemState(str(self.query_one("#state", Select).value)),
        )

    @on(Input.Submitted)
    async def submit(self) -> None:
        title, owner, deadline, state = self._typed()
        if not title.strip():
            self.say(f"A title is required ({key_text(self.app, 'dialog.cancel')} cancels).")
            self.query_one("#title", Input).focus()
            return
        if not self._valid_deadline(deadline):
            self.say("Deadline: YYYY-MM-DD, +7d or 2w, or empty for none.")
            self.query_one("#deadline", Input).focus()
            return
        await self.commit(
            lambda store: self.save(store, title, owner, deadline, state), self.dismiss
        )

    def unsaved(self) -> Unsaved | None:
        title, owner, deadline, state = self._typed()
        item = self.item
        start = (
            (item.title, item.owner, item.deadline.isoformat() if item.deadline else "", item.state)
            if item
            else ("", "", "", ItemState.OPEN)
        )
        if (title, owner, deadline, state) == start:
            return None
        text = "\n".join(
            f"{name}: {value}"
            for name, value in (("title", title), ("owner", owner), ("deadline", deadline))
            if value
        )
        valid = bool(title.strip()) and self._valid_deadline(deadline)
        return Unsaved(
            f"action item #{item.id}" if item else "the new action item",
            text,
            (lambda store: self.save(store, title, owner, deadline, state)) if valid else None,
            lambda saved: self.after_commit(lambda: self.dismiss(saved)),
        )
