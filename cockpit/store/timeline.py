"""The timeline part of the store: append-only entries, their queries and corrections."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cockpit.domain.incident import Entry, Kind
from cockpit.domain.moments import format_utc, read_stored
from cockpit.domain.resolved import KEPT_WHEN_RESOLVED
from cockpit.domain.text import ENTRY_TEXT, REASON_TEXT, storable
from cockpit.store.connection import StoreConnection, guarded
from cockpit.store.errors import StoreError, fits
from cockpit.store.identity import NOTICE, REGISTER_KINDS, next_stamp, node_id, uid_of
from cockpit.store.rows import to_entry
from cockpit.sync.hlc import Hlc
from cockpit.sync.ids import derived_uid, new_uid


class Timeline(StoreConnection):
    """Timeline entries: appended once, never changed; corrections are new entries."""

    _node: str | None = None

    @property
    def node(self) -> str:
        """This database's node id: the laptop's identity in the incidents it shares."""
        if self._node is None:
            self._node = node_id(self.conn)
        return self._node

    @guarded
    def append(
        self,
        incident_id: int,
        kind: Kind,
        text: str,
        author: str,
        *,
        at: datetime | None = None,
        reason: str | None = None,
        corrects: int | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Entry:
        """Append one timeline entry; it is on disk when this returns.

        `at` backdates (or post-dates) the claimed time; a backdated entry needs a `reason`.
        """
        text, author = storable(text), storable(author)
        now = self.now()
        claimed = now if at is None else self._moment(at, "the entry's time")
        if at is not None:
            if claimed > now:
                raise StoreError("an entry cannot be dated in the future")
            if not (reason and reason.strip()):
                raise StoreError("a backdated entry needs a reason (--reason)")
        if not text.strip():
            raise StoreError("an entry needs some text")
        fits(text, ENTRY_TEXT)
        fits(reason or "", REASON_TEXT, "the reason for backdating")
        uid = new_uid()
        with self._write() as conn:
            self._require_writable(conn, incident_id, kind)
            stamp = next_stamp(conn, self.node, now)
            entry_id = self._insert_entry(
                conn, incident_id, kind, author, text, claimed, now, reason, corrects, meta,
                uid=uid, stamp=stamp,
            )  # fmt: skip
        return Entry(
            entry_id, incident_id, claimed, now, kind, author, text, corrects, reason, meta or {},
            uid=uid, hlc=str(stamp),
        )  # fmt: skip

    @classmethod
    def _require_writable(
        cls, conn: sqlite3.Connection, incident_id: int, kind: Kind
    ) -> sqlite3.Row:
        """The incident's row, if it takes an entry of `kind` (a resolved one keeps its state)."""
        if kind in KEPT_WHEN_RESOLVED:
            return cls._require_open(conn, incident_id, KEPT_WHEN_RESOLVED[kind])
        return cls._require_incident(conn, incident_id)

    def _insert_entry(
        self,
        conn: sqlite3.Connection,
        incident_id: int,
        kind: Kind,
        author: str,
        text: str,
        at: datetime,
        written_at: datetime,
        reason: str | None = None,
        corrects: int | None = None,
        meta: Mapping[str, Any] | None = None,
        *,
        uid: str | None = None,
        origin: str = "local",
        stamp: Hlc | None = None,
    ) -> int:
        """Insert a local write, stamped: its uid (random unless given), the next clock value
        (unless given), this node, and for a change the write it supersedes (what the timeline
        compares to show concurrent changes)."""
        node = self.node
        stamp = stamp or next_stamp(conn, node, written_at)
        supersedes = None
        if kind in REGISTER_KINDS:
            from cockpit.store.shared import supersedes_for  # changes only: a note skips it

            supersedes = supersedes_for(conn, incident_id, kind, meta, node, stamp, written_at)
        cursor = conn.execute(
            "INSERT INTO entries (incident_id, at, written_at, kind, author, text, corrects, "
            "reason, meta, uid, node, hlc, origin, corrects_uid, supersedes) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                incident_id,
                format_utc(at),
                format_utc(written_at),
                kind.value,
                storable(author),
                storable(text),
                corrects,
                storable(reason) if reason else reason,
                json.dumps(meta, separators=(",", ":")) if meta else None,
                uid or new_uid(),
                node,
                str(stamp),
                origin,
                uid_of(conn, corrects),
                supersedes,
            ),
        )
        return int(cursor.lastrowid or 0)

    def _notice(self, conn: sqlite3.Connection, incident_id: int, text: str, meta: Any) -> int:
        """A line on this laptop's timeline only (a conflict or late arrival it noticed)."""
        now = self.now()
        return self._insert_entry(
            conn, incident_id, Kind.SYSTEM, "cockpit", text, now, now, meta=meta, origin=NOTICE
        )

    @guarded
    def entries(
        self,
        incident_id: int,
        *,
        offset: int = 0,
        limit: int = -1,
        kinds: Sequence[Kind] | None = None,
        contains: str | None = None,
        from_newest: bool = False,
    ) -> list[Entry]:
        """Entries in timeline order (claimed time, then clock, then uid: the same on every
        laptop), optionally filtered.

        With `from_newest`, `offset` counts back from the newest entry (the page still comes
        oldest first): the pages a responder reads are the newest, and this way reading them
        skips a few index entries instead of the whole timeline."""
        sql, params = self._entry_query("id", incident_id, kinds, contains)
        order = "at DESC, hlc DESC, uid DESC" if from_newest else "at, hlc, uid"
        sql += f" ORDER BY {order} LIMIT ? OFFSET ?"
        # Page on the covering (incident_id, at, hlc, uid) index, then read only the rows kept: a
        # deep OFFSET skips index entries, not table rows.
        rows = self.conn.execute(
            f"SELECT * FROM entries WHERE id IN ({sql}) ORDER BY at, hlc, uid",
            (*params, limit, offset),
        )
        return [to_entry(row) for row in rows]

    @guarded
    def entry_count(
        self,
        incident_id: int,
        *,
        kinds: Sequence[Kind] | None = None,
        contains: str | None = None,
    ) -> int:
        sql, params = self._entry_query("count(*)", incident_id, kinds, contains)
        return int(self.conn.execute(sql, params).fetchone()[0])

    @guarded
    def entries_after(self, incident_id: int, after_id: int) -> list[Entry]:
        """Entries written after entry `after_id` (by write order): what is new since a look."""
        rows = self.conn.execute(
            "SELECT * FROM entries WHERE incident_id = ? AND id > ? ORDER BY id",
            (incident_id, after_id),
        )
        return [to_entry(row) for row in rows]

    @guarded
    def last_entry_id(self, incident_id: int | None = None) -> int:
        if incident_id is None:
            row = self.conn.execute("SELECT max(id) FROM entries").fetchone()
        else:
            row = self.conn.execute(
                "SELECT max(id) FROM entries WHERE incident_id = ?", (incident_id,)
            ).fetchone()
        return int(row[0] or 0)

    @guarded
    def entry(self, entry_id: int) -> Entry:
        return to_entry(self._row("entries", entry_id, "timeline entry"))

    def last_entry(self, incident_id: int, kind: Kind) -> Entry | None:
        """The incident's latest entry of `kind` in timeline order (one row off the index)."""
        row = self.conn.execute(
            "SELECT * FROM entries WHERE incident_id = ? AND kind = ? "
            "ORDER BY at DESC, hlc DESC, uid DESC LIMIT 1",
            (incident_id, kind.value),
        ).fetchone()
        return to_entry(row) if row else None

    def corrections(self, entry: Entry) -> list[Entry]:
        """The entries that correct `entry`, in timeline order."""
        rows = self.conn.execute(
            "SELECT * FROM entries WHERE incident_id = ? AND corrects_uid = ? "
            "ORDER BY at, hlc, uid",
            (entry.incident_id, entry.uid),
        )
        return [to_entry(row) for row in rows]

    @staticmethod
    def _entry_query(
        what: str, incident_id: int, kinds: Sequence[Kind] | None, contains: str | None
    ) -> tuple[str, list[Any]]:
        sql = f"SELECT {what} FROM entries WHERE incident_id = ?"
        params: list[Any] = [incident_id]
        if kinds:
            sql += f" AND kind IN ({', '.join('?' for _ in kinds)})"
            params.extend(k.value for k in kinds)
        if contains:
            sql += " AND instr(lower(text || ' ' || author), lower(?)) > 0"
            params.append(contains)
        return sql, params

    @guarded
    def updates_sent(self, incident_id: int) -> tuple[int, datetime | None]:
        """How many status updates were published, and when the last one was."""
        count = 0
        last: datetime | None = None
        for (at,) in self.conn.execute(
            "SELECT at FROM entries WHERE incident_id = ? AND kind = ? ORDER BY at DESC",
            (incident_id, Kind.UPDATE.value),
        ):
            count += 1
            if last is None:  # the newest one that can be read
                with contextlib.suppress(ValueError):
                    last = read_stored(at)
        return count, last

    @guarded
    def find_entry(
        self, incident_id: int, kind: Kind, meta: Mapping[str, str | int]
    ) -> Entry | None:
        """The first entry of `kind` whose meta has all of `meta`'s values, if any."""
        sql, params = self._meta_query(incident_id, kind, meta)
        row = self.conn.execute(sql + " ORDER BY id LIMIT 1", params).fetchone()
        return to_entry(row) if row else None

    @guarded
    def append_once(
        self,
        incident_id: int,
        kind: Kind,
        text: str,
        author: str,
        *,
        meta: Mapping[str, Any],
        key: Sequence[str],
        at: datetime | None = None,
        reason: str | None = None,
    ) -> Entry | None:
        """Append unless an entry of `kind` already agrees with `meta` on the `key` fields.

        The check and the insert share one write transaction, so processes racing to record
        the same event (an escalation firing, a drill injection) write it exactly once; None
        when it existed. `at` dates it earlier than now (an event noticed late), with `reason`.
        The entry's uid is derived from the incident's gid, the kind and the key's values, so
        laptops that each record the event write one entry between them.
        """
        now = self.now()
        claimed = now if at is None else self._moment(at, "the entry's time")
        if claimed > now:
            raise StoreError("an entry cannot be dated in the future")
        if claimed < now and not (reason and reason.strip()):
            raise StoreError("a backdated entry needs a reason (--reason)")
        fits(reason or "", REASON_TEXT, "the reason for backdating")
        match = {name: meta[name] for name in key}
        sql, params = self._meta_query(incident_id, kind, match)
        name = ":".join([kind.value, *(str(meta[field]) for field in key)])
        with self._write() as conn:
            row = self._require_writable(conn, incident_id, kind)
            uid = derived_uid(row["gid"], name)
            if conn.execute(sql + " LIMIT 1", params).fetchone() is not None:
                return None
            if conn.execute("SELECT 1 FROM entries WHERE uid = ?", (uid,)).fetchone():
                return None  # imported from a laptop that recorded it first
            entry_id = self._insert_entry(
                conn,
                incident_id,
                kind,
                author,
                text,
                claimed,
                now,
                reason if at is not None else None,
                meta=meta,
                uid=uid,
            )
        return self.entry(entry_id)

    @staticmethod
    def _meta_query(incident_id: int, kind: Kind, meta: Mapping[str, Any]) -> tuple[str, list[Any]]:
        sql = "SELECT * FROM entries WHERE incident_id = ? AND kind = ?"
        params: list[Any] = [incident_id, kind.value]
        for name, value in meta.items():
            if not name.isidentifier():
                raise ValueError(f"not a meta field name: {name!r}")
            sql += f" AND json_extract(meta, '$.{name}') = ?"
            params.append(value)
        return sql, params

    @guarded
    def timeline_rows(self, incident_id: int) -> list[tuple[Any, ...]]:
        """Every entry as a plain tuple in timeline order, for exports of very long timelines.

        (id, at, written_at, kind, author, text, reason, corrects) as stored: no `Entry`
        objects, which cost more than the query itself at tens of thousands of rows.
        """
        cursor = self.conn.cursor()
        cursor.row_factory = None
        cursor.execute(
            "SELECT id, at, written_at, kind, author, text, reason, corrects FROM entries "
            "WHERE incident_id = ? ORDER BY at, hlc, uid",
            (incident_id,),
        )
        return cursor.fetchall()
