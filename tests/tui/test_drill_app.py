"""The app in a drill: the DRILL banner with the speed, countdowns, escalation and injections
on drill time (a fake wall clock moved by hand, ticks called directly: no sleeps), a bundled
scenario played end to end with keys at 60× with its scorecard, and snapshots at 80×24."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from cockpit.config import Config, DatabaseConfig, PostmortemConfig, UserConfig
from cockpit.domain import Kind, Status
from cockpit.drills import play
from cockpit.store.drills import DrillStore
from cockpit.tui.app import CockpitApp
from cockpit.tui.screens.drill import DrillScreen
from cockpit.tui.screens.scorecard import ScorecardScreen
from cockpit.tui.widgets.drill_banner import DrillBanner
from cockpit.tui.widgets.panes import NextUpdatePane
from tests.conftest import FakeClock
from tests.tui.conftest import AUTHOR

ZERO = datetime(2026, 11, 27, 2, 14, tzinfo=UTC)
API = "api-high-error-rate"
SIZE = (80, 24)


def drill_config(tmp_path: Path) -> Config:
    return Config(
        user=UserConfig(name=AUTHOR),
        database=DatabaseConfig(busy_timeout_ms=200),
        postmortem=PostmortemConfig(dir=str(tmp_path / "scorecards")),
    )


def drill_app(tmp_path: Path, wall: FakeClock, speed: float = 60) -> CockpitApp:
    """The app on a new drill of the API scenario, started at the fake wall's now."""
    config = drill_config(tmp_path)
    store = DrillStore.open(tmp_path / "cockpit-drills.db", clock=wall, busy_timeout_ms=200)
    drill = play.start(store, config, play.find(config, API), speed=speed, wall=wall)
    return CockpitApp(config, store, drill=drill)


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def tick(pilot: Pilot[Any]) -> None:
    """One tick of the drill screen (what its interval does every second), then its writes."""
    screen = pilot.app.screen
    assert isinstance(screen, DrillScreen)
    screen.tick()
    await settle(pilot)
    screen.sync()
    await settle(pilot)


def drill_screen(app: CockpitApp) -> DrillScreen:
    screen = app.screen_stack[1] if len(app.screen_stack) > 1 else app.screen
    assert isinstance(screen, DrillScreen)
    return screen


def banner(app: CockpitApp) -> str:
    return str(drill_screen(app).query_one(DrillBanner).render())


def texts(app: CockpitApp) -> list[str]:
    return [e.text for e in app.store.entries(1)]


async def test_the_banner_says_drill_with_the_speed_and_drill_time(tmp_path: Path) -> None:
    wall = FakeClock(ZERO)
    app = drill_app(tmp_path, wall, speed=60)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "DRILL · DRILL-1 · 60× speed · drill time 02:14:00 (minute 0)" in banner(app)
        assert "nothing is sent" in banner(app)
        header = str(app.screen.query_one("#summary", Static).render())
        assert "DRILL-1" in header and "INC-" not in header
        wall.advance(seconds=9)  # nine drill minutes
        await tick(pilot)
        assert "drill time 02:23:00 (minute 9)" in banner(app)
        assert app.screen.check_action("incidents", ()) is False  # one drill, no real list


async def test_injections_arrive_on_drill_time_in_order_and_on_their_conditions(
    tmp_path: Path,
) -> None:
    wall = FakeClock(ZERO)
    app = drill_app(tmp_path, wall, speed=60)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        wall.advance(seconds=2)  # minute 2: Maya writes at 3
        await tick(pilot)
        assert not any("14 tickets" in t for t in texts(app))
        wall.advance(seconds=1)
        await tick(pilot)
        assert any("14 tickets" in t for t in texts(app))
        # A rollback logged with `a` makes the recovery arrive 3 drill minutes later.
        await pilot.press("a", *"rollout undo deploy/api", "enter")
        await settle(pilot)
        wall.advance(seconds=2)  # minute 5: not yet (due at 6)
        await tick(pilot)
        assert not any("falling" in t for t in texts(app))
        wall.advance(seconds=5)  # minute 10, noticed late: dated at minute 6
        await tick(pilot)
        falling = [e for e in app.store.entries(1) if "falling" in e.text]
        assert [(e.at - ZERO) / timedelta(minutes=1) for e in falling] == [6.0]
        moments = [e.at for e in app.store.entries(1)]
        assert moments == sorted(moments)


async def test_countdown_and_escalation_follow_drill_time(tmp_path: Path) -> None:
    wall = FakeClock(ZERO)
    app = drill_app(tmp_path, wall, speed=60)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.screen.query_one(NextUpdatePane)
        wall.advance(seconds=29)  # drill minute 29: the first update (30 min) not yet late
        await tick(pilot)
        assert not pane.has_class("-overdue")
        assert app.store.entries(1, kinds=[Kind.ESCALATION]) == []
        wall.advance(seconds=2)  # minute 31
        await tick(pilot)
        assert pane.has_class("-overdue")
        (escalation,) = app.store.entries(1, kinds=[Kind.ESCALATION])
        assert (escalation.at - ZERO) / timedelta(minutes=1) == 31


@pytest.mark.slow
async def test_a_bundled_scenario_played_end_to_end_with_keys_ends_on_its_scorecard(
    tmp_path: Path,
) -> None:
    wall = FakeClock(ZERO)
    app = drill_app(tmp_path, wall, speed=60)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Minute 2: take the page seriously, say so, and tell customers.
        wall.advance(seconds=2)
        await tick(pilot)
        await pilot.press("s", "up", "enter")  # SEV-2 → SEV-1
        await settle(pilot)
        await pilot.press("u")
        await pilot.press("ctrl+s")  # the acknowledge template, published to the sink
        await settle(pilot)
        assert app.store.incident(1).severity == "SEV-1"
        # Minute 6: found the deploy, rolled it back.
        wall.advance(seconds=4)
        await tick(pilot)
        await pilot.press("n", *"api v142 deployed at 02:01", "enter")
        await pilot.press("a", *"rolled back api v142", "enter")
        await settle(pilot)
        # Minute 13: the rate recovered (3 + 4 minutes after the rollback); monitoring.
        wall.advance(seconds=7)
        await tick(pilot)
        assert any("[RESOLVED] api-5xx-rate" in t for t in texts(app))
        await pilot.press("t", "down", "down", "enter")  # investigating → monitoring
        await settle(pilot)
        assert app.store.incident(1).status is Status.MONITORING
        # Minute 20: resolved, with the resolution update from the composer.
        wall.advance(seconds=7)
        await tick(pilot)
        await pilot.press("t", "end", "enter")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.store.incident(1).status is Status.RESOLVED
        await settle(pilot)  # the next redraw sees it resolved: the drill ends
        assert isinstance(app.screen, ScorecardScreen)
        card = app.screen.card
        assert card.drill == "DRILL-1" and card.resolved
        assert card.check("acknowledge").passed
        assert card.check("severity").passed
        assert card.check("resolution-update").passed
        assert not card.check("steps").passed  # no step was ticked
        assert card.acknowledge_minutes == 2
        # The drill row keeps the scorecard: `cockpit drill history` sees it.
        assert app.store.drill(1).scorecard == card.to_json()  # type: ignore[attr-defined]
        await pilot.press("e")
        await settle(pilot)
        written = tmp_path / "scorecards" / "drill-api-high-error-rate-2026-11-27.md"
        assert written.read_text(encoding="utf-8").startswith("# Drill scorecard")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DrillScreen)
        assert "ENDED" in banner(app)


async def test_x_ends_the_drill_midway_and_scores_what_happened(tmp_path: Path) -> None:
    wall = FakeClock(ZERO)
    app = drill_app(tmp_path, wall, speed=60)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        wall.advance(seconds=40)
        await tick(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ScorecardScreen)
        card = app.screen.card
        assert not card.resolved and card.duration_minutes == 40
        assert not card.check("acknowledge").passed


def test_drill_screen_at_80x24(snap_compare: Any, tmp_path: Path) -> None:
    wall = FakeClock(ZERO)
    app = drill_app(tmp_path, wall, speed=10)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        wall.advance(seconds=48)  # drill minute 8
        await tick(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_scorecard_at_80x24(snap_compare: Any, tmp_path: Path) -> None:
    wall = FakeClock(ZERO)
    app = drill_app(tmp_path, wall, speed=10)
    store = app.store
    config = replace(app.config)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        wall.advance(seconds=72)  # minute 12
        from cockpit.comms.publish import publish

        publish(
            store, config, 1, "We are investigating checkout errors.", None, AUTHOR, store.clock
        )
        wall.advance(seconds=60)  # minute 22
        store.set_status(1, Status.RESOLVED, AUTHOR)
        await tick(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
