"""What the sync core costs: importing what `cockpit log` will need, folding an incident, and the
wire format.

Run: .venv/bin/python bench/sync_core.py [--runs N] [--entries 1000,10000,50000]

Figures, each beside a baseline measured in the same run (compare ratios: the machine is noisy):
- importing `cockpit.sync.ids` and `cockpit.sync.hlc` after the store (what `cockpit log` loads)
  vs importing `uuid`, which the note keeps off that path;
- `fold` (the whole incident state) and `timeline` (the set in order) over N entries (one in
  five a change) vs sorting the same entries by (at, uid), today's timeline order;
- encoding and decoding one entry, its payload size, and a 50-entry batch.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cockpit.domain import Kind, Status  # noqa: E402
from cockpit.sync.entry import SyncEntry  # noqa: E402
from cockpit.sync.fold import fold, timeline  # noqa: E402
from cockpit.sync.hlc import Hlc, tick, wall_ms  # noqa: E402
from cockpit.sync.ids import new_gid, new_node, new_uid  # noqa: E402
from cockpit.sync.wire import decode, encode_batches, encode_entry  # noqa: E402

T0 = datetime(2026, 11, 27, 2, 14, tzinfo=UTC)
IMPORT = """
import time, cockpit.domain, cockpit.store
t = time.perf_counter()
import {modules}
print((time.perf_counter() - t) * 1000)
"""


def import_ms(modules: str, runs: int) -> float:
    """The fastest of `runs` fresh interpreters (the least disturbed by other processes)."""
    code = IMPORT.format(modules=modules)
    times = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             cwd=ROOT, check=True).stdout)
        for _ in range(runs)
    ]  # fmt: skip
    return min(times)


def best(function: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def incident(count: int, rng: random.Random) -> list[SyncEntry]:
    """An incident of `count` entries from three laptops: declared, then notes and changes."""
    nodes = [new_node() for _ in range(3)]
    clocks: list[Hlc | None] = [None, None, None]
    made: list[SyncEntry] = []
    for n in range(count):
        laptop = rng.randrange(3)
        at = T0 + timedelta(milliseconds=n * 700 + rng.randrange(500))
        clocks[laptop] = tick(clocks[laptop], wall_ms(at), nodes[laptop])
        kind, meta, text = Kind.NOTE, {}, f"note {n} " + "x" * rng.randrange(120)
        if n == 0:
            kind, text = Kind.SYSTEM, "declared SEV-2: checkout errors"
            meta = {"event": "declared", "severity": "SEV-2", "title": "checkout", "service": "api"}
        elif rng.random() < 0.2:
            kind, meta, text = rng.choice(
                [
                    (Kind.SEVERITY, {"to": rng.choice(["SEV-1", "SEV-2", "SEV-3"])}, "sev"),
                    (Kind.STATUS, {"to": rng.choice([s.value for s in Status])}, "status"),
                    (Kind.ROLE, {"role": "commander", "to": rng.choice(["a", "b"])}, "role"),
                    (Kind.STEP, {"runbook": "api", "step": rng.randrange(1, 9), "done": True}, "s"),
                    (Kind.UPDATE, {"targets": ["slack"]}, "update"),
                ]
            )
        made.append(
            SyncEntry(uid=new_uid(), hlc=clocks[laptop], at=at, written_at=at, kind=kind,  # type: ignore[arg-type]
                      author=f"laptop{laptop}", text=text, meta=meta, node=nodes[laptop])
        )  # fmt: skip
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--entries", default="1000,10000,50000")
    args = parser.parse_args()
    rng = random.Random(7)

    sync_ms = import_ms("cockpit.sync.ids, cockpit.sync.hlc", args.runs)
    uuid_ms = import_ms("uuid", args.runs)
    print(f"import ids + hlc after the store: {sync_ms:.2f} ms   (baseline: import uuid "
          f"{uuid_ms:.2f} ms; fastest of {args.runs})")  # fmt: skip

    for count in (int(n) for n in args.entries.split(",")):
        entries = incident(count, rng)
        shuffled = rng.sample(entries, len(entries))
        runs = max(3, args.runs // 3)
        fold_ms = best(lambda: fold(shuffled), runs)  # noqa: B023
        line_ms = best(lambda: timeline(shuffled), runs)  # noqa: B023
        base_ms = best(lambda: sorted(shuffled, key=lambda e: (e.at, e.uid)), runs)  # noqa: B023
        print(f"{count:>6} entries: fold {fold_ms:7.1f} ms, timeline {line_ms:7.1f} ms   "
              f"(baseline: sort by (at, uid) {base_ms:6.1f} ms)")  # fmt: skip

    gid = new_gid()
    sample = incident(200, rng)
    metadata = [encode_entry(gid, entry) for entry in sample]
    encode_us = best(lambda: [encode_entry(gid, e) for e in sample], args.runs) * 1000 / 200
    decode_us = best(lambda: [decode(m) for m in metadata], args.runs) * 1000 / 200
    sizes = [len(json.dumps(m, ensure_ascii=False).encode()) for m in metadata]
    dumps_us = best(lambda: [json.dumps(e.meta) for e in sample], args.runs) * 1000 / 200
    print(f"one entry: encode {encode_us:.0f} µs, decode {decode_us:.0f} µs, "
          f"{statistics.median(sizes)} bytes median metadata   (baseline: json.dumps of its "
          f"meta {dumps_us:.1f} µs)")  # fmt: skip
    batches = encode_batches(gid, sample[:50])
    batch_bytes = [len(json.dumps(m, ensure_ascii=False).encode()) for m in batches]
    print(f"50 entries: {len(batches)} message(s), {max(batch_bytes)} bytes the largest")
    return 0


if __name__ == "__main__":
    sys.exit(main())
