"""The cockpit screen: one incident at a glance, every action one key away.

The screen is a view of the database. Keys open dialogs that write through the store (the same
methods the CLI calls); the panes then re-read what was committed. A poll of SQLite's
`data_version` picks up what other processes (`cockpit log`) wrote, within a second.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from textual.binding import Binding

from cockpit.domain import Entry, Incident, Kind, Status, find_severity
from cockpit.store import Store, StoreError
from cockpit.tui.screens.incident_view import IncidentView
from cockpit.tui.widgets.timeline import Timeline, TimelineFilter

if TYPE_CHECKING:
    from cockpit.tui.team import ChannelCheck

# The dialogs (and the Input, Select and OptionList widgets behind them) are imported when a key
# first opens one: a person paged at 2 a.m. should see the incident before they are loaded.

POLL_SECONDS = 0.25
"""How often the screen asks SQLite whether another process committed something."""

TICK_SECONDS = 1.0
"""How often the clocks on screen (time since declared, countdown) are redrawn."""

NEEDS_INCIDENT = {
    "note",
    "action",
    "decision",
    "severity",
    "status",
    "assign_role",
    "filter",
    "update",
    "outbox",
    "runbook",
    "postmortem",
    "export",
    "star",
}
"""Actions that act on the incident on screen."""

_ENTRY_PROMPTS: dict[Kind, tuple[str, str]] = {
    Kind.NOTE: ("Note", "what you saw or learned"),
    Kind.ACTION: ("Action", "what was done (a command, a change)"),
    Kind.DECISION: ("Decision", "what was decided, and why"),
}


class CockpitScreen(IncidentView):
    """Header, roles, next update, runbook and timeline of the incident being worked on.

    Writes go through the app's writer; while another process holds the database, the line
    above the footer says so and the panes show what was read last.
    """

    BINDINGS = [
        Binding("n", "note", "note", id="cockpit.note", tooltip="Log a note"),
        Binding("a", "action", "action", id="cockpit.action", tooltip="Log an action taken"),
        Binding("d", "decision", "decision", id="cockpit.decision", tooltip="Log a decision"),
        Binding("u", "update", "update", id="cockpit.update", tooltip="Publish a status update"),
        Binding("s", "severity", "sev", id="cockpit.severity", tooltip="Change the severity"),
        Binding("t", "status", "status", id="cockpit.status", tooltip="Change the status"),
        Binding("r", "assign_role", "role", id="cockpit.roles", tooltip="Assign a role"),
        Binding(
            "i",
            "incidents",
            "list",
            id="cockpit.incidents",
            tooltip="Switch incident or declare a new one",
        ),
        Binding("slash", "filter", "filter", id="cockpit.filter", tooltip="Filter the timeline"),
        Binding(
            "b",
            "runbook",
            "runbook",
            id="cockpit.runbook",
            tooltip="Link or change the runbook",
            show=False,  # no room in the footer at 80 columns; the runbook pane names the key
        ),
        Binding(
            "p",
            "postmortem",
            "post-mortem",
            id="cockpit.postmortem",
            tooltip="Edit the post-mortem",
            show=False,  # at 80 columns the footer holds the keys needed during the incident
        ),
        Binding(
            "e",
            "export",
            "export",
            id="cockpit.export",
            tooltip="Export the post-mortem",
            show=False,
        ),
        Binding(
            "asterisk",
            "star",
            "star",
            id="cockpit.star",
            tooltip="Star or unstar the selected entry as a key moment",
            key_display="*",
            show=False,
        ),
        # Not in the footer (no room at 80 columns): the delivery line under the panes shows it.
        Binding(
            "o",
            "outbox",
            "outbox",
            id="cockpit.outbox",
            tooltip="Where each status update stands; retry a failed one",
            show=False,
        ),
    ]

    def on_mount(self) -> None:
        self.query_one(Timeline).focus()
        self._open_first()
        self.set_interval(POLL_SECONDS, self.poll)
        self.set_interval(TICK_SECONDS, self.tick)

    def _open_first(self) -> None:
        """The only open incident; with several, the newest and the list; with none, the list."""
        try:
            open_ones = self.store.incidents(open_only=True)
            self.show_incident(open_ones[0].id if open_ones else None)
        except (StoreError, sqlite3.Error) as exc:
            self.report(exc)
            open_ones = []
        if len(open_ones) != 1:
            self.call_after_refresh(self.action_incidents)

    # -- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in NEEDS_INCIDENT and self.board is None:
            return False
        # A resolved incident keeps its severity; reopen it first (t) to change it.
        return not (action == "severity" and self.board and not self.board.incident.is_open)

    def _log(self, kind: Kind) -> None:
        incident_id = self.incident_id
        if incident_id is None:
            return
        from cockpit.tui.dialogs.entry import EntryDialog

        title, placeholder = _ENTRY_PROMPTS[kind]
        author = self.config.author

        def save(store: Store, text: str) -> Entry:
            return store.append(incident_id, kind, text, author)

        what = f"the {title.lower()} on {self.board.incident.ref}" if self.board else ""
        self.app.push_screen(EntryDialog(title, placeholder, save, what), self._written)

    def action_note(self) -> None:
        self._log(Kind.NOTE)

    def action_action(self) -> None:
        self._log(Kind.ACTION)

    def action_decision(self) -> None:
        self._log(Kind.DECISION)

    def action_severity(self) -> None:
        from cockpit.tui.dialogs.choice import ChoiceDialog

        if self.board is None:
            return
        incident_id = self.board.incident.id
        choices = [
            (s.name, f"{s.name:<7}{s.label}: {s.description}".rstrip(": "))
            for s in self.config.severities
        ]

        def apply(store: Store, name: str) -> Entry | None:
            severity = find_severity(self.config.severities, name)
            return store.set_severity(incident_id, severity.name, self.config.author)

        dialog = ChoiceDialog("Severity", choices, self.board.incident.severity, apply)
        self.app.push_screen(dialog, self._written)

    def action_status(self) -> None:
        from cockpit.tui.dialogs.choice import ChoiceDialog

        if self.board is None:
            return
        incident_id = self.board.incident.id
        choices = [(s.value, s.value) for s in Status]
        # Resolving with a resolution update owed opens the composer first: it resolves (with
        # the update, or without it on Esc), so the dialog itself writes nothing then.
        compose_first = self.board.incident.is_open and self.board.needs_resolution_update

        def apply(store: Store, value: str) -> Entry | None:
            if compose_first and Status(value) is Status.RESOLVED:
                return None
            return store.set_status(incident_id, Status(value), self.config.author)

        def chosen(value: str | None) -> None:
            if compose_first and value == Status.RESOLVED.value:
                self._resolve(incident_id)
            else:
                self._written(value)

        dialog = ChoiceDialog("Status", choices, self.board.incident.status.value, apply)
        self.app.push_screen(dialog, chosen)

    def _resolve(self, incident_id: int) -> None:
        from cockpit.tui.dialogs.resolution import ResolutionComposer

        try:
            composer = ResolutionComposer(self.store, self.config, incident_id, self.clock)
        except StoreError as exc:
            self.report(exc)
            return
        self.app.push_screen(composer, self._published)

    def action_assign_role(self) -> None:
        from cockpit.tui.dialogs.role import RoleDialog

        if self.board is None:
            return
        incident_id = self.board.incident.id

        def save(store: Store, role: str, person: str) -> Entry | None:
            return store.assign(incident_id, role, person, self.config.author)

        what = f" on {self.board.incident.ref}"
        dialog = RoleDialog(self.config.role_names, self.board.incident.roles, save, what)
        self.app.push_screen(dialog, self._written)

    def action_incidents(self) -> None:
        from cockpit.tui.dialogs.incidents import IncidentList, postmortem_notes

        now = self.clock()
        try:
            incidents = self.store.incidents()
            notes = postmortem_notes(self.store, self.config, now)
        except (StoreError, sqlite3.Error) as exc:
            self.report(exc)
            return

        def declare(
            store: Store, title: str, severity: str, service: str, commander: str
        ) -> Incident:
            return store.declare(
                title,
                severity,
                self.config.author,
                service=service,
                roles={"commander": commander},
            )

        dialog = IncidentList(
            incidents,
            now,
            self.incident_id,
            self.config.severities,
            declare,
            notes=notes,
            commander=self.on_call(),
            declare_defaults=(
                self.config.declare.default_severity,
                self.config.declare.default_service,
            ),
            channel=self._channel_check(),
        )
        self.app.push_screen(dialog, self._switch)

    def _channel_check(self) -> ChannelCheck | None:
        """What looks in the team's Slack channel before declaring: only when this laptop
        shares incidents (sync on, a database it writes, not a drill)."""
        from cockpit.tui.team import ChannelCheck

        shares = self.config.sync_enabled and not self.store.read_only
        if not shares or getattr(self.app, "drill", None) is not None:
            return None
        return ChannelCheck(self.app)

    def action_runbook(self) -> None:
        """Open the searchable list of runbooks; the chosen one is linked through the store."""
        from cockpit.runbooks import load_runbooks
        from cockpit.tui.dialogs.runbook_picker import RunbookPicker

        board = self.board
        if board is None:
            return
        incident_id, author = board.incident.id, self.config.author
        runbooks, errors = load_runbooks(self.config.runbook_dirs)

        def link(store: Store, name: str | None) -> Entry | None:
            return store.link_runbook(incident_id, name, author)

        picker = RunbookPicker(runbooks, errors, board.incident.runbook, link)
        # None: cancelled, or the same runbook chosen again (`_written` shows nothing then).
        self.app.push_screen(picker, self._written)

    def action_filter(self) -> None:
        from cockpit.tui.dialogs.filter import FilterDialog

        timeline = self.query_one(Timeline)
        self.app.push_screen(FilterDialog(timeline.filter), self._filtered)

    def _filtered(self, chosen: TimelineFilter | None) -> None:
        if chosen is None:
            return
        self.query_one(Timeline).set_filter(chosen)
        self._update_timeline_title()

    def action_update(self) -> None:
        if self.incident_id is None:
            return
        from cockpit.tui.dialogs.composer import Composer

        try:
            composer = Composer(self.store, self.config, self.incident_id, self.clock)
        except StoreError as exc:
            self.report(exc)
            return
        self.app.push_screen(composer, self._published)

    def _published(self, entry: Entry | None) -> None:
        self._written(entry)
        runner = getattr(self.app, "deliveries", None)
        if entry is not None and runner is not None:
            runner.wake()

    def action_outbox(self) -> None:
        runner = getattr(self.app, "deliveries", None)
        if self.incident_id is None or runner is None:
            return
        from cockpit.tui.dialogs.outbox import OutboxDialog

        self.app.push_screen(OutboxDialog(self.store, self.incident_id, self.clock, runner))

    # -- post-mortem

    def action_postmortem(self) -> None:
        if self.incident_id is None:
            return
        from cockpit.tui.screens.postmortem import PostmortemScreen

        screen = PostmortemScreen(self.config, self.store, self.clock, self.incident_id)
        self.app.push_screen(screen, lambda _: self.refresh_board())

    def action_export(self) -> None:
        if self.incident_id is not None:
            from cockpit.tui.screens.postmortem import export

            export(self, self.config, self.store, self.clock, self.incident_id)

    async def action_star(self) -> None:
        timeline = self.query_one(Timeline)
        entry = timeline.selected
        if entry is None:
            return
        author, starred = self.config.author, entry.id in timeline.starred

        def star(store: Store) -> bool:
            return store.unstar(entry.id) if starred else store.star(entry.id, author)

        await self.commit(star, lambda _: timeline.refresh_stars(), key="star")
