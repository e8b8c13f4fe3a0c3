"""The one-line dialog behind `n`, `a` and `d`: type, Enter saves, Esc cancels."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from cockpit.domain import ENTRY_TEXT, Entry
from cockpit.store import StoreError


class EntryDialog(ModalScreen[Entry | None]):
    """Ask for one line of text and save it with `save`; the entry is committed before closing.

    A store error keeps the dialog open with the text intact, so nothing typed is lost.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, title: str, placeholder: str, save: Callable[[str], Entry]) -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.placeholder = placeholder
        self.save = save

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = self.title_text
            # A paste over the limit is refused whole (with the bell), never cut.
            yield Input(placeholder=self.placeholder, max_length=ENTRY_TEXT.chars, id="text")
            yield Label("Enter saves · Esc cancels", classes="dialog-hint", id="hint")

    @on(Input.Submitted, "#text")
    def submit(self, event: Input.Submitted) -> None:
        text = event.value
        if not text.strip():
            self.query_one("#hint", Label).update("Type something first, or Esc to cancel.")
            return
        try:
            entry = self.save(text)
        except StoreError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self.dismiss(entry)

    def action_cancel(self) -> None:
        self.dismiss(None)
