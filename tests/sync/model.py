"""A model of several laptops working one incident, for property tests of the fold.

Each laptop has a node id, a wall clock that may be skewed or jump, its clock state and the entries
it knows. It writes changes the way the store will (supersedes = the register's current winner on
this laptop; the clock ticked), and receives some or all of another laptop's entries the way an
import will (the clock moved past each one). The model records what each writer had seen, so tests
can tell "made after seeing" from "concurrent".
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from cockpit.domain import Kind, Status
from cockpit.sync.entry import (
    RUNBOOK,
    SEVERITY,
    STATUS,
    UPDATE,
    RegisterKey,
    SyncEntry,
    role_key,
    step_key,
)
from cockpit.sync.fold import fold
from cockpit.sync.hlc import Hlc, receive, tick, wall_ms
from tests.conftest import T0

NODES = ("a1a1a1a1a1a1a1a1", "b2b2b2b2b2b2b2b2", "c3c3c3c3c3c3c3c3", "0d0d0d0d0d0d0d0d")
AUTHORS = ("alice", "bob", "carol", "dave")
GID = "9" * 32


def uid_for(node: str, seq: int) -> str:
    """Deterministic uids, so hypothesis replays an example exactly."""
    return hashlib.sha256(f"{node}:{seq}".encode()).hexdigest()[:32]


def moment(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


@dataclass
class Laptop:
    node: str
    author: str
    skew_ms: int = 0
    clock: Hlc | None = None
    known: dict[str, SyncEntry] = field(default_factory=dict)
    seq: int = 0

    def wall(self, now_ms: int) -> int:
        return max(0, now_ms + self.skew_ms)

    def write(
        self,
        now_ms: int,
        kind: Kind,
        text: str,
        meta: dict[str, object],
        register: RegisterKey | None,
    ) -> SyncEntry:
        wall = self.wall(now_ms)
        self.clock = tick(self.clock, wall, self.node)
        supersedes = fold(self.known.values()).current(register) if register else None
        self.seq += 1
        entry = SyncEntry(
            uid=uid_for(self.node, self.seq),
            hlc=self.clock,
            at=moment(wall),
            written_at=moment(wall),
            kind=kind,
            author=self.author,
            text=text,
            meta=meta,
            supersedes=supersedes,
            node=self.node,
        )
        self.known[entry.uid] = entry
        return entry

    def take(self, now_ms: int, entries: Sequence[SyncEntry]) -> None:
        for entry in entries:
            if entry.uid in self.known:
                continue
            self.clock = receive(self.clock, entry.hlc, self.wall(now_ms), self.node)
            self.known[entry.uid] = entry


@dataclass
class History:
    """What a run produced: every entry, and for each write the uids its writer had seen."""

    laptops: list[Laptop]
    entries: list[SyncEntry]
    seen: dict[str, frozenset[str]]

    def everything(self) -> list[SyncEntry]:
        union: dict[str, SyncEntry] = {}
        for laptop in self.laptops:
            union.update(laptop.known)
        return list(union.values())


SEVERITY_CHANGE = st.tuples(st.just("severity"), st.sampled_from(["SEV-1", "SEV-2", "SEV-3"]))
STATUS_CHANGE = st.tuples(st.just("status"), st.sampled_from([s.value for s in Status]))
# Severity and status come up most, so that concurrent changes of one register are common.
CHANGES = st.one_of(
    SEVERITY_CHANGE,
    STATUS_CHANGE,
    SEVERITY_CHANGE,
    STATUS_CHANGE,
    st.tuples(
        st.just("role"),
        st.tuples(st.sampled_from(["commander", "communicator"]), st.sampled_from((*AUTHORS, ""))),
    ),
    st.tuples(st.just("step"), st.tuples(st.integers(1, 3), st.booleans())),
    st.tuples(st.just("runbook"), st.sampled_from(["api", "db", None])),
    st.tuples(st.just("update"), st.sampled_from([None, "identified", "monitoring"])),
    st.tuples(st.just("note"), st.text(max_size=8)),
)

WRITE = st.tuples(st.just("write"), st.integers(0, 3), CHANGES)
SYNC = st.tuples(st.just("sync"), st.integers(0, 3), st.integers(0, 3), st.integers(0, 100))
ACTIONS = st.one_of(
    WRITE,
    WRITE,
    SYNC,
    st.tuples(st.just("wait"), st.integers(0, 120_000)),
    # A wall clock that jumps: back (NTP correction, sleep) or forward, up to 10 minutes.
    st.tuples(st.just("jump"), st.integers(0, 3), st.integers(-600_000, 600_000)),
)


def _change(laptop: Laptop, now: int, change: tuple[str, object]) -> SyncEntry:
    what, value = change
    if what == "severity":
        return laptop.write(now, Kind.SEVERITY, f"→ {value}", {"to": value}, SEVERITY)
    if what == "status":
        return laptop.write(now, Kind.STATUS, f"→ {value}", {"to": value}, STATUS)
    if what == "role":
        assert isinstance(value, tuple)
        role, person = value
        meta = {"role": role, "to": person}
        return laptop.write(now, Kind.ROLE, f"{role} → {person}", meta, role_key(role))
    if what == "step":
        assert isinstance(value, tuple)
        number, done = value
        meta = {"runbook": "api", "step": number, "done": done}
        return laptop.write(now, Kind.STEP, f"step {number}", meta, step_key("api", number))
    if what == "runbook":
        meta = {"event": "runbook", "to": value}
        return laptop.write(now, Kind.SYSTEM, f"runbook {value}", meta, RUNBOOK)
    if what == "update":
        update_meta: dict[str, object] = {"targets": ["slack"]}
        if value:
            update_meta["status"] = value
        return laptop.write(now, Kind.UPDATE, "update", update_meta, UPDATE)
    return laptop.write(now, Kind.NOTE, str(value) or "note", {}, None)


@st.composite
def histories(draw: st.DrawFn, max_actions: int = 40) -> History:
    """A run: laptop 0 declares, the others get the declared entry, then random writes, partial
    syncs, waits and clock jumps, each laptop with its own skew (up to ±90 s)."""
    count = draw(st.integers(2, 4))
    nodes = draw(st.permutations(NODES))
    laptops = [
        Laptop(nodes[i], AUTHORS[i], skew_ms=draw(st.integers(-90_000, 90_000)))
        for i in range(count)
    ]
    now = wall_ms(T0)
    seen: dict[str, frozenset[str]] = {}
    declared = laptops[0].write(
        now,
        Kind.SYSTEM,
        "declared SEV-2: checkout errors",
        {"event": "declared", "severity": "SEV-2", "title": "checkout errors", "service": "api"},
        None,
    )
    seen[declared.uid] = frozenset()
    entries = [declared]
    for laptop in laptops[1:]:
        laptop.take(now, [declared])
    for action in draw(st.lists(ACTIONS, min_size=min(10, max_actions), max_size=max_actions)):
        if action[0] == "write":
            laptop = laptops[action[1] % count]
            before = frozenset(laptop.known)
            entry = _change(laptop, now, action[2])
            seen[entry.uid] = before
            entries.append(entry)
        elif action[0] == "sync":
            source, target = laptops[action[1] % count], laptops[action[2] % count]
            held = sorted(source.known.values(), key=lambda e: e.uid)
            share = held[: max(1, len(held) * action[3] // 100)]
            target.take(now, share)
        elif action[0] == "wait":
            now += action[1]
        else:
            laptops[action[1] % count].skew_ms += action[2]
    return History(laptops, entries, seen)
