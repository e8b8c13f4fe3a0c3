"""One open database file: opening it (read-write or read-only), the write transaction, and the
guard that refuses to write to a file that was damaged, deleted or replaced meanwhile.

The base of `Store`: the parts (incidents, timeline, outbox, post-mortems) add what they hold.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from cockpit.domain.clock import Clock, system_clock
from cockpit.domain.delivery import EventHook
from cockpit.domain.incident import DEFAULT_ROLES, Status, incident_ref
from cockpit.domain.moments import check_day, check_moment
from cockpit.domain.resolved import resolved_refusal
from cockpit.store.errors import (
    DAMAGED,
    CannotWrite,
    DatabaseDamaged,
    DatabaseReplaced,
    IncidentNotFound,
    IncidentResolved,
    StoreError,
    damage_report,
    error_code,
    store_error,
)
from cockpit.store.guard import (
    OPEN_HERE,
    check_file,
    check_no_orphan,
    check_schema,
    file_identity,
    file_key,
    opened_here,
    peek,
    quick_check,
    read_only_connection,
)
from cockpit.store.schema import MIGRATIONS, SCHEMA_VERSION

if TYPE_CHECKING:
    import sqlite_utils

_Method = TypeVar("_Method", bound=Callable[..., Any])


def guarded(method: _Method) -> _Method:
    """A store method whose database errors (a damaged page, a vanished file) are one line.

    Writes convert theirs in `_write`; reads (and the reads around a write) convert here."""

    @functools.wraps(method)
    def one_line(self: StoreConnection, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise self._failed(exc) from None

    return cast(_Method, one_line)


@contextmanager
def _closed_on_failure(conn: sqlite3.Connection, path: Path) -> Iterator[None]:
    """Close `conn` when opening it further fails; database and OS errors become one line."""
    try:
        yield
    except (sqlite3.DatabaseError, OSError) as exc:
        conn.close()
        raise store_error(path, exc) from None
    except StoreError:
        conn.close()
        raise


class StoreConnection:
    """One connection to the incident database file; the parts of `Store` build on it."""

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
        """Installed by the CLI and the app (`cockpit.comms.events.configure`): the outbox rows
        for declare, severity and status changes go in with the change, atomically."""
        self.role_names: tuple[str, ...] = DEFAULT_ROLES
        """The roles `assign` and `declare` accept (the configuration's, set with `events`)."""

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
    ) -> Self:
        """Open the database at `path`: for writing (creating it if `create`, and migrating), or
        `read_only`, which needs no write access and no free space.

        A file that is not a cockpit database (not SQLite, another application's tables, written
        by a newer cockpit) raises StoreError and is left byte-identical: its header and schema
        are read before anything is written. A missing file is created only with `create`.
        """
        path = Path(path)
        held_here = file_key(path) in OPEN_HERE  # ours, open in this process: no header read
        if not held_here and not check_file(path):
            if read_only or not create:
                raise StoreError(
                    f"{path}: no cockpit database here; `cockpit declare TITLE` starts one "
                    "(or point --db or $COCKPIT_DB at yours)"
                )
            check_no_orphan(path)
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
        with _closed_on_failure(conn, path):
            store.identity = file_identity(path)
            version = check_schema(conn, path)  # before the first write: a foreign file stays as is
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"{path}: cannot switch the database to WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            store._migrate(version)
            store._key = file_key(path)
            opened_here(store._key, +1)
        return store

    @classmethod
    def _open_read_only(cls, path: Path, clock: Clock, busy_timeout_ms: int) -> Self:
        """Read without writing anything: no WAL switch, no migration, no -shm if none can be made.

        SQLite reads a WAL database read-only when it can open or create its `-shm` file. In a
        read-only folder or on a full disk it cannot; the last resort is `immutable=1`, which
        reads the main file as it is, without the changes still in the `-wal` (said in `notice`).
        """
        uri = path.absolute().as_uri()
        sidecars = all(path.with_name(path.name + end).exists() for end in ("-wal", "-shm"))
        if not sidecars and file_key(path) not in OPEN_HERE:
            peek(uri, path)
        try:
            conn, notice = read_only_connection(uri, path, busy_timeout_ms / 1000)
        except sqlite3.DatabaseError as exc:
            raise store_error(path, exc) from None
        with _closed_on_failure(conn, path):
            version = check_schema(conn, path)
            identity = file_identity(path)
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
        store._key = file_key(path)
        opened_here(store._key, +1)
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
            opened_here(self._key, -1)
            self._key = None

    def __enter__(self) -> Self:
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
            self._damage = quick_check(self.conn, self.path)
        if self._damage:
            raise DatabaseDamaged(damage_report(self.path, self._damage))
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

    def another(self, *, busy_timeout_ms: int) -> Self:
        """A new connection to this same database file, for another thread (a sqlite3
        connection belongs to the thread that opened it).

        Refused as this store would refuse a write: when it only reads, or when `path` no longer
        names the file it opened (deleted or replaced meanwhile): never a new database, never
        the replacement.
        """
        if self.read_only:
            raise CannotWrite(f"{self.path}: {self.read_only}; nothing was written")
        self._still_there()
        other = type(self).open(
            self.path, clock=self.clock, busy_timeout_ms=busy_timeout_ms, create=False
        )
        if other.identity != self.identity:  # replaced between the look and the open
            other.close()
            self._still_there()
            raise DatabaseReplaced(f"{self.path} was replaced while cockpit opened it again")
        other.events, other.role_names = self.events, self.role_names
        return other

    def _still_there(self) -> None:
        """DatabaseReplaced unless `path` still names the file this store opened (device and
        inode)."""
        try:
            same = file_identity(self.path) == self.identity
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
        if error_code(exc) in DAMAGED:
            self._damage = str(exc)
        return store_error(self.path, exc)

    @guarded
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

    @guarded
    def integrity_check(self) -> str:
        return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])

    @guarded
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    @staticmethod
    def _require_incident(conn: sqlite3.Connection, incident_id: int) -> sqlite3.Row:
        """The incident's row, read in the caller's transaction; IncidentNotFound if none."""
        row = conn.execute("SELECT * FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        if row is None:
            raise IncidentNotFound(f"no incident {incident_ref(incident_id)}")
        return row  # type: ignore[no-any-return]

    @classmethod
    def _require_open(cls, conn: sqlite3.Connection, incident_id: int, what: str) -> sqlite3.Row:
        """The incident's row, read in the caller's transaction; IncidentResolved (naming `what`
        the change would do) when it is resolved."""
        row = cls._require_incident(conn, incident_id)
        if row["status"] == Status.RESOLVED.value:
            raise IncidentResolved(resolved_refusal(incident_id, what))
        return row

    @staticmethod
    def _select(
        table: str, incident_id: int | None, states: Sequence[str]
    ) -> tuple[str, list[Any]]:
        """Rows of `table` (deliveries, action items), of one incident or all, in any of
        `states` (all when empty), in the order they were added."""
        sql = f"SELECT * FROM {table} WHERE 1"
        params: list[Any] = []
        if incident_id is not None:
            sql += " AND incident_id = ?"
            params.append(incident_id)
        if states:
            sql += f" AND state IN ({', '.join('?' for _ in states)})"
            params.extend(states)
        return sql + " ORDER BY id", params

    def _row(self, table: str, row_id: int, what: str) -> Mapping[str, Any]:
        """The row of `table` with id `row_id`; StoreError naming `what` ("delivery") if none."""
        sql = f"SELECT * FROM {table} WHERE id = ?"
        row: Mapping[str, Any] | None = self.conn.execute(sql, (row_id,)).fetchone()
        if row is None:
            raise StoreError(f"no {what} {row_id}")
        return row
