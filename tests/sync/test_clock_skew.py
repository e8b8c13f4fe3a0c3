"""This laptop's clock against Slack's, measured on every post of the sync (the root and each
batch), kept in the database, and shown above 2 s: in the sync state `cockpit sync` and the
app's team line print, and under `sync` in `cockpit show --json`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from cockpit.board import build_board, incident_json
from cockpit.config import Config
from cockpit.domain import Kind, system_clock
from cockpit.store import Store
from cockpit.sync.presence import SyncStatus
from tests.fakes.server import Reply
from tests.fakes.slack import FakeSlack
from tests.sync.test_thread_sync import syncer


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    from cockpit.comms.transport import client

    async with client() as opened:
        yield opened


def off_by(seconds: float) -> object:
    return lambda: system_clock() + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (90, "this laptop's clock is 90.0 s ahead of Slack's"),
        (-90, "this laptop's clock is 90.0 s behind Slack's"),
        (-4, "this laptop's clock is 4.0 s behind Slack's"),
        (0, None),
        (1, None),
    ],
)
async def test_the_root_post_measures_the_skew_and_the_state_shows_it_above_two_seconds(
    tmp_path: Path, slack: FakeSlack, http: httpx.AsyncClient, seconds: float, shown: str | None
) -> None:
    clock = off_by(seconds)
    with Store.open(tmp_path / "alice.db", clock=clock) as store:  # type: ignore[arg-type]
        incident = store.declare("API down", "SEV-2", "alice").id
        assert store.clock_skew() is None  # nothing posted yet: nothing measured
        sync = syncer(slack, http, store, clock=clock)
        assert (await sync.round(incident)).failure is None
        measured = store.clock_skew()
        assert measured is not None
        assert abs(measured[0] - seconds * 1000) < 1000  # the fake answers within a second
        state = sync.status(incident).describe()
        if shown is None:
            assert state == "live"
        else:
            assert state == f"live · {shown}"
        data = incident_json(store, build_board(store, Config(), incident, clock()))  # type: ignore[operator]
        assert data["sync"]["clock_skew"] == shown
        assert data["sync"]["clock_skew_ms"] == measured[0]


async def test_every_batch_post_measures_again(
    tmp_path: Path, slack: FakeSlack, http: httpx.AsyncClient
) -> None:
    offset = {"seconds": 0.0}

    def clock() -> datetime:
        return system_clock() + timedelta(seconds=offset["seconds"])

    with Store.open(tmp_path / "alice.db", clock=clock) as store:
        incident = store.declare("API down", "SEV-2", "alice").id
        sync = syncer(slack, http, store, clock=clock)
        await sync.round(incident)
        assert not sync.status(incident).describe().endswith("Slack's")
        offset["seconds"] = -30.0  # the laptop's clock is set back (NTP, a VM resumed)
        store.append(incident, Kind.NOTE, "after the jump", "alice")
        done = await sync.round(incident)
        assert done.sent == 1
        assert sync.status(incident).describe().endswith("30.0 s behind Slack's")


async def test_a_post_without_a_readable_ts_measures_nothing(
    tmp_path: Path, slack: FakeSlack, http: httpx.AsyncClient
) -> None:
    with Store.open(tmp_path / "alice.db") as store:
        incident = store.declare("API down", "SEV-2", "alice").id
        slack.script("chat.postMessage", Reply(200, {"ok": True, "ts": "soon", "channel": "C"}))
        sync = syncer(slack, http, store)
        await sync.round(incident)
        assert store.clock_skew() is None


def test_an_offline_state_keeps_the_skew_and_off_never_shows_it() -> None:
    offline = SyncStatus("offline", 2, None, "Slack down", None, -5000)
    assert offline.describe() == (
        "offline, 2 entries waiting (Slack down) · this laptop's clock is 5.0 s behind Slack's"
    )
    assert SyncStatus("off", skew_ms=9000).describe() == "not shared (sync off)"
