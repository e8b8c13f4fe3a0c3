"""The durable store: one SQLite file (WAL, synchronous=FULL), schema migrations, appends.

Every change to an incident goes through a method here, in one `BEGIN IMMEDIATE` transaction
that is committed before the method returns: the CLI and the TUI share these code paths.
This module imports only the standard library and the domain (sqlite-utils is loaded when a
migration or a query needs it), so `cockpit log` starts fast.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit.domain import (
    Clock,
    Entry,
    Incident,
    Kind,
    Status,
    format_utc,
    incident_ref,
    parse_utc,
    storable,
    system_clock,
)

if TYPE_CHECKING:
    import sqlite_utils

    from cockpit.postmortem import ActionItem, ItemState, Postmortem

SQLITE_MAGIC = b"SQLite format 3\x00"


class StoreError(Exception):
    """A problem with the database, as one line a person can act on."""


class IncidentNotFound(StoreError):
    pass


# ---- schema --------------------------------------------------------------------------------


def _v1(db: sqlite_utils.Database) -> None:
    db.table("incidents").create(
        {
            "id": int,
            "title": str,
            "service": str,
            "severity": str,
            "status": str,
            "runbook": str,
            "impact_started_at": str,
            "declared_at": str,
            "acknowledged_at": str,
            "mitigated_at": str,
            "resolved_at": str,
            "declared_by": str,
        },
        pk="id",
        not_null={"title", "severity", "status", "declared_at", "impact_started_at"},
        defaults={"service": "", "declared_by": ""},
    )
    db.table("entries").create(
        {
            "id": int,
            "incident_id": int,
            "at": str,
            "written_at": str,
            "kind": str,
            "author": str,
            "text": str,
            "corrects": int,
            "reason": str,
            "meta": str,
        },
        pk="id",
        not_null={"incident_id", "at", "written_at", "kind", "author", "text"},
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db.table("roles").create(
        {"incident_id": int, "role": str, "person": str, "since": str},
        pk=("incident_id", "role"),
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db.table("action_items").create(
        {
            "id": int,
            "incident_id": int,
            "title": str,
            "owner": str,
            "deadline": str,
            "state": str,
            "created_at": str,
        },
        pk="id",
        not_null={"incident_id", "title", "state"},
        defaults={"state": "open", "owner": ""},
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db.table("deliveries").create(
        {
            "id": int,
            "incident_id": int,
            "entry_id": int,
            "target": str,
            "action": str,
            "payload": str,
            "state": str,
            "attempts": int,
            "next_attempt_at": str,
            "last_error": str,
            "remote_id": str,
            "created_at": str,
            "updated_at": str,
            "sent_at": str,
        },
        pk="id",
        not_null={"incident_id", "target", "action", "payload", "state", "attempts"},
        defaults={"state": "queued", "attempts": 0},
        foreign_keys=[("incident_id", "incidents", "id"), ("entry_id", "entries", "id")],
    )
    db.executescript(
        """
        CREATE INDEX entries_timeline ON entries(incident_id, at, id);
        CREATE INDEX entries_kind ON entries(incident_id, kind, at);
        CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);
        CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
        BEGIN SELECT RAISE(ABORT, 'timeline entries are append-only'); END;
        CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
        BEGIN SELECT RAISE(ABORT, 'timeline entries are append-only'); END;
        """
    )


def _v2(db: sqlite_utils.Database) -> None:
    # Remote identities an incident has at each service (Slack root `ts`, status-page id).
    db.table("remote_refs").create(
        {"incident_id": int, "target": str, "key": str, "value": str, "updated_at": str},
        pk=("incident_id", "target", "key"),
        foreign_keys=[("incident_id", "incidents", "id")],
    )


def _v3(db: sqlite_utils.Database) -> None:
    # Post-mortems: the written fields (one row per incident; whys as a JSON list) and the
    # entries starred as key moments, kept apart because entries are append-only.
    db.table("postmortems").create(
        {
            "incident_id": int,
            "summary": str,
            "impact": str,
            "root_cause": str,
            "contributing_factors": str,
            "went_well": str,
            "went_poorly": str,
            "lessons": str,
            "completed_at": str,
            "updated_at": str,
            "updated_by": str,
        },
        pk="incident_id",
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db.table("stars").create(
        {"incident_id": int, "entry_id": int, "starred_at": str, "starred_by": str},
        pk=("incident_id", "entry_id"),
        foreign_keys=[("incident_id", "incidents", "id"), ("entry_id", "entries", "id")],
    )
    db.executescript("CREATE INDEX action_items_by_incident ON action_items(incident_id, id);")


MIGRATIONS = (_v1, _v2, _v3)
"""Forward migrations; `PRAGMA user_version` is the number applied."""

SCHEMA_VERSION = len(MIGRATIONS)


# ---- rows -> domain ----------------------------------------------------------------------


def _dt(value: str | None) -> datetime | None:
    return parse_utc(value) if value else None


def _entry(row: Mapping[str, Any]) -> Entry:
    return Entry(
        id=row["id"],
        incident_id=row["incident_id"],
        at=parse_utc(row["at"]),
        written_at=parse_utc(row["written_at"]),
        kind=Kind(row["kind"]),
        author=row["author"],
        text=row["text"],
        corrects=row["corrects"],
        reason=row["reason"],
        meta=json.loads(row["meta"]) if row["meta"] else {},
    )


@dataclass(frozen=True)
class Delivery:
    """One outgoing message in the outbox, and where it stands."""

    id: int
    incident_id: int
    entry_id: int | None
    target: str
    action: str
    payload: Mapping[str, Any]
    state: str  # queued, sending, retrying, sent, failed
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    remote_id: str | None
    created_at: datetime
    updated_at: datetime | None
    sent_at: datetime | None


DELIVERY_STATES = ("queued", "sending", "retrying", "sent", "failed")


@dataclass(frozen=True)
class IncidentEvent:
    """A change the event hook hears about, inside the transaction that makes it."""

    name: str  # declared, severity, status
    incident: Incident  # as it is after the change
    meta: Mapping[str, Any]  # the change's timeline meta (severity; from, to)
    entry_id: int
    at: datetime
    queued: tuple[tuple[str, str], ...]  # (target, action) queued earlier for this incident


EventHook = Callable[[IncidentEvent], Sequence[tuple[str, str, Mapping[str, Any]]]]
"""Pure (no I/O): the (target, action, payload) deliveries an incident event queues."""


def _delivery(row: Mapping[str, Any]) -> Delivery:
    return Delivery(
        id=row["id"],
        incident_id=row["incident_id"],
        entry_id=row["entry_id"],
        target=row["target"],
        action=row["action"],
        payload=json.loads(row["payload"]),
        state=row["state"],
        attempts=row["attempts"],
        next_attempt_at=_dt(row["next_attempt_at"]),
        last_error=row["last_error"],
        remote_id=row["remote_id"],
        created_at=parse_utc(row["created_at"]),
        updated_at=_dt(row["updated_at"]),
        sent_at=_dt(row["sent_at"]),
    )


def _action_item(row: Mapping[str, Any]) -> ActionItem:
    from cockpit.postmortem import ActionItem, ItemState  # only post-mortem work pays for it

    return ActionItem(
        id=row["id"],
        incident_id=row["incident_id"],
        title=row["title"],
        owner=row["owner"] or "",
        deadline=date.fromisoformat(row["deadline"]) if row["deadline"] else None,
        state=ItemState(row["state"]),
        created_at=_dt(row["created_at"]),
    )


# ---- the store ----------------------------------------------------------------------------


class Store:
    """The incident database. Open with `Store.open(path)`; every write commits before returning."""

    def __init__(self, conn: sqlite3.Connection, path: Path, clock: Clock) -> None:
        self.conn = conn
        self.path = path
        self.clock = clock
        self._db: sqlite_utils.Database | None = None
        self._key: tuple[int, int] | None = None  # the file, while this store holds it open
        self.events: EventHook | None = None
        """Installed by the CLI and the app (`cockpit.comms.events.hook_for`): the outbox rows
        for declare, severity and status changes go in with the change, atomically."""

    @property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils over the same connection, for schema work and ad-hoc queries.

        Imported on first use: appends run on plain sqlite3, so `cockpit log` starts fast.
        """
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    # -- opening

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        clock: Clock = system_clock,
        busy_timeout_ms: int = 5000,
        create: bool = True,
    ) -> Store:
        """Open (creating and migrating if needed) the database at `path`.

        A file that is not SQLite, or that a newer cockpit wrote, raises StoreError and is left
        untouched: its header and `user_version` are read before anything is written.
        """
        path = Path(path)
        if path.exists():
            if _file_key(path) not in _OPEN_HERE:
                _check_header(path)
        elif not create:
            raise StoreError(f"{path}: no such database")
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{path.parent}: cannot create folder: {exc.strerror}") from None
        try:
            conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open database: {exc}") from None
        conn.row_factory = sqlite3.Row
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{path}: written by a newer cockpit (schema {version}, this one knows "
                    f"{SCHEMA_VERSION}); upgrade cockpit to open it"
                )
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"{path}: cannot switch the database to WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            store = cls(conn, path, clock)
            store._migrate(version)
            store._key = _file_key(path)
            _opened_here(store._key, +1)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(_explain(path, exc)) from None
        except StoreError:
            conn.close()
            raise
        return store

    def _migrate(self, version: int) -> None:
        for number in range(version, SCHEMA_VERSION):
            with self._write():
                # Re-read under the write lock: another process may have migrated meanwhile.
                current = self.conn.execute("PRAGMA user_version").fetchone()[0]
                if current > number:
                    continue
                MIGRATIONS[number](self.db)
                self.conn.execute(f"PRAGMA user_version = {number + 1}")

    def close(self) -> None:
        self.conn.close()
        if self._key is not None:
            _opened_here(self._key, -1)
            self._key = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed (durably) on exit or rolled back on error."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(_explain(self.path, exc)) from None
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(_explain(self.path, exc)) from None
            raise

    def data_version(self) -> int:
        """Changes whenever another connection commits: a cheap "anything new?" check."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def now(self) -> datetime:
        return self.clock()

    def write_lock_held(self) -> bool:
        """Whether another connection holds the write lock now, so a write would wait for it.

        Asks without waiting: the app says "database busy" before its write starts waiting.
        """
        (timeout,) = self.conn.execute("PRAGMA busy_timeout").fetchone()
        self.conn.execute("PRAGMA busy_timeout = 0")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            return exc.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")
        self.conn.execute("ROLLBACK")
        return False

    # -- incidents

    def declare(
        self,
        title: str,
        severity: str,
        author: str,
        *,
        service: str = "",
        runbook: str | None = None,
        impact_started_at: datetime | None = None,
        roles: Mapping[str, str] | None = None,
    ) -> Incident:
        """Create an incident, with its `declared` entry and initial roles, in one transaction."""
        title, service, author = storable(title).strip(), storable(service), storable(author)
        if not title:
            raise StoreError("an incident needs a title")
        now = self.clock()
        impact = impact_started_at or now
        if impact > now:
            raise StoreError("impact cannot start in the future")
        stamp = format_utc(now)
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO incidents (title, service, severity, status, runbook, "
                "impact_started_at, declared_at, declared_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    title,
                    service,
                    severity,
                    Status.INVESTIGATING.value,
                    runbook,
                    format_utc(impact),
                    stamp,
                    author,
                ),
            )
            incident_id = int(cursor.lastrowid or 0)
            text = f"declared {severity}: {title}"
            if service:
                text += f" ({service})"
            meta: dict[str, Any] = {"event": "declared", "severity": severity}
            if impact_started_at is not None:
                meta["impact_started_at"] = format_utc(impact)
            entry_id = self._insert_entry(
                conn, incident_id, Kind.SYSTEM, author, text, now, now, meta=meta
            )
            for role, person in (roles or {}).items():
                if person:
                    self._assign(conn, incident_id, role, person, author, now)
            self._fire(conn, "declared", incident_id, entry_id, meta, author, now)
        return self.incident(incident_id)

    def incident(self, incident_id: int) -> Incident:
        row = self.conn.execute("SELECT * FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        if row is None:
            raise IncidentNotFound(f"no incident {incident_ref(incident_id)}")
        return self._incident(row)

    def _incident(self, row: Mapping[str, Any]) -> Incident:
        roles = {
            r["role"]: r["person"]
            for r in self.conn.execute(
                "SELECT role, person FROM roles WHERE incident_id = ? ORDER BY rowid", (row["id"],)
            )
        }
        return Incident(
            id=row["id"],
            title=row["title"],
            service=row["service"] or "",
            severity=row["severity"],
            status=Status(row["status"]),
            runbook=row["runbook"],
            impact_started_at=parse_utc(row["impact_started_at"]),
            declared_at=parse_utc(row["declared_at"]),
            acknowledged_at=_dt(row["acknowledged_at"]),
            mitigated_at=_dt(row["mitigated_at"]),
            resolved_at=_dt(row["resolved_at"]),
            declared_by=row["declared_by"] or "",
            roles=roles,
        )

    def incidents(self, *, open_only: bool = False) -> list[Incident]:
        """Incidents, newest first."""
        sql = "SELECT * FROM incidents"
        if open_only:
            sql += " WHERE status != 'resolved'"
        sql += " ORDER BY id DESC"
        return [self._incident(row) for row in self.conn.execute(sql)]

    def resolve_incident_id(self, explicit: int | None) -> int:
        """The incident a command means: the one named, else the only open one."""
        if explicit is not None:
            self.incident(explicit)
            return explicit
        open_ones = self.incidents(open_only=True)
        if not open_ones:
            raise IncidentNotFound("no open incident (declare one with `cockpit declare`)")
        if len(open_ones) > 1:
            listed = ", ".join(f"{i.ref} {i.title!r}" for i in open_ones)
            raise StoreError(f"several open incidents ({listed}); choose one with --incident")
        return open_ones[0].id

    # -- timeline

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
        now = self.clock()
        claimed = at or now
        if at is not None:
            if claimed > now:
                raise StoreError("an entry cannot be dated in the future")
            if not (reason and reason.strip()):
                raise StoreError("a backdated entry needs a reason (--reason)")
        if not text.strip():
            raise StoreError("an entry needs some text")
        with self._write() as conn:
            self._require_incident(conn, incident_id)
            entry_id = self._insert_entry(
                conn, incident_id, kind, author, text, claimed, now, reason, corrects, meta
            )
        return Entry(
            entry_id, incident_id, claimed, now, kind, author, text, corrects, reason, meta or {}
        )

    def _require_incident(self, conn: sqlite3.Connection, incident_id: int) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        if row is None:
            raise IncidentNotFound(f"no incident {incident_ref(incident_id)}")
        return row  # type: ignore[no-any-return]

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
    ) -> int:
        cursor = conn.execute(
            "INSERT INTO entries (incident_id, at, written_at, kind, author, text, corrects, "
            "reason, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            ),
        )
        return int(cursor.lastrowid or 0)

    def entries(
        self,
        incident_id: int,
        *,
        offset: int = 0,
        limit: int = -1,
        kinds: Sequence[Kind] | None = None,
        contains: str | None = None,
    ) -> list[Entry]:
        """Entries in timeline order (claimed time, then write order), optionally filtered."""
        sql, params = self._entry_query("id", incident_id, kinds, contains)
        sql += " ORDER BY at, id LIMIT ? OFFSET ?"
        # Page on the covering (incident_id, at, id) index, then read only the rows kept: a deep
        # OFFSET (the last page of 50,000 entries) skips index entries, not table rows.
        rows = self.conn.execute(
            f"SELECT * FROM entries WHERE id IN ({sql}) ORDER BY at, id", (*params, limit, offset)
        )
        return [_entry(row) for row in rows]

    def entry_count(
        self,
        incident_id: int,
        *,
        kinds: Sequence[Kind] | None = None,
        contains: str | None = None,
    ) -> int:
        sql, params = self._entry_query("count(*)", incident_id, kinds, contains)
        return int(self.conn.execute(sql, params).fetchone()[0])

    def entries_after(self, incident_id: int, after_id: int) -> list[Entry]:
        """Entries written after entry `after_id` (by write order): what is new since a look."""
        rows = self.conn.execute(
            "SELECT * FROM entries WHERE incident_id = ? AND id > ? ORDER BY id",
            (incident_id, after_id),
        )
        return [_entry(row) for row in rows]

    def last_entry_id(self, incident_id: int | None = None) -> int:
        if incident_id is None:
            row = self.conn.execute("SELECT max(id) FROM entries").fetchone()
        else:
            row = self.conn.execute(
                "SELECT max(id) FROM entries WHERE incident_id = ?", (incident_id,)
            ).fetchone()
        return int(row[0] or 0)

    def entry(self, entry_id: int) -> Entry:
        row = self.conn.execute("SELECT * FROM entries WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise StoreError(f"no timeline entry {entry_id}")
        return _entry(row)

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

    def updates_sent(self, incident_id: int) -> tuple[int, datetime | None]:
        """How many status updates were published, and when the last one was."""
        row = self.conn.execute(
            "SELECT count(*), max(at) FROM entries WHERE incident_id = ? AND kind = ?",
            (incident_id, Kind.UPDATE.value),
        ).fetchone()
        return int(row[0]), _dt(row[1])

    def find_entry(
        self, incident_id: int, kind: Kind, meta: Mapping[str, str | int]
    ) -> Entry | None:
        """The first entry of `kind` whose meta has all of `meta`'s values, if any."""
        sql, params = self._meta_query(incident_id, kind, meta)
        row = self.conn.execute(sql + " ORDER BY id LIMIT 1", params).fetchone()
        return _entry(row) if row else None

    def append_once(
        self,
        incident_id: int,
        kind: Kind,
        text: str,
        author: str,
        *,
        meta: Mapping[str, Any],
        key: Sequence[str],
    ) -> Entry | None:
        """Append unless an entry of `kind` already agrees with `meta` on the `key` fields.

        The check and the insert share one write transaction, so processes racing to record
        the same event (an escalation firing) write it exactly once; None when it existed.
        """
        now = self.clock()
        match = {name: meta[name] for name in key}
        sql, params = self._meta_query(incident_id, kind, match)
        with self._write() as conn:
            self._require_incident(conn, incident_id)
            if conn.execute(sql + " LIMIT 1", params).fetchone() is not None:
                return None
            entry_id = self._insert_entry(
                conn, incident_id, kind, author, text, now, now, meta=meta
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

    # -- changes that write an entry

    def set_status(
        self, incident_id: int, status: Status, author: str, *, note: str = ""
    ) -> Entry | None:
        """Move the incident to `status`; None when it is already there."""
        now = self.clock()
        with self._write() as conn:
            entry_id = self._set_status(conn, incident_id, status, author, now, note)
        return self.entry(entry_id) if entry_id else None

    def _set_status(
        self,
        conn: sqlite3.Connection,
        incident_id: int,
        status: Status,
        author: str,
        now: datetime,
        note: str = "",
    ) -> int | None:
        row = self._require_incident(conn, incident_id)
        old = Status(row["status"])
        if old is status:
            return None
        stamp = format_utc(now)
        sets = ["status = ?"]
        params: list[Any] = [status.value]
        if status is Status.MONITORING and not row["mitigated_at"]:
            sets.append("mitigated_at = ?")
            params.append(stamp)
        if status is Status.RESOLVED:
            sets.append("resolved_at = ?")
            params.append(stamp)
            if not row["mitigated_at"]:
                sets.append("mitigated_at = ?")
                params.append(stamp)
        elif old is Status.RESOLVED:
            sets.append("resolved_at = NULL")  # reopened
        conn.execute(f"UPDATE incidents SET {', '.join(sets)} WHERE id = ?", (*params, incident_id))
        text = f"status {old.value} → {status.value}"
        if note:
            text += f": {note}"
        meta = {"from": old.value, "to": status.value}
        entry_id = self._insert_entry(
            conn, incident_id, Kind.STATUS, author, text, now, now, meta=meta
        )
        self._fire(conn, "status", incident_id, entry_id, meta, author, now)
        return entry_id

    def set_severity(self, incident_id: int, severity: str, author: str) -> Entry | None:
        """Change the severity; None when it is already that."""
        now = self.clock()
        with self._write() as conn:
            row = self._require_incident(conn, incident_id)
            old = row["severity"]
            if old == severity:
                return None
            conn.execute("UPDATE incidents SET severity = ? WHERE id = ?", (severity, incident_id))
            entry_id = self._insert_entry(
                conn,
                incident_id,
                Kind.SEVERITY,
                author,
                f"severity {old} → {severity}",
                now,
                now,
                meta={"from": old, "to": severity},
            )
            self._fire(
                conn, "severity", incident_id, entry_id, {"from": old, "to": severity}, author, now
            )
        return self.entry(entry_id)

    def assign(self, incident_id: int, role: str, person: str, author: str) -> Entry | None:
        """Give `role` to `person` ("" clears it); None when nothing changes."""
        now = self.clock()
        with self._write() as conn:
            self._require_incident(conn, incident_id)
            entry_id = self._assign(conn, incident_id, role, person.strip(), author, now)
        return self.entry(entry_id) if entry_id else None

    def _assign(
        self,
        conn: sqlite3.Connection,
        incident_id: int,
        role: str,
        person: str,
        author: str,
        now: datetime,
    ) -> int | None:
        row = conn.execute(
            "SELECT person FROM roles WHERE incident_id = ? AND role = ?", (incident_id, role)
        ).fetchone()
        old = row["person"] if row else ""
        if old == person:
            return None
        if person:
            conn.execute(
                "INSERT INTO roles (incident_id, role, person, since) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (incident_id, role) DO UPDATE SET person = excluded.person, "
                "since = excluded.since",
                (incident_id, role, person, format_utc(now)),
            )
            text = f"{role} → {person}"
        else:
            conn.execute(
                "DELETE FROM roles WHERE incident_id = ? AND role = ?", (incident_id, role)
            )
            text = f"{role} unassigned (was {old})"
        meta = {"role": role, "from": old, "to": person}
        return self._insert_entry(conn, incident_id, Kind.ROLE, author, text, now, now, meta=meta)

    def link_runbook(self, incident_id: int, name: str | None, author: str) -> Entry | None:
        """Link (or unlink, with None) a runbook; the change is a timeline entry."""
        now = self.clock()
        with self._write() as conn:
            row = self._require_incident(conn, incident_id)
            if row["runbook"] == name:
                return None
            conn.execute("UPDATE incidents SET runbook = ? WHERE id = ?", (name, incident_id))
            text = f"runbook linked: {name}" if name else "runbook unlinked"
            meta = {"event": "runbook", "from": row["runbook"], "to": name}
            entry_id = self._insert_entry(
                conn, incident_id, Kind.SYSTEM, author, text, now, now, meta=meta
            )
        return self.entry(entry_id)

    # -- publishing and the outbox

    def publish(
        self,
        incident_id: int,
        text: str,
        author: str,
        *,
        status: Status | None = None,
        deliveries: Sequence[tuple[str, str, Mapping[str, Any]]] = (),
        meta: Mapping[str, Any] | None = None,
    ) -> Entry:
        """Record a published status update and queue one delivery per target, atomically.

        `deliveries` holds (target, action, payload). A status change rides along in the same
        transaction; the first update also stamps `acknowledged_at`.
        """
        text = storable(text)
        if not text.strip():
            raise StoreError("a status update needs some text")
        now = self.clock()
        stamp = format_utc(now)
        with self._write() as conn:
            row = self._require_incident(conn, incident_id)
            if status is not None:
                self._set_status(conn, incident_id, status, author, now)
            if not row["acknowledged_at"]:
                conn.execute(
                    "UPDATE incidents SET acknowledged_at = ? WHERE id = ?", (stamp, incident_id)
                )
            entry_meta = dict(meta or {})
            entry_meta["targets"] = [target for target, _, _ in deliveries]
            if status is not None:
                entry_meta["status"] = status.value
            entry_id = self._insert_entry(
                conn, incident_id, Kind.UPDATE, author, text, now, now, meta=entry_meta
            )
            for target, action, payload in deliveries:
                _insert_delivery(conn, incident_id, entry_id, target, action, payload, stamp)
        return self.entry(entry_id)

    def enqueue(
        self,
        incident_id: int,
        target: str,
        action: str,
        payload: Mapping[str, Any],
        *,
        entry_id: int | None = None,
    ) -> int:
        """Queue a delivery that is not a published update (a page, a webhook event)."""
        stamp = format_utc(self.clock())
        with self._write() as conn:
            return _insert_delivery(conn, incident_id, entry_id, target, action, payload, stamp)

    def deliveries(
        self, incident_id: int | None = None, *, states: Sequence[str] | None = None
    ) -> list[Delivery]:
        sql = "SELECT * FROM deliveries WHERE 1"
        params: list[Any] = []
        if incident_id is not None:
            sql += " AND incident_id = ?"
            params.append(incident_id)
        if states:
            sql += f" AND state IN ({', '.join('?' for _ in states)})"
            params.extend(states)
        sql += " ORDER BY id"
        return [_delivery(row) for row in self.conn.execute(sql, params)]

    def delivery(self, delivery_id: int) -> Delivery:
        row = self.conn.execute("SELECT * FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
        if row is None:
            raise StoreError(f"no delivery {delivery_id}")
        return _delivery(row)

    def due_deliveries(self, now: datetime) -> list[Delivery]:
        """Deliveries to attempt now, oldest first; `sending` ones were interrupted mid-flight."""
        rows = self.conn.execute(
            "SELECT * FROM deliveries WHERE state IN ('queued', 'retrying', 'sending') "
            "AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id",
            (format_utc(now),),
        )
        return [_delivery(row) for row in rows]

    def update_delivery(self, delivery_id: int, **changes: Any) -> None:
        """Record an attempt's outcome (state, attempts, next_attempt_at, last_error, ...)."""
        allowed = {
            "state",
            "attempts",
            "next_attempt_at",
            "last_error",
            "remote_id",
            "sent_at",
            "payload",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"unknown delivery fields: {sorted(unknown)}")
        values = {
            key: format_utc(value)
            if isinstance(value, datetime)
            else json.dumps(value)
            if key == "payload"
            else value
            for key, value in changes.items()
        }
        values["updated_at"] = format_utc(self.clock())
        assignments = ", ".join(f"{key} = ?" for key in values)
        with self._write() as conn:
            conn.execute(
                f"UPDATE deliveries SET {assignments} WHERE id = ?",
                (*values.values(), delivery_id),
            )

    def claim_delivery(
        self,
        delivery_id: int,
        *,
        state: str,
        attempts: int,
        lease_until: datetime,
        payload: Mapping[str, Any],
    ) -> Delivery | None:
        """Take a delivery for one attempt if it is still as the caller saw it.

        Compare-and-set on (state, attempts), so two delivering processes never send the same
        delivery at once: the winner gets the row back in state `sending` with one more
        attempt and `next_attempt_at` = the end of its lease; the loser gets None.
        """
        stamp = format_utc(self.clock())
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, "
                "next_attempt_at = ?, payload = ?, updated_at = ? "
                "WHERE id = ? AND state = ? AND attempts = ?",
                (
                    format_utc(lease_until),
                    json.dumps(payload, separators=(",", ":")),
                    stamp,
                    delivery_id,
                    state,
                    attempts,
                ),
            )
        return self.delivery(delivery_id) if cursor.rowcount == 1 else None

    def remote_ref(self, incident_id: int, target: str, key: str) -> str | None:
        """An id the incident has at a service (Slack root `ts`, status-page incident id)."""
        row = self.conn.execute(
            "SELECT value FROM remote_refs WHERE incident_id = ? AND target = ? AND key = ?",
            (incident_id, target, key),
        ).fetchone()
        return row[0] if row else None

    def set_remote_ref(self, incident_id: int, target: str, key: str, value: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO remote_refs (incident_id, target, key, value, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (incident_id, target, key) "
                "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (incident_id, target, key, value, format_utc(self.clock())),
            )

    def _fire(
        self,
        conn: sqlite3.Connection,
        name: str,
        incident_id: int,
        entry_id: int,
        meta: Mapping[str, Any],
        author: str,
        now: datetime,
    ) -> None:
        """Queue what the event hook asks for, in the caller's transaction.

        A hook that fails (a bug) must not stop the change itself: the incident is declared
        anyway and the timeline says that nothing was queued, so people page by hand.
        """
        if self.events is None:
            return
        row = conn.execute("SELECT * FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        incident = self._incident(row)  # this connection sees the change not yet committed
        queued = tuple(
            (str(earlier[0]), str(earlier[1]))
            for earlier in conn.execute(
                "SELECT target, action FROM deliveries WHERE incident_id = ? ORDER BY id",
                (incident_id,),
            )
        )
        event = IncidentEvent(name, incident, dict(meta), entry_id, now, queued)
        try:
            deliveries = list(self.events(event))
        except Exception as exc:
            text = (
                f"could not queue pages or webhook events for this change "
                f"({type(exc).__name__}: {exc}); this is a cockpit bug: page people by hand"
            )
            self._insert_entry(
                conn, incident_id, Kind.SYSTEM, author, text, now, now, meta={"event": "hook"}
            )
            return
        stamp = format_utc(now)
        for target, action, payload in deliveries:
            _insert_delivery(conn, incident_id, entry_id, target, action, payload, stamp)

    # -- checks

    def integrity_check(self) -> str:
        return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    # -- post-mortems: written fields, action items and starred entries (issue 6)

    _POSTMORTEM_TEXT = (
        "summary",
        "impact",
        "contributing_factors",
        "went_well",
        "went_poorly",
        "lessons",
    )

    def postmortem(self, incident_id: int) -> Postmortem:
        """The incident's post-mortem fields (all empty until someone writes one)."""
        from cockpit.postmortem import Postmortem

        self.incident(incident_id)
        row = self.conn.execute(
            "SELECT * FROM postmortems WHERE incident_id = ?", (incident_id,)
        ).fetchone()
        if row is None:
            return Postmortem(incident_id)
        return Postmortem(
            incident_id=incident_id,
            root_cause=tuple(json.loads(row["root_cause"] or "[]")),
            completed_at=_dt(row["completed_at"]),
            updated_at=_dt(row["updated_at"]),
            updated_by=row["updated_by"] or "",
            **{name: row[name] or "" for name in self._POSTMORTEM_TEXT},
        )

    def set_postmortem(
        self,
        incident_id: int,
        author: str,
        fields: Mapping[str, str | Sequence[str]] | None = None,
        *,
        completed: bool | None = None,
    ) -> Postmortem:
        """Change some post-mortem fields (the others are kept); `root_cause` is a list of whys.

        `completed=True` marks the post-mortem complete (it stops being due), False reopens it.
        """
        values: dict[str, Any] = {}
        for name, value in (fields or {}).items():
            if name == "root_cause":
                if isinstance(value, str):
                    raise TypeError("root_cause is a list of whys, not one string")
                whys = [str(why).strip() for why in value if str(why).strip()]
                values[name] = json.dumps(whys, ensure_ascii=False)
            elif name in self._POSTMORTEM_TEXT:
                if not isinstance(value, str):
                    raise TypeError(f"{name} is text")
                values[name] = value
            else:
                raise StoreError(f"unknown post-mortem field {name!r}")
        now = format_utc(self.clock())
        if completed is not None:
            values["completed_at"] = now if completed else None
        values["updated_at"] = now
        values["updated_by"] = author
        columns = ", ".join(values)
        updates = ", ".join(f"{name} = excluded.{name}" for name in values)
        with self._write() as conn:
            self._require_incident(conn, incident_id)
            conn.execute(
                f"INSERT INTO postmortems (incident_id, {columns}) "
                f"VALUES (?, {', '.join('?' for _ in values)}) "
                f"ON CONFLICT (incident_id) DO UPDATE SET {updates}",
                (incident_id, *values.values()),
            )
        return self.postmortem(incident_id)

    def action_items(
        self, incident_id: int | None = None, *, states: Sequence[ItemState] | None = None
    ) -> list[ActionItem]:
        """Action items in the order they were added (of one incident, or of all)."""
        sql = "SELECT * FROM action_items WHERE 1"
        params: list[Any] = []
        if incident_id is not None:
            sql += " AND incident_id = ?"
            params.append(incident_id)
        if states:
            sql += f" AND state IN ({', '.join('?' for _ in states)})"
            params.extend(state.value for state in states)
        rows = self.conn.execute(sql + " ORDER BY id", params)
        return [_action_item(row) for row in rows]

    def action_item(self, item_id: int) -> ActionItem:
        row = self.conn.execute("SELECT * FROM action_items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise StoreError(f"no action item {item_id}")
        return _action_item(row)

    def add_action_item(
        self, incident_id: int, title: str, *, owner: str = "", deadline: date | None = None
    ) -> ActionItem:
        """Add an open action item; it needs a title."""
        from cockpit.postmortem import ItemState

        if not title.strip():
            raise StoreError("an action item needs a title")
        with self._write() as conn:
            self._require_incident(conn, incident_id)
            cursor = conn.execute(
                "INSERT INTO action_items (incident_id, title, owner, deadline, state, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    incident_id,
                    title.strip(),
                    owner.strip(),
                    deadline.isoformat() if deadline else None,
                    ItemState.OPEN.value,
                    format_utc(self.clock()),
                ),
            )
        return self.action_item(int(cursor.lastrowid or 0))

    def update_action_item(self, item_id: int, **changes: object) -> ActionItem:
        """Change an item's `title`, `owner`, `deadline` (a date, or None to clear) or `state`."""
        values: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "title":
                if not isinstance(value, str) or not value.strip():
                    raise StoreError("an action item needs a title")
                values[name] = value.strip()
            elif name == "owner":
                values[name] = str(value).strip()
            elif name == "deadline":
                if value is not None and not isinstance(value, date):
                    raise TypeError("deadline is a date or None")
                values[name] = value.isoformat() if value else None
            elif name == "state":
                from cockpit.postmortem import ItemState

                values[name] = ItemState(str(value)).value
            else:
                raise StoreError(f"unknown action item field {name!r}")
        self.action_item(item_id)
        if values:
            assignments = ", ".join(f"{name} = ?" for name in values)
            with self._write() as conn:
                conn.execute(
                    f"UPDATE action_items SET {assignments} WHERE id = ?",
                    (*values.values(), item_id),
                )
        return self.action_item(item_id)

    def remove_action_item(self, item_id: int) -> None:
        """Delete an action item added by mistake ("won't do" keeps the record instead)."""
        self.action_item(item_id)
        with self._write() as conn:
            conn.execute("DELETE FROM action_items WHERE id = ?", (item_id,))

    def star(self, entry_id: int, author: str) -> bool:
        """Mark an entry as a key moment; False when it already was."""
        entry = self.entry(entry_id)
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO stars (incident_id, entry_id, starred_at, starred_by) "
                "VALUES (?, ?, ?, ?)",
                (entry.incident_id, entry_id, format_utc(self.clock()), author),
            )
        return cursor.rowcount > 0

    def unstar(self, entry_id: int) -> bool:
        """Remove the key-moment mark; False when the entry was not starred."""
        entry = self.entry(entry_id)
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM stars WHERE incident_id = ? AND entry_id = ?",
                (entry.incident_id, entry_id),
            )
        return cursor.rowcount > 0

    def timeline_rows(self, incident_id: int) -> list[tuple[Any, ...]]:
        """Every entry as a plain tuple in timeline order, for exports of very long timelines.

        (id, at, written_at, kind, author, text, reason, corrects) as stored: no `Entry`
        objects, which cost more than the query itself at tens of thousands of rows.
        """
        cursor = self.conn.cursor()
        cursor.row_factory = None
        cursor.execute(
            "SELECT id, at, written_at, kind, author, text, reason, corrects FROM entries "
            "WHERE incident_id = ? ORDER BY at, id",
            (incident_id,),
        )
        return cursor.fetchall()

    def starred(self, incident_id: int) -> set[int]:
        """Ids of the incident's starred entries."""
        rows = self.conn.execute("SELECT entry_id FROM stars WHERE incident_id = ?", (incident_id,))
        return {int(row[0]) for row in rows}


def _insert_delivery(
    conn: sqlite3.Connection,
    incident_id: int,
    entry_id: int | None,
    target: str,
    action: str,
    payload: Mapping[str, Any],
    stamp: str,
) -> int:
    """Queue one delivery inside the caller's transaction; due at once."""
    cursor = conn.execute(
        "INSERT INTO deliveries (incident_id, entry_id, target, action, payload, state, "
        "attempts, next_attempt_at, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?)",
        (
            incident_id,
            entry_id,
            target,
            action,
            json.dumps(payload, separators=(",", ":")),
            stamp,
            stamp,
            stamp,
        ),
    )
    return int(cursor.lastrowid or 0)


_OPEN_HERE: dict[tuple[int, int], int] = {}
"""Database files this process holds open through a Store: (device, inode) -> how many."""
_OPEN_HERE_LOCK = threading.Lock()  # the app opens stores on several threads


def _file_key(path: Path) -> tuple[int, int]:
    try:
        found = path.stat()
    except OSError:
        return (-1, -1)
    return (found.st_dev, found.st_ino)


def _opened_here(key: tuple[int, int], change: int) -> None:
    with _OPEN_HERE_LOCK:
        count = _OPEN_HERE.get(key, 0) + change
        if count > 0:
            _OPEN_HERE[key] = count
        else:
            _OPEN_HERE.pop(key, None)


def _check_header(path: Path) -> None:
    """Refuse a file that is not SQLite before SQLite touches it.

    Only for a file this process does not hold open already: closing a descriptor of our own on
    it would drop every POSIX lock SQLite holds on it for this process, and another process
    would then take the database for unused (and a committed entry could vanish).
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except IsADirectoryError:
        raise StoreError(f"{path}: is a directory, not a database file") from None
    except OSError as exc:
        raise StoreError(f"{path}: cannot read: {exc.strerror}") from None
    if head and head != SQLITE_MAGIC:
        raise StoreError(f"{path}: not a cockpit database (not an SQLite file); left untouched")


def _explain(path: Path, exc: BaseException) -> str:
    message = str(exc)
    lowered = message.lower()
    if "locked" in lowered or "busy" in lowered:
        return (
            f"{path}: database is locked by another process; nothing was written, try again "
            "(or close the other writer)"
        )
    if "disk is full" in lowered or "disk i/o" in lowered:
        return f"{path}: disk full or failing ({message}); nothing was written, free space"
    if "readonly" in lowered or "read-only" in lowered:
        return f"{path}: database is read-only ({message}); check the file and folder permissions"
    if "not a database" in lowered or "malformed" in lowered:
        return f"{path}: not a usable cockpit database ({message}); left untouched"
    if "unable to open" in lowered:
        return f"{path}: cannot open database ({message}); check the path and permissions"
    return f"{path}: database error: {message}"
