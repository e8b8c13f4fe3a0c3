"""The cockpit screen as a view of the database: its panes, read from the store and redrawn
when another process commits (a poll of SQLite's `data_version`) and as the clocks move.
`cockpit.tui.screens.cockpit` adds the keys."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer

from cockpit.board import Board, build_board
from cockpit.config import Config
from cockpit.domain import Clock, Entry, incident_ref, severity_rank, unreadable_note
from cockpit.oncall import current_shift
from cockpit.runbook_policy import due_escalations, record_due_escalations
from cockpit.store import Peer, Store, StoreError
from cockpit.tui.committing import Committing
from cockpit.tui.keys import key_text
from cockpit.tui.team import TeamLine
from cockpit.tui.widgets.deliveries import DeliveryBar
from cockpit.tui.widgets.panes import DatabaseLine, IncidentHeader, NextUpdatePane, RolesPane
from cockpit.tui.widgets.runbook import RunbookPane
from cockpit.tui.widgets.timeline import Timeline
from cockpit.tui.writer import locked

# The detail screens are imported when Enter first opens one, like the dialogs: the incident
# comes on screen before they are loaded.


def _read_entry(timeline: Timeline) -> Screen[None]:
    from cockpit.tui.screens.entry_detail import EntryDetail

    return EntryDetail(timeline)


def _read_step(pane: RunbookPane) -> Screen[None]:
    from cockpit.tui.screens.step_detail import StepDetail

    return StepDetail(pane)


class IncidentView(Committing, Screen[None]):
    """Header, roles, next update, runbook and timeline of the incident on screen, as last read.

    While another process holds the database, the line above the footer says so and the panes
    show what was read last.
    """

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
        self._peers: tuple[Peer, ...] | None = None  # the teammates, while the sync has none
        self._timeline_title: tuple[str, object] | None = None

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
            runbook = RunbookPane(self.store, self.config, _read_step, id="runbook")
            runbook.border_title = "Runbook"
            yield runbook
            timeline = Timeline(self.store, self.clock, _read_entry, id="timeline")
            timeline.border_title = "Timeline"
            yield timeline
        yield DeliveryBar(id="deliveries")
        yield TeamLine(id="team")
        yield DatabaseLine(id="database")
        yield Footer(compact=True)

    # -- reading the store

    def show_incident(self, incident_id: int | None) -> None:
        """Put another incident (or none) on screen."""
        self.incident_id = incident_id
        self._rang_for = None
        self._peers = None
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
        self._peers = None  # read again if the team line needs them from here
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
            self._show_team()
        except (StoreError, sqlite3.Error) as exc:
            self._read_failed(exc)
        overdue = self.query_one(NextUpdatePane).show(self.board, now)
        deadline = self.board.deadline if self.board else None
        if overdue and deadline is not None and self._rang_for != deadline.due_at:
            self._rang_for = deadline.due_at
            self.app.bell()
        self._escalate(now)

    def _show_team(self) -> None:
        """The team line, from what the sync's thread saw after its last round; only while
        the sync has not gone round this incident (or does not sync it, resolved long ago) are
        the teammates read here, once per change to the database."""
        line = self.query_one(TeamLine)
        line.display = bool(self.config.sync_enabled) and self.incident_id is not None
        if not line.display or self.incident_id is None:
            return
        team = getattr(self.app, "team", None)
        view = team.views.get(self.incident_id) if team is not None else None
        if view is not None:
            line.show(view.status, view.peers)
            return
        if self._peers is None:
            self._peers = tuple(self.store.peers(self.incident_id))
        line.show(None, self._peers)

    def _escalate(self, now: datetime) -> None:
        """Record every runbook escalation now due, on any open incident, not only the one on
        screen (through the writer, off the loop)."""
        if self.writing("escalation"):
            return
        try:
            if not due_escalations(self.store, self.config, now):
                return
        except (StoreError, sqlite3.Error) as exc:
            self._read_failed(exc)
            return
        config = self.config

        def escalated(entries: list[Entry]) -> None:
            for entry in entries:  # written by this process: ring once, show it
                self.app.bell()
                if entry.incident_id == self.incident_id:
                    self._written(entry)
                else:
                    ref = incident_ref(entry.incident_id)
                    self.notify(f"{ref}: {entry.text}", title="Escalation", severity="warning")

        self.run_worker(
            self.commit(
                lambda store: record_due_escalations(store, config, config.author),
                escalated,
                key="escalation",
            ),
            group="commit-escalation",
        )

    def _update_timeline_title(self) -> None:
        timeline = self.query_one(Timeline)
        if timeline.filter.active:
            # Content, not a str: the filter is what someone typed, never markup.
            title = Content(f"{timeline.filter.describe()} · {timeline.count} shown")
        elif self.incident_id is not None:
            count = "1 entry" if timeline.count == 1 else f"{timeline.count} entries"
            # Enter has no room in the footer at 80 columns: the border names it.
            read = key_text(self.app, "cockpit.timeline.read")
            title = Content(f"{read} read · {count}" if timeline.count else count)
        else:
            title = Content("")
        # Setting the border repaints the whole timeline: only when it says something new.
        shown = (title.plain, title.spans)
        if shown != self._timeline_title:
            self._timeline_title = shown
            timeline.border_subtitle = title

    def report(self, error: Exception) -> None:
        """One notification line for a store problem; the same one is not repeated every poll."""
        message = str(error) if isinstance(error, StoreError) else f"database error: {error}"
        if message != self._last_error:
            self._last_error = message
            self.notify(message, severity="error", timeout=10)

    def _written(self, result: object) -> None:
        """After a dialog committed something: show it now, without waiting for the poll."""
        if result is not None:
            try:
                self.sync()
            except (StoreError, sqlite3.Error) as exc:
                self.report(exc)

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
