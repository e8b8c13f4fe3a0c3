"""Committed-append latency through the store vs a bare sqlite3 insert, and `cockpit log` start-up.

Run: .venv/bin/python bench/store_append.py [--appends N] [--runs N]
Prints figures beside baselines measured in the same run (compare ratios: the machine is noisy).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cockpit.domain import Kind  # noqa: E402
from cockpit.store import Store  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bare_inserts(path: Path, count: int) -> list[float]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute(
        "CREATE TABLE entries (id INTEGER PRIMARY KEY, incident_id INTEGER, at TEXT, "
        "written_at TEXT, kind TEXT, author TEXT, text TEXT, corrects INTEGER, reason TEXT, "
        "meta TEXT)"
    )
    conn.execute("CREATE INDEX entries_timeline ON entries(incident_id, at, id)")
    conn.execute("CREATE INDEX entries_kind ON entries(incident_id, kind, at)")
    times = []
    for i in range(count):
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO entries (incident_id, at, written_at, kind, author, text) "
            "VALUES (1, ?, ?, 'note', 'bench', ?)",
            ("2026-11-27T02:14:00.000Z", "2026-11-27T02:14:00.000Z", f"entry {i}"),
        )
        conn.execute("COMMIT")
        times.append(time.perf_counter() - start)
    conn.close()
    return times


def store_appends(path: Path, count: int) -> list[float]:
    store = Store.open(path)
    incident = store.declare("bench", "SEV-2", "bench")
    times = []
    for i in range(count):
        start = time.perf_counter()
        store.append(incident.id, Kind.NOTE, f"entry {i}", "bench")
        times.append(time.perf_counter() - start)
    store.close()
    return times


def wall(cmd: list[str], env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appends", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    # An installed cockpit has bytecode (pip compiles it); a checkout run with
    # PYTHONDONTWRITEBYTECODE would recompile every module of `cockpit log` on every start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "cockpit")], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        # Interleave halves so both sides see the same machine noise.
        half = args.appends // 2
        bare = bare_inserts(tmpdir / "bare.db", half)
        ours = store_appends(tmpdir / "store.db", half)
        bare += bare_inserts(tmpdir / "bare2.db", args.appends - half)
        ours += store_appends(tmpdir / "store2.db", args.appends - half)

        print(f"committed appends: {args.appends} each (WAL, synchronous=FULL)")
        print(f"{'':28}{'median ms':>10}{'p99 ms':>10}")
        for name, values in (("bare sqlite3 insert", bare), ("Store.append", ours)):
            print(
                f"{name:28}{statistics.median(values) * 1e3:10.3f}{pct(values, 0.99) * 1e3:10.3f}"
            )
        ratio = statistics.median(ours) / statistics.median(bare)
        print(f"median ratio Store.append / bare insert: {ratio:.2f}x (target <= 2x)")

        db = tmpdir / "log.db"
        env = {**os.environ, "COCKPIT_DB": str(db), "PYTHONPATH": str(ROOT)}
        env.pop("COCKPIT_CONFIG", None)
        subprocess.run(
            [sys.executable, "-m", "cockpit", "declare", "bench", "-s", "SEV-2"],
            env=env,
            check=True,
            capture_output=True,
        )
        floor_cmd = [sys.executable, "-c", "import sqlite_utils"]
        log_cmd = [sys.executable, "-m", "cockpit", "log", "bench entry"]
        config = tmpdir / "config.toml"
        subprocess.run(
            [sys.executable, "-m", "cockpit", "init", str(config)],
            env=env,
            check=True,
            capture_output=True,
        )
        env_config = {**env, "COCKPIT_CONFIG": str(config)}
        floor, log, log_config = [], [], []
        for _ in range(args.runs):  # alternate to share the noise
            floor += wall(floor_cmd, env, 1)
            log += wall(log_cmd, env, 1)
            log_config += wall(log_cmd, env_config, 1)
        print()
        print(f"process wall time, median of {args.runs}:")
        base = statistics.median(floor)
        for name, values in (
            ("python -c 'import sqlite_utils'", floor),
            ("cockpit log TEXT", log),
            ("cockpit log TEXT (with config)", log_config),
        ):
            median = statistics.median(values)
            print(f"{name:34}{median * 1e3:8.1f} ms {median / base:6.2f}x")
        print("target: cockpit log within 1.5x of the sqlite_utils import floor")


if __name__ == "__main__":
    main()
