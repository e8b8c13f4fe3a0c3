"""What a linked runbook costs the per-second board rebuild: cached lookup vs parsing each time.

Run: .venv/bin/python bench/runbook_board.py [--ticks N]
Prints build_board time without a runbook (the baseline), with a linked runbook served from the
path+mtime cache, and with the cache cleared before every tick (what parsing each second costs).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cockpit.board import build_board  # noqa: E402
from cockpit.config import Config  # noqa: E402
from cockpit.domain import Kind, frozen_clock  # noqa: E402
from cockpit.runbooks import CACHE, find_runbook, set_step  # noqa: E402
from cockpit.store import Store  # noqa: E402

T0 = datetime(2026, 11, 27, 2, 14, tzinfo=UTC)


def timed(
    ticks: int, tick: Callable[[], object], before: Callable[[], None] | None = None
) -> list[float]:
    times = []
    for _ in range(ticks):
        if before is not None:
            before()
        start = time.perf_counter()
        tick()
        times.append((time.perf_counter() - start) * 1000)
    return times


def line(label: str, times: list[float], baseline: float) -> str:
    median = statistics.median(times)
    p95 = sorted(times)[int(0.95 * (len(times) - 1))]
    return f"{label:<34} median {median:7.3f} ms   p95 {p95:7.3f} ms   x{median / baseline:5.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticks", type=int, default=500)
    args = parser.parse_args()
    config = Config()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "bench.db", clock=frozen_clock(T0))
        plain = store.declare("No runbook", "SEV-2", "bench").id
        linked = store.declare("Checkout errors", "SEV-2", "bench", runbook="api-high-error-rate")
        runbook = find_runbook(config.runbook_dirs, "api-high-error-rate")
        for number in (1, 2, 6):
            set_step(store, linked.id, runbook, number, True, "bench")
        for i in range(200):  # a realistic timeline around the step entries
            store.append(linked.id, Kind.NOTE, f"note {i}", "bench")
        now = T0 + timedelta(minutes=12)

        base = timed(args.ticks, lambda: build_board(store, config, plain, now))
        baseline = statistics.median(base)
        cached = timed(args.ticks, lambda: build_board(store, config, linked.id, now))
        parsed = timed(
            args.ticks, lambda: build_board(store, config, linked.id, now), before=CACHE.clear
        )
        store.close()
    print(f"build_board, {args.ticks} ticks each (a tick of the cockpit is once a second)")
    print(line("no runbook (baseline)", base, baseline))
    print(line("linked runbook, cached", cached, baseline))
    print(line("linked runbook, parsed every tick", parsed, baseline))


if __name__ == "__main__":
    main()
