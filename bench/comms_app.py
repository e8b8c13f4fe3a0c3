"""Does delivery cost the app anything? First paint and event-loop lag, with and without targets.

Run: .venv/bin/python bench/comms_app.py [--runs N] [--seconds S]

Figures, each beside a baseline measured in the same run (compare ratios: the machine is noisy):
- time to the first paint of the app with [slack] and [statuspage] configured (the delivery
  worker and httpx load after the first paint) vs the same app with no targets;
- event-loop lag (how late a 10 ms timer fires) while Slack hangs on every request and the
  status page answers 500, vs the same app idle. Lag is what a key press waits for.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cockpit.comms.publish import publish  # noqa: E402
from cockpit.config import Config, config_from_dict  # noqa: E402
from cockpit.store import Store  # noqa: E402
from cockpit.tui.app import make_app  # noqa: E402
from tests.fakes import FakeSlack, FakeStatuspage, Hang, Reply  # noqa: E402
from tests.fakes.wiring import secrets_env, slack_table, statuspage_table  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def configs(slack: FakeSlack, page: FakeStatuspage) -> tuple[Config, Config]:
    bare = config_from_dict({"user": {"name": "bench"}})
    wired = config_from_dict(
        {
            "user": {"name": "bench"},
            "slack": slack_table(slack, "bot", timeout=30),
            "statuspage": statuspage_table(page, timeout=30),
        }
    )
    return bare, wired


async def first_paint(config: Config, db: Path, seconds: float) -> tuple[float, list[float]]:
    """Time until the app is ready (first screen painted), then the loop lag during the next
    `seconds`, while the delivery worker (if any) starts and loads httpx."""
    app = make_app(config, db)
    started = time.perf_counter()
    lags: list[float] = []
    async with app.run_test(size=(100, 30)):
        ready = time.perf_counter() - started
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - before - 0.01)
    app.store.close()
    return ready, lags


async def loop_lag(config: Config, db: Path, seconds: float, busy: bool) -> list[float]:
    app = make_app(config, db)
    lags: list[float] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.5)  # let the worker start and reach the hanging request
        if busy:
            incident = app.store.incidents()[0].id
            for n in range(3):
                publish(app.store, config, incident, f"bench {n}", None, "bench", app.clock)
            app.deliveries.wake()
            await pilot.pause(0.5)
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - before - 0.01)
    app.store.close()
    return lags


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    slack, page = FakeSlack(), FakeStatuspage()
    slack.start()
    page.start()
    os.environ.update(secrets_env(slack, page))
    bare, wired = configs(slack, page)
    slack.script("chat.postMessage", *[Hang(120)] * 100)
    page.script("create", *[Reply(500, {"message": "down"})] * 1000)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        with Store.open(db) as store:
            store.declare("Checkout API errors", "SEV-1", "bench", service="checkout")
        paint: dict[str, list[float]] = {"bare": [], "wired": []}
        jank: dict[str, list[float]] = {"bare": [], "wired": []}
        for _ in range(args.runs):
            for name, config in (("bare", bare), ("wired", wired)):
                ready, lags = asyncio.run(first_paint(config, db, 1.0))
                paint[name].append(ready)
                jank[name].append(max(lags))
        idle = asyncio.run(loop_lag(bare, db, args.seconds, busy=False))
        busy = asyncio.run(loop_lag(wired, db, args.seconds, busy=True))
    slack.stop()
    page.stop()

    def ms(value: float) -> str:
        return f"{value * 1000:.1f} ms"

    b, w = statistics.median(paint["bare"]), statistics.median(paint["wired"])
    print(f"start-up, median of {args.runs} (the first run also imports httpx)")
    print(f"  ready (first paint), with [slack] + [statuspage]: {ms(w)}")
    print(f"  ready (first paint), baseline with no targets:    {ms(b)}   {w / b:.2f}x")
    jw, jb = statistics.median(jank["wired"]), statistics.median(jank["bare"])
    print(f"  worst loop lag in the second after, with targets: {ms(jw)}")
    print(f"  worst loop lag in the second after, baseline:     {ms(jb)}   {jw / jb:.2f}x")
    print(f"event-loop lag over {args.seconds:g} s (10 ms timer)")
    for label, values in (("Slack hanging, Statuspage 500s", busy), ("baseline, idle", idle)):
        print(
            f"  {label:<31} p50 {ms(pct(values, 0.5))}  p99 {ms(pct(values, 0.99))}  "
            f"max {ms(max(values))}"
        )
    print(f"  p99 ratio {pct(busy, 0.99) / max(pct(idle, 0.99), 1e-6):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
