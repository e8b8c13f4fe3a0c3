"""The store: durability, concurrency, migrations, refusal of foreign files, transactions."""

from __future__ import annotations

import hashlib
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import sqlite_utils

from cockpit.domain import Kind, Status
from cockpit.store import MIGRATIONS, SCHEMA_VERSION, Store, StoreError
from tests.conftest import ROOT, FakeClock


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_pragmas(store: Store):
    conn = store.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert store.schema_version() == SCHEMA_VERSION


def test_declare_writes_incident_entry_and_roles(store: Store, clock: FakeClock):
    impact = clock.now - timedelta(minutes=10)
    inc = store.declare(
        "Checkout API errors",
        "SEV-1",
        "alice",
        service="checkout",
        impact_started_at=impact,
        roles={"commander": "alice", "communicator": ""},
    )
    assert inc.ref == "INC-1"
    assert inc.status is Status.INVESTIGATING
    assert inc.impact_started_at == impact
    assert dict(inc.roles) == {"commander": "alice"}
    kinds = [e.kind for e in store.entries(inc.id)]
    assert kinds == [Kind.SYSTEM, Kind.ROLE]


def test_append_is_committed_before_it_returns(store: Store, db_path: Path):
    inc = store.declare("x", "SEV-2", "alice")
    entry = store.append(inc.id, Kind.ACTION, "rolled back api v142", "bob")
    # A second, independent connection sees it at once: it is committed, not just buffered.
    other = sqlite3.connect(db_path)
    sql = "SELECT kind, author, text FROM entries WHERE id = ?"
    row = other.execute(sql, (entry.id,)).fetchone()
    assert row == ("action", "bob", "rolled back api v142")


def test_entries_are_append_only(store: Store):
    inc = store.declare("x", "SEV-2", "alice")
    entry = store.append(inc.id, Kind.NOTE, "first", "alice")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("UPDATE entries SET text = 'edited' WHERE id = ?", (entry.id,))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("DELETE FROM entries WHERE id = ?", (entry.id,))


def test_backdating_records_claimed_and_written_times(store: Store, clock: FakeClock):
    inc = store.declare("x", "SEV-2", "alice")
    claimed = clock.now - timedelta(minutes=30)
    entry = store.append(inc.id, Kind.NOTE, "first alert", "alice", at=claimed, reason="paged late")
    assert entry.at == claimed and entry.written_at == clock.now and entry.backdated
    assert store.entries(inc.id)[0].text == "first alert"  # timeline order is claimed time
    with pytest.raises(StoreError, match="needs a reason"):
        store.append(inc.id, Kind.NOTE, "x", "alice", at=claimed)
    with pytest.raises(StoreError, match="future"):
        store.append(inc.id, Kind.NOTE, "x", "alice", at=clock.now + timedelta(hours=1), reason="r")


def test_status_changes_stamp_the_moments(store: Store, clock: FakeClock):
    inc = store.declare("x", "SEV-1", "alice")
    clock.advance(minutes=5)
    store.set_status(inc.id, Status.IDENTIFIED, "alice")
    clock.advance(minutes=5)
    store.set_status(inc.id, Status.MONITORING, "alice")
    mitigated = clock.now
    clock.advance(minutes=5)
    store.set_status(inc.id, Status.RESOLVED, "alice")
    assert store.set_status(inc.id, Status.RESOLVED, "alice") is None
    got = store.incident(inc.id)
    assert got.mitigated_at == mitigated
    assert got.resolved_at == clock.now
    texts = [e.text for e in store.entries(inc.id, kinds=[Kind.STATUS])]
    assert texts == [
        "status investigating → identified",
        "status identified → monitoring",
        "status monitoring → resolved",
    ]


def test_severity_and_role_changes_are_entries(store: Store):
    inc = store.declare("x", "SEV-2", "alice", roles={"commander": "alice"})
    store.set_severity(inc.id, "SEV-1", "alice")
    store.assign(inc.id, "commander", "bob", "alice")
    store.assign(inc.id, "communicator", "carol", "bob")
    assert store.assign(inc.id, "communicator", "carol", "bob") is None
    store.assign(inc.id, "communicator", "", "bob")
    got = store.incident(inc.id)
    assert got.severity == "SEV-1"
    assert dict(got.roles) == {"commander": "bob"}
    roles = store.entries(inc.id, kinds=[Kind.ROLE])
    assert [e.meta["to"] for e in roles] == ["alice", "bob", "carol", ""]


def test_publish_writes_entry_and_deliveries_in_one_transaction(store: Store, clock: FakeClock):
    inc = store.declare("x", "SEV-1", "alice")
    clock.advance(minutes=7)
    entry = store.publish(
        inc.id,
        "We are aware of an issue.",
        "bob",
        status=Status.IDENTIFIED,
        deliveries=[("slack", "update", {"text": "a"}), ("statuspage", "create", {"body": "b"})],
    )
    assert entry.kind is Kind.UPDATE
    assert store.incident(inc.id).acknowledged_at == clock.now
    assert store.incident(inc.id).status is Status.IDENTIFIED
    deliveries = store.deliveries(inc.id)
    assert [(d.target, d.state, d.entry_id) for d in deliveries] == [
        ("slack", "queued", entry.id),
        ("statuspage", "queued", entry.id),
    ]
    assert store.updates_sent(inc.id) == (1, clock.now)


def test_publish_rolls_back_everything_on_failure(store: Store):
    inc = store.declare("x", "SEV-1", "alice")
    before = store.entry_count(inc.id)
    with pytest.raises(TypeError):
        store.publish(inc.id, "text", "bob", deliveries=[("slack", "update", {"bad": object()})])
    assert store.entry_count(inc.id) == before
    assert store.deliveries(inc.id) == []
    assert store.incident(inc.id).acknowledged_at is None


def test_filtering_and_paging(store: Store):
    inc = store.declare("x", "SEV-2", "alice")
    for i in range(50):
        store.append(inc.id, Kind.ACTION if i % 5 == 0 else Kind.NOTE, f"step {i}", "alice")
    assert store.entry_count(inc.id) == 51
    assert store.entry_count(inc.id, kinds=[Kind.ACTION]) == 10
    assert store.entry_count(inc.id, contains="STEP 4") == 11  # 4, 40..49
    page = store.entries(inc.id, offset=10, limit=5)
    assert [e.text for e in page] == [f"step {i}" for i in range(9, 14)]
    newest = store.entries(inc.id, offset=2, limit=3, from_newest=True)  # counted from the end
    assert [e.text for e in newest] == ["step 45", "step 46", "step 47"]
    actions = store.entries(inc.id, offset=1, limit=2, kinds=[Kind.ACTION], from_newest=True)
    assert [e.text for e in actions] == ["step 35", "step 40"]
    last = store.last_entry_id(inc.id)
    store.append(inc.id, Kind.NOTE, "new", "bob")
    assert [e.text for e in store.entries_after(inc.id, last)] == ["new"]


def test_data_version_moves_when_another_connection_commits(store: Store, db_path: Path):
    inc = store.declare("x", "SEV-2", "alice")
    before = store.data_version()
    with Store.open(db_path) as other:
        other.append(inc.id, Kind.NOTE, "from elsewhere", "bob")
    assert store.data_version() != before


def test_refuses_a_file_that_is_not_sqlite(tmp_path: Path):
    path = tmp_path / "notes.db"
    path.write_text("these are my precious notes\n" * 100)
    before = digest(path)
    with pytest.raises(StoreError, match="not an SQLite file"):
        Store.open(path)
    assert digest(path) == before
    assert not (tmp_path / "notes.db-wal").exists()


def test_refuses_a_newer_schema_and_leaves_it_untouched(tmp_path: Path):
    path = tmp_path / "future.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE from_the_future (x)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(StoreError, match="newer cockpit"):
        Store.open(path)
    assert digest(path) == before


def test_migrates_forward_from_the_first_schema(tmp_path: Path, clock: FakeClock):
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    MIGRATIONS[0](db)
    db.execute("PRAGMA user_version = 1")
    db.execute(
        "INSERT INTO incidents (title, severity, status, declared_at, impact_started_at) "
        "VALUES ('old one', 'SEV-2', 'investigating', '2026-01-01T00:00:00.000Z', "
        "'2026-01-01T00:00:00.000Z')"
    )
    db.conn.commit()
    db.close()
    with Store.open(path, clock=clock) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.incident(1).title == "old one"
        store.set_remote_ref(1, "slack", "root_ts", "1700000000.000100")  # a v2 table
        assert store.remote_ref(1, "slack", "root_ts") == "1700000000.000100"


def test_locked_database_gives_a_clear_error_and_loses_nothing(db_path: Path, clock: FakeClock):
    with Store.open(db_path, clock=clock, busy_timeout_ms=100) as store:
        inc = store.declare("x", "SEV-2", "alice")
        store.append(inc.id, Kind.NOTE, "kept", "alice")
        blocker = sqlite3.connect(db_path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError, match="locked by another process"):
            store.append(inc.id, Kind.NOTE, "blocked", "alice")
        blocker.execute("ROLLBACK")
        blocker.close()
        store.append(inc.id, Kind.NOTE, "after", "alice")
        assert [e.text for e in store.entries(inc.id)][-2:] == ["kept", "after"]


WRITER = textwrap.dedent(
    """
    import sys
    from cockpit.store import Store
    from cockpit.domain import Kind
    store = Store.open(sys.argv[1])
    name, count = sys.argv[2], int(sys.argv[3])
    for i in range(count):
        entry = store.append(1, Kind.NOTE, f"{name} {i}", name)
        print(entry.id, flush=True)
    """
)


def test_two_processes_appending_at_once_both_succeed(db_path: Path, store: Store):
    store.declare("x", "SEV-2", "alice")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db_path), name, "150"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("left", "right")
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    texts = {e.text for e in store.entries(1)}
    for name in ("left", "right"):
        assert {f"{name} {i}" for i in range(150)} <= texts


def test_every_confirmed_append_survives_sigkill(db_path: Path, store: Store):
    store.declare("x", "SEV-2", "alice")
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db_path), "victim", "100000"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    confirmed = [int(proc.stdout.readline()) for _ in range(40)]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    with Store.open(db_path) as reopened:
        assert reopened.integrity_check() == "ok"
        present = {e.id for e in reopened.entries(1)}
    assert set(confirmed) <= present


HOLD_THE_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("held", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


def test_a_second_store_in_the_same_process_loses_nothing(db_path: Path, clock: FakeClock):
    """The app opens a second connection (its writer, its delivery worker) while its first is
    open. Reading the file's header through a file descriptor of our own, then closing it,
    dropped every POSIX lock SQLite held on the file for this process: another process then
    took the database for unused and a committed entry vanished (issue 11.15)."""

    def holder() -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLD_THE_LOCK, str(db_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None and process.stdout.readline() == "held\n"
        return process

    def release(process: subprocess.Popen[str]) -> None:
        process.communicate("\n", timeout=30)

    with Store.open(db_path, clock=clock) as first:
        incident = first.declare("Checkout API errors", "SEV-1", "alice").id
        with Store.open(db_path, clock=clock, busy_timeout_ms=10_000) as second:
            blocker = holder()
            threading.Timer(0.3, release, (blocker,)).start()
            second.append(incident, Kind.NOTE, "rolled back", "alice")  # waits for the lock
            fresh = sqlite3.connect(db_path)
            try:
                texts = [row[0] for row in fresh.execute("SELECT text FROM entries")]
            finally:
                fresh.close()
            assert "rolled back" in texts
            last = holder()  # still holding when this process lets go of the file
        first_texts = [e.text for e in first.entries(incident)]
    release(last)
    with Store.open(db_path, clock=clock) as reopened:
        assert [e.text for e in reopened.entries(incident)] == first_texts
        assert "rolled back" in first_texts
        assert reopened.integrity_check() == "ok"
