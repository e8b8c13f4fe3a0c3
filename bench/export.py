"""Post-mortem export of an incident with 50,000 timeline entries, beside reading those rows.

Run: .venv/bin/python bench/export.py [--entries N] [--runs N]
Prints medians beside baselines measured in the same run (compare ratios: the machine is noisy).
Target: the whole export (read, metrics, Markdown) under one second.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cockpit.config import Config  # noqa: E402
from cockpit.domain import Kind, Status, format_utc  # noqa: E402
from cockpit.postmortem.export import export_markdown  # noqa: E402
from cockpit.store import Store  # noqa: E402

T0 = datetime(2026, 11, 27, 2, 14, tzinfo=UTC)
STATUSES = [s.value for s in Status]
TEXTS = [
    "error rate {n}% on /pay",
    "rolled back api v{n}",
    "checked pool | max={n}\nwaiting on DB team",
    "kubectl rollout status deploy/api: {n} pods ready",
    "<b>not html</b> and `not code` #{n}",
]


def build(path: Path, count: int) -> int:
    """One resolved SEV-1 with `count` entries: every kind, backdating, stars, a 3-day span."""
    store = Store.open(path, clock=lambda: T0)
    incident = store.declare(
        "Checkout API errors", "SEV-1", "alice", service="checkout", roles={"commander": "alice"}
    )
    rng = random.Random(7)
    step = timedelta(days=3) / count
    rows = []
    status = 0
    for n in range(count - 3):  # declare wrote two, the resolution writes one more
        at = T0 + step * (n + 1)
        written = at + timedelta(minutes=20) if n % 97 == 0 else at
        reason = "logged late" if written != at else None
        kind, text, meta = Kind.NOTE, TEXTS[n % len(TEXTS)].format(n=n), None
        if n % 500 == 250 and status < 2:
            kind, meta = Kind.STATUS, {"from": STATUSES[status], "to": STATUSES[status + 1]}
            text = f"status {STATUSES[status]} → {STATUSES[status + 1]}"
            status += 1
        elif n % 90 == 45:
            kind, text = Kind.UPDATE, f"update {n}: still investigating"
        elif n % 1000 == 500:
            person = rng.choice(["alice", "bob", "carol"])
            kind, meta, text = Kind.ROLE, {"role": "communicator", "from": "", "to": person}, ""
            text = f"communicator → {person}"
        elif n % 7 == 3:
            kind = Kind.ACTION
        rows.append(
            (
                incident.id,
                format_utc(at),
                format_utc(written),
                kind.value,
                rng.choice(["alice", "bob", "carol", "dave"]),
                text,
                reason,
                json.dumps(meta) if meta else None,
            )
        )
    node = store.node  # stamped as the store stamps a write: uid, clock, node
    with store._write() as conn:
        conn.executemany(
            "INSERT INTO entries (incident_id, at, written_at, kind, author, text, reason, meta, "
            "uid, node, hlc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*row, uuid.uuid4().hex, node, f"{n:013d}-0000-{node}") for n, row in enumerate(rows)],
        )
        conn.executemany(
            "INSERT INTO stars (incident_id, entry_id, starred_at, starred_by) "
            "SELECT incident_id, id, written_at, 'alice' FROM entries WHERE id % ? = 0",
            [(100,)],
        )
    store.clock = lambda: T0 + timedelta(days=3, minutes=1)
    store.set_status(incident.id, Status.RESOLVED, "alice")
    store.set_postmortem(incident.id, "alice", {"summary": "Bench.", "root_cause": ["a", "b"]})
    store.add_action_item(incident.id, "Alert on pool usage", owner="carol")
    assert store.entry_count(incident.id) == count, store.entry_count(incident.id)
    store.close()
    return incident.id


def timed(runs: int, work: Callable[[], object]) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        incident_id = build(path, args.entries)
        now = T0 + timedelta(days=4)
        store = Store.open(path)
        config = Config()

        def raw_rows() -> object:
            conn = sqlite3.connect(path)
            rows = conn.execute(
                "SELECT * FROM entries WHERE incident_id = ? ORDER BY at, id", (incident_id,)
            ).fetchall()
            conn.close()
            return rows

        sizes: list[int] = []

        def export() -> object:
            text = export_markdown(store, config, incident_id, now, tz=UTC)
            sizes.append(len(text))
            return text

        out = Path(tmp) / "pm.md"
        env = {**os.environ, "COCKPIT_DB": str(path), "PYTHONPATH": str(ROOT)}
        env.pop("COCKPIT_CONFIG", None)
        command = [sys.executable, "-m", "cockpit", "export", "INC-1", "-o", str(out)]

        raw, entries, exports, process = [], [], [], []
        for _ in range(args.runs):  # interleaved so every figure sees the same noise
            raw += timed(1, raw_rows)
            entries += timed(1, lambda: store.entries(incident_id))
            exports += timed(1, export)
            process += timed(
                1, lambda: subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
            )
        store.close()

        print(f"post-mortem export of one incident with {args.entries:,} entries")
        print(f"({sizes[-1] / 1e6:.1f} MB of Markdown), median of {args.runs} runs:")
        base = statistics.median(raw)
        for name, values in (
            ("baseline: sqlite3 SELECT of the rows", raw),
            ("Store.entries (Entry objects; unused)", entries),
            ("export_markdown (read+metrics+render)", exports),
            ("`cockpit export -o FILE` process", process),
        ):
            median = statistics.median(values)
            print(f"{name:40}{median * 1e3:9.1f} ms {median / base:6.2f}x")
        verdict = "ok" if statistics.median(process) < 1 else "MISSED"
        print(f"target: the export under 1 s ({verdict})")


if __name__ == "__main__":
    main()
