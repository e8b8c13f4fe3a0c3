"""Shared fixtures: a controllable clock, a temporary store, and the CLI as a real process."""

from __future__ import annotations

import compileall
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.store import Store

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 27, 2, 14, 0, tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    """Bytecode for the package and the fakes, written once before any test starts a process.
    An installed cockpit has it (pip compiles it); under PYTHONDONTWRITEBYTECODE (set on the
    machines this suite runs on) every `python -m cockpit` the tests start would otherwise
    compile each module again: a quarter of what such a process costs."""
    if hasattr(config, "workerinput"):
        return  # an xdist worker: the controller has done it before starting the workers
    for folder in (ROOT / "cockpit", ROOT / "tests" / "fakes"):
        compileall.compile_dir(folder, quiet=1)
    compileall.compile_file(ROOT / "tests" / "__init__.py", quiet=1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked `slow` first, the rest in their order: the two workers then share out
    the minute-long scenarios at the start and end on short tests, not one waiting for the
    other's last campaign."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


class FakeClock:
    """A clock tests move by hand: `clock.advance(minutes=5)`."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "cockpit.db"


@pytest.fixture
def store(db_path: Path, clock: FakeClock) -> Iterator[Store]:
    with Store.open(db_path, clock=clock) as opened:
        yield opened


def cli_env(db: Path | None = None, config: Path | None = None, **extra: str) -> dict[str, str]:
    """An environment for running `python -m cockpit` from this checkout, isolated from the user."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    env["PYTHONPATH"] = str(ROOT)
    env["HOME"] = env.get("COCKPIT_TEST_HOME", str(ROOT / ".pytest_cache" / "home"))
    env["XDG_CONFIG_HOME"] = str(Path(env["HOME"]) / ".config")
    env["XDG_DATA_HOME"] = str(Path(env["HOME"]) / ".local" / "share")
    if db is not None:
        env["COCKPIT_DB"] = str(db)
    if config is not None:
        env["COCKPIT_CONFIG"] = str(config)
    env.update(extra)
    return env


def run_cli(
    *args: str,
    db: Path | None = None,
    config: Path | None = None,
    input: str | bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 30,
) -> subprocess.CompletedProcess[str]:
    """Run `cockpit ARGS` as a real process; returns the completed process (text mode)."""
    raw = input.encode("utf-8") if isinstance(input, str) else input
    done = subprocess.run(
        [sys.executable, "-m", "cockpit", *args],
        input=raw,
        capture_output=True,
        env=env or cli_env(db, config),
        timeout=timeout,
        cwd=ROOT,
    )
    return subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode("utf-8", errors="replace"),
        done.stderr.decode("utf-8", errors="replace"),
    )
