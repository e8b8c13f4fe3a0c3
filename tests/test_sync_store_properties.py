"""Fold-equivalence through the store (hypothesis): the same entries imported in any order, in
any chunks, with duplicates, into fresh databases give the same `cockpit show --json` shared
fields; importing again changes nothing."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cockpit.board import build_board, incident_json
from cockpit.config import Config
from cockpit.domain import Kind, storable
from cockpit.store import Store
from cockpit.sync.entry import SyncEntry
from cockpit.sync.fold import fold, timeline, unique
from cockpit.sync.hlc import Hlc
from tests.conftest import FakeClock
from tests.sync.strategies import IDS, NODES, entries

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
LOCAL_ONLY = {"id", "update_overdue", "next_update_due", "deliveries", "notices", "sync"}
"""Fields that differ between laptops by design: local ids, the reader's clock, this laptop's
deliveries, its own announcements and its sending state."""


def declared(gid_node: str, uid: str) -> SyncEntry:
    meta = {"event": "declared", "severity": "SEV-2", "title": "Checkout", "service": "api"}
    return SyncEntry(
        uid=uid, hlc=Hlc(1, 0, gid_node), at=T0, written_at=T0, kind=Kind.SYSTEM,
        author="alice", text="declared SEV-2: Checkout", meta=meta, node=gid_node,
    )  # fmt: skip


def in_range(entry: SyncEntry) -> SyncEntry:
    """`entry` with its times moved into the years cockpit stores (2000-2099), same ms."""

    def moved(moment: datetime) -> datetime:
        return moment.replace(year=2000 + moment.year % 100)  # a leap year stays one

    return replace(entry, at=moved(entry.at), written_at=moved(entry.written_at))


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[SyncEntry], list[list[SyncEntry]]]:
    """An incident's entries, and two other ways to hand them over: permuted, chunked, with
    some entries repeated."""
    first = declared(draw(NODES), draw(IDS))
    rest = [e for e in draw(st.lists(entries().map(in_range), max_size=10)) if e.uid != first.uid]
    # Copies of one uid that differ (an event several laptops derive the same uid for): the
    # set keeps the same copy everywhere.
    twins = []
    for entry in draw(st.lists(st.sampled_from(rest), max_size=2, unique_by=id)) if rest else []:
        node = draw(NODES)
        hlc = Hlc(entry.hlc.wall_ms, entry.hlc.counter, node)
        twins.append(replace(entry, node=node, hlc=hlc, text=draw(st.sampled_from(["", "twin"]))))
    rest = [*rest, *twins]
    orders = []
    for _ in range(2):
        shuffled = draw(st.permutations(rest))
        repeats = draw(st.lists(st.sampled_from(rest), max_size=3)) if rest else []
        orders.append([*shuffled, *repeats])
    return [first, *rest], orders


def shared(store: Store, gid: str) -> dict[str, Any]:
    incident = store.incident_by_gid(gid)
    board = build_board(store, Config(), incident.id, T0)
    shown = json.loads(json.dumps(incident_json(store, board)))
    for entry in shown["entries"]:
        del entry["id"], entry["origin"]  # local arrival order and where this laptop got it
        entry.pop("corrects", None)  # a local id
    return {k: v for k, v in shown.items() if k not in LOCAL_ONLY}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deliveries(), st.integers(1, 4))
def test_any_order_and_duplication_gives_the_same_state(data, chunk) -> None:  # type: ignore[no-untyped-def]
    everything, orders = data
    gid = "a" * 32
    with tempfile.TemporaryDirectory() as tmp:
        views = []
        for number, order in enumerate([everything[1:], *orders]):
            with Store.open(Path(tmp) / f"{number}.db", clock=FakeClock(T0)) as store:
                store.import_entries(gid, [everything[0]], "file")
                for start in range(0, len(order), chunk):
                    store.import_entries(gid, order[start : start + chunk], "slack")
                view = shared(store, gid)
                assert store.import_entries(gid, everything, "file") == []
                assert shared(store, gid) == view
                views.append(view)
        assert views[0] == views[1] == views[2]
    # and it is the state the pure fold gives
    state = fold(everything)
    assert views[0]["severity"] == (state.severity or "")
    assert views[0]["status"] == state.status.value
    assert views[0]["roles"] == dict(state.roles)
    assert views[0]["runbook"] == state.runbook
    assert [e["uid"] for e in views[0]["entries"]] == [e.uid for e in timeline(everything)]
    kept = unique(everything)
    assert [e["text"] for e in views[0]["entries"]] == [
        storable(kept[e["uid"]].text) for e in views[0]["entries"]
    ]
