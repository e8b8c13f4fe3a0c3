"""Fixtures for the app's tests: local time is UTC, clocks are injected, databases are temporary."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.config import Config, DatabaseConfig, UserConfig
from cockpit.demo import demo_config, seed_demo
from cockpit.domain import frozen_clock
from cockpit.store import Store
from cockpit.tui.app import CockpitApp, make_app

NOW = datetime(2026, 11, 27, 2, 30, tzinfo=UTC)
"""The moment every app test happens at (unless it moves its clock)."""

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


@dataclass
class MutableClock:
    """A clock a test moves by hand."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock()


@pytest.fixture
def config() -> Config:
    return Config(user=UserConfig(name=AUTHOR), database=DatabaseConfig(busy_timeout_ms=200))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "cockpit.db"


@pytest.fixture
def store(db_path: Path, clock: MutableClock) -> Iterator[Store]:
    with Store.open(db_path, clock=clock, busy_timeout_ms=200) as opened:
        yield opened


def demo_app(tmp_path: Path) -> CockpitApp:
    """The demo incident, at a frozen moment, with the demo's own runbook only."""
    config = demo_config(tmp_path, author=AUTHOR)
    config = replace(config, runbooks=replace(config.runbooks, include_bundled=False))
    seed_demo(tmp_path / "demo.db", NOW)
    return make_app(config, tmp_path / "demo.db", frozen_clock(NOW))
