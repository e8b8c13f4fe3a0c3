"""The v4 migration's backfill: ids for what an older cockpit wrote, state left as it was.

Each incident gets a gid; each entry a uid (an escalation the derived one every laptop
computes), this database's node, and a clock value that grows in write order, so the timeline
order `(at, hlc, uid)` is today's `(at, id)`. The declared entry gains the title, service and
first runbook the fold reads; each change records the write it superseded, and each correction
the uid of what it corrects. Runs inside the migration's transaction.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from cockpit.domain.incident import Kind
from cockpit.domain.moments import read_stored
from cockpit.store.identity import REGISTER_KINDS
from cockpit.store.shared import to_sync_entry
from cockpit.sync.entry import RegisterKey, registers_written
from cockpit.sync.hlc import Hlc, tick, wall_ms
from cockpit.sync.ids import escalation_uid, new_gid, new_node, new_uid

_REGISTER_KINDS = frozenset(kind.value for kind in REGISTER_KINDS)


def backfill_identities(conn: sqlite3.Connection) -> None:
    """Give every incident and entry its ids, and the database its node and clock."""
    node = new_node()
    gids: dict[int, str] = {}
    for (incident_id,) in conn.execute("SELECT id FROM incidents ORDER BY id").fetchall():
        gids[incident_id] = new_gid()
        conn.execute("UPDATE incidents SET gid = ? WHERE id = ?", (gids[incident_id], incident_id))
    for incident_id in gids:
        _complete_declared(conn, incident_id)

    last: Hlc | None = None
    uids: dict[int, str] = {}
    used: set[str] = set()
    heads: dict[tuple[int, RegisterKey], str] = {}
    rows = conn.execute("SELECT * FROM entries ORDER BY id").fetchall()
    for row in rows:
        last = tick(last, _wall(row, last), node)
        uid = _uid(row, gids.get(row["incident_id"], ""), used)
        used.add(uid)
        uids[row["id"]] = uid
        conn.execute(
            "UPDATE entries SET uid = ?, node = ?, hlc = ?, corrects_uid = ? WHERE id = ?",
            (uid, node, str(last), uids.get(row["corrects"]), row["id"]),
        )
        written = _registers(conn, row["id"]) if row["kind"] in _REGISTER_KINDS else []
        supersedes = None
        for register in written:
            supersedes = supersedes or heads.get((row["incident_id"], register))
            heads[(row["incident_id"], register)] = uid
        if supersedes:
            conn.execute("UPDATE entries SET supersedes = ? WHERE id = ?", (supersedes, row["id"]))
    conn.execute(
        "INSERT INTO sync_node (id, node, hlc) VALUES (1, ?, ?)",
        (node, str(last) if last else None),
    )


def _complete_declared(conn: sqlite3.Connection, incident_id: int) -> None:
    """Put the title, service and first runbook into the declared entry's meta: the fold reads
    the incident's identity from entries, and older cockpits kept these only in its row."""
    incident = conn.execute("SELECT * FROM incidents WHERE id = ?", (incident_id,)).fetchone()
    declared = conn.execute(
        "SELECT id, meta FROM entries WHERE incident_id = ? AND kind = ? "
        "AND json_valid(meta) AND json_extract(meta, '$.event') = 'declared' ORDER BY id LIMIT 1",
        (incident_id, Kind.SYSTEM.value),
    ).fetchone()
    if declared is None:
        return
    meta: dict[str, Any] = json.loads(declared["meta"])
    meta.setdefault("title", incident["title"])
    meta.setdefault("service", incident["service"] or "")
    first_link = conn.execute(
        "SELECT meta FROM entries WHERE incident_id = ? AND kind = ? AND json_valid(meta) "
        "AND json_extract(meta, '$.event') = 'runbook' ORDER BY id LIMIT 1",
        (incident_id, Kind.SYSTEM.value),
    ).fetchone()
    runbook = json.loads(first_link["meta"]).get("from") if first_link else incident["runbook"]
    if isinstance(runbook, str) and runbook:
        meta.setdefault("runbook", runbook)
    conn.execute(
        "UPDATE entries SET meta = ? WHERE id = ?",
        (json.dumps(meta, separators=(",", ":")), declared["id"]),
    )


def _wall(row: sqlite3.Row, last: Hlc | None) -> int:
    for name in ("written_at", "at"):
        try:
            return wall_ms(read_stored(row[name]))
        except ValueError:
            continue
    return last.wall_ms if last else 0


def _uid(row: sqlite3.Row, gid: str, used: set[str]) -> str:
    """An escalation gets the uid every laptop derives for it; anything else a random one."""
    if row["kind"] == Kind.ESCALATION.value and gid and row["meta"]:
        try:
            runbook = json.loads(row["meta"]).get("runbook")
        except (ValueError, AttributeError, RecursionError):
            runbook = None
        if isinstance(runbook, str) and runbook:
            uid = escalation_uid(gid, runbook)
            if uid not in used:
                return uid
    return new_uid()


def _registers(conn: sqlite3.Connection, entry_id: int) -> list[RegisterKey]:
    row = conn.execute("SELECT * FROM entries WHERE id = ?", (entry_id,)).fetchone()
    entry = to_sync_entry(row)
    return [register for register, _ in registers_written(entry)] if entry else []
