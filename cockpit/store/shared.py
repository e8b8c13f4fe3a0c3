"""Stored entries as every laptop shares them (`SyncEntry`), and which write a new change
supersedes. Loaded by changes, imports and exports, never by `cockpit log` writing a note.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cockpit.domain.incident import Kind
from cockpit.domain.moments import read_stored
from cockpit.store.identity import NOTICE
from cockpit.sync.entry import RegisterKey, SyncEntry, registers_written
from cockpit.sync.hlc import Hlc, parse_hlc

_KINDS_WRITING: dict[str, tuple[str, ...]] = {
    "severity": (Kind.SEVERITY.value, Kind.SYSTEM.value),
    "status": (Kind.STATUS.value, Kind.SYSTEM.value),
    "runbook": (Kind.SYSTEM.value,),
    "role": (Kind.ROLE.value,),
    "step": (Kind.STEP.value,),
    "update": (Kind.UPDATE.value,),
}


def to_sync_entry(row: Mapping[str, Any]) -> SyncEntry | None:
    """A stored entry as every laptop shares it; None for a row that cannot be read as one (an
    older row with an unreadable time or meta: `cockpit doctor` lists those)."""
    try:
        meta = json.loads(row["meta"]) if row["meta"] else {}
        if not isinstance(meta, dict):
            return None
        return SyncEntry(
            uid=row["uid"],
            hlc=parse_hlc(row["hlc"]),
            at=read_stored(row["at"]),
            written_at=read_stored(row["written_at"]),
            kind=Kind(row["kind"]),
            author=row["author"],
            text=row["text"],
            meta=meta,
            reason=row["reason"],
            corrects_uid=row["corrects_uid"],
            supersedes=row["supersedes"],
            node=row["node"],
            origin=row["origin"] if row["origin"] in ("local", "slack", "file") else "local",
        )
    except (ValueError, TypeError, RecursionError):
        return None


def written_registers(
    kind: Kind, meta: Mapping[str, object] | None, node: str, stamp: Hlc, now: datetime
) -> list[RegisterKey]:
    """The registers a new local entry of `kind` with `meta` writes."""
    probe = SyncEntry(
        uid="0" * 32,
        hlc=stamp,
        at=now,
        written_at=now,
        kind=kind,
        author="",
        text="",
        meta=meta or {},
        node=node,
    )
    return [register for register, _ in registers_written(probe)]


def register_head(conn: sqlite3.Connection, incident_id: int, register: RegisterKey) -> str | None:
    """The uid of the write that holds `register` now (the largest clock among its writes)."""
    kinds = _KINDS_WRITING[register.field]
    rows = conn.execute(
        f"SELECT * FROM entries WHERE incident_id = ? AND kind IN ({', '.join('?' * len(kinds))}) "
        f"AND origin != '{NOTICE}' ORDER BY hlc DESC, uid DESC",
        (incident_id, *kinds),
    )
    for row in rows:
        entry = to_sync_entry(row)
        if entry is not None and any(key == register for key, _ in registers_written(entry)):
            return entry.uid
    return None


def supersedes_for(
    conn: sqlite3.Connection,
    incident_id: int,
    kind: Kind,
    meta: Mapping[str, object] | None,
    node: str,
    stamp: Hlc,
    now: datetime,
) -> str | None:
    """The uid of the write a new local change replaces (its first register's holder)."""
    for register in written_registers(kind, meta, node, stamp, now):
        head = register_head(conn, incident_id, register)
        if head:
            return head
    return None
