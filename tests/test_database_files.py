"""The database file itself as an adversary (issue 11.2-11.4): another application's SQLite file,
a corrupt page, and the file deleted or replaced under a running cockpit or between commands."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

import pytest

from cockpit.domain import Kind, Status
from cockpit.store import DatabaseDamaged, Store, StoreError
from tests.conftest import FakeClock, run_cli

EVERY_COMMAND = [
    ["show"],
    ["show", "--json"],
    ["list", "--all"],
    ["export", "INC-1", "-o", "-"],
    ["outbox"],
    ["postmortem", "show", "INC-1"],
    ["runbooks", "draft", "INC-1"],
    ["log", "x"],
    ["declare", "y", "-s", "SEV-2"],
    ["status", "resolved"],
    ["severity", "SEV-1"],
    ["assign", "commander", "bob"],
    ["update", "-m", "hello"],
    ["update", "-m", "hello", "--dry-run"],
    ["deliver", "--wait", "0"],
    ["postmortem", "set", "summary", "s", "-i", "INC-1"],
    ["postmortem", "item", "add", "fix", "-i", "INC-1"],
]


def files_next_to(db: Path) -> dict[str, str]:
    """The database and its -wal with a digest of their bytes, and whether a -shm is there (an
    index in shared memory whose lock bytes change with every transaction, written or not)."""
    return {
        p.name: "" if p.name.endswith("-shm") else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(db.parent.iterdir())
        if p.name.startswith(db.name)
    }


# ---- 11.2: a SQLite file that is not a cockpit database ----------------------------------------


def foreign_databases(folder: Path) -> dict[str, Path]:
    """SQLite files that other programs wrote: each must be refused and left byte-identical."""
    made = {}

    def make(name: str, script: str) -> None:
        path = folder / f"{name}.db"
        conn = sqlite3.connect(path)
        conn.executescript(script)
        conn.close()
        made[name] = path

    make(
        "notes",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
        "INSERT INTO notes (body) VALUES ('precious');",
    )
    make("versioned", "CREATE TABLE t (x); PRAGMA user_version = 2;")
    make("wal", "PRAGMA journal_mode = WAL; CREATE TABLE kv (k, v); INSERT INTO kv VALUES (1, 2);")
    make("clash", "CREATE TABLE incidents (x); CREATE TABLE entries (y);")  # our names, not ours
    make(
        "lookalike",  # every table name right, a column wrong, the version plausible
        "CREATE TABLE incidents (id, title); CREATE TABLE entries (id, body);"
        "CREATE TABLE roles (a); CREATE TABLE action_items (a); CREATE TABLE deliveries (a);"
        "PRAGMA user_version = 1;",
    )
    make("only_a_view", "CREATE VIEW v AS SELECT 1 AS one;")
    return made


@pytest.mark.parametrize("args", [*EVERY_COMMAND, ["doctor"]], ids=" ".join)
def test_a_foreign_sqlite_file_is_refused_by_every_command_and_left_identical(
    tmp_path: Path, args: list[str]
):
    for name, db in foreign_databases(tmp_path).items():
        before = files_next_to(db)
        done = run_cli(*args, db=db)
        assert done.returncode == 1, (name, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        said = done.stdout if args == ["doctor"] else done.stderr
        assert f"{db}: not a cockpit database (its tables: " in said, (name, said)
        assert "left untouched" in said
        if args != ["doctor"]:
            assert len(done.stderr.strip().splitlines()) == 1
        assert files_next_to(db) == before, name


def test_the_app_refuses_a_foreign_file_too(tmp_path: Path):
    from cockpit.config import Config
    from cockpit.tui.app import make_app

    for db in foreign_databases(tmp_path).values():
        before = files_next_to(db)
        with pytest.raises(StoreError, match="not a cockpit database"):
            make_app(Config(), db)
        assert files_next_to(db) == before


@pytest.mark.parametrize("empty", ["zero bytes", "sqlite, no tables"])
def test_an_empty_file_is_still_set_up(tmp_path: Path, empty: str):
    db = tmp_path / "c.db"
    if empty == "zero bytes":
        db.touch()
    else:
        sqlite3.connect(db).execute("VACUUM").connection.close()
        assert db.stat().st_size > 0
    assert run_cli("declare", "x", "-s", "SEV-2", db=db).returncode == 0
    assert run_cli("log", "hello", db=db).returncode == 0
    with Store.open(db, read_only=True) as store:
        assert [e.text for e in store.entries(1)][-1] == "hello"


# ---- 11.3: a corrupt page ----------------------------------------------------------------------


@functools.cache
def healthy_database(entries: int) -> bytes:
    """The bytes of a real cockpit database with `entries` notes, checkpointed into the main
    file: built once per worker and copied, as thousands of committed appends take seconds."""
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "c.db"
        with Store.open(db, clock=FakeClock()) as store:
            incident = store.declare("Checkout down", "SEV-2", "alice")
            for n in range(entries):
                store.append(incident.id, Kind.NOTE, f"note {n} " + "x" * 80, "alice")
        with closing(sqlite3.connect(db)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return db.read_bytes()


def corrupt_database(db: Path, entries: int = 2000, btree: str = "entries") -> int:
    """A real cockpit database with one leaf page of `btree` (a table or an index) overwritten:
    its number."""
    db.write_bytes(healthy_database(entries))
    with closing(sqlite3.connect(db)) as conn:
        try:
            pages = [
                row[0]
                for row in conn.execute(
                    "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf'", (btree,)
                )
            ]
        except sqlite3.OperationalError:
            pytest.skip("this SQLite has no dbstat table to find a page of the timeline")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    page = pages[len(pages) // 2]
    with db.open("r+b") as handle:
        handle.seek((page - 1) * page_size)
        handle.write(b"\xff" * 64)  # the page header and its cell pointers
    return page


WRITES = [args for args in EVERY_COMMAND if args[0] not in ("show", "list", "export", "outbox")]
WRITES = [a for a in WRITES if a[:2] != ["postmortem", "show"] and "--dry-run" not in a]
WRITES = [a for a in WRITES if a[0] not in ("runbooks", "deliver")]  # deliver: nothing queued


@pytest.mark.parametrize("args", WRITES, ids=" ".join)
def test_writes_to_a_corrupt_database_are_refused_with_the_way_to_recover(
    tmp_path: Path, args: list[str]
):
    db = tmp_path / "c.db"
    corrupt_database(db)
    before = files_next_to(db)
    done = run_cli(*args, db=db)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    line = done.stderr.strip()
    assert len(line.splitlines()) == 1, line
    assert "the database is damaged" in line
    assert f"sqlite3 {db} .recover | sqlite3 {tmp_path / 'c-recovered.db'}" in line
    assert f"the damaged file stays at {db}" in line
    assert files_next_to(db) == before  # nothing more was written to it


@pytest.mark.parametrize(
    "args",
    [
        ["show"],
        ["show", "--json"],
        ["export", "INC-1", "-o", "-"],
        ["postmortem", "show", "--timeline"],
    ],
    ids=" ".join,
)
def test_reading_a_corrupt_page_is_one_line(tmp_path: Path, args: list[str]):
    db = tmp_path / "c.db"
    corrupt_database(db)
    done = run_cli(*args, db=db)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert "the database is damaged" in done.stderr and ".recover" in done.stderr


def test_doctor_fails_on_a_corrupt_database(tmp_path: Path):
    db = tmp_path / "c.db"
    corrupt_database(db)
    done = run_cli("doctor", db=db)
    assert done.returncode == 1
    line = next(line for line in done.stdout.splitlines() if line.startswith("FAIL  database"))
    assert "damaged" in line and ".recover" in line


def test_a_store_refuses_every_write_once_it_met_the_damage(tmp_path: Path):
    db = tmp_path / "c.db"
    corrupt_database(db)
    with Store.open(db) as store:
        with pytest.raises(DatabaseDamaged):
            store.entries(1)  # a read meets the bad page first
        with pytest.raises(DatabaseDamaged):
            store.set_postmortem(1, "alice", {"summary": "s"})
        with pytest.raises(DatabaseDamaged):
            store.append(1, Kind.NOTE, "x", "alice")


@pytest.mark.parametrize("damage", ["an index page", "the file cut in half"])
def test_other_damage_refuses_writes_and_fails_doctor(tmp_path: Path, damage: str):
    db = tmp_path / "c.db"
    if damage == "an index page":
        corrupt_database(db, btree="entries_kind")  # `show` never reads this index
    else:
        db.write_bytes(healthy_database(2000))
        os.truncate(db, db.stat().st_size // 2)
    logged = run_cli("log", "x", db=db)
    assert logged.returncode == 1 and logged.stderr.count("\n") == 1
    assert "the database is damaged" in logged.stderr and ".recover" in logged.stderr
    doctor = run_cli("doctor", db=db)
    assert doctor.returncode == 1 and "FAIL  database" in doctor.stdout
    shown = run_cli("show", db=db)
    assert "Traceback" not in shown.stderr  # it works, or it is the one line


def test_an_unreadable_first_page_is_one_line_everywhere(tmp_path: Path):
    db = tmp_path / "c.db"
    corrupt_database(db, entries=10)
    with db.open("r+b") as handle:
        handle.seek(16)
        handle.write(b"\x00\x07" + b"\xff" * 80)  # page size 7: not a valid header
    for args in (["show"], ["log", "x"], ["doctor"]):
        done = run_cli(*args, db=db)
        assert done.returncode == 1
        assert "Traceback" not in done.stderr
        said = done.stdout if args == ["doctor"] else done.stderr
        assert f"{db}: " in said


# ---- 11.4: deleted or replaced ---------------------------------------------------------------


@pytest.mark.parametrize("how", ["deleted", "renamed over", "moved away"])
def test_a_write_into_a_file_that_is_no_longer_the_database_is_refused(tmp_path: Path, how: str):
    db = tmp_path / "c.db"
    store = Store.open(db, clock=FakeClock())
    incident = store.declare("x", "SEV-2", "alice")
    store.append(incident.id, Kind.NOTE, "before", "alice")
    if how == "deleted":
        db.unlink()
    elif how == "renamed over":
        other = tmp_path / "other.db"
        with Store.open(other, clock=FakeClock()) as replacement:
            replacement.declare("the replacement", "SEV-3", "bob")
        os.replace(other, db)
    else:
        shutil.move(db, tmp_path / "elsewhere.db")
    before = files_next_to(db)
    writes = (
        lambda: store.append(incident.id, Kind.NOTE, "after", "alice"),
        lambda: store.set_status(incident.id, Status.RESOLVED, "alice"),
        lambda: store.publish(incident.id, "update", "alice"),
        lambda: store.set_postmortem(incident.id, "alice", {"summary": "s"}),
        lambda: store.add_action_item(incident.id, "fix"),
    )
    for write in writes:
        with pytest.raises(StoreError) as caught:
            write()
        assert str(caught.value) == (
            f"{db} was deleted or replaced while cockpit had it open; nothing was written; "
            "restart cockpit"
        )
    with pytest.raises(StoreError, match="deleted or replaced"):
        store.data_version()  # what the app polls: it says so within a second
    assert files_next_to(db).get(db.name) == before.get(db.name)  # nothing went into a new file
    store.close()
    if how == "renamed over":  # and none of the old database's pages are read into it
        with Store.open(db, read_only=True) as replacement:
            assert [i.title for i in replacement.incidents()] == ["the replacement"]
            assert replacement.integrity_check() == "ok"
    else:
        assert not db.exists()  # and nothing created a new one
        assert run_cli("declare", "afresh", db=db).returncode == 0  # no stale -wal in the way


@pytest.mark.parametrize("args", EVERY_COMMAND, ids=" ".join)
def test_a_missing_database_is_one_line_and_is_not_created(tmp_path: Path, args: list[str]):
    db = tmp_path / "c.db"
    done = run_cli(*args, db=db)
    if args[0] == "declare":
        assert done.returncode == 0
        assert db.exists()
        return
    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        f"cockpit: {db}: no cockpit database here; `cockpit declare TITLE` starts one "
        "(or point --db or $COCKPIT_DB at yours)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_doctor_does_not_create_the_database(tmp_path: Path):
    db = tmp_path / "sub" / "c.db"
    done = run_cli("doctor", db=db)
    assert done.returncode == 0, done.stdout
    assert f"warn  database       {db}: no database yet" in done.stdout
    assert not db.parent.exists()


def test_a_new_database_never_starts_next_to_the_wal_of_a_deleted_one(tmp_path: Path):
    from tests.test_hostile import killed_writer

    db = tmp_path / "c.db"
    run_cli("declare", "old", "-s", "SEV-2", db=db)
    killed_writer(db, "only in the wal")  # its last change is in c.db-wal only
    db.unlink()  # "start afresh", the wrong way
    wal = tmp_path / "c.db-wal"
    kept = wal.read_bytes()
    done = run_cli("declare", "new", "-s", "SEV-2", db=db)
    assert done.returncode == 1
    assert done.stderr == (
        f"cockpit: {db}: no database here, but {wal} is left over from a deleted one and may "
        "hold its last changes; move it aside, then try again\n"
    )
    assert not db.exists() and wal.read_bytes() == kept
    wal.rename(tmp_path / "aside")
    assert run_cli("declare", "new", "-s", "SEV-2", db=db).returncode == 0
