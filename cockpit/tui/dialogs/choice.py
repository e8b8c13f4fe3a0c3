"""A picker dialog (severity, status): arrows move, Enter applies, Esc cancels."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from cockpit.store import Store
from cockpit.tui.dialog import Dialog
from cockpit.tui.keys import key_text


class ChoiceDialog(Dialog[str | None]):
    """Pick one of `choices` (value, label); `apply(store, value)` commits it before the dialog
    closes. Labels are plain text (they come from the configuration)."""

    def __init__(
        self,
        title: str,
        choices: Sequence[tuple[str, str]],
        current: str | None,
        apply: Callable[[Store, str], object],
    ) -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.current = current
        self.apply = apply

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = self.title_text
            yield OptionList(
                *(
                    Option(
                        Content(label + ("  (current)" if value == self.current else "")), id=value
                    )
                    for value, label in self.choices
                ),
                id="choices",
            )
            cancel = key_text(self.app, "dialog.cancel")
            yield Label(
                f"Enter applies · {cancel} cancels", classes="dialog-hint", id="hint", markup=False
            )

    def on_mount(self) -> None:
        options = self.query_one("#choices", OptionList)
        values = [value for value, _ in self.choices]
        if self.current in values:
            options.highlighted = values.index(self.current)

    @on(OptionList.OptionSelected, "#choices")
    async def choose(self, event: OptionList.OptionSelected) -> None:
        value = event.option.id
        if value is None:
            return
        if value == self.current:
            self.dismiss(value)
            return
        await self.commit(lambda store: self.apply(store, value), lambda _: self.dismiss(value))
