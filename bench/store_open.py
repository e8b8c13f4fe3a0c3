"""What the database checks cost: opening (schema read before any write, read-only opens) and the
quick check a writer runs before its first write, beside a bare sqlite3 open in the same run.

  bare open          sqlite3.connect + busy_timeout + journal_mode=WAL + user_version
  Store.open         the cockpit's writing open (schema check, WAL, identity)
  Store.open (ro)    the read-only open the read commands use
  first append       Store.open + one Store.append (includes the quick check)
  later append       one more Store.append on the same store (no quick check)
  quick check        the bounded PRAGMA quick_check alone, on a small and a large database

Run: .venv/bin/python bench/store_open.py [--runs N] [--entries N]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cockpit.domain import Kind, format_utc  # noqa: E402
from cockpit.store import QUICK_CHECK_BUDGET, Store  # noqa: E402
from cockpit.store.guard import quick_check  # noqa: E402


def timed(action: Callable[[], object], runs: int) -> float:
    """Median milliseconds of `action` over `runs` runs."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def bare_open(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA user_version").fetchone()
    conn.close()


def reader(path: Path) -> None:
    Store.open(path, read_only=True).close()


def seed(path: Path, entries: int) -> None:
    now = datetime(2026, 11, 27, tzinfo=UTC)
    with Store.open(path, clock=lambda: now) as store:
        store.declare("bench", "SEV-2", "bench")
        rows = [
            (format_utc(now + timedelta(seconds=n)), f"entry {n:06d} of the timeline")
            for n in range(entries)
        ]
        node = store.node  # stamped as the store stamps a write: uid, clock, node
        store.conn.execute("BEGIN IMMEDIATE")
        store.conn.executemany(
            "INSERT INTO entries (incident_id, at, written_at, kind, author, text, uid, node, hlc) "
            "VALUES (1, ?1, ?1, 'note', 'bench', ?2, ?3, ?4, ?5)",
            [(*row, uuid.uuid4().hex, node, f"{n:013d}-0000-{node}") for n, row in enumerate(rows)],
        )
        store.conn.execute("COMMIT")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--entries", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "small.db", Path(tmp) / "large.db"
        seed(small, 10)
        seed(large, args.entries)
        store = Store.open(small)

        def first_append() -> None:
            with Store.open(small) as fresh:
                fresh.append(1, Kind.NOTE, "x", "bench")

        def check(path: Path) -> Callable[[], object]:
            conn = sqlite3.connect(path)
            return lambda: quick_check(conn, path)

        rows = [
            ("bare open", timed(lambda: bare_open(small), args.runs)),
            ("Store.open", timed(lambda: Store.open(small).close(), args.runs)),
            ("Store.open (ro)", timed(lambda: reader(small), args.runs)),
            ("first append (open + append)", timed(first_append, args.runs // 4)),
            ("later append", timed(lambda: store.append(1, Kind.NOTE, "x", "bench"), args.runs)),
            (f"quick check, {small.stat().st_size // 1024} KiB", timed(check(small), args.runs)),
            (
                f"quick check, {large.stat().st_size / 1e6:.1f} MB ({args.entries} entries)",
                timed(check(large), max(3, args.runs // 20)),
            ),
        ]
        store.close()
    base = rows[0][1]
    print(f"median of {args.runs} runs (quick check budget {QUICK_CHECK_BUDGET} steps)")
    for name, ms in rows:
        print(f"{name:42}{ms:9.3f} ms {ms / base:7.2f}x")


if __name__ == "__main__":
    main()
