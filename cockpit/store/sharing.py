"""The shared entries as this laptop holds them: reading them for export and a rescan, what is
still to send and marking it sent, the fold's state and conflicts, and the peers heard from.
`Syncing` builds the import on top of these reads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from cockpit.domain.incident import Entry, Incident
from cockpit.domain.moments import format_utc, read_stored
from cockpit.domain.text import storable
from cockpit.store.connection import guarded
from cockpit.store.errors import IncidentNotFound
from cockpit.store.identity import NOTICE, REGISTER_KINDS
from cockpit.store.rows import to_entry
from cockpit.store.threads import Threads

if TYPE_CHECKING:
    from cockpit.sync.entry import SyncEntry
    from cockpit.sync.fold import Conflict, IncidentState

# The fold and the entry rules load with the first sync call (`cockpit log` never makes one).

_REGISTER_KIND_VALUES = tuple(kind.value for kind in REGISTER_KINDS)
_SHARED = f"origin != '{NOTICE}'"
_UNSENT = (
    "origin = 'local' AND remote_ts IS NULL AND NOT EXISTS (SELECT 1 FROM deliveries d "
    "WHERE d.entry_id = entries.id AND d.target = 'slack' "
    "AND d.state IN ('queued', 'sending', 'retrying'))"
)
"""This laptop's entries not in the thread yet, except updates whose Slack delivery is under
way (its reply carries the entry: `cockpit.comms.slack`); one that failed is echoed instead."""


class Peer(NamedTuple):
    """Another laptop working the incident: its node, who wrote from it, and its latest entry."""

    node: str
    authors: tuple[str, ...]
    last_written_at: datetime


class Sharing(Threads):
    """The shared entries: reading, what is left to send, the fold's state, the peers."""

    # -- reading the shared entries

    @guarded
    def incident_by_gid(self, gid: str) -> Incident:
        """The incident every laptop knows as `gid`; IncidentNotFound if this one has not got it."""
        row = self.conn.execute("SELECT * FROM incidents WHERE gid = ?", (gid,)).fetchone()
        if row is None:
            raise IncidentNotFound(f"no incident with gid {gid[:40]} on this laptop")
        return self._incident(row)

    @guarded
    def sync_entries(self, incident_id: int) -> list[SyncEntry]:
        """Every shared entry of the incident, in timeline order (for export and a rescan)."""
        self.incident(incident_id)
        return self._shared(self.conn, incident_id)

    @guarded
    def unsent_entries(self, incident_id: int) -> list[SyncEntry]:
        """This laptop's entries of the incident not yet in its thread, in write order. An
        update whose Slack delivery is under way is not among them: that reply carries it."""
        self.incident(incident_id)
        rows = self.conn.execute(
            f"SELECT * FROM entries WHERE incident_id = ? AND {_UNSENT} ORDER BY id",
            (incident_id,),
        )
        return _readable(rows)

    @guarded
    def unheld(self, entries: Iterable[SyncEntry]) -> list[SyncEntry]:
        """Those of `entries` this laptop does not hold as they are (a new uid, or another
        copy of one it holds): what `import_entries` would look at. Reads only, so a read of
        the thread that brings nothing new writes nothing (and redraws no screen)."""
        found = []
        for entry in entries:
            held = self._held(self.conn, entry.uid)
            if held is None or held[1] != storable_entry(entry):
                found.append(entry)
        return found

    @guarded
    def sync_pending(self, incident_id: int) -> int:
        """How many of this laptop's entries of the incident wait to be sent."""
        row = self.conn.execute(
            f"SELECT count(*) FROM entries WHERE incident_id = ? AND {_UNSENT}",
            (incident_id,),
        ).fetchone()
        return int(row[0])

    @guarded
    def closed_threads(self, resolved_since: datetime) -> list[int]:
        """Resolved incidents with a thread that were resolved since `resolved_since`, or
        still hold entries of this laptop to send (the resolution itself, an update delivered
        late): their threads are still worth reading and writing."""
        rows = self.conn.execute(
            "SELECT id FROM incidents WHERE status = 'resolved' "
            "AND id IN (SELECT incident_id FROM sync_threads) AND (resolved_at >= ? OR id IN "
            f"(SELECT incident_id FROM entries WHERE {_UNSENT})) ORDER BY id",
            (format_utc(resolved_since),),
        )
        return [int(row[0]) for row in rows]

    @guarded
    def shared_entry(self, entry_id: int) -> SyncEntry | None:
        """The entry with local id `entry_id` as every laptop shares it (None for a line this
        laptop keeps to itself, or an unreadable one)."""
        rows = self.conn.execute(
            f"SELECT * FROM entries WHERE id = ? AND {_SHARED}", (entry_id,)
        ).fetchall()
        found = _readable(rows)
        return found[0] if found else None

    @guarded
    def newer_update(self, entry_id: int, target: str) -> Entry | None:
        """The newest status update published for `target` on another laptop after the update
        `entry_id` (by the hybrid clock, which orders what was seen before what), if any: the
        older one must not move that target's status back when it is delivered late."""
        row = self.conn.execute(
            "SELECT e.* FROM entries e JOIN entries u ON u.id = ? "
            "WHERE e.incident_id = u.incident_id AND e.kind = 'update' AND e.hlc > u.hlc "
            "AND e.node != u.node AND e.origin != ? AND EXISTS "
            "(SELECT 1 FROM json_each(e.meta, '$.targets') WHERE json_each.value = ?) "
            "ORDER BY e.hlc DESC LIMIT 1",
            (entry_id, NOTICE, target),
        ).fetchone()
        return to_entry(row) if row else None

    @guarded
    def mark_sent(self, uids: Iterable[str], channel: str, ts: str) -> None:
        """Record that the entries `uids` went out in the message `ts` of `channel`."""
        with self._write() as conn:
            conn.executemany(
                "UPDATE entries SET remote_channel = ?, remote_ts = ? WHERE uid = ?",
                [(channel, ts, uid) for uid in uids],
            )

    @guarded
    def mark_unsent(self, uids: Iterable[str]) -> None:
        """Queue this laptop's entries `uids` to be sent again (their echo is not in the thread:
        deleted, or the post was lost). Entries from elsewhere are left alone: their own laptop
        sends them."""
        with self._write() as conn:
            conn.executemany(
                "UPDATE entries SET remote_channel = NULL, remote_ts = NULL "
                "WHERE uid = ? AND origin = 'local'",
                [(uid,) for uid in uids],
            )

    @guarded
    def sync_state(self, incident_id: int) -> IncidentState:
        """The fold over the incident's entries: its state as every laptop computes it."""
        from cockpit.sync.fold import fold

        self.incident(incident_id)
        return fold(self._register_entries(self.conn, incident_id))

    @guarded
    def conflicts(self, incident_id: int) -> tuple[Conflict, ...]:
        """Changes made on different laptops without seeing each other, and which stands."""
        return self.sync_state(incident_id).conflicts

    @guarded
    def peers(self, incident_id: int) -> list[Peer]:
        """The other laptops whose entries this one holds, most recently heard first."""
        rows = self.conn.execute(
            "SELECT node, author, max(written_at) AS latest FROM entries "
            f"WHERE incident_id = ? AND node != ? AND {_SHARED} GROUP BY node, author",
            (incident_id, self.node),
        ).fetchall()
        found: dict[str, tuple[set[str], datetime]] = {}
        for row in rows:
            try:
                latest = read_stored(row["latest"])
            except ValueError:
                continue
            authors, seen = found.get(row["node"], (set(), latest))
            authors.add(row["author"])
            found[row["node"]] = (authors, max(seen, latest))
        peers = [Peer(node, tuple(sorted(a)), latest) for node, (a, latest) in found.items()]
        return sorted(peers, key=lambda p: (p.last_written_at, p.node), reverse=True)

    @staticmethod
    def _held(conn: sqlite3.Connection, uid: str) -> tuple[int, SyncEntry | None] | None:
        """The incident holding `uid` here and its copy (None if unreadable); None if new."""
        from cockpit.store.shared import to_sync_entry

        row = conn.execute("SELECT * FROM entries WHERE uid = ?", (uid,)).fetchone()
        if row is None:
            return None
        return int(row["incident_id"]), to_sync_entry(row)

    @staticmethod
    def _newest_at(conn: sqlite3.Connection, incident_id: int) -> datetime | None:
        row = conn.execute(
            f"SELECT max(at) FROM entries WHERE incident_id = ? AND {_SHARED}", (incident_id,)
        ).fetchone()
        try:
            return read_stored(row[0]) if row[0] else None
        except ValueError:
            return None

    @staticmethod
    def _shared(conn: sqlite3.Connection, incident_id: int) -> list[SyncEntry]:
        rows = conn.execute(
            f"SELECT * FROM entries WHERE incident_id = ? AND {_SHARED} ORDER BY at, hlc, uid",
            (incident_id,),
        )
        return _readable(rows)

    @staticmethod
    def _register_entries(conn: sqlite3.Connection, incident_id: int) -> list[SyncEntry]:
        """The entries the fold's state depends on (notes change nothing): fewer to read."""
        marks = ", ".join("?" for _ in _REGISTER_KIND_VALUES)
        rows = conn.execute(
            f"SELECT * FROM entries WHERE incident_id = ? AND kind IN ({marks}) AND {_SHARED}",
            (incident_id, *_REGISTER_KIND_VALUES),
        )
        return _readable(rows)


def storable_entry(entry: SyncEntry) -> SyncEntry:
    """`entry` as this store can hold it (lone surrogates in text become U+FFFD, as for a local
    write): every laptop stores the same copy."""
    author, text = storable(entry.author), storable(entry.text)
    reason = storable(entry.reason) if entry.reason else entry.reason
    if (author, text, reason) == (entry.author, entry.text, entry.reason):
        return entry
    return replace(entry, author=author, text=text, reason=reason)


def _readable(rows: Iterable[Mapping[str, Any]]) -> list[SyncEntry]:
    from cockpit.store.shared import to_sync_entry

    found = (to_sync_entry(row) for row in rows)
    return [entry for entry in found if entry is not None]
