"""Global identity inside the store: this database's node id and clock, and the stamps every
local write gets (uid, hybrid logical clock, node).

Everything here runs inside the caller's write transaction, on plain sqlite3: `cockpit log`
pays one read and one write of the clock row for a note, nothing more (what a change
supersedes is `shared`'s, loaded only for changes).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from cockpit.domain.incident import Kind
from cockpit.sync.hlc import Hlc, parse_hlc, receive, tick, wall_ms

REGISTER_KINDS = frozenset(
    {Kind.SYSTEM, Kind.SEVERITY, Kind.STATUS, Kind.ROLE, Kind.STEP, Kind.UPDATE}
)
"""The kinds of entry that may write a register (the others never supersede anything)."""

NOTICE = "notice"
"""The origin of an entry this laptop wrote for itself only (a conflict or a late arrival it
noticed): shown on its timeline, never shared, never folded."""


def node_id(conn: sqlite3.Connection) -> str:
    """This database's node id (made by the v4 migration)."""
    row = conn.execute("SELECT node FROM sync_node WHERE id = 1").fetchone()
    return str(row[0])


def clock_value(conn: sqlite3.Connection) -> Hlc | None:
    """The largest clock value this database has stamped or seen, if any."""
    row = conn.execute("SELECT hlc FROM sync_node WHERE id = 1").fetchone()
    return parse_hlc(row[0]) if row and row[0] else None


def next_stamp(conn: sqlite3.Connection, node: str, now: datetime) -> Hlc:
    """Advance and persist the clock for one local write at `now` (in the caller's transaction)."""
    value = tick(clock_value(conn), wall_ms(now), node)
    conn.execute("UPDATE sync_node SET hlc = ? WHERE id = 1", (str(value),))
    return value


def receive_stamp(conn: sqlite3.Connection, node: str, remote: Hlc, now: datetime) -> Hlc:
    """Move the clock past an imported value, so what is written after seeing it wins."""
    value = receive(clock_value(conn), remote, wall_ms(now), node)
    conn.execute("UPDATE sync_node SET hlc = ? WHERE id = 1", (str(value),))
    return value


def uid_of(conn: sqlite3.Connection, entry_id: int | None) -> str | None:
    """The uid of the entry with local id `entry_id` (None for None or no such entry)."""
    if entry_id is None:
        return None
    row = conn.execute("SELECT uid FROM entries WHERE id = ?", (entry_id,)).fetchone()
    return str(row[0]) if row and row[0] else None
