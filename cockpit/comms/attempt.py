"""What a target sees of one delivery attempt (the `Attempt` of `target.py`), backed by the
store: remote references, the landed id and the carried update are written as they happen,
each answer of a service scrubbed first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cockpit.comms.target import Carried, Newer
from cockpit.domain import Clock, Kind
from cockpit.store import Delivery, Store


@dataclass
class StoredAttempt:
    """What a target sees of one attempt; every write goes straight to the store, and what a
    service answered (an id, a `ts`) goes through the scrubber first: a hostile or echoing
    service may answer with a secret as its id."""

    store: Store
    delivery: Delivery
    clock: Clock
    in_doubt: bool
    scrub: Callable[[str], str]
    sharing: bool = field(default=False, kw_only=True)
    superseded_by: Newer | None = field(default=None, kw_only=True)
    shared_refs: frozenset[str] = field(default=frozenset(), kw_only=True)
    remote_id: str | None = field(init=False)

    def __post_init__(self) -> None:
        self.remote_id = self.delivery.remote_id
        if not self.sharing:
            self.shared_refs = frozenset()

    @property
    def payload(self) -> Mapping[str, Any]:
        return self.delivery.payload

    @property
    def key(self) -> str:
        return str(self.delivery.payload.get("key") or f"delivery-{self.delivery.id}")

    def now(self) -> datetime:
        return self.clock()

    def ref(self, name: str) -> str | None:
        return self.store.remote_ref(self.delivery.incident_id, self.delivery.target, name)

    def set_ref(self, name: str, value: str) -> None:
        target, incident = self.delivery.target, self.delivery.incident_id
        if name in self.shared_refs:
            self.store.share_remote_ref(incident, target, name, self.scrub(value))
        else:
            self.store.set_remote_ref(incident, target, name, self.scrub(value))

    def landed(self, remote_id: str) -> None:
        self.remote_id = self.scrub(remote_id)
        self.store.update_delivery(self.delivery.id, remote_id=self.remote_id)

    def carried(self) -> Carried | None:
        entry_id = self.delivery.entry_id
        if not self.sharing or entry_id is None:
            return None
        if self.store.thread_for(self.delivery.incident_id) is None:
            return None  # no team thread yet: the reply goes elsewhere, the sync echoes it
        entry = self.store.shared_entry(entry_id)
        if entry is None or entry.kind is not Kind.UPDATE:
            return None
        return Carried(self.store.incident(self.delivery.incident_id).gid, entry)

    def in_thread(self, channel: str, ts: str) -> None:
        carried = self.carried()
        if carried is not None:
            self.store.mark_sent([carried.entry.uid], channel, self.scrub(ts))
