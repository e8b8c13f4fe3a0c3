"""What the drill's injection tick costs beside the timeline read it needs, and scoring a drill.

Run: .venv/bin/python bench/drill_tick.py [--entries N ...] [--runs N]
Each tick reads the drill incident's entries and asks which injections are due; the baseline is
that read (`Store.entries`), measured in the same run on the same database (compare ratios: the
machine is noisy). The timeline is the bundled API scenario's, padded with notes that match no
condition, so every `logged` phrase is searched through all of them (the worst case).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cockpit.config import PACKAGE_RUNBOOKS  # noqa: E402
from cockpit.domain import DEFAULT_SEVERITIES, Kind  # noqa: E402
from cockpit.drills.inject import INJECT_KEY, due_injections  # noqa: E402
from cockpit.drills.library import PACKAGE_DRILLS, find_scenario  # noqa: E402
from cockpit.drills.scenario import Scenario  # noqa: E402
from cockpit.drills.score import score_drill  # noqa: E402
from cockpit.runbooks import Runbook, find_runbook  # noqa: E402
from cockpit.store import Store  # noqa: E402

ZERO = datetime(2026, 11, 27, 2, 14, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = ZERO

    def __call__(self) -> datetime:
        return self.now


def best_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def measure(count: int, scenario: Scenario, runbook: Runbook, runs: int) -> tuple[float, ...]:
    """(read, due check, score) in ms for a drill timeline of `count` padding notes."""
    with tempfile.TemporaryDirectory() as tmp:
        clock = Clock()
        with Store.open(Path(tmp) / "drills.db", clock=clock) as store:
            incident = store.declare(scenario.title, "SEV-2", "drill", runbook=runbook.name)
            for injection in due_injections(scenario, ZERO, ZERO, []):
                store.append_once(
                    incident.id,
                    injection.kind,
                    injection.text,
                    injection.author,
                    meta=injection.meta,
                    key=INJECT_KEY,
                )
            for k in range(count):
                clock.now = ZERO + timedelta(minutes=40 * k / count)
                store.append(incident.id, Kind.NOTE, f"note {k}: nothing to see", "alice")
            now = ZERO + timedelta(minutes=40)
            entries = store.entries(incident.id)
            final = store.incident(incident.id)
            read = best_ms(lambda: store.entries(incident.id), runs)
    check = best_ms(lambda: due_injections(scenario, ZERO, now, entries), runs)
    score = best_ms(
        lambda: score_drill(
            scenario,
            final,
            entries,
            DEFAULT_SEVERITIES,
            runbook,
            now=now,
            speed=10,
            played_at=ZERO,
        ),
        runs,
    )
    return read, check, score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, nargs="+", default=[100, 1_000, 10_000])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    scenario = find_scenario(
        [PACKAGE_DRILLS],
        "api-high-error-rate",
        runbook_dirs=[PACKAGE_RUNBOOKS],
        severities=DEFAULT_SEVERITIES,
    )
    runbook = find_runbook([PACKAGE_RUNBOOKS], scenario.runbook)
    print(f"{'entries':>8} {'read':>9} {'due check':>10} {'ratio':>6} {'score':>9}")
    for count in args.entries:
        read, check, score = measure(count, scenario, runbook, args.runs)
        print(f"{count:>8} {read:>7.2f}ms {check:>8.2f}ms {check / read:>5.2f}x {score:>7.2f}ms")


if __name__ == "__main__":
    main()
