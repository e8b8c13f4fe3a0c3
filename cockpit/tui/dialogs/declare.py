"""Declare an incident: title, severity, service and commander (the person on call is
suggested); Enter declares, Esc cancels.

With team sync on, Enter first looks in the team's Slack channel (off the event loop): an
incident open there is offered (`OpenIncidentOffer`: join it, or declare anyway). Slack that
cannot be asked never stops a declaration: it is said in one line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.validation import Length
from textual.widgets import Input, Label, Select

from cockpit.domain import NAME_TEXT, TITLE_TEXT, Incident, Severity, strip_control
from cockpit.store import Store
from cockpit.tui.dialog import Dialog
from cockpit.tui.keys import key_text
from cockpit.tui.unsaved import Unsaved

if TYPE_CHECKING:
    from cockpit.sync.channel import OpenIncident
    from cockpit.tui.dialogs.open_incident import Choice
    from cockpit.tui.team import ChannelCheck


class DeclareDialog(Dialog[Incident | None]):
    """`declare(store, title, severity, service, commander)` commits the incident before the
    dialog closes; `commander` is the suggestion the commander field starts with."""

    def __init__(
        self,
        severities: Sequence[Severity],
        declare: Callable[[Store, str, str, str, str], Incident],
        commander: str = "",
        *,
        severity: str | None = None,
        service: str = "",
        channel: ChannelCheck | None = None,
    ) -> None:
        super().__init__()
        self.channel = channel
        """Looks in the team's Slack channel before declaring (None: sync off)."""
        self.looked = channel is None
        self.found: list[OpenIncident] = []
        self.severities = list(severities)
        self.declare = declare
        self.commander = commander
        names = [s.name for s in self.severities]
        self.severity = severity if severity in names else (names[0] if names else None)
        self.service = service

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = "Declare an incident"
            yield Input(
                placeholder="title: what is broken, as users see it",
                validators=[Length(minimum=1, failure_description="a title is required")],
                max_length=TITLE_TEXT.chars,
                id="title",
            )
            yield Select(
                # Text, not a str: a label from the configuration is not markup.
                [(Text(f"{s.name}  {s.label}".rstrip()), s.name) for s in self.severities],
                value=self.severity if self.severity is not None else Select.BLANK,
                allow_blank=False,
                id="severity",
            )
            yield Input(
                strip_control(self.service),
                placeholder="service (optional)",
                max_length=NAME_TEXT.chars,
                id="service",
            )
            yield Input(
                strip_control(self.commander),
                placeholder="commander (optional)",
                max_length=NAME_TEXT.chars,
                tooltip="Suggested: the person on call now" if self.commander else None,
                id="commander",
            )
            yield Label(
                f"Tab moves · Enter declares · {key_text(self.app, 'dialog.cancel')} cancels",
                classes="dialog-hint",
                id="hint",
                markup=False,
            )

    @on(Input.Submitted)
    async def submit(self) -> None:
        title = self.query_one("#title", Input).value.strip()
        if not title:
            self.say(f"A title is required ({key_text(self.app, 'dialog.cancel')} cancels).")
            self.query_one("#title", Input).focus()
            return
        if not self.looked:
            self.say("Looking in the team's Slack channel for an open incident…")
            self.run_worker(self._look(), group="declare-look", exclusive=True)
            return
        await self._declare()

    async def _declare(self) -> None:
        title = self.query_one("#title", Input).value.strip()
        severity = str(self.query_one("#severity", Select).value)
        service = self.query_one("#service", Input).value.strip()
        commander = self.query_one("#commander", Input).value.strip()
        await self.commit(
            lambda store: self.declare(store, title, severity, service, commander), self.dismiss
        )

    async def _look(self) -> None:
        from cockpit.tui.dialogs.open_incident import OpenIncidentOffer

        assert self.channel is not None
        found, problem = await self.channel.look()
        self.looked = True
        if problem is not None or not found:
            if problem is not None:
                self.app.notify(
                    f"Could not look in Slack for an open incident ({problem}); "
                    "declared all the same",
                    severity="warning",
                    timeout=10,
                )
            await self._declare()
            return
        self.found = found
        self.say(f"Enter declares all the same · {key_text(self.app, 'dialog.cancel')} cancels")
        self.app.push_screen(OpenIncidentOffer(found, self.channel.now()), self._offered)

    async def _offered(self, choice: Choice | None) -> None:
        if choice == "new":
            await self._declare()
        elif choice == "join":
            await self._join(self.found[0])

    async def _join(self, found: OpenIncident) -> None:
        assert self.channel is not None
        if found.local_ref is None:
            self.say(f"Joining {strip_control(found.title)}…")
        joined, problem = await self.channel.join(found)
        if joined is None:
            self.say(f"Could not join: {problem}; Enter declares a new incident instead")
            return
        self.dismiss(joined)

    def unsaved(self) -> Unsaved | None:
        """Declaring pages people: a quit never does it, it only asks about the typing."""
        typed = {
            "title": self.query_one("#title", Input).value.strip(),
            "service": self.query_one("#service", Input).value.strip(),
            "commander": self.query_one("#commander", Input).value.strip(),
        }
        if typed == {"title": "", "service": self.service, "commander": self.commander}:
            return None
        text = "\n".join(f"{name}: {value}" for name, value in typed.items() if value)
        return Unsaved("the new incident", text, None)
