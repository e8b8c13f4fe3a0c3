"""The sync part of the store that writes: importing other laptops' entries (idempotent, never
queueing anything) and sharing an incident's remote ids with the team. The reads it builds on
(what is shared, what is still to send, peers) are in `cockpit.store.sharing`.

An import recomputes the incident's row and roles from the fold over its entries
(`cockpit.sync.fold`), so the same entries in any order give the same state everywhere. Local
writes keep updating the row directly: a local write carries the largest clock value this
database has seen, so it is the fold's winner too.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cockpit.domain.incident import Kind, incident_ref
from cockpit.domain.moments import check_moment, format_utc
from cockpit.store.connection import guarded
from cockpit.store.errors import IncidentNotFound, StoreError
from cockpit.store.identity import REGISTER_KINDS, receive_stamp
from cockpit.store.sharing import Sharing, storable_entry
from cockpit.sync.ids import derived_uid, is_id

if TYPE_CHECKING:
    from cockpit.sync.entry import Origin, SyncEntry
    from cockpit.sync.fold import Conflict, IncidentState

# The fold and the entry rules load with the first sync call (`cockpit log` never makes one).


class Syncing(Sharing):
    """Entries shared between laptops: export, import, what is left to send, the thread."""

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
        batch = [storable_entry(entry) for entry in batch]
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


def _conflict_key(conflict: Conflict) -> tuple[object, ...]:
    return (conflict.register, conflict.supersedes, conflict.winner_uid, conflict.loser_uids)


def _stamp(moment: datetime | None) -> str | None:
    return format_utc(moment) if moment else None
