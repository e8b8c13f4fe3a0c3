"""The incident list: open one, or declare a new one. Dismisses with the chosen incident's id."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from cockpit.config import Config
from cockpit.domain import Incident, Severity, format_duration, one_line
from cockpit.store import Store
from cockpit.tui.dialogs.declare import DeclareDialog
from cockpit.tui.keys import key_text
from cockpit.tui.team import ChannelCheck

DECLARE = "declare"


def describe(incident: Incident, now: datetime, note: str = "") -> Content:
    """One line per incident: id, severity, status, age, title (and a post-mortem note)."""
    age = format_duration((incident.resolved_at or now) - incident.declared_at)
    line = Content.assemble(
        (f"{incident.ref:<7}", "bold"),
        f" {one_line(incident.severity):<6} {incident.status.value:<13} {age:>9}  ",
        one_line(incident.title),
    )
    line = line if incident.is_open else line.stylize("$text-muted")
    return Content.assemble(line, (f"  {note}", "$text-warning")) if note else line


class IncidentList(ModalScreen[int | None]):
    """Open incidents first, then resolved ones; the first line declares a new incident."""

    BINDINGS = [Binding("escape", "cancel", "Close", id="dialog.cancel")]

    def __init__(
        self,
        incidents: Sequence[Incident],
        now: datetime,
        current: int | None,
        severities: Sequence[Severity],
        declare: Callable[[Store, str, str, str, str], Incident],
        notes: Mapping[int, str] | None = None,
        commander: str = "",
        declare_defaults: tuple[str, str] = ("", ""),
        channel: ChannelCheck | None = None,
    ) -> None:
        super().__init__(classes="dialog")
        self.channel = channel  # looks in the team's Slack channel before declaring
        self.notes = notes or {}
        self.declare_defaults = declare_defaults  # (severity, service) from [declare]
        self.commander = commander  # the person on call, suggested when declaring
        self.incidents = sorted(incidents, key=lambda i: (not i.is_open, -i.id))
        self.now = now
        self.current = current
        self.severities = severities
        self.declare = declare

    def compose(self) -> ComposeResult:
        open_count = sum(1 for i in self.incidents if i.is_open)
        if open_count == 0:
            prompt = "No open incident. Declare one to start."
        elif open_count == 1:
            prompt = "1 open incident."
        else:
            prompt = f"{open_count} open incidents: pick the one to work on."
        with Vertical(classes="dialog-box -wide") as box:
            box.border_title = "Incidents"
            yield Label(prompt, id="prompt")
            yield OptionList(
                Option(Content.styled("+ Declare a new incident…", "bold"), id=DECLARE),
                *(
                    Option(describe(i, self.now, self.notes.get(i.id, "")), id=str(i.id))
                    for i in self.incidents
                ),
                id="incidents",
            )
            close = key_text(self.app, "dialog.cancel")
            yield Label(f"Enter opens · {close} closes", classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        options = self.query_one("#incidents", OptionList)
        ids = [str(i.id) for i in self.incidents]
        if self.current is not None and str(self.current) in ids:
            options.highlighted = ids.index(str(self.current)) + 1
        elif any(i.is_open for i in self.incidents):
            options.highlighted = 1
        else:
            options.highlighted = 0

    @on(OptionList.OptionSelected, "#incidents")
    def choose(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == DECLARE:
            self.app.push_screen(
                DeclareDialog(
                    self.severities,
                    self.declare,
                    self.commander,
                    severity=self.declare_defaults[0],
                    service=self.declare_defaults[1],
                    channel=self.channel,
                ),
                self._declared,
            )
        elif event.option.id is not None:
            self.dismiss(int(event.option.id))

    def _declared(self, incident: Incident | None) -> None:
        if incident is not None:
            self.dismiss(incident.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


def postmortem_notes(store: Store, config: Config, now: datetime) -> Mapping[int, str]:
    """For the incident list: incident id -> "post-mortem due in …" / "… OVERDUE", late items."""
    from cockpit.postmortem.due import pending

    found = pending(store, config.postmortem.due_hours, now)
    notes: dict[int, list[str]] = {}
    for due in found.postmortems:
        if due.overdue(now):
            text = f"post-mortem OVERDUE by {format_duration(now - due.due_at)}"
        else:
            text = f"post-mortem due in {format_duration(due.due_at - now)}"
        notes.setdefault(due.incident.id, []).append(text)
    late: dict[int, int] = {}
    for incident, _ in found.items:
        late[incident.id] = late.get(incident.id, 0) + 1
    for incident_id, count in late.items():
        plural = "s" if count > 1 else ""
        notes.setdefault(incident_id, []).append(f"{count} action item{plural} past deadline")
    return {incident_id: " · ".join(texts) for incident_id, texts in notes.items()}
