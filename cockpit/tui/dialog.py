"""`Dialog`: the base of the dialogs that save through the app's writer (Esc cancels, the hint
line says how the save goes, a save in flight keeps the dialog open)."""

from __future__ import annotations

from typing import TypeVar

from textual.binding import Binding
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label

from cockpit.tui.committing import Committing

R = TypeVar("R")


class Dialog(Committing, ModalScreen[R]):
    """A dialog that writes through `commit` and closes with what was committed.

    Its `#hint` label shows how a save goes (busy, failed); Esc closes it with None, except
    while a save is in flight (closing would hide whether it landed).
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self) -> None:
        super().__init__(classes="dialog")

    def say(self, message: str | Content) -> None:
        self.query_one("#hint", Label).update(message)

    def action_cancel(self) -> None:
        if not self.still_saving():
            self.dismiss(None)
