"""The app's delivery worker waits for another process's lock on its own thread: the screen
stays live meanwhile, and the update goes out once the lock is released."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cockpit.comms.publish import publish
from cockpit.config import config_from_dict
from cockpit.store import Store
from cockpit.tui.app import make_app
from cockpit.tui.dialogs.filter import FilterDialog
from cockpit.tui.screens.cockpit import CockpitScreen
from cockpit.tui.widgets.panes import IncidentHeader
from tests.conftest import FakeClock
from tests.fakes import FakeSlack, FakeStatuspage
from tests.tui.test_comms_app import (  # noqa: F401 (fixtures)
    declared,
    secrets,
    slack,
    statuspage,
    tables,
    until,
)

from .conftest import AUTHOR


async def test_a_delivery_claimed_while_the_database_is_locked_does_not_freeze_the_screen(
    store: Store,
    clock: FakeClock,
    declared: int,  # noqa: F811
    slack: FakeSlack,  # noqa: F811
    statuspage: FakeStatuspage,  # noqa: F811
    db_path: Path,
) -> None:
    config = config_from_dict(
        {**tables(slack, statuspage), "database": {"busy_timeout_ms": 20_000}}
    )
    app = make_app(config, store, clock)
    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.deliveries.worker is not None)
            worker = app.deliveries.worker
            publish(store, config, declared, "Investigating.", None, AUTHOR, clock)
            other.execute("BEGIN IMMEDIATE")  # before the worker can claim the delivery
            app.deliveries.wake()
            await until(pilot, lambda: bool(worker._running))  # its attempt waits for the lock

            screen = app.screen_stack[0]
            assert isinstance(screen, CockpitScreen)
            clock.advance(minutes=9)
            summary = screen.query_one(IncidentHeader).query_one("#summary")
            await until(pilot, lambda: "00:09:00 since declared" in str(summary.render()))
            await pilot.press("slash")  # keys are handled
            await pilot.pause()
            assert isinstance(app.screen, FilterDialog)
            await pilot.press("escape")
            assert {d.state for d in store.deliveries()} == {"queued"}
            assert slack.roots() == []

            other.execute("ROLLBACK")
            await until(pilot, lambda: {d.state for d in store.deliveries()} == {"sent"}, 15)
    finally:
        other.close()
    assert len(slack.roots()) == 1
