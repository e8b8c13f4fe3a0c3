"""The file guard: what is at the path before a store opens it (a database, cockpit's, not
damaged) and while it holds it (the same file), without ever writing to a foreign file."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from cockpit.domain.text import strip_control
from cockpit.store.errors import CANNOT_WRITE, DAMAGED, StoreError, error_code
from cockpit.store.schema import SCHEMA_VERSION, TABLES_ADDED

SQLITE_MAGIC = b"SQLite format 3\x00"


OPEN_HERE: dict[tuple[int, int], int] = {}
"""Database files this process holds open through a Store: (device, inode) -> how many."""
_OPEN_HERE_LOCK = threading.Lock()  # the app opens stores on several threads


def file_key(path: Path) -> tuple[int, int]:
    """The file at `path` as (device, inode), or (-1, -1) when there is none to look at."""
    try:
        return file_identity(path)
    except OSError:
        return (-1, -1)


def opened_here(key: tuple[int, int], change: int) -> None:
    """Count one more (`change` +1) or one fewer (-1) store holding the file `key` open."""
    with _OPEN_HERE_LOCK:
        count = OPEN_HERE.get(key, 0) + change
        if count > 0:
            OPEN_HERE[key] = count
        else:
            OPEN_HERE.pop(key, None)


def check_file(path: Path) -> bool:
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


def check_no_orphan(path: Path) -> None:
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


def file_identity(path: Path) -> tuple[int, int]:
    """(device, inode) of the file at `path`; OSError when there is none."""
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino


_SCHEMA_SQL = (
    "SELECT m.name, p.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p "
    "WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite!_%' ESCAPE '!'"
)


def check_schema(conn: sqlite3.Connection, path: Path) -> int:
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


def read_only_connection(uri: str, path: Path, timeout: float) -> tuple[sqlite3.Connection, str]:
    """A read-only connection that has read once, and a notice if it had to be `immutable=1`."""
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=timeout, isolation_level=None)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the -shm, if WAL
    except sqlite3.DatabaseError as exc:
        conn.close()
        if error_code(exc) not in CANNOT_WRITE:
            raise
        immutable = f"{uri}?mode=ro&immutable=1"
        return sqlite3.connect(immutable, uri=True, timeout=timeout, isolation_level=None), (
            _snapshot_notice(path, exc)
        )
    return conn, ""


def peek(uri: str, path: Path) -> None:
    """Refuse a foreign file from its main file alone, read as it is (`immutable=1`): a
    read-only open of another application's WAL database would leave a -wal and -shm beside
    it. Errors here prove nothing (the file may be changing): the real open decides."""
    try:
        conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error:
        return
    try:
        check_schema(conn, path)
    except sqlite3.Error:
        pass
    finally:
        conn.close()


QUICK_CHECK_BUDGET = 1_000
"""How much of the file a writer checks before its first write, in SQLite progress steps of
1,000 instructions (about 10 MB of database per 1,000 steps): the whole of any ordinary
incident database, a bounded cost for a huge one (measured in RELIABILITY.md)."""


def quick_check(conn: sqlite3.Connection, path: Path) -> str:
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
        if error_code(exc) in DAMAGED:
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
