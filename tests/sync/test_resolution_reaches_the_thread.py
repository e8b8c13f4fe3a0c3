"""A resolved incident stays in the background sync until its resolution is in the thread:
`shared_incidents` lists it while this laptop has entries of it to send, and for
`KEEP_READING_RESOLVED` after it was resolved (a teammate's late update), then drops it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from cockpit.comms.sync import KEEP_READING_RESOLVED, shared_incidents
from cockpit.domain import Status
from cockpit.store import Store
from cockpit.sync.wire import decode
from tests.fakes.slack import FakeSlack
from tests.sync.test_thread_sync import syncer


async def test_the_resolution_is_sent_then_the_incident_leaves_the_loop(
    tmp_path: Path, slack: FakeSlack, http: httpx.AsyncClient
) -> None:
    now = [datetime(2026, 11, 29, 2, 0, tzinfo=UTC)]
    with Store.open(tmp_path / "alice.db", clock=lambda: now[0]) as store:
        shared = store.declare("API down", "SEV-2", "alice").id
        never_shared = store.declare("Resolved before any round", "SEV-3", "alice").id
        store.set_status(never_shared, Status.RESOLVED, "alice")
        sync = syncer(slack, http, store)
        await sync.round(shared)
        store.set_status(shared, Status.RESOLVED, "alice")
        assert shared_incidents(store) == [shared]  # resolved, but the team has not heard
        for incident in shared_incidents(store):
            await sync.round(incident)
        assert store.unsent_entries(shared) == []
        now[0] += KEEP_READING_RESOLVED - timedelta(seconds=1)
        assert shared_incidents(store) == [shared]  # a teammate's late update may still come
        now[0] += timedelta(seconds=2)
        assert shared_incidents(store) == []
        (root,) = slack.roots()
        texts = [
            wire.entry.text
            for message in slack.thread(root["ts"])
            if "metadata" in message
            for wire in decode(message["metadata"]).entries
        ]
        assert "status investigating → resolved" in texts
