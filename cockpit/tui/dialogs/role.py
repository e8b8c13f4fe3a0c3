"""Assign a role: pick the role, type the person (empty clears it), Enter saves."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from cockpit.domain import NAME_TEXT, Entry, one_line, strip_control
from cockpit.store import Store
from cockpit.tui.dialog import Dialog
from cockpit.tui.keys import key_text
from cockpit.tui.unsaved import Unsaved


class RoleDialog(Dialog[Entry | None]):
    """Give a role to a person with `save(store, role, person)`; committed before the dialog
    closes.

    Dismisses with the role-change entry, or None when cancelled or nothing changed.
    """

    def __init__(
        self,
        roles: Sequence[str],
        holders: Mapping[str, str],
        save: Callable[[Store, str, str], Entry | None],
        what: str = "",
    ) -> None:
        super().__init__()
        self.roles = list(roles)
        self.holders = dict(holders)
        self.save = save
        self.what = what
        self.role: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = "Assign a role"
            yield OptionList(
                *(
                    Option(
                        Content(
                            f"{role.capitalize():<14}{one_line(self.holders.get(role, '')) or '—'}"
                        ),
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
        person.border_title = Content(self.role.capitalize())
        person.focus()

    @on(Input.Submitted, "#person")
    async def submit(self, event: Input.Submitted) -> None:
        role = self.role
        if role is None or self.writing():
            return
        person = event.value.strip()
        await self.commit(lambda store: self.save(store, role, person), self.dismiss)

    def unsaved(self) -> Unsaved | None:
        role = self.role
        if role is None:
            return None
        person = self.query_one("#person", Input).value.strip()
        if person == self.holders.get(role, ""):
            return None
        return Unsaved(
            f"the {role}{self.what}",
            person or "(nobody: the role cleared)",
            lambda store: self.save(store, role, person),
            lambda entry: self.after_commit(lambda: self.dismiss(entry)),
        )
