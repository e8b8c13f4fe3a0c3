"""Assign a role: pick the role, type the person (empty clears it), Enter saves."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from cockpit.domain import NAME_TEXT, Entry, one_line, strip_control
from cockpit.store import StoreError
from cockpit.tui.keys import key_text


class RoleDialog(ModalScreen[Entry | None]):
    """Give a role to a person with `save(role, person)`; committed before the dialog closes.

    Dismisses with the role-change entry, or None when cancelled or nothing changed.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(
        self,
        roles: Sequence[str],
        holders: Mapping[str, str],
        save: Callable[[str, str], Entry | None],
    ) -> None:
        super().__init__(classes="dialog")
        self.roles = list(roles)
        self.holders = dict(holders)
        self.save = save
        self.role: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = "Assign a role"
            yield OptionList(
                *(
                    Option(
                        f"{role.capitalize():<14}{one_line(self.holders.get(role, '')) or '—'}",
                        id=role,
                    )
                    for role in self.roles
                ),
                id="roles",
            )
            yield Input(
                placeholder="person (empty clears the role)",
                max_length=NAME_TEXT.chars,
                id="person",
                disabled=True,
            )
            yield Label(
                f"Enter picks the role, then Enter saves · {key_text(self.app, 'dialog.cancel')} "
                "cancels",
                classes="dialog-hint",
                id="hint",
                markup=False,
            )

    @on(OptionList.OptionSelected, "#roles")
    def pick_role(self, event: OptionList.OptionSelected) -> None:
        self.role = event.option.id
        if self.role is None:
            return
        person = self.query_one("#person", Input)
        person.disabled = False
        person.value = strip_control(self.holders.get(self.role, ""))  # an editor is a screen too
        person.border_title = self.role.capitalize()
        person.focus()

    @on(Input.Submitted, "#person")
    def submit(self, event: Input.Submitted) -> None:
        if self.role is None:
            return
        try:
            entry = self.save(self.role, event.value.strip())
        except StoreError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self.dismiss(entry)

    def action_cancel(self) -> None:
        self.dismiss(None)
