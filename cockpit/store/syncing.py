"""The sync part of the store: entries as every laptop shares them, importing other laptops'
entries (idempotent, never queueing anything), what is still to send, and the incident's thread.

An import recomputes the incident's row and roles from the fold over its entries
(`cockpit.sync.fold`), so the same entries in any order give the same state everywhere. Local
writes keep updating the row directly: a local write carries the largest clock value this
database has seen, so it is the fold's winner too.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from cockpit.domain.incident import Entry, Incident, Kind, incident_ref
from cockpit.domain.moments import check_moment, format_utc, read_stored
from cockpit.domain.text import storable
from cockpit.store.connection import guarded
from cockpit.store.errors import IncidentNotFound, StoreError
from cockpit.store.identity import NOTICE, REGISTER_KINDS, receive_stamp
from cockpit.store.rows import to_entry
from cockpit.store.threads import Threads
from cockpit.sync.ids import derived_uid, is_id

if TYPE_CHECKING:
    from cockpit.sync.entry import Origin, SyncEntry
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


class Syncing(Threads):
    """Entries shared between laptops: export, import, what is left to send, the thread."""

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
            if held is None or held[1] != _storable(entry):
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

    # -- importing

    @guarded
    def import_entries(
        self,
        incident: int | str,
        entries: Iterable[SyncEntry],
        origin: Origin,
        *,
        channel: str | None = None,
        ts: str | None = None,
    ) -> list[str]:
        """Add the entries of incident `incident` (its local id, or its gid) this laptop has not
        got; return their uids, in timeline order. Idempotent: importing again adds nothing.

        Imported entries never queue a delivery, a page or a webhook event: only the laptop
        where a change was made delivers it. An unknown gid is created from its declared
        entry. `channel` and `ts` say which Slack message carried them. The incident's row and
        roles are recomputed from the fold; a concurrent change and late arrivals are announced
        on this laptop's timeline. A malformed entry refuses the whole import.
        """
        from cockpit.sync.entry import ORIGINS, entry_problem
        from cockpit.sync.fold import fold, preference, timeline_key, unique

        if origin not in ORIGINS:
            raise ValueError(f"unknown origin {origin!r}")
        batch = list(entries)
        for entry in batch:
            problem = entry_problem(entry) or _out_of_range(entry)
            if problem:
                raise StoreError(f"entry {str(entry.uid)[:40]}: {problem}; nothing was imported")
        batch = [_storable(entry) for entry in batch]
        now = self.now()
        with self._write() as conn:
            if batch:
                receive_stamp(conn, self.node, max(entry.hlc for entry in batch), now)
            incident_id = self._import_target(conn, incident, batch)
            newest = self._newest_at(conn, incident_id)
            before = self._register_entries(conn, incident_id)
            added: list[SyncEntry] = []
            changed_state = False
            for entry in sorted(unique(batch).values(), key=timeline_key):
                held = self._held(conn, entry.uid)
                if held is None:
                    self._insert_imported(conn, incident_id, entry, origin, channel, ts)
                    added.append(entry)
                elif held[0] != incident_id:
                    raise StoreError(
                        f"entry {entry.uid} belongs to {incident_ref(held[0])} here, not to "
                        f"{incident_ref(incident_id)}; nothing was imported"
                    )
                elif held[1] is not None and held[1] != entry:
                    if preference(entry) >= preference(held[1]):
                        continue
                    self._replace(conn, entry)
                    changed_state = changed_state or held[1].kind in REGISTER_KINDS
                else:
                    continue
                self._adopt_ref(conn, incident_id, entry)
                changed_state = changed_state or entry.kind in REGISTER_KINDS
            if changed_state:
                after = self._register_entries(conn, incident_id)
                self._refold(conn, incident_id, fold(after), fold(before).conflicts)
            self._announce_late(conn, incident_id, newest, added)
        return [entry.uid for entry in added]

    @guarded
    def share_remote_ref(self, incident_id: int, target: str, key: str, value: str) -> str:
        """Record an id the incident has at a service (a status-page incident) and share it
        with the team as an entry (its uid derived from the gid, the target and the key, so
        two laptops that each create one keep the first: every laptop then updates that one).
        Returns the value that stands: the team's, when another laptop's reached here first."""
        with self._write() as conn:
            row = self._require_incident(conn, incident_id)
            uid = shared_ref_uid(row["gid"], target, key)
            held = self._held(conn, uid)
            team = _ref_value(held[1], target, key) if held and held[1] else None
            if team is not None:
                if team != value:
                    self._ref_conflict(conn, incident_id, target, value, team)
                value = team
            else:
                meta = {"event": REF_EVENT, "target": target, "key": key, "value": value}
                now = self.now()
                self._insert_entry(
                    conn,
                    incident_id,
                    Kind.EXTERNAL,
                    target,
                    f"{target} {key} {value} created: every laptop's updates go there",
                    now,
                    now,
                    meta=meta,
                    uid=uid,
                )
            self._set_ref(conn, incident_id, target, key, value)
        return value

    def _adopt_ref(self, conn: sqlite3.Connection, incident_id: int, entry: SyncEntry) -> None:
        """An imported shared remote id becomes this laptop's too (never queues anything)."""
        if entry.kind is not Kind.EXTERNAL or entry.meta.get("event") != REF_EVENT:
            return
        target, key = entry.meta.get("target"), entry.meta.get("key")
        if not (isinstance(target, str) and isinstance(key, str)):
            return
        gid = conn.execute("SELECT gid FROM incidents WHERE id = ?", (incident_id,)).fetchone()[0]
        value = _ref_value(entry, target, key)
        # Only the entry with the uid every laptop derives counts (a forged one is text).
        if value is None or entry.uid != shared_ref_uid(gid, target, key):
            return
        row = conn.execute(
            "SELECT value FROM remote_refs WHERE incident_id = ? AND target = ? AND key = ?",
            (incident_id, target, key),
        ).fetchone()
        if row is not None and row[0] != value:
            self._ref_conflict(conn, incident_id, target, row[0], value)
        self._set_ref(conn, incident_id, target, key, value)

    def _ref_conflict(
        self, conn: sqlite3.Connection, incident_id: int, target: str, ours: str, team: str
    ) -> None:
        """Say that this laptop made a second one (two laptops created it at once): the
        team's stands, ours is left for a person to close."""
        self._notice(
            conn,
            incident_id,
            f"{target}: {ours} was created here while the team's is {team}; "
            f"updates go to {team}: close {ours} on {target} by hand",
            {"event": "ref-conflict", "target": target, "ours": ours},
        )

    def _import_target(
        self, conn: sqlite3.Connection, incident: int | str, batch: Sequence[SyncEntry]
    ) -> int:
        """The local id of the incident imported into, created from its declared entry when
        the gid is new here."""
        from cockpit.sync.entry import is_declared
        from cockpit.sync.fold import fold

        if isinstance(incident, int):
            self._require_incident(conn, incident)
            return incident
        if not is_id(incident):
            raise StoreError(f"{incident[:40]!r} is not an incident gid (32 hex digits)")
        row = conn.execute("SELECT id FROM incidents WHERE gid = ?", (incident,)).fetchone()
        if row is not None:
            return int(row[0])
        declared = [entry for entry in batch if is_declared(entry)]
        if not declared:
            raise IncidentNotFound(
                f"no incident with gid {incident} here, and these entries do not declare it: "
                "import the whole incident (its first line) or join its thread"
            )
        state = fold(declared)
        cursor = conn.execute(
            "INSERT INTO incidents (title, service, severity, status, runbook, "
            "impact_started_at, declared_at, declared_by, gid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                state.title,
                state.service,
                state.severity or "",
                state.status.value,
                state.runbook,
                format_utc(state.impact_started_at or state.declared_at or self.now()),
                format_utc(state.declared_at or self.now()),
                state.declared_by,
                incident,
            ),
        )
        return int(cursor.lastrowid or 0)

    @staticmethod
    def _held(conn: sqlite3.Connection, uid: str) -> tuple[int, SyncEntry | None] | None:
        """The incident holding `uid` here and its copy (None if unreadable); None if new."""
        from cockpit.store.shared import to_sync_entry

        row = conn.execute("SELECT * FROM entries WHERE uid = ?", (uid,)).fetchone()
        if row is None:
            return None
        return int(row["incident_id"]), to_sync_entry(row)

    @staticmethod
    def _insert_imported(
        conn: sqlite3.Connection,
        incident_id: int,
        entry: SyncEntry,
        origin: str,
        channel: str | None,
        ts: str | None,
    ) -> None:
        conn.execute(
            "INSERT INTO entries (incident_id, at, written_at, kind, author, text, corrects, "
            "reason, meta, uid, node, hlc, origin, remote_channel, remote_ts, corrects_uid, "
            "supersedes) VALUES (?, ?, ?, ?, ?, ?, "
            "(SELECT id FROM entries WHERE uid = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (incident_id, *_content(entry), origin, channel, ts, entry.corrects_uid,
             entry.supersedes),
        )  # fmt: skip

    @staticmethod
    def _replace(conn: sqlite3.Connection, entry: SyncEntry) -> None:
        """Swap the stored copy of `entry.uid` for the one every laptop keeps (the fold's
        `preference`): copies differ for events several laptops derive the same uid for."""
        conn.execute("INSERT INTO sync_replacing (uid) VALUES (?)", (entry.uid,))
        conn.execute(
            "UPDATE entries SET at = ?, written_at = ?, kind = ?, author = ?, text = ?, "
            "corrects = (SELECT e.id FROM entries e WHERE e.uid = ?), reason = ?, meta = ?, "
            "uid = ?, node = ?, hlc = ?, corrects_uid = ?, supersedes = ? WHERE uid = ?",
            (*_content(entry), entry.corrects_uid, entry.supersedes, entry.uid),
        )
        conn.execute("DELETE FROM sync_replacing WHERE uid = ?", (entry.uid,))

    def _refold(
        self,
        conn: sqlite3.Connection,
        incident_id: int,
        state: IncidentState,
        known_conflicts: Sequence[Conflict],
    ) -> None:
        """Rewrite the incident's row and roles from the fold, and announce new conflicts."""
        from cockpit.sync.fold import describe_conflict

        if state.declared_uid is not None:
            conn.execute(
                "UPDATE incidents SET title = ?, service = ?, severity = ?, status = ?, "
                "runbook = ?, impact_started_at = ?, declared_at = ?, acknowledged_at = ?, "
                "mitigated_at = ?, resolved_at = ?, declared_by = ? WHERE id = ?",
                (
                    state.title,
                    state.service,
                    state.severity or "",
                    state.status.value,
                    state.runbook,
                    _stamp(state.impact_started_at),
                    _stamp(state.declared_at),
                    _stamp(state.acknowledged_at),
                    _stamp(state.mitigated_at),
                    _stamp(state.resolved_at),
                    state.declared_by,
                    incident_id,
                ),
            )
        else:
            conn.execute(
                "UPDATE incidents SET severity = coalesce(?, severity), status = ?, "
                "runbook = ?, acknowledged_at = coalesce(?, acknowledged_at), "
                "mitigated_at = ?, resolved_at = ? WHERE id = ?",
                (
                    state.severity,
                    state.status.value,
                    state.runbook,
                    _stamp(state.acknowledged_at),
                    _stamp(state.mitigated_at),
                    _stamp(state.resolved_at),
                    incident_id,
                ),
            )
        conn.execute("DELETE FROM roles WHERE incident_id = ?", (incident_id,))
        for register, write in sorted(state.registers.items()):
            if register.field == "role" and isinstance(write.value, str) and write.value:
                conn.execute(
                    "INSERT INTO roles (incident_id, role, person, since) VALUES (?, ?, ?, ?)",
                    (incident_id, register.name, write.value, format_utc(write.at)),
                )
        known = {_conflict_key(conflict) for conflict in known_conflicts}
        for conflict in state.conflicts:
            if _conflict_key(conflict) in known:
                continue
            meta = {
                "event": "conflict",
                "winner": conflict.winner_uid,
                "losers": list(conflict.loser_uids),
            }
            self._notice(conn, incident_id, describe_conflict(conflict), meta)

    def _announce_late(
        self,
        conn: sqlite3.Connection,
        incident_id: int,
        newest: datetime | None,
        added: Sequence[SyncEntry],
    ) -> None:
        """Say on the timeline that entries arrived dated well before what it already showed
        (`cockpit.sync.fold.late_entries`' rule), instead of slipping them into the past."""
        from cockpit.sync.fold import LATE_AFTER, describe_late

        if newest is None:
            return
        late = [entry for entry in added if entry.at < newest - LATE_AFTER]
        if late:
            meta = {"event": "late", "uids": [entry.uid for entry in late]}
            self._notice(conn, incident_id, describe_late(late), meta)

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


REF_EVENT = "remote_ref"
"""The meta `event` of an entry sharing a remote id (`target`, `key`, `value`)."""
_REF_VALUE = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What a shared remote id may be: it goes into the service's URL path (no `/`, no `..`)."""


def shared_ref_uid(gid: str, target: str, key: str) -> str:
    """The uid of the entry sharing incident `gid`'s id at `target` (same on every laptop)."""
    return derived_uid(gid, f"remote_ref:{target}:{key}")


def _ref_value(entry: SyncEntry, target: str, key: str) -> str | None:
    """The remote id `entry` shares for (target, key), if it is one and fit for a URL."""
    meta = entry.meta
    value = meta.get("value")
    if (
        meta.get("event") != REF_EVENT
        or meta.get("target") != target
        or meta.get("key") != key
        or not isinstance(value, str)
        or _REF_VALUE.fullmatch(value) is None
    ):
        return None
    return value


def _content(entry: SyncEntry) -> tuple[Any, ...]:
    """at … hlc of `entry` as stored, with the uid of what it corrects first looked up."""
    return (
        format_utc(entry.at),
        format_utc(entry.written_at),
        entry.kind.value,
        entry.author,
        entry.text,
        entry.corrects_uid,
        entry.reason,
        json.dumps(dict(entry.meta), separators=(",", ":")) if entry.meta else None,
        entry.uid,
        entry.node,
        str(entry.hlc),
    )


def _out_of_range(entry: SyncEntry) -> str | None:
    """Why a time of `entry` is one this store would not read back (the range local writes
    keep to), or None."""
    for name, moment in (("at", entry.at), ("written_at", entry.written_at)):
        try:
            check_moment(moment, f"its {name} {format_utc(moment)}")
        except ValueError as exc:
            return str(exc)
    return None


def _storable(entry: SyncEntry) -> SyncEntry:
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


def _conflict_key(conflict: Conflict) -> tuple[object, ...]:
    return (conflict.register, conflict.supersedes, conflict.winner_uid, conflict.loser_uids)


def _stamp(moment: datetime | None) -> str | None:
    return format_utc(moment) if moment else None
