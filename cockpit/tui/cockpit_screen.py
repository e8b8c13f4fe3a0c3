"""The cockpit screen: one incident at a glance, every action one key away.

The screen is a view of the database. Keys open dialogs that write through the store (the same
methods the CLI calls); the panes then re-read what was committed. A poll of SQLite's
`data_version` picks up what other processes (`cockpit log`) wrote, within a second.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer

from cockpit.board import Board, build_board
from cockpit.config import Config
from cockpit.domain import (
    Clock,
    Entry,
    Incident,
    Kind,
    Status,
    find_severity,
    severity_rank,
    unreadable_note,
)
from cockpit.oncall import current_shift
from cockpit.store import Store, StoreError
from cockpit.tui.deliveries import DeliveryBar
from cockpit.tui.keys import key_text
from cockpit.tui.panes import DatabaseLine, IncidentHeader, NextUpdatePane, RolesPane
from cockpit.tui.runbook_pane import RunbookPane, escalate_if_due
from cockpit.tui.team import TeamLine
from cockpit.tui.timeline import Timeline, TimelineFilter
from cockpit.tui.writer import Committing, locked

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


class CockpitScreen(Committing, Screen[None]):
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
    # Below 100 columns the footer has no room for the command-palette hint (ctrl+p still works).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    def __init__(self, config: Config, store: Store, clock: Clock) -> None:
        super().__init__()
        self.config = config
        self.store = store
        self.clock = clock
        self.incident_id: int | None = None
        self.board: Board | None = None
        self._last_entry_id = 0
        self._data_version = -1
        self._rang_for: datetime | None = None
        self._last_error = ""
        self._applicable: tuple[bool, bool] | None = None
        self._read_busy = False  # the last read found the database locked

    def compose(self) -> ComposeResult:
        yield IncidentHeader(id="header")
        with Horizontal(id="top"):
            roles = RolesPane(id="roles")
            roles.border_title = "Roles"
            yield roles
            next_update = NextUpdatePane(id="next-update")
            next_update.border_title = "Next update"
            yield next_update
        with Horizontal(id="bottom"):
            runbook = RunbookPane(self.store, self.config, id="runbook")
            runbook.border_title = "Runbook"
            yield runbook
            timeline = Timeline(self.store, self.clock, id="timeline")
            timeline.border_title = "Timeline"
            yield timeline
        yield DeliveryBar(id="deliveries")
        yield TeamLine(id="team")
        yield DatabaseLine(id="database")
        yield Footer(compact=True)

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

    # -- reading the store

    def show_incident(self, incident_id: int | None) -> None:
        """Put another incident (or none) on screen."""
        self.incident_id = incident_id
        self._rang_for = None
        # In this order, a commit racing with the load is either loaded or seen by the next poll.
        self._data_version = self._safe_data_version()
        # The newest id of any incident: O(1) on the rowid, and entries_after filters by incident.
        self._last_entry_id = self.store.last_entry_id()
        self.query_one(Timeline).show_incident(incident_id)
        self.refresh_board()
        if self.board is not None and self.board.incident.unreadable:
            note = unreadable_note(self.board.incident.unreadable)
            self.notify(
                f"{self.board.incident.ref}: {note} (see cockpit doctor)", severity="warning"
            )

    def _safe_data_version(self) -> int:
        try:
            return self.store.data_version()
        except (StoreError, sqlite3.Error):
            return -1

    def poll(self) -> None:
        """Cheap check for commits by other processes; only then read what is new.

        A read that finds the database locked skips this poll (the next one reads it all) and
        the line above the footer says the database is busy.
        """
        try:
            version = self.store.data_version()
            if version != self._data_version:
                self.sync()
                self._data_version = version
            self._read_busy = False
        except (StoreError, sqlite3.Error) as exc:
            self._read_failed(exc)
        self.show_database()

    def _read_failed(self, error: Exception) -> None:
        if locked(error):
            self._read_busy = True
        else:
            self.report(error)

    def show_database(self) -> None:
        """Say on the line above the footer whether the database keeps us waiting."""
        writer = getattr(self.app, "writer", None)
        busy_writing = writer is not None and writer.busy
        self.query_one(DatabaseLine).show(writing=busy_writing, reading=self._read_busy)

    def sync(self) -> None:
        """Show entries committed since the last look, and re-read the incident."""
        if self.incident_id is None:
            return
        new = self.store.entries_after(self.incident_id, self._last_entry_id)
        if new:
            self._last_entry_id = new[-1].id
            self.query_one(Timeline).entries_added(new)
        self.query_one(Timeline).refresh_stars()
        self.refresh_board()

    def refresh_board(self) -> None:
        """Rebuild the read model of the incident and redraw every pane from it."""
        if self.incident_id is None:
            self.board = None
        else:
            self.board = build_board(self.store, self.config, self.incident_id, self.clock())
        incident = self.board.incident if self.board else None
        self.query_one(RolesPane).show(self.board, self.config.role_names, self.on_call())
        self.query_one(RunbookPane).show(self.board)
        self._update_timeline_title()
        self.tick()
        applicable = (incident is not None, incident is not None and incident.is_open)
        if applicable != self._applicable:
            self._applicable = applicable
            self.refresh_bindings()

    def tick(self) -> None:
        """Redraw the clocks from "deadline - now"; ring the bell once when an update is late."""
        now = self.clock()
        rank = (
            severity_rank(self.config.severities, self.board.incident.severity) if self.board else 0
        )
        self.query_one(IncidentHeader).show(self.board, now, rank)
        try:
            self.query_one(DeliveryBar).show(self.store, self.incident_id, now)
            team = getattr(self.app, "team", None)
            status = team.statuses.get(self.incident_id) if team and self.incident_id else None
            self.query_one(TeamLine).show(self.store, self.incident_id, status)
        except (StoreError, sqlite3.Error) as exc:
            self._read_failed(exc)
        overdue = self.query_one(NextUpdatePane).show(self.board, now)
        deadline = self.board.deadline if self.board else None
        if overdue and deadline is not None and self._rang_for != deadline.due_at:
            self._rang_for = deadline.due_at
            self.app.bell()
        self._escalate(now)

    def _escalate(self, now: datetime) -> None:
        """Record the runbook's escalation once it is due (through the writer, off the loop)."""
        board, author = self.board, self.config.author
        escalation = board.escalation if board is not None else None
        if escalation is None or escalation.recorded_at is not None or not escalation.due(now):
            return
        if self.writing("escalation"):
            return

        def escalated(entry: Entry | None) -> None:
            if entry is not None:  # written by this process: ring once, show it
                self.app.bell()
                self._written(entry)

        self.run_worker(
            self.commit(
                lambda store: escalate_if_due(store, board, now, author),
                escalated,
                key="escalation",
            ),
            group="commit-escalation",
        )

    def _update_timeline_title(self) -> None:
        timeline = self.query_one(Timeline)
        if timeline.filter.active:
            # Content, not a str: the filter is what someone typed, never markup.
            timeline.border_subtitle = Content(
                f"{timeline.filter.describe()} · {timeline.count} shown"
            )
        elif self.incident_id is not None:
            count = "1 entry" if timeline.count == 1 else f"{timeline.count} entries"
            # Enter has no room in the footer at 80 columns: the border names it.
            read = key_text(self.app, "cockpit.timeline.read")
            timeline.border_subtitle = Content(
                f"{read} read · {count}" if timeline.count else count
            )
        else:
            timeline.border_subtitle = ""

    def report(self, error: Exception) -> None:
        """One notification line for a store problem; the same one is not repeated every poll."""
        message = str(error) if isinstance(error, StoreError) else f"database error: {error}"
        if message != self._last_error:
            self._last_error = message
            self.notify(message, severity="error", timeout=10)

    # -- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in NEEDS_INCIDENT and self.board is None:
            return False
        # A resolved incident keeps its severity; reopen it first (t) to change it.
        return not (action == "severity" and self.board and not self.board.incident.is_open)

    def _written(self, result: object) -> None:
        """After a dialog committed something: show it now, without waiting for the poll."""
        if result is not None:
            try:
                self.sync()
            except (StoreError, sqlite3.Error) as exc:
                self.report(exc)

    def _log(self, kind: Kind) -> None:
        incident_id = self.incident_id
        if incident_id is None:
            return
        from cockpit.tui.entry_dialog import EntryDialog

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
        from cockpit.tui.choice_dialog import ChoiceDialog

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
        from cockpit.tui.choice_dialog import ChoiceDialog

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
        from cockpit.tui.resolution_composer import ResolutionComposer

        try:
            composer = ResolutionComposer(self.store, self.config, incident_id, self.clock)
        except StoreError as exc:
            self.report(exc)
            return
        self.app.push_screen(composer, self._published)

    def action_assign_role(self) -> None:
        from cockpit.tui.role_dialog import RoleDialog

        if self.board is None:
            return
        incident_id = self.board.incident.id

        def save(store: Store, role: str, person: str) -> Entry | None:
            return store.assign(incident_id, role, person, self.config.author)

        what = f" on {self.board.incident.ref}"
        dialog = RoleDialog(self.config.role_names, self.board.incident.roles, save, what)
        self.app.push_screen(dialog, self._written)

    def action_incidents(self) -> None:
        from cockpit.tui.incident_list import IncidentList, postmortem_notes

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
        )
        self.app.push_screen(dialog, self._switch)

    def action_runbook(self) -> None:
        self.query_one(RunbookPane).pick_runbook()

    @on(RunbookPane.Written)
    def _runbook_written(self, event: RunbookPane.Written) -> None:
        self._written(event.entry)

    def on_call(self) -> str:
        """Who holds the pager now by the `[oncall]` rotation ("" without one)."""
        rotation = self.config.rotation
        if rotation is None:
            return ""
        return current_shift(rotation, self.clock()).person or ""

    def _switch(self, incident_id: int | None) -> None:
        if incident_id is not None:
            try:
                self.show_incident(incident_id)
            except (StoreError, sqlite3.Error) as exc:
                self.report(exc)

    def action_filter(self) -> None:
        from cockpit.tui.filter_dialog import FilterDialog

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
        from cockpit.tui.composer import Composer

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
        from cockpit.tui.outbox_dialog import OutboxDialog

        self.app.push_screen(OutboxDialog(self.store, self.incident_id, self.clock, runner))

    # -- post-mortem

    def action_postmortem(self) -> None:
        if self.incident_id is None:
            return
        from cockpit.tui.postmortem_screen import PostmortemScreen

        override = self.board.every_minutes_override if self.board else None
        screen = PostmortemScreen(
            self.config, self.store, self.clock, self.incident_id, every_minutes_override=override
        )
        self.app.push_screen(screen, lambda _: self.refresh_board())

    def action_export(self) -> None:
        if self.incident_id is not None:
            from cockpit.tui.postmortem_screen import export

            override = self.board.every_minutes_override if self.board else None
            export(self, self.config, self.store, self.clock, self.incident_id, override)

    async def action_star(self) -> None:
        timeline = self.query_one(Timeline)
        entry = timeline.selected
        if entry is None:
            return
        author, starred = self.config.author, entry.id in timeline.starred

        def star(store: Store) -> bool:
            return store.unstar(entry.id) if starred else store.star(entry.id, author)

        await self.commit(star, lambda _: timeline.refresh_stars(), key="star")
