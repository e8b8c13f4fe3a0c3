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
