"""The durable store: one SQLite file (WAL, synchronous=FULL), schema migrations, appends.

Every change to an incident goes through a method here, in one `BEGIN IMMEDIATE` transaction
that is committed before the method returns: the CLI and the TUI share these code paths.
This module imports only the standard library and the domain (sqlite-utils is loaded when a
migration or a query needs it), so `cockpit log` starts fast.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from cockpit.domain import (
    EARLIEST,
    ENTRY_TEXT,
    NAME_TEXT,
    POSTMORTEM_TEXT,
    REASON_TEXT,
    TITLE_TEXT,
    UPDATE_TEXT,
    Clock,
    Entry,
    Incident,
    Kind,
    Status,
    TextLimit,
    check_day,
    check_moment,
    format_utc,
    incident_ref,
    read_stored,
    read_stored_day,
    storable,
    strip_control,
    system_clock,
    unreadable_note,
)
from cockpit.domain.delivery import DELIVERY_STATES as DELIVERY_STATES
from cockpit.domain.delivery import Delivery as Delivery
from cockpit.domain.delivery import EventHook as EventHook
from cockpit.domain.delivery import IncidentEvent as IncidentEvent

if TYPE_CHECKING:
    import sqlite_utils

    from cockpit.postmortem import ActionItem, ItemState, Postmortem

SQLITE_MAGIC = b"SQLite format 3\x00"


class StoreError(Exception):
    """A problem with the database, as one line a person can act on."""


class IncidentNotFound(StoreError):
    pass


class TextTooLong(StoreError):
    """Text over its limit (`cockpit.domain.TextLimit`): refused whole, nothing written."""


def fits(text: str, limit: TextLimit, what: str | None = None) -> str:
    """`text` if it is within `limit`; TextTooLong (one line, naming `what`) otherwise."""
    if len(text) > limit.chars:
        raise TextTooLong(limit.refusal(len(text), what))
    return text


class DatabaseDamaged(StoreError):
    """The file is damaged (a corrupt page): the message says how to recover it."""


class DatabaseReplaced(StoreError):
    """The file at the path is no longer the database this store opened."""


class CannotWrite(StoreError):
    """The database cannot be written here (permissions, a full disk, a failing device)."""


# ---- schema --------------------------------------------------------------------------------


_INCIDENTS: dict[str, type] = {
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
}
_ENTRIES: dict[str, type] = {
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
}
_ROLES: dict[str, type] = {"incident_id": int, "role": str, "person": str, "since": str}
_ACTION_ITEMS: dict[str, type] = {
    "id": int,
    "incident_id": int,
    "title": str,
    "owner": str,
    "deadline": str,
    "state": str,
    "created_at": str,
}
_DELIVERIES: dict[str, type] = {
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
}
_REMOTE_REFS: dict[str, type] = {
    "incident_id": int,
    "target": str,
    "key": str,
    "value": str,
    "updated_at": str,
}
_POSTMORTEMS: dict[str, type] = {
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
}
_STARS: dict[str, type] = {
    "incident_id": int,
    "entry_id": int,
    "starred_at": str,
    "starred_by": str,
}

TABLES_ADDED: tuple[dict[str, dict[str, type]], ...] = (
    {
        "incidents": _INCIDENTS,
        "entries": _ENTRIES,
        "roles": _ROLES,
        "action_items": _ACTION_ITEMS,
        "deliveries": _DELIVERIES,
    },
    {"remote_refs": _REMOTE_REFS},
    {"postmortems": _POSTMORTEMS, "stars": _STARS},
)
"""The tables (and their columns) each migration adds: how a cockpit database is recognised."""


def _v1(db: sqlite_utils.Database) -> None:
    db.table("incidents").create(
        _INCIDENTS,
        pk="id",
        not_null={"title", "severity", "status", "declared_at", "impact_started_at"},
        defaults={"service": "", "declared_by": ""},
    )
    db.table("entries").create(
        _ENTRIES,
        pk="id",
        not_null={"incident_id", "at", "written_at", "kind", "author", "text"},
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db.table("roles").create(
        _ROLES, pk=("incident_id", "role"), foreign_keys=[("incident_id", "incidents", "id")]
    )
    db.table("action_items").create(
        _ACTION_ITEMS,
        pk="id",
        not_null={"incident_id", "title", "state"},
        defaults={"state": "open", "owner": ""},
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db.table("deliveries").create(
        _DELIVERIES,
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
        _REMOTE_REFS,
        pk=("incident_id", "target", "key"),
        foreign_keys=[("incident_id", "incidents", "id")],
    )


def _v3(db: sqlite_utils.Database) -> None:
    # Post-mortems: the written fields (one row per incident; whys as a JSON list) and the
    # entries starred as key moments, kept apart because entries are append-only.
    db.table("postmortems").create(
        _POSTMORTEMS, pk="incident_id", foreign_keys=[("incident_id", "incidents", "id")]
    )
    db.table("stars").create(
        _STARS,
        pk=("incident_id", "entry_id"),
        foreign_keys=[("incident_id", "incidents", "id"), ("entry_id", "entries", "id")],
    )
    db.executescript("CREATE INDEX action_items_by_incident ON action_items(incident_id, id);")


MIGRATIONS = (_v1, _v2, _v3)
"""Forward migrations; `PRAGMA user_version` is the number applied."""

SCHEMA_VERSION = len(MIGRATIONS)


# ---- rows -> domain ----------------------------------------------------------------------
#
# A row already on disk may hold anything (written by an older cockpit, edited by hand): reading
# never fails on it. Each converter tries the fast path; if any value cannot be read it reads the
# row again value by value, with a stand-in for what it cannot read and the raw text kept in
# `unreadable`, so every front end shows the row flagged and `cockpit doctor` names it.


def _time(row: Mapping[str, Any], name: str, bad: dict[str, str]) -> datetime | None:
    raw = row[name]
    if raw is None:
        return None
    try:
        return read_stored(raw)
    except ValueError:
        bad[name] = str(raw)
        return None


def _json(row: Mapping[str, Any], name: str, shape: type, bad: dict[str, str]) -> Any:
    raw = row[name]
    if not raw:
        return shape()
    try:
        value = json.loads(raw)
    except (ValueError, TypeError, RecursionError):
        value = None
    if not isinstance(value, shape):
        bad[name] = str(raw)
        return shape()
    return value


def _choice(row: Mapping[str, Any], name: str, choices: type[StrEnum], bad: dict[str, str]) -> Any:
    try:
        return choices(row[name])
    except ValueError:
        bad[name] = str(row[name])
        return None


def _meta(raw: str) -> dict[str, Any]:
    meta = json.loads(raw)
    if not isinstance(meta, dict):
        raise TypeError("meta is not an object")
    return meta


def _entry(row: Mapping[str, Any]) -> Entry:
    try:
        return Entry(
            id=row["id"],
            incident_id=row["incident_id"],
            at=read_stored(row["at"]),
            written_at=read_stored(row["written_at"]),
            kind=Kind(row["kind"]),
            author=row["author"],
            text=row["text"],
            corrects=row["corrects"],
            reason=row["reason"],
            meta=_meta(row["meta"]) if row["meta"] else {},
        )
    except (ValueError, TypeError, RecursionError):
        return _flagged_entry(row)


def _flagged_entry(row: Mapping[str, Any]) -> Entry:
    bad: dict[str, str] = {}
    at, written = _time(row, "at", bad), _time(row, "written_at", bad)
    kind = _choice(row, "kind", Kind, bad) or Kind.NOTE
    meta = _json(row, "meta", dict, bad)
    return Entry(
        id=row["id"],
        incident_id=row["incident_id"],
        at=at or written or EARLIEST,
        written_at=written or at or EARLIEST,
        kind=kind,
        author=row["author"],
        text=row["text"],
        corrects=row["corrects"],
        reason=row["reason"],
        meta=meta,
        unreadable=bad,
    )


@dataclass(frozen=True)
class UnreadableRow:
    """A stored row with values cockpit cannot read: which one, and the raw values."""

    what: str  # incident, entry, delivery, action item, post-mortem
    id: int
    incident_id: int
    values: Mapping[str, str]

    def describe(self) -> str:
        """`INC-3 entry #42: ⚠ unreadable at='0226-11-28T02:10:00.000Z'`."""
        ref = incident_ref(self.incident_id)
        if self.what == "incident":
            name = ref
        elif self.what == "post-mortem":
            name = f"{ref} post-mortem"
        else:
            name = f"{ref} {self.what} #{self.id}"
        return f"{name}: {unreadable_note(self.values)}"


def _delivery(row: Mapping[str, Any]) -> Delivery:
    bad: dict[str, str] = {}
    created = _time(row, "created_at", bad)
    return Delivery(
        id=row["id"],
        incident_id=row["incident_id"],
        entry_id=row["entry_id"],
        target=row["target"],
        action=row["action"],
        payload=_json(row, "payload", dict, bad),
        state=row["state"],
        attempts=row["attempts"],
        next_attempt_at=_time(row, "next_attempt_at", bad),
        last_error=row["last_error"],
        remote_id=row["remote_id"],
        created_at=created or EARLIEST,
        updated_at=_time(row, "updated_at", bad),
        sent_at=_time(row, "sent_at", bad),
        unreadable=bad,
    )


def _action_item(row: Mapping[str, Any]) -> ActionItem:
    from cockpit.postmortem import ActionItem, ItemState  # only post-mortem work pays for it

    bad: dict[str, str] = {}
    deadline = None
    if row["deadline"]:
        try:
            deadline = read_stored_day(row["deadline"])
        except ValueError:
            bad["deadline"] = str(row["deadline"])
    return ActionItem(
        id=row["id"],
        incident_id=row["incident_id"],
        title=row["title"],
        owner=row["owner"] or "",
        deadline=deadline,
        state=_choice(row, "state", ItemState, bad) or ItemState.OPEN,
        created_at=_time(row, "created_at", bad),
        unreadable=bad,
    )


# ---- the store ----------------------------------------------------------------------------

_Method = TypeVar("_Method", bound=Callable[..., Any])


def _guarded(method: _Method) -> _Method:
    """A store method whose database errors (a damaged page, a vanished file) are one line.

    Writes convert theirs in `_write`; reads (and the reads around a write) convert here."""

    @functools.wraps(method)
    def guarded(self: Store, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise self._failed(exc) from None

    return cast(_Method, guarded)


class Store:
    """The incident database. Open with `Store.open(path)`; every write commits before returning."""

    def __init__(
        self, conn: sqlite3.Connection, path: Path, clock: Clock, *, read_only: str = ""
    ) -> None:
        self.conn = conn
        self.path = path
        self.clock = clock
        self.read_only = read_only
        """Why this store only reads ("" when it writes): said when a write is refused."""
        self.notice = ""
        """A caveat about how the database was opened (after its path), shown once."""
        self.identity: tuple[int, int] | None = None  # (device, inode) of the file at `path`
        self._damage: str | None = None  # what the first check found; None until it ran
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
        read_only: bool = False,
    ) -> Store:
        """Open the database at `path`: for writing (creating it if `create`, and migrating), or
        `read_only`, which needs no write access and no free space.

        A file that is not a cockpit database (not SQLite, another application's tables, written
        by a newer cockpit) raises StoreError and is left byte-identical: its header and schema
        are read before anything is written. A missing file is created only with `create`.
        """
        path = Path(path)
        held_here = _file_key(path) in _OPEN_HERE  # ours, open in this process: no header read
        if not held_here and not _check_file(path):
            if read_only or not create:
                raise StoreError(
                    f"{path}: no cockpit database here; `cockpit declare TITLE` starts one "
                    "(or point --db or $COCKPIT_DB at yours)"
                )
            _check_no_orphan(path)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{path.parent}: cannot create folder: {exc.strerror}") from None
        if read_only:
            return cls._open_read_only(path, clock, busy_timeout_ms)
        try:
            conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open database: {exc}") from None
        conn.row_factory = sqlite3.Row
        store = cls(conn, path, clock)
        try:
            store.identity = _identity(path)
            version = _check_schema(
                conn, path
            )  # before the first write: a foreign file stays as is
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"{path}: cannot switch the database to WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            store._migrate(version)
            store._key = _file_key(path)
            _opened_here(store._key, +1)
        except (sqlite3.DatabaseError, OSError) as exc:
            conn.close()
            raise _error(path, exc) from None
        except StoreError:
            conn.close()
            raise
        return store

    @classmethod
    def _open_read_only(cls, path: Path, clock: Clock, busy_timeout_ms: int) -> Store:
        """Read without writing anything: no WAL switch, no migration, no -shm if none can be made.

        SQLite reads a WAL database read-only when it can open or create its `-shm` file. In a
        read-only folder or on a full disk it cannot; the last resort is `immutable=1`, which
        reads the main file as it is, without the changes still in the `-wal` (said in `notice`).
        """
        uri = path.absolute().as_uri()
        sidecars = all(path.with_name(path.name + end).exists() for end in ("-wal", "-shm"))
        if not sidecars and _file_key(path) not in _OPEN_HERE:
            _peek(uri, path)
        try:
            conn, notice = _read_only_connection(uri, path, busy_timeout_ms / 1000)
        except sqlite3.DatabaseError as exc:
            raise _error(path, exc) from None
        try:
            version = _check_schema(conn, path)
            identity = _identity(path)
        except (sqlite3.DatabaseError, OSError) as exc:
            conn.close()
            raise _error(path, exc) from None
        except StoreError:
            conn.close()
            raise
        if version < SCHEMA_VERSION:
            # Written by an older cockpit (or never used): upgrade it once, then read.
            conn.close()
            try:
                cls.open(path, clock=clock, busy_timeout_ms=busy_timeout_ms, create=False).close()
            except StoreError as exc:
                raise StoreError(
                    f"{path}: needs upgrading to schema {SCHEMA_VERSION} (it has {version}) "
                    f"and cannot be written: {exc}"
                ) from None
            return cls._open_read_only(path, clock, busy_timeout_ms)
        conn.row_factory = sqlite3.Row
        store = cls(conn, path, clock, read_only=notice or "opened read-only")
        store.identity, store.notice = identity, notice
        store._key = _file_key(path)
        _opened_here(store._key, +1)
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
        """One write transaction, committed (durably) on exit or rolled back on error.

        Refused before it starts when the store only reads or the database is damaged (checked
        once per store, before its first write), and rolled back when the file at `path` is no
        longer the one this store opened (deleted or replaced meanwhile).
        """
        if self.read_only:
            raise CannotWrite(f"{self.path}: {self.read_only}; nothing was written")
        if self._damage is None:
            self._damage = _quick_check(self.conn, self.path)
        if self._damage:
            raise DatabaseDamaged(_damaged(self.path, self._damage))
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise self._failed(exc) from None
        try:
            yield self.conn
            self._still_there()
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if isinstance(exc, DatabaseReplaced):
                self._settle()
            if isinstance(exc, sqlite3.DatabaseError):
                raise self._failed(exc) from None
            raise

    def another(self, *, busy_timeout_ms: int) -> Store:
        """A new connection to this same database file, for another thread (a sqlite3
        connection belongs to the thread that opened it).

        Refused as this store would refuse a write: when it only reads, or when `path` no longer
        names the file it opened (deleted or replaced meanwhile): never a new database, never
        the replacement.
        """
        if self.read_only:
            raise CannotWrite(f"{self.path}: {self.read_only}; nothing was written")
        self._still_there()
        other = Store.open(
            self.path, clock=self.clock, busy_timeout_ms=busy_timeout_ms, create=False
        )
        if other.identity != self.identity:  # replaced between the look and the open
            other.close()
            self._still_there()
            raise DatabaseReplaced(f"{self.path} was replaced while cockpit opened it again")
        other.events = self.events
        return other

    def _still_there(self) -> None:
        """DatabaseReplaced unless `path` still names the file this store opened (device and
        inode)."""
        try:
            same = _identity(self.path) == self.identity
        except OSError:
            same = False
        if not same:
            raise DatabaseReplaced(
                f"{self.path} was deleted or replaced while cockpit had it open; nothing was "
                "written; restart cockpit"
            )

    def _settle(self) -> None:
        """Move this connection's pages from the -wal into the file it opened, and empty the
        -wal: SQLite leaves a moved database's -wal behind, and a database now at the path (or
        a new one) would read those pages as its own."""
        with contextlib.suppress(sqlite3.Error):
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _failed(self, exc: sqlite3.DatabaseError) -> StoreError:
        """The one line for a database error; damage found here refuses every later write."""
        if _code(exc) in _DAMAGED:
            self._damage = str(exc)
        return _error(self.path, exc)

    @_guarded
    def data_version(self) -> int:
        """Changes whenever another connection commits: a cheap "anything new?" check.

        StoreError when `path` no longer names this database (deleted or replaced), so a front
        end that polls says so at once rather than at its next write."""
        try:
            self._still_there()
        except DatabaseReplaced:
            self._settle()
            raise
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def now(self) -> datetime:
        """The clock's time; StoreError when the clock is outside the times cockpit accepts."""
        moment = self.clock()
        try:
            return check_moment(moment, f"the system clock's time {moment.isoformat()}")
        except ValueError as exc:
            raise StoreError(f"{exc}; set the clock, nothing was written") from None

    @staticmethod
    def _moment(moment: datetime, what: str) -> datetime:
        try:
            return check_moment(moment, what)
        except ValueError as exc:
            raise StoreError(f"{exc}; nothing was written") from None

    @staticmethod
    def _day(day: date) -> date:
        try:
            return check_day(day, f"the deadline {day.isoformat()}")
        except ValueError as exc:
            raise StoreError(f"{exc}; nothing was written") from None

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

    @_guarded
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
        fits(title, TITLE_TEXT, "an incident title")
        fits(service, NAME_TEXT, "a service name")
        for role, person in (roles or {}).items():
            fits(person, NAME_TEXT, f"the {role}'s name")
        now = self.now()
        impact = now
        if impact_started_at is not None:
            impact = self._moment(impact_started_at, "the impact start")
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

    @_guarded
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
        bad: dict[str, str] = {}
        impact, declared = _time(row, "impact_started_at", bad), _time(row, "declared_at", bad)
        return Incident(
            id=row["id"],
            title=row["title"],
            service=row["service"] or "",
            severity=row["severity"],
            status=_choice(row, "status", Status, bad) or Status.INVESTIGATING,
            runbook=row["runbook"],
            impact_started_at=impact or declared or EARLIEST,
            declared_at=declared or impact or EARLIEST,
            acknowledged_at=_time(row, "acknowledged_at", bad),
            mitigated_at=_time(row, "mitigated_at", bad),
            resolved_at=_time(row, "resolved_at", bad),
            declared_by=row["declared_by"] or "",
            roles=roles,
            unreadable=bad,
        )

    @_guarded
    def incidents(self, *, open_only: bool = False) -> list[Incident]:
        """Incidents, newest first."""
        sql = "SELECT * FROM incidents"
        if open_only:
            sql += " WHERE status != 'resolved'"
        sql += " ORDER BY id DESC"
        return [self._incident(row) for row in self.conn.execute(sql)]

    @_guarded
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

    @_guarded
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

    @_guarded
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

    @_guarded
    def entry_count(
        self,
        incident_id: int,
        *,
        kinds: Sequence[Kind] | None = None,
        contains: str | None = None,
    ) -> int:
        sql, params = self._entry_query("count(*)", incident_id, kinds, contains)
        return int(self.conn.execute(sql, params).fetchone()[0])

    @_guarded
    def entries_after(self, incident_id: int, after_id: int) -> list[Entry]:
        """Entries written after entry `after_id` (by write order): what is new since a look."""
        rows = self.conn.execute(
            "SELECT * FROM entries WHERE incident_id = ? AND id > ? ORDER BY id",
            (incident_id, after_id),
        )
        return [_entry(row) for row in rows]

    @_guarded
    def last_entry_id(self, incident_id: int | None = None) -> int:
        if incident_id is None:
            row = self.conn.execute("SELECT max(id) FROM entries").fetchone()
        else:
            row = self.conn.execute(
                "SELECT max(id) FROM entries WHERE incident_id = ?", (incident_id,)
            ).fetchone()
        return int(row[0] or 0)

    @_guarded
    def entry(self, entry_id: int) -> Entry:
        row = self.conn.execute("SELECT * FROM entries WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise StoreError(f"no timeline entry {entry_id}")
        return _entry(row)

    def last_entry(self, incident_id: int, kind: Kind) -> Entry | None:
        """The incident's latest entry of `kind` in timeline order (one row off the index)."""
        row = self.conn.execute(
            "SELECT * FROM entries WHERE incident_id = ? AND kind = ? "
            "ORDER BY at DESC, id DESC LIMIT 1",
            (incident_id, kind.value),
        ).fetchone()
        return _entry(row) if row else None

    def corrections(self, entry: Entry) -> list[Entry]:
        """The entries that correct `entry`, in timeline order."""
        rows = self.conn.execute(
            "SELECT * FROM entries WHERE incident_id = ? AND corrects = ? ORDER BY at, id",
            (entry.incident_id, entry.id),
        )
        return [_entry(row) for row in rows]

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

    @_guarded
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

    @_guarded
    def find_entry(
        self, incident_id: int, kind: Kind, meta: Mapping[str, str | int]
    ) -> Entry | None:
        """The first entry of `kind` whose meta has all of `meta`'s values, if any."""
        sql, params = self._meta_query(incident_id, kind, meta)
        row = self.conn.execute(sql + " ORDER BY id LIMIT 1", params).fetchone()
        return _entry(row) if row else None

    @_guarded
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
        now = self.now()
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

    @_guarded
    def set_status(
        self, incident_id: int, status: Status, author: str, *, note: str = ""
    ) -> Entry | None:
        """Move the incident to `status`; None when it is already there."""
        now = self.now()
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

    @_guarded
    def set_severity(self, incident_id: int, severity: str, author: str) -> Entry | None:
        """Change the severity; None when it is already that."""
        now = self.now()
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

    @_guarded
    def assign(self, incident_id: int, role: str, person: str, author: str) -> Entry | None:
        """Give `role` to `person` ("" clears it); None when nothing changes."""
        fits(person, NAME_TEXT, f"the {role}'s name")
        now = self.now()
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

    @_guarded
    def link_runbook(self, incident_id: int, name: str | None, author: str) -> Entry | None:
        """Link (or unlink, with None) a runbook; the change is a timeline entry."""
        now = self.now()
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

    @_guarded
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
        fits(text, UPDATE_TEXT)
        now = self.now()
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

    @_guarded
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
        stamp = format_utc(self.now())
        with self._write() as conn:
            return _insert_delivery(conn, incident_id, entry_id, target, action, payload, stamp)

    @_guarded
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

    @_guarded
    def delivery(self, delivery_id: int) -> Delivery:
        row = self.conn.execute("SELECT * FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
        if row is None:
            raise StoreError(f"no delivery {delivery_id}")
        return _delivery(row)

    @_guarded
    def due_deliveries(self, now: datetime) -> list[Delivery]:
        """Deliveries to attempt now, oldest first; `sending` ones were interrupted mid-flight."""
        rows = self.conn.execute(
            "SELECT * FROM deliveries WHERE state IN ('queued', 'retrying', 'sending') "
            "AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id",
            (format_utc(now),),
        )
        return [_delivery(row) for row in rows]

    @_guarded
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
            key: format_utc(self._moment(value, key))
            if isinstance(value, datetime)
            else json.dumps(value)
            if key == "payload"
            else value
            for key, value in changes.items()
        }
        values["updated_at"] = format_utc(self.now())
        assignments = ", ".join(f"{key} = ?" for key in values)
        with self._write() as conn:
            conn.execute(
                f"UPDATE deliveries SET {assignments} WHERE id = ?",
                (*values.values(), delivery_id),
            )

    @_guarded
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
        stamp = format_utc(self.now())
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, "
                "next_attempt_at = ?, payload = ?, updated_at = ? "
                "WHERE id = ? AND state = ? AND attempts = ?",
                (
                    format_utc(self._moment(lease_until, "the delivery lease")),
                    json.dumps(payload, separators=(",", ":")),
                    stamp,
                    delivery_id,
                    state,
                    attempts,
                ),
            )
        return self.delivery(delivery_id) if cursor.rowcount == 1 else None

    @_guarded
    def remote_ref(self, incident_id: int, target: str, key: str) -> str | None:
        """An id the incident has at a service (Slack root `ts`, status-page incident id)."""
        row = self.conn.execute(
            "SELECT value FROM remote_refs WHERE incident_id = ? AND target = ? AND key = ?",
            (incident_id, target, key),
        ).fetchone()
        return row[0] if row else None

    @_guarded
    def set_remote_ref(self, incident_id: int, target: str, key: str, value: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO remote_refs (incident_id, target, key, value, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (incident_id, target, key) "
                "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (incident_id, target, key, value, format_utc(self.now())),
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

    @_guarded
    def unreadable_rows(self) -> list[UnreadableRow]:
        """Every stored row holding a value cockpit cannot read (shown flagged; doctor lists them).

        Read through the same converters as every other read, so the verdict is theirs.
        """
        found: list[UnreadableRow] = []
        for row in self.conn.execute("SELECT * FROM incidents ORDER BY id"):
            incident = self._incident(row)
            if incident.unreadable:
                found.append(
                    UnreadableRow("incident", incident.id, incident.id, incident.unreadable)
                )
        readers: tuple[tuple[str, str, Callable[[Mapping[str, Any]], Any]], ...] = (
            ("entry", "SELECT * FROM entries ORDER BY id", _entry),
            ("delivery", "SELECT * FROM deliveries ORDER BY id", _delivery),
            ("action item", "SELECT * FROM action_items ORDER BY id", _action_item),
        )
        for what, sql, read in readers:
            for row in self.conn.execute(sql):
                value = read(row)
                if value.unreadable:
                    found.append(
                        UnreadableRow(what, row["id"], row["incident_id"], value.unreadable)
                    )
        for (incident_id,) in self.conn.execute("SELECT incident_id FROM postmortems ORDER BY 1"):
            pm = self.postmortem(incident_id)
            if pm.unreadable:
                found.append(UnreadableRow("post-mortem", incident_id, incident_id, pm.unreadable))
        return found

    @_guarded
    def integrity_check(self) -> str:
        return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])

    @_guarded
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

    @_guarded
    def postmortem(self, incident_id: int) -> Postmortem:
        """The incident's post-mortem fields (all empty until someone writes one)."""
        from cockpit.postmortem import Postmortem

        self.incident(incident_id)
        row = self.conn.execute(
            "SELECT * FROM postmortems WHERE incident_id = ?", (incident_id,)
        ).fetchone()
        if row is None:
            return Postmortem(incident_id)
        bad: dict[str, str] = {}
        updated = _time(row, "updated_at", bad)
        completed = _time(row, "completed_at", bad)
        if row["completed_at"] and completed is None:
            completed = updated or EARLIEST  # stored as completed: it stays so, flagged
        return Postmortem(
            incident_id=incident_id,
            root_cause=tuple(str(why) for why in _json(row, "root_cause", list, bad)),
            completed_at=completed,
            updated_at=updated,
            updated_by=row["updated_by"] or "",
            unreadable=bad,
            **{name: row[name] or "" for name in self._POSTMORTEM_TEXT},
        )

    @_guarded
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
                fits("\n".join(whys), POSTMORTEM_TEXT, "the root cause")
                values[name] = json.dumps(whys, ensure_ascii=False)
            elif name in self._POSTMORTEM_TEXT:
                if not isinstance(value, str):
                    raise TypeError(f"{name} is text")
                values[name] = fits(value, POSTMORTEM_TEXT, f"the {name.replace('_', ' ')}")
            else:
                raise StoreError(f"unknown post-mortem field {name!r}")
        now = format_utc(self.now())
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

    @_guarded
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

    @_guarded
    def action_item(self, item_id: int) -> ActionItem:
        row = self.conn.execute("SELECT * FROM action_items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise StoreError(f"no action item {item_id}")
        return _action_item(row)

    @_guarded
    def add_action_item(
        self, incident_id: int, title: str, *, owner: str = "", deadline: date | None = None
    ) -> ActionItem:
        """Add an open action item; it needs a title."""
        from cockpit.postmortem import ItemState

        if not title.strip():
            raise StoreError("an action item needs a title")
        fits(title.strip(), TITLE_TEXT, "an action item's title")
        fits(owner.strip(), NAME_TEXT, "an action item's owner")
        with self._write() as conn:
            self._require_incident(conn, incident_id)
            cursor = conn.execute(
                "INSERT INTO action_items (incident_id, title, owner, deadline, state, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    incident_id,
                    title.strip(),
                    owner.strip(),
                    self._day(deadline).isoformat() if deadline else None,
                    ItemState.OPEN.value,
                    format_utc(self.now()),
                ),
            )
        return self.action_item(int(cursor.lastrowid or 0))

    @_guarded
    def update_action_item(self, item_id: int, **changes: object) -> ActionItem:
        """Change an item's `title`, `owner`, `deadline` (a date, or None to clear) or `state`."""
        values: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "title":
                if not isinstance(value, str) or not value.strip():
                    raise StoreError("an action item needs a title")
                values[name] = fits(value.strip(), TITLE_TEXT, "an action item's title")
            elif name == "owner":
                values[name] = fits(str(value).strip(), NAME_TEXT, "an action item's owner")
            elif name == "deadline":
                if value is not None and not isinstance(value, date):
                    raise TypeError("deadline is a date or None")
                values[name] = self._day(value).isoformat() if value else None
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

    @_guarded
    def remove_action_item(self, item_id: int) -> None:
        """Delete an action item added by mistake ("won't do" keeps the record instead)."""
        self.action_item(item_id)
        with self._write() as conn:
            conn.execute("DELETE FROM action_items WHERE id = ?", (item_id,))

    @_guarded
    def star(self, entry_id: int, author: str) -> bool:
        """Mark an entry as a key moment; False when it already was."""
        entry = self.entry(entry_id)
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO stars (incident_id, entry_id, starred_at, starred_by) "
                "VALUES (?, ?, ?, ?)",
                (entry.incident_id, entry_id, format_utc(self.now()), author),
            )
        return cursor.rowcount > 0

    @_guarded
    def unstar(self, entry_id: int) -> bool:
        """Remove the key-moment mark; False when the entry was not starred."""
        entry = self.entry(entry_id)
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM stars WHERE incident_id = ? AND entry_id = ?",
                (entry.incident_id, entry_id),
            )
        return cursor.rowcount > 0

    @_guarded
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

    @_guarded
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


def _check_file(path: Path) -> bool:
    """Whether a file is there to open; StoreError if it cannot be a database (its header).

    Only for a file this process does not hold open already: closing a descriptor of our own on
    it would drop every POSIX lock SQLite holds on it for this process, and another process
    would then take the database for unused (and a committed entry could vanish).
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return False
    except IsADirectoryError:
        raise StoreError(f"{path}: is a directory, not a database file") from None
    except OSError as exc:
        raise StoreError(f"{path}: cannot read: {exc.strerror}") from None
    if head and head != SQLITE_MAGIC:
        raise StoreError(f"{path}: not a cockpit database (not an SQLite file); left untouched")
    return True


def _check_no_orphan(path: Path) -> None:
    """A new database must not start next to the -wal of a deleted one: SQLite would read that
    file's pages into the new database."""
    wal = path.with_name(path.name + "-wal")
    try:
        orphan = wal.stat().st_size > 0
    except OSError:
        return
    if orphan:
        raise StoreError(
            f"{path}: no database here, but {wal} is left over from a deleted one and may hold "
            "its last changes; move it aside, then try again"
        )


def _identity(path: Path) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino


_SCHEMA_SQL = (
    "SELECT m.name, p.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p "
    "WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite!_%' ESCAPE '!'"
)


def _check_schema(conn: sqlite3.Connection, path: Path) -> int:
    """The schema version, once the file is known to be a cockpit database (or empty).

    Reads only: a file with tables that are not cockpit's (another application's database, or
    a name clash) raises StoreError before anything is written to it.
    """
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    columns: dict[str, set[str]] = {}
    for table, column in conn.execute(_SCHEMA_SQL):
        columns.setdefault(table, set()).add(column)
    if version == 0 and not columns:
        return 0  # new or empty: cockpit may set it up
    if version > SCHEMA_VERSION and {"incidents", "entries"} <= columns.keys():
        raise StoreError(
            f"{path}: written by a newer cockpit (schema {version}, this one knows "
            f"{SCHEMA_VERSION}); upgrade cockpit to open it"
        )
    expected = {
        table: names
        for added in TABLES_ADDED[: min(version, SCHEMA_VERSION)]
        for table, names in added.items()
    }
    if (
        version == 0
        or version > SCHEMA_VERSION
        or any(set(names) - columns.get(table, set()) for table, names in expected.items())
    ):
        tables = sorted(strip_control(name) for name in columns)
        listed = ", ".join(tables[:5]) + (", …" if len(tables) > 5 else "")
        raise StoreError(
            f"{path}: not a cockpit database (its tables: {listed}); left untouched, "
            "choose another file with --db"
        )
    return version


def _read_only_connection(uri: str, path: Path, timeout: float) -> tuple[sqlite3.Connection, str]:
    """A read-only connection that has read once, and a notice if it had to be `immutable=1`."""
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=timeout, isolation_level=None)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the -shm, if WAL
    except sqlite3.DatabaseError as exc:
        conn.close()
        if _code(exc) not in _CANNOT_WRITE:
            raise
        immutable = f"{uri}?mode=ro&immutable=1"
        return sqlite3.connect(immutable, uri=True, timeout=timeout, isolation_level=None), (
            _snapshot_notice(path, exc)
        )
    return conn, ""


def _peek(uri: str, path: Path) -> None:
    """Refuse a foreign file from its main file alone, read as it is (`immutable=1`): a
    read-only open of another application's WAL database would leave a -wal and -shm beside
    it. Errors here prove nothing (the file may be changing): the real open decides."""
    try:
        conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error:
        return
    try:
        _check_schema(conn, path)
    except sqlite3.Error:
        pass
    finally:
        conn.close()


QUICK_CHECK_BUDGET = 1_000
"""How much of the file a writer checks before its first write, in SQLite progress steps of
1,000 instructions (about 10 MB of database per 1,000 steps): the whole of any ordinary
incident database, a bounded cost for a huge one (measured in RELIABILITY.md)."""


def _quick_check(conn: sqlite3.Connection, path: Path) -> str:
    """ "" when the pages looked at are sound (or the budget ran out first); else what is wrong."""
    steps = 0

    def spend() -> bool:
        nonlocal steps
        steps += 1
        return steps > QUICK_CHECK_BUDGET

    conn.set_progress_handler(spend, 1000)
    try:
        result = str(conn.execute("PRAGMA quick_check(1)").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        if _code(exc) in _DAMAGED:
            return str(exc)
        if steps > QUICK_CHECK_BUDGET:
            return ""
        raise
    finally:
        conn.set_progress_handler(None, 0)
    # One line: "*** in database main ***\nPage 116: btreeInitPage() returns error code 11".
    return (
        "" if result == "ok" else " ".join(result.replace("*** in database main ***", "").split())
    )


def _code(exc: sqlite3.Error) -> int:
    """SQLite's primary result code of an error (0 if it carries none)."""
    return int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


_DAMAGED = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB (a valid header, a broken file)
_CANNOT_WRITE = {
    3,
    8,
    10,
    13,
    14,
}  # PERM, READONLY, IOERR, FULL, CANTOPEN: the -shm is out of reach


def _snapshot_notice(path: Path, exc: sqlite3.Error) -> str:
    """Why the database was read as an unchanging snapshot, and what that misses."""
    why = (
        f"read as a snapshot: cannot create {path.name}-shm ({exc}), a read-only folder or a "
        "full disk"
    )
    wal = path.with_name(path.name + "-wal")
    try:
        pending = wal.stat().st_size > 0
    except OSError:
        pending = False
    if pending:
        return f"{why}; the newest changes, still in {wal.name}, are not shown"
    return f"{why}; changes made meanwhile are not shown"


def _damaged(path: Path, detail: str) -> str:
    return (
        f"{path}: the database is damaged ({detail}); cockpit writes nothing more to it. "
        f"{recovery_advice(path)}"
    )


def recovery_advice(path: Path) -> str:
    """How to get what a damaged database holds into a new file, naming both files."""
    import shlex

    new = path.with_name(f"{path.stem}-recovered{path.suffix}")
    old_arg, new_arg = shlex.quote(str(path)), shlex.quote(str(new))
    return (
        f"Recover what it holds with `sqlite3 {old_arg} .recover | sqlite3 {new_arg}` and use "
        f"that (--db {new_arg}); the damaged file stays at {path}"
    )


def _error(path: Path, exc: BaseException) -> StoreError:
    """The one-line StoreError for a database error (DatabaseDamaged for a corrupt file)."""
    if isinstance(exc, sqlite3.Error) and _code(exc) in _DAMAGED:
        return DatabaseDamaged(_explain(path, exc))
    if isinstance(exc, sqlite3.Error) and _code(exc) in _CANNOT_WRITE:
        return CannotWrite(_explain(path, exc))
    return StoreError(_explain(path, exc))


def _explain(path: Path, exc: BaseException) -> str:
    message = str(exc)
    lowered = message.lower()
    if isinstance(exc, sqlite3.Error) and _code(exc) in _DAMAGED:
        return _damaged(path, message)
    if isinstance(exc, OSError):
        return f"{path}: {exc.strerror or message}"
    if "locked" in lowered or "busy" in lowered:
        return (
            f"{path}: database is locked by another process; nothing was written, try again "
            "(or close the other writer)"
        )
    if "disk is full" in lowered or "disk i/o" in lowered:
        return f"{path}: disk full or failing ({message}); nothing was written, free space"
    if "readonly" in lowered or "read-only" in lowered:
        return f"{path}: database is read-only ({message}); check the file and folder permissions"
    if "unable to open" in lowered:
        return f"{path}: cannot open database ({message}); check the path and permissions"
    return f"{path}: database error: {message}"
