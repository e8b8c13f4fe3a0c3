"""Global identity inside the store: this database's node id and clock, and the stamps every
local write gets (uid, hybrid logical clock, node).

Everything here runs inside the caller's write transaction, on plain sqlite3: `cockpit log`
pays two one-row reads for a note, and no write beyond its own row (what a change supersedes
is `shared`'s, loaded only for changes).
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
    """The largest clock value this database has stamped or seen, if any.

    A local write's value lives only in its own row (the newest by id), so writing a note costs
    no second page; an import moves the stored value past what it brought (`receive_stamp`).
    """
    stored = conn.execute("SELECT hlc FROM sync_node WHERE id = 1").fetchone()
    newest = conn.execute("SELECT hlc FROM entries ORDER BY id DESC LIMIT 1").fetchone()
    values = [parse_hlc(row[0]) for row in (stored, newest) if row and row[0]]
    return max(values, default=None)


def next_stamp(conn: sqlite3.Connection, node: str, now: datetime) -> Hlc:
    """The clock value for one local write at `now` (in the caller's transaction): after every
    value this database has stamped or seen."""
    return tick(clock_value(conn), wall_ms(now), node)


def receive_stamp(conn: sqlite3.Connection, node: str, remote: Hlc, now: datetime) -> Hlc:
    """Move the clock past an imported value, so what is written after seeing it wins. Called
    before the import changes any row (a swapped copy may lower the newest row's value)."""
    value = receive(clock_value(conn), remote, wall_ms(now), node)
    conn.execute("UPDATE sync_node SET hlc = ? WHERE id = 1", (str(value),))
    return value


def uid_of(conn: sqlite3.Connection, entry_id: int | None) -> str | None:
    """The uid of the entry with local id `entry_id` (None for None or no such entry)."""
    if entry_id is None:
        return None
    row = conn.execute("SELECT uid FROM entries WHERE id = ?", (entry_id,)).fetchone()
    return str(row[0]) if row and row[0] else None
