"""A picker dialog (severity, status): arrows move, Enter applies, Esc cancels."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from cockpit.store import StoreError
from cockpit.tui.keys import key_text


class ChoiceDialog(ModalScreen[str | None]):
    """Pick one of `choices` (value, label); `apply(value)` commits it before the dialog closes."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(
        self,
        title: str,
        choices: Sequence[tuple[str, str]],
        current: str | None,
        apply: Callable[[str], object],
    ) -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.choices = list(choices)
        self.current = current
        self.apply = apply

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = self.title_text
            yield OptionList(
                *(
                    Option(f"{label}{'  (current)' if value == self.current else ''}", id=value)
                    for value, label in self.choices
                ),
                id="choices",
            )
            cancel = key_text(self.app, "dialog.cancel")
            yield Label(f"Enter applies · {cancel} cancels", classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        options = self.query_one("#choices", OptionList)
        values = [value for value, _ in self.choices]
        if self.current in values:
            options.highlighted = values.index(self.current)

    @on(OptionList.OptionSelected, "#choices")
    def choose(self, event: OptionList.OptionSelected) -> None:
        value = event.option.id
        if value is None:
            return
        if value != self.current:
            try:
                self.apply(value)
            except StoreError as exc:
                self.notify(str(exc), severity="error", timeout=8)
                return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
