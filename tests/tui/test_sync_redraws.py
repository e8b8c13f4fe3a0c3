"""Pilot tests: what a syncing app does on its event loop when nothing changed, when the clock
moves, and when teammates' entries arrive (issue 15: no added key latency while syncing).

A key waits behind whatever the event loop is doing; these tests count that work instead of
timing it: which widgets are asked to redraw (and whether to lay the screen out again), which
are restyled, and which SQL statements run on the app's own connection.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.widget import Widget

from cockpit.config import Config, config_from_dict
from cockpit.domain import Kind, Status
from cockpit.store import Peer, Store
from cockpit.sync.presence import SyncStatus
from cockpit.tui.app import CockpitApp, make_app
from cockpit.tui.screens.cockpit import CockpitScreen
from cockpit.tui.team import TeamLine, TeamRunner, TeamView
from cockpit.tui.widgets.timeline import Timeline
from tests.conftest import T0, FakeClock
from tests.tui.conftest import AUTHOR

SIZE = (120, 40)


@dataclass
class Redraws:
    """What the screen asked Textual for: (widget type, layout too?) per refresh, widget type
    per restyle (a class added or removed)."""

    refreshes: list[tuple[str, bool]] = field(default_factory=list)
    restyles: list[str] = field(default_factory=list)

    @property
    def widgets(self) -> set[str]:
        return {name for name, _ in self.refreshes} | set(self.restyles)

    @property
    def layouts(self) -> list[str]:
        return [name for name, layout in self.refreshes if layout]

    def clear(self) -> None:
        """Count from here on."""
        self.refreshes.clear()
        self.restyles.clear()


@pytest.fixture
def redraws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Redraws]:
    """Counts every refresh and restyle from the moment `redraws.refreshes` is cleared."""
    seen = Redraws()
    refresh, update_styles = Widget.refresh, DOMNode.update_node_styles

    def counted_refresh(self: Widget, *regions: Any, **options: Any) -> Widget:
        seen.refreshes.append((type(self).__name__, bool(options.get("layout"))))
        return refresh(self, *regions, **options)

    def counted_restyle(self: DOMNode, animate: bool = True) -> None:
        seen.restyles.append(type(self).__name__)
        update_styles(self, animate)

    monkeypatch.setattr(Widget, "refresh", counted_refresh)
    monkeypatch.setattr(DOMNode, "update_node_styles", counted_restyle)
    yield seen


@pytest.fixture
def team_config(tmp_path: Path) -> Config:
    """Sync on (Slack in bot mode); the background sync itself is not started by these tests,
    which hand the screen what it would have seen."""
    return config_from_dict(
        {
            "user": {"name": AUTHOR},
            "slack": {
                "token_env": "COCKPIT_TEST_NO_SUCH_TOKEN",
                "channel": "C0INCIDENT",
                "api_url": "http://127.0.0.1:9/api",
            },
            "database": {"busy_timeout_ms": 200},
        }
    )


@pytest.fixture
def no_background_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TeamRunner, "start", lambda self: None)


@contextlib.asynccontextmanager
async def opened(
    config: Config, store: Store, clock: FakeClock
) -> AsyncIterator[tuple[CockpitApp, Pilot[int], CockpitScreen]]:
    """The app on `store`'s incident, its first frame drawn."""
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CockpitScreen)
        yield app, pilot, screen


class Teammate:
    """Bob's laptop: his own database holding the incident (imported from ours, as `cockpit
    join` would), whose new entries reach our database through an import on another
    connection, as the background sync's own connection does."""

    def __init__(self, tmp_path: Path, ours: Path, clock: FakeClock, incident_id: int) -> None:
        self.clock = clock
        self.ours = ours
        with Store.open(ours, clock=clock) as store:
            self.gid = store.incident(incident_id).gid
            entries = store.sync_entries(incident_id)
        self.store = Store.open(tmp_path / "bob.db", clock=clock)
        self.store.import_entries(self.gid, entries, "file")
        self.incident_id = self.store.incident_by_gid(self.gid).id

    def write(self, count: int, kind: Kind = Kind.NOTE) -> None:
        for n in range(count):  # in the same second: our clocks stay still
            self.store.append(self.incident_id, kind, f"bob saw {n}", "bob")

    def arrive(self, *, one_by_one: bool = False) -> list[str]:
        """Import into our database what bob wrote: in one transaction (one Slack message),
        or one transaction per entry."""
        entries = self.store.sync_entries(self.incident_id)
        batches = [[entry] for entry in entries] if one_by_one else [entries]
        added: list[str] = []
        with Store.open(self.ours, clock=self.clock) as ours:
            for batch in batches:
                added += ours.import_entries(self.gid, batch, "slack")
        return added

    def close(self) -> None:
        self.store.close()


async def test_a_tick_that_changes_nothing_redraws_nothing(
    config: Config, store: Store, clock: FakeClock, redraws: Redraws
) -> None:
    store.declare("Checkout API errors", "SEV-1", AUTHOR)
    async with opened(config, store, clock) as (_app, _pilot, screen):
        redraws.clear()
        for _ in range(3):  # the clock does not move: nothing on screen changes
            screen.tick()
            screen.poll()
            screen.refresh_board()
        assert redraws.refreshes == []
        assert redraws.restyles == []


async def test_the_clocks_moving_repaints_two_lines_and_lays_out_nothing(
    config: Config, store: Store, clock: FakeClock, redraws: Redraws
) -> None:
    store.declare("Checkout API errors", "SEV-1", AUTHOR)
    async with opened(config, store, clock) as (_app, _pilot, screen):
        redraws.clear()
        clock.advance(seconds=1)
        screen.tick()
        # "00:00:01 since declared" and the countdown: repainted where they are, same size.
        assert sorted(redraws.refreshes) == [("NextUpdatePane", False), ("Static", False)]
        assert redraws.restyles == []
        summary = str(screen.query_one("#summary").render())
        assert "00:00:01 since declared" in summary


async def test_a_change_of_severity_still_restyles_and_redraws_the_header(
    config: Config, store: Store, clock: FakeClock, redraws: Redraws
) -> None:
    """The other side of redrawing only what changed: what did change is drawn."""
    incident = store.declare("Checkout API errors", "SEV-1", AUTHOR)
    async with opened(config, store, clock) as (_app, pilot, screen):
        header = screen.query_one("IncidentHeader")
        assert header.has_class("-sev1")
        with Store.open(store.path, clock=clock) as other:
            other.set_severity(incident.id, "SEV-3", "bob")
            other.set_status(incident.id, Status.RESOLVED, "bob")
        redraws.refreshes.clear()
        screen.poll()
        await pilot.pause()
        assert header.has_class("-sev3") and header.has_class("-resolved")
        assert not header.has_class("-sev1")
        assert "SEV-3" in str(screen.query_one("#severity").render())
        assert ("Static", True) in redraws.refreshes  # the badge is as wide as its text


async def test_the_team_line_reads_the_sync_threads_snapshot_not_the_database(
    team_config: Config, store: Store, clock: FakeClock, no_background_sync: None
) -> None:
    incident = store.declare("Checkout API errors", "SEV-1", AUTHOR)
    async with opened(team_config, store, clock) as (app, _pilot, screen):
        bob = Peer("node-bob", ("bob",), T0)
        app.team.views[incident.id] = TeamView(SyncStatus("live"), (bob,))
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        try:
            for _ in range(5):
                clock.advance(seconds=1)
                screen.tick()
        finally:
            store.conn.set_trace_callback(None)
        text = str(screen.query_one(TeamLine).render())
        assert "live" in text and "bob 02:14" in text
        assert not [s for s in statements if "GROUP BY" in s]


async def test_without_a_snapshot_the_teammates_are_read_once_per_change(
    team_config: Config, store: Store, clock: FakeClock, tmp_path: Path, no_background_sync: None
) -> None:
    """An incident the sync does not read (resolved long ago), or before its first round: the
    teammates come from the database, once per commit seen, never once a second."""
    incident = store.declare("Checkout API errors", "SEV-1", AUTHOR)
    bob = Teammate(tmp_path, store.path, clock, incident.id)
    try:
        async with opened(team_config, store, clock) as (_app, _pilot, screen):
            statements: list[str] = []
            store.conn.set_trace_callback(statements.append)
            try:
                for _ in range(4):
                    clock.advance(seconds=1)
                    screen.tick()
                assert len([s for s in statements if "GROUP BY" in s]) <= 1
                bob.write(1)
                bob.arrive()
                statements.clear()
                screen.poll()
                for _ in range(4):
                    clock.advance(seconds=1)
                    screen.tick()
            finally:
                store.conn.set_trace_callback(None)
            assert len([s for s in statements if "GROUP BY" in s]) == 1
            text = str(screen.query_one(TeamLine).render())
            assert "starting…" in text and "bob" in text
    finally:
        bob.close()


@pytest.mark.parametrize("one_by_one", [False, True], ids=["one message", "50 commits"])
async def test_fifty_teammates_entries_are_one_timeline_redraw_and_nothing_else(
    team_config: Config,
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    redraws: Redraws,
    no_background_sync: None,
    monkeypatch: pytest.MonkeyPatch,
    one_by_one: bool,
) -> None:
    """Teammates' notes change the timeline and nothing else: the other panes are neither
    redrawn nor restyled, and the entries between two polls arrive as one batch."""
    incident = store.declare("Checkout API errors", "SEV-1", AUTHOR)
    bob = Teammate(tmp_path, store.path, clock, incident.id)
    try:
        async with opened(team_config, store, clock) as (app, pilot, screen):
            timeline = screen.query_one(Timeline)
            app.team.views[incident.id] = TeamView(SyncStatus("live"), ())
            screen.tick()
            await pilot.pause()
            before = timeline.count
            batches: list[int] = []
            entries_added = Timeline.entries_added

            def counted(self: Timeline, entries: Any) -> None:
                batches.append(len(entries))
                entries_added(self, entries)

            monkeypatch.setattr(Timeline, "entries_added", counted)
            bob.write(50, Kind.NOTE)
            assert len(bob.arrive(one_by_one=one_by_one)) == 50
            redraws.clear()
            screen.poll()
            screen.poll()  # nothing new: nothing more
            await pilot.pause()
            assert batches == [50]
            assert timeline.count == before + 50
            assert redraws.restyles == []
            assert redraws.widgets <= {"Timeline", "ScrollBar"}, redraws.refreshes
            assert timeline.selected is not None and timeline.selected.text == "bob saw 49"
    finally:
        bob.close()


async def test_the_syncs_own_bookkeeping_redraws_nothing(
    team_config: Config,
    store: Store,
    clock: FakeClock,
    redraws: Redraws,
    no_background_sync: None,
) -> None:
    """After each post the sync writes down the message that carried the entry: a commit the
    screen sees, that changes nothing it shows."""
    incident = store.declare("Checkout API errors", "SEV-1", AUTHOR)
    entry = store.append(incident.id, Kind.NOTE, "checked the dashboards", AUTHOR)
    async with opened(team_config, store, clock) as (app, pilot, screen):
        app.team.views[incident.id] = TeamView(SyncStatus("live"), ())
        screen.tick()
        await pilot.pause()
        redraws.clear()
        with Store.open(store.path, clock=clock) as sync:
            sync.mark_sent([entry.uid], "C0INCIDENT", "1795000000.000100")
        version = store.data_version()
        screen.poll()
        await pilot.pause()
        assert screen._data_version == version  # the commit was seen
        assert redraws.refreshes == [] and redraws.restyles == []
