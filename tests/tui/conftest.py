"""Fixtures for the app's tests: local time is UTC, clocks are injected, databases are temporary.

`clock` and `db_path` come from the shared conftest; the store here has a short busy timeout so
a locked-database test does not wait five seconds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from cockpit.config import Config, DatabaseConfig, UserConfig
from cockpit.demo import demo_config, seed_demo
from cockpit.domain import frozen_clock
from cockpit.store import Store
from cockpit.tui.app import CockpitApp, make_app
from tests.conftest import FakeClock

DEMO_NOW = datetime(2026, 11, 27, 2, 30, tzinfo=UTC)
"""The moment the demo snapshots are taken at."""

AUTHOR = "tester"


@pytest.fixture(autouse=True)
def utc_local_time() -> Iterator[None]:
    """Local time is UTC, so what the screen shows does not depend on the machine."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.fixture(autouse=True)
def steady_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Text cursors never blink: a screen shows the same frame whenever it is captured, however
    long the machine took to get there."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda self: None)


@pytest.fixture
def config() -> Config:
    return Config(user=UserConfig(name=AUTHOR), database=DatabaseConfig(busy_timeout_ms=200))


@pytest.fixture
def store(db_path: Path, clock: FakeClock) -> Iterator[Store]:
    with Store.open(db_path, clock=clock, busy_timeout_ms=200) as opened:
        yield opened


def demo_app(tmp_path: Path) -> CockpitApp:
    """The demo incident, at a frozen moment, with the demo's own runbook only."""
    config = demo_config(tmp_path, author=AUTHOR)
    config = replace(config, runbooks=replace(config.runbooks, include_bundled=False))
    seed_demo(tmp_path / "demo.db", DEMO_NOW)
    return make_app(config, tmp_path / "demo.db", frozen_clock(DEMO_NOW))


async def settle(pilot: Pilot[int]) -> None:
    """Wait until every write the app queued has finished and its screen has shown the result
    (a write waiting for the database runs on the app's writer thread, not in a key handler)."""
    app = pilot.app
    assert isinstance(app, CockpitApp)
    await app.writer.idle()
    commits = [worker for worker in app.workers if worker.group.startswith("commit")]
    await app.workers.wait_for_complete(commits)
    await pilot.pause()
