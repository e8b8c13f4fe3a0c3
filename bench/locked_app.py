"""Does a locked database freeze the app? Input latency and frame gaps while another process
holds SQLite's write lock and the user saves a note, beside a baseline without the lock.

Run: .venv/bin/python bench/locked_app.py [--hold SECONDS] [--notes N]

Three runs of the same app (headless, 100×30), each saving `--notes` notes with the keyboard:
- baseline: nobody else holds the database;
- locked: another process (a child python) holds `BEGIN IMMEDIATE` for `--hold` seconds while
  the first note is saved (the app's writer waits for it on its own thread);
- locked, write on the loop: the same lock, and the same note appended on the event loop, as
  the app did before issue 11.15.
Figures: input latency (a message posted every 20 ms from another thread, the way the terminal
driver posts keys, until the app handles it), the longest gap between frames of a 10 ms timer
(nothing is drawn during a gap), and how long after the lock was released the note committed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual.message import Message  # noqa: E402
from textual.widgets import Input  # noqa: E402

from cockpit.config import Config, config_from_dict  # noqa: E402
from cockpit.domain import Kind  # noqa: E402
from cockpit.store import Store  # noqa: E402
from cockpit.tui.app import CockpitApp  # noqa: E402
from cockpit.tui.dialogs.entry import EntryDialog  # noqa: E402

HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
print(time.time(), flush=True)
"""


class Probe(Message):
    """Posted from another thread, like a key from the terminal driver."""

    def __init__(self, sent: float) -> None:
        super().__init__()
        self.sent = sent


@dataclass
class Figures:
    latencies: list[float] = field(default_factory=list)
    during: list[float] = field(default_factory=list)
    """Latencies of the probes sent while the lock was held."""
    frames: list[float] = field(default_factory=list)
    window: tuple[float, float] = (0.0, 0.0)
    """While the lock was held (the same stretch of time in the baseline)."""
    committed_after_release: float | None = None

    def in_window(self) -> tuple[list[float], list[float]]:
        """Input latencies and frame gaps of what happened while the lock was held."""
        start, end = self.window
        pairs = zip(self.frames, self.frames[1:], strict=False)
        return self.during, [b - a for a, b in pairs if b >= start and a <= end]


class BenchApp(CockpitApp):
    """The cockpit, recording when each probe is handled and each 10 ms frame fires."""

    CSS_PATH = str(ROOT / "cockpit" / "tui" / "cockpit.tcss")  # relative to this file otherwise
    figures: Figures

    def on_probe(self, message: Probe) -> None:
        now = time.perf_counter()
        self.figures.latencies.append(now - message.sent)
        start, end = self.figures.window
        if start <= message.sent and (not end or message.sent <= end):
            self.figures.during.append(now - message.sent)

    def beat(self) -> None:
        self.figures.frames.append(time.perf_counter())


def probing(app: BenchApp, stop: threading.Event) -> None:
    while not stop.wait(0.02):
        app.post_message(Probe(time.perf_counter()))


async def save_note(app: BenchApp, pilot: object, text: str) -> None:
    await pilot.press("n")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    assert isinstance(app.screen, EntryDialog)
    app.screen.query_one(Input).insert_text_at_cursor(text)
    await pilot.press("enter")  # type: ignore[attr-defined]


async def run(mode: str, config: Config, folder: Path, hold: float, notes: int) -> Figures:
    db = folder / f"{mode}.db"
    with Store.open(db) as store:
        incident = store.declare("Checkout API errors", "SEV-1", "bench").id
    store = Store.open(db, busy_timeout_ms=config.database.busy_timeout_ms)
    app = BenchApp(config, store)
    app.figures = figures = Figures()
    stop = threading.Event()
    holder: asyncio.subprocess.Process | None = None
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            app.set_interval(0.01, app.beat)
            thread = threading.Thread(target=probing, args=(app, stop), daemon=True)
            thread.start()
            await pilot.pause(0.3)
            if mode != "baseline":
                holder = await asyncio.create_subprocess_exec(
                    sys.executable, "-c", HOLDER, str(db), str(hold), stdout=subprocess.PIPE
                )
                assert holder.stdout is not None
                await holder.stdout.readline()  # "held"
            figures.window = (time.perf_counter(), 0.0)
            if mode == "loop":  # the code before: the write on the event loop
                store.append(incident, Kind.NOTE, "note 0", "bench")
            else:
                await save_note(app, pilot, "note 0")
            if holder is None:
                await pilot.pause(hold)  # the same stretch of time, nobody holding anything
            else:
                assert holder.stdout is not None
                released = float(await holder.stdout.readline())
            figures.window = (figures.window[0], time.perf_counter())
            await app.writer.idle()
            if holder is not None:
                figures.committed_after_release = time.time() - released
                await holder.wait()
            await pilot.pause()
            for number in range(1, notes):
                await save_note(app, pilot, f"note {number}")
            await app.writer.idle()
            await pilot.pause(0.3)
            stop.set()
            thread.join()
    finally:
        stop.set()
        store.close()
    return figures


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hold", type=float, default=3.0, help="seconds the lock is held")
    parser.add_argument("--notes", type=int, default=5, help="notes saved per run")
    args = parser.parse_args()
    config = config_from_dict({"user": {"name": "bench"}, "database": {"busy_timeout_ms": 10_000}})
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for mode in ("baseline", "locked", "loop"):
            results[mode] = asyncio.run(run(mode, config, Path(folder), args.hold, args.notes))
    labels = {
        "baseline": "baseline, no lock",
        "locked": f"lock held {args.hold:g} s (the app now)",
        "loop": f"lock held {args.hold:g} s, write on the loop (before)",
    }
    print(f"{args.notes} notes saved per run; busy timeout 10 s; input probe every 20 ms")
    print(
        f"{'while the lock is held':46} {'input median':>12} {'input max':>11} "
        f"{'frame gap max':>13} {'committed after release':>24}"
    )
    for mode, figures in results.items():
        during, gaps = figures.in_window()
        after = figures.committed_after_release
        print(
            f"{labels[mode]:46} {ms(statistics.median(during)):>12} {ms(max(during)):>11} "
            f"{ms(max(gaps)):>13} {ms(after) if after is not None else '':>24}"
        )
    print(f"{'whole run (5 notes typed and saved)':46} {'input median':>12} {'input max':>11}")
    for mode, figures in results.items():
        lat = figures.latencies
        print(f"{labels[mode]:46} {ms(statistics.median(lat)):>12} {ms(max(lat)):>11}")
    base, now = results["baseline"].in_window(), results["locked"].in_window()
    print(
        "worst input latency while held, the app now vs baseline: "
        f"{max(now[0]) / max(base[0]):.1f}x; frame gap {max(now[1]) / max(base[1]):.1f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
