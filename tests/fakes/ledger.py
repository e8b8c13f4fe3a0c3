"""An in-memory stand-in for the store's sync API (`cockpit.comms.sync.SyncLedger`), so the
Slack protocol can be tested against the fake Slack without a database: one per "laptop"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from cockpit.domain import Incident, Kind, Status
from cockpit.sync.entry import Origin, SyncEntry, is_declared
from cockpit.sync.fold import fold, timeline
from cockpit.sync.hlc import Hlc, receive, tick, wall_ms
from cockpit.sync.ids import new_gid, new_node, new_uid
from cockpit.sync.presence import SyncThread


def _now() -> datetime:
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class MemoryLedger:
    """Entries per incident (by gid), what was sent, the thread, and a hybrid clock."""

    def __init__(self, author: str = "alice", node: str | None = None) -> None:
        self.author = author
        self._node = node or new_node()
        self.clock: Hlc | None = None
        self.gids: dict[int, str] = {}
        self.refs: dict[int, str] = {}
        self.entries: dict[int, dict[str, SyncEntry]] = {}
        self.sent: dict[str, tuple[str, str]] = {}
        self.threads: dict[int, SyncThread] = {}
        self.imports: list[list[str]] = []

    @property
    def node(self) -> str:
        return self._node

    # -- local writes (what the store does for `declare`, `log`, `severity` ...)

    def declare(self, title: str, severity: str = "SEV-2") -> int:
        incident_id = len(self.gids) + 1
        self.gids[incident_id] = new_gid()
        self.entries[incident_id] = {}
        meta = {"event": "declared", "severity": severity, "title": title, "service": "api"}
        self.write(incident_id, Kind.SYSTEM, f"declared {severity}", meta)
        return incident_id

    def write(
        self, incident_id: int, kind: Kind, text: str, meta: dict[str, object] | None = None
    ) -> SyncEntry:
        now = _now()
        self.clock = tick(self.clock, wall_ms(now), self.node)
        entry = SyncEntry(
            uid=new_uid(),
            hlc=self.clock,
            at=now,
            written_at=now,
            kind=kind,
            author=self.author,
            text=text,
            meta=meta or {},
            node=self.node,
        )
        self.entries[incident_id][entry.uid] = entry
        return entry

    # -- the SyncLedger protocol

    def incident(self, incident_id: int) -> Incident:
        state = fold(self.entries[incident_id].values())
        declared = state.declared_at or _now()
        return Incident(
            id=incident_id,
            title=state.title,
            severity=state.severity or "SEV-2",
            status=state.status,
            declared_at=declared,
            impact_started_at=state.impact_started_at or declared,
            service=state.service,
            roles=dict(state.roles),
        )

    def incident_gid(self, incident_id: int) -> str:
        return self.gids[incident_id]

    def sync_entries(self, incident_id: int) -> list[SyncEntry]:
        return timeline(self.entries[incident_id].values())

    def unsent_entries(self, incident_id: int) -> list[SyncEntry]:
        return [
            e
            for e in self.sync_entries(incident_id)
            if e.node == self.node and e.uid not in self.sent
        ]

    def mark_sent(self, uids: Sequence[str], channel: str, ts: str) -> None:
        for uid in uids:
            self.sent.setdefault(uid, (channel, ts))

    def import_entries(
        self, incident: int | str, entries: Sequence[SyncEntry], origin: Origin
    ) -> list[str]:
        if isinstance(incident, str):
            found = [i for i, gid in self.gids.items() if gid == incident]
            if found:
                incident_id = found[0]
            else:
                incident_id = len(self.gids) + 1
                self.gids[incident_id] = incident
                self.entries[incident_id] = {}
        else:
            incident_id = incident
        added = []
        for entry in entries:
            if entry.uid in self.entries[incident_id]:
                continue
            self.entries[incident_id][entry.uid] = replace(entry, origin=origin)
            self.clock = receive(self.clock, entry.hlc, wall_ms(_now()), self.node)
            added.append(entry.uid)
        self.imports.append(added)
        return added

    def thread_for(self, incident_id: int) -> SyncThread | None:
        return self.threads.get(incident_id)

    def set_thread(self, incident_id: int, thread: SyncThread) -> None:
        self.threads[incident_id] = thread

    # -- for assertions

    def uids(self, incident_id: int) -> set[str]:
        return set(self.entries[incident_id])

    def status(self, incident_id: int) -> Status:
        return fold(self.entries[incident_id].values()).status

    def declared(self, incident_id: int) -> SyncEntry:
        return next(e for e in self.entries[incident_id].values() if is_declared(e))
