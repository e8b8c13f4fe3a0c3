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
from cockpit.tui.keys import key_text


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
            cancel = key_text(self.app, "dialog.cancel")
            yield Label(
                f"Enter saves · {cancel} cancels", classes="dialog-hint", id="hint", markup=False
            )

    @on(Input.Submitted, "#text")
    def submit(self, event: Input.Submitted) -> None:
        text = event.value
        if not text.strip():
            cancel = key_text(self.app, "dialog.cancel")
            self.query_one("#hint", Label).update(f"Type something first, or {cancel} to cancel.")
            return
        try:
            entry = self.save(text)
        except StoreError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self.dismiss(entry)

    def action_cancel(self) -> None:
        self.dismiss(None)
