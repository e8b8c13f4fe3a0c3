"""The question declaring asks when the team's Slack channel already has an open incident:
one key joins it (or opens it, when this laptop has it), one declares a new one all the same,
Esc goes back to the declare dialog."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from cockpit.domain import strip_control
from cockpit.sync.channel import OpenIncident
from cockpit.tui.keys import key_text

Choice = Literal["join", "new"]


class OpenIncidentOffer(ModalScreen[Choice | None]):
    """Shows the open incidents found (newest first); join takes up the newest."""

    BINDINGS = [
        Binding("j", "join", "Join it", id="declare.join"),
        Binding("n", "new", "Declare anyway", id="declare.new"),
        Binding("escape", "cancel", "Back", id="dialog.cancel"),
    ]

    def __init__(self, found: Sequence[OpenIncident], now: datetime) -> None:
        super().__init__(classes="dialog")
        self.found = list(found)
        self.now = now

    def compose(self) -> ComposeResult:
        newest = self.found[0]
        with Vertical(classes="dialog-box -wide", id="open-incident") as box:
            box.border_title = "Already open in Slack"
            lines = [
                Content.styled(strip_control(found.describe(self.now)), "bold")
                for found in self.found
            ]
            yield Static(Content("\n").join(lines), id="found")
            join, new, back = (
                key_text(self.app, i) for i in ("declare.join", "declare.new", "dialog.cancel")
            )
            what = f"opens {newest.local_ref}" if newest.local_ref else "joins it"
            yield Label(
                f"{join} {what} · {new} declares a new incident all the same · {back} goes back",
                classes="dialog-hint",
                id="hint",
                markup=False,
            )

    def action_join(self) -> None:
        self.dismiss("join")

    def action_new(self) -> None:
        self.dismiss("new")

    def action_cancel(self) -> None:
        self.dismiss(None)
