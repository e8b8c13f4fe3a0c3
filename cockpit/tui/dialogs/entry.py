"""The one-line dialog behind `n`, `a` and `d`: type, Enter saves, Esc cancels."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label

from cockpit.domain import ENTRY_TEXT, Entry
from cockpit.store import Store
from cockpit.tui.dialog import Dialog
from cockpit.tui.keys import key_text
from cockpit.tui.unsaved import Unsaved


class EntryDialog(Dialog[Entry | None]):
    """Ask for one line of text and save it with `save(store, text)`; the entry is committed
    before closing.

    A store error, or a database busy with another process, keeps the dialog open with the text
    intact, so nothing typed is lost.
    """

    def __init__(
        self, title: str, placeholder: str, save: Callable[[Store, str], Entry], what: str = ""
    ) -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder
        self.save = save
        self.what = what or f"the {title.lower()}"

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
    async def submit(self, event: Input.Submitted) -> None:
        text = event.value
        if not text.strip():
            cancel = key_text(self.app, "dialog.cancel")
            self.say(f"Type something first, or {cancel} to cancel.")
            return
        await self.commit(lambda store: self.save(store, text), self.dismiss)

    def unsaved(self) -> Unsaved | None:
        text = self.query_one("#text", Input).value
        if not text.strip():
            return None
        return Unsaved(
            self.what,
            text,
            lambda store: self.save(store, text),
            lambda entry: self.after_commit(lambda: self.dismiss(entry)),
        )
