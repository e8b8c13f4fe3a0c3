"""A hostile environment: read-only folders, a full disk, a locked database, time zones."""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.store import Store
from tests.conftest import ROOT, cli_env, run_cli


def without_root_overrides() -> None:  # pragma: no cover - runs in the child
    """Drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH so even root obeys file modes."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_database_in_a_read_only_folder(tmp_path: Path):
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "c.db"
    run_cli("declare", "x", "-s", "SEV-2", db=db)
    run_cli("log", "written before", db=db)
    for leftover in folder.glob("c.db-*"):
        leftover.unlink()
    db.chmod(0o444)
    folder.chmod(0o555)
    preexec = without_root_overrides if os.geteuid() == 0 else None
    try:
        done = subprocess.run(
            [sys.executable, "-m", "cockpit", "log", "hello"],
            capture_output=True,
            text=True,
            env=cli_env(db),
            cwd=ROOT,
            preexec_fn=preexec,
            timeout=30,
        )
    finally:
        folder.chmod(0o755)
        db.chmod(0o644)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"cockpit: {db}")
    assert "permissions" in done.stderr or "read-only" in done.stderr
    with Store.open(db) as store:
        assert [e.text for e in store.entries(1)][-1] == "written before"


def limit_file_size(limit: int):  # pragma: no cover - runs in the child
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_full_disk_refuses_the_write_and_keeps_what_was_there(tmp_path: Path):
    db = tmp_path / "c.db"
    run_cli("declare", "x", "-s", "SEV-2", db=db)
    for i in range(20):
        run_cli("log", f"before the disk filled {i}", db=db)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    limit = db.stat().st_size + 64 * 1024
    done = subprocess.run(
        [sys.executable, "-m", "cockpit", "log", "-"],
        input=b"y" * (1024 * 1024),  # the longest entry (domain.ENTRY_TEXT): 16 times the room
        capture_output=True,
        env=cli_env(db),
        cwd=ROOT,
        preexec_fn=limit_file_size(limit),
        timeout=30,
    )
    stderr = done.stderr.decode()
    assert done.returncode == 1, stderr
    assert "disk full" in stderr and "nothing was written" in stderr
    assert "Traceback" not in stderr
    with Store.open(db) as store:
        assert store.integrity_check() == "ok"
        texts = [e.text for e in store.entries(1)]
    assert [t for t in texts if t.startswith("before")] == [
        f"before the disk filled {i}" for i in range(20)
    ]
    assert not any(t.startswith("yyy") for t in texts)


def test_a_database_locked_longer_than_the_busy_timeout(tmp_path: Path):
    db = tmp_path / "c.db"
    config = tmp_path / "config.toml"
    config.write_text("[database]\nbusy_timeout_ms = 200\n")
    run_cli("declare", "x", "-s", "SEV-2", db=db, config=config)
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        done = run_cli("log", "while locked", db=db, config=config)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert done.returncode == 1
    assert "locked by another process; nothing was written, try again" in done.stderr
    assert run_cli("log", "after", db=db, config=config).returncode == 0
    with Store.open(db) as store:
        texts = [e.text for e in store.entries(1)]
    assert "while locked" not in texts and texts[-1] == "after"


@pytest.mark.skipif(not Path("/usr/share/zoneinfo/Asia/Kolkata").exists(), reason="no tzdata")
def test_time_zone_changes_between_runs(tmp_path: Path):
    db = tmp_path / "c.db"
    run_cli("declare", "x", "-s", "SEV-1", db=db, env=cli_env(db, TZ="America/New_York"))
    run_cli("log", "from New York", db=db, env=cli_env(db, TZ="America/New_York"))
    run_cli("log", "from Kolkata", db=db, env=cli_env(db, TZ="Asia/Kolkata"))
    shown = {
        tz: run_cli("show", "--json", db=db, env=cli_env(db, TZ=tz)).stdout
        for tz in ("UTC", "Asia/Kolkata")
    }
    utc, kolkata = (json.loads(text) for text in shown.values())
    assert utc == kolkata  # stored and exported in UTC: the zone changes nothing
    texts = [e["text"] for e in utc["entries"]]
    assert texts.index("from New York") < texts.index("from Kolkata")
    human = {
        tz: run_cli("show", db=db, env=cli_env(db, TZ=tz)).stdout for tz in ("UTC", "Asia/Kolkata")
    }
    assert human["UTC"] != human["Asia/Kolkata"]  # shown in local time


def test_the_clock_jumping_back_loses_nothing(store: Store, clock):
    from datetime import timedelta

    from cockpit.domain import Kind

    incident = store.declare("x", "SEV-1", "alice")
    store.append(incident.id, Kind.NOTE, "before the jump", "alice")
    clock.advance(hours=-3)  # NTP correction, a VM resumed, a laptop lid opened
    store.append(incident.id, Kind.NOTE, "after the jump", "alice")
    clock.advance(hours=5)
    texts = {e.text for e in store.entries(incident.id)}
    assert {"before the jump", "after the jump"} <= texts
    assert store.integrity_check() == "ok"
    assert timedelta(0) <= store.incident(incident.id).declared_at - clock.now + timedelta(hours=2)


# ---- reading needs no write access and no free space (issue 11.8, 12.7) --------------------------

READS = [
    ["show"],
    ["show", "--json"],
    ["list", "--all"],
    ["export", "INC-1", "-o", "-"],
    ["outbox"],
    ["postmortem", "show", "INC-1", "--timeline"],
    ["update", "-m", "draft", "--dry-run"],
]


def cockpit_as(args: list[str], db: Path, preexec) -> subprocess.CompletedProcess[str]:
    """`cockpit ARGS` in a child that `preexec` restricts (no root override, a file size cap)."""
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args],
        capture_output=True,
        text=True,
        env=cli_env(db),
        cwd=ROOT,
        preexec_fn=preexec,
        timeout=60,
    )


def killed_writer(db: Path, text: str) -> None:
    """Append `text` in a process that is then SIGKILLed: it stays in the -wal, next to a -shm."""
    code = (
        "import sys, time\n"
        "from cockpit.store import Store\n"
        "from cockpit.domain import Kind\n"
        "store = Store.open(sys.argv[1])\n"
        "store.append(1, Kind.NOTE, sys.argv[2], 'alice')\n"
        "print('ok', flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(db), text], stdout=subprocess.PIPE, cwd=ROOT
    )
    assert child.stdout is not None and child.stdout.readline() == b"ok\n"
    child.kill()
    child.wait()


def seeded(folder: Path) -> Path:
    folder.mkdir()
    db = folder / "c.db"
    run_cli("declare", "Checkout down", "-s", "SEV-2", db=db)
    run_cli("log", "written before", db=db)
    return db


@pytest.fixture
def read_only_folder(tmp_path: Path):
    """A folder made read-only after `seeded`; put back as it was after the test."""
    folder = tmp_path / "ro"
    yield folder
    for path in (folder, *folder.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)


def lock(folder: Path) -> None:
    for path in folder.iterdir():
        path.chmod(0o444)
    folder.chmod(0o555)


NO_ROOT = without_root_overrides if os.geteuid() == 0 else None


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_reads_work_in_a_read_only_folder(read_only_folder: Path, args: list[str]):
    db = seeded(read_only_folder)  # closed cleanly: no -wal, no -shm, and none can be made
    lock(read_only_folder)
    done = cockpit_as(args, db, NO_ROOT)
    assert done.returncode == 0, done.stderr
    assert "written before" in done.stdout or args[0] in ("list", "outbox", "update")
    assert done.stderr.startswith(
        f"cockpit: note: {db}: read as a snapshot: cannot create c.db-shm"
    )
    assert sorted(p.name for p in read_only_folder.iterdir()) == ["c.db"]


def test_writes_in_a_read_only_folder_still_fail_in_one_line(read_only_folder: Path):
    db = seeded(read_only_folder)
    lock(read_only_folder)
    for args in (["log", "x"], ["status", "resolved"], ["postmortem", "set", "summary", "s"]):
        done = cockpit_as(args, db, NO_ROOT)
        assert done.returncode == 1, done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert "read-only" in done.stderr and str(db) in done.stderr


def test_doctor_in_a_read_only_folder_reads_and_says_what_cannot_be_written(read_only_folder: Path):
    db = seeded(read_only_folder)
    lock(read_only_folder)
    done = cockpit_as(["doctor"], db, NO_ROOT)
    assert f"ok    database       {db}: integrity ok, schema" in done.stdout
    assert f"FAIL  database       {read_only_folder} is not writable" in done.stdout
    assert "ok    disk" in done.stdout


def test_a_read_only_folder_with_the_wal_and_shm_of_a_killed_writer(read_only_folder: Path):
    db = seeded(read_only_folder)
    killed_writer(db, "only in the wal")
    assert (read_only_folder / "c.db-shm").exists()
    lock(read_only_folder)
    done = cockpit_as(["show"], db, NO_ROOT)
    assert done.returncode == 0, done.stderr
    assert "only in the wal" in done.stdout  # mode=ro reads through the existing -wal and -shm
    assert done.stderr == ""


def test_a_wal_without_its_shm_in_a_read_only_folder_is_read_as_a_snapshot(read_only_folder: Path):
    db = seeded(read_only_folder)
    killed_writer(db, "only in the wal")
    (read_only_folder / "c.db-shm").unlink()
    lock(read_only_folder)
    done = cockpit_as(["show"], db, NO_ROOT)
    assert done.returncode == 0, done.stderr
    assert "written before" in done.stdout
    assert "only in the wal" not in done.stdout  # immutable=1 reads the main file only: said
    assert "the newest changes, still in c.db-wal, are not shown" in done.stderr


def test_a_read_only_file_in_a_writable_folder(tmp_path: Path):
    db = seeded(tmp_path / "rw")
    db.chmod(0o444)
    try:
        shown = cockpit_as(["show"], db, NO_ROOT)
        logged = cockpit_as(["log", "x"], db, NO_ROOT)
    finally:
        db.chmod(0o644)
    assert shown.returncode == 0 and "written before" in shown.stdout, shown.stderr
    assert logged.returncode == 1
    assert logged.stderr.count("\n") == 1 and "read-only" in logged.stderr


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_reads_work_on_a_full_disk(tmp_path: Path, args: list[str]):
    db = seeded(tmp_path / "full")
    done = cockpit_as(args, db, limit_file_size(1024))  # not even a -shm fits
    assert done.returncode == 0, done.stderr
    assert "written before" in done.stdout or args[0] in ("list", "outbox", "update")
    assert "read as a snapshot" in done.stderr and "Traceback" not in done.stderr


APP_ON_A_READ_ONLY_DATABASE = """
import asyncio, sys
from pathlib import Path
from cockpit.config import Config, UserConfig
from cockpit.tui.app import make_app

async def main():
    app = make_app(Config(user=UserConfig(name="tester")), Path(sys.argv[1]))
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause()
        timeline = app.screen.query_one("#timeline")
        print("SHOWN", timeline.entry_at(timeline.count - 1).text)
        await pilot.press("n", *"typed while read-only", "enter")
        await pilot.pause()
        print("SCREEN", type(app.screen).__name__)
        for note in app._notifications:
            print("NOTE", note.message)

asyncio.run(main())
"""


def test_the_app_opens_a_read_only_database_and_says_why_writes_fail(read_only_folder: Path):
    db = seeded(read_only_folder)
    lock(read_only_folder)
    done = subprocess.run(
        [sys.executable, "-c", APP_ON_A_READ_ONLY_DATABASE, str(db)],
        capture_output=True,
        text=True,
        env=cli_env(db, TZ="UTC"),
        cwd=ROOT,
        preexec_fn=NO_ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "SHOWN written before" in lines
    assert "SCREEN EntryDialog" in lines  # the dialog stays open with what was typed
    notes = [line for line in lines if line.startswith("NOTE")]
    assert any("opened read-only, it cannot be written here" in note for note in notes)
    assert any("nothing was written" in note for note in notes)
    assert sorted(p.name for p in read_only_folder.iterdir()) == ["c.db"]
