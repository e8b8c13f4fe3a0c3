"""Time from process start to the first painted frame, and peak memory, for the cockpit app.

Each app runs as a real process in a pseudo-terminal (as in a terminal emulator); the clock stops
when the frame that shows a known text has been written. Cases:

  minimal      a minimal Textual app (Header, Log, Footer): the baseline
  minimal+50k  the same with 50,000 lines written into its Log (for reference)
  cockpit (a)  `cockpit` on an empty database (no incident: the empty cockpit)
  cockpit (b)  `cockpit` on an incident with 50,000 entries (its newest entry on screen)

Runs are interleaved so every case sees the same machine noise; medians are printed with the
ratio to the minimal app. Peak memory is the app's own high-water mark (VmHWM), half a second
after its first frame.

With `--against REV` the cockpit cases of another revision of this repository (`git archive`,
its own bench seeding its own database) run in the same interleaved rounds, so "no slower than
REV" is read from one run on one machine: beside the ratio of medians it prints the ratio of
each round's pair (this tree's start over the other's, started one after the other) as a median
and the middle half of the rounds, which cancels the machine's slower and faster stretches. The
order of the cases alternates from round to round, so neither tree always runs first.

Run: .venv/bin/python bench/startup.py [--runs N] [--size 120x40] [--against REV]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cockpit.domain import format_utc  # noqa: E402
from cockpit.store import Store  # noqa: E402

ENTRIES = 50_000

MINIMAL_APP = """
import sys
from textual.app import App
from textual.widgets import Footer, Header, Log

LINES = int(sys.argv[1])


class Minimal(App):
    TITLE = "minimal-baseline"

    def compose(self):
        yield Header()
        yield Log()
        yield Footer()

    def on_mount(self):
        if LINES:
            self.query_one(Log).write_lines(f"line {n:06d}" for n in range(1, LINES + 1))


Minimal().run()
"""

_ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[=>PX^_]")


@dataclass
class Case:
    name: str
    argv: list[str]
    marker: bytes
    root: Path = ROOT  # the tree whose code runs (its working directory and PYTHONPATH)
    seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)


def run_once(case: Case, env: dict[str, str], cols: int, rows: int, timeout: float) -> None:
    """Start the app in a pty, wait for `marker` on screen, quit it, record time and max RSS."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    start = time.perf_counter()
    process = subprocess.Popen(
        case.argv,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**env, "PYTHONPATH": str(case.root)},
        cwd=case.root,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    painted = None
    deadline = start + timeout
    try:
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if case.marker in _ANSI.sub(b"", seen):
                painted = time.perf_counter() - start
                break
        # Let it settle (workers, deferred layout), then read its own high-water mark: wait4's
        # ru_maxrss would include this benchmark's memory, inherited through fork.
        _drain(master, 0.5)
        peak_kib = _peak_rss_kib(process.pid)
        os.write(master, b"\x11")  # ctrl+q: Textual's priority quit binding
        _reap(process.pid, master, grace=5)
    finally:
        process.returncode = 0  # reaped by wait4 above, not by Popen
        os.close(master)
    if os.environ.get("BENCH_VERBOSE"):
        print(f"  {case.name}: {painted} s, {peak_kib / 1024:.1f} MB", file=sys.stderr)
    if painted is None:
        tail = _ANSI.sub(b"", seen)[-400:].decode("utf-8", "replace")
        raise SystemExit(f"{case.name}: marker {case.marker!r} never painted; screen ends: {tail}")
    case.seconds.append(painted)
    case.peak_mb.append(peak_kib / 1024)


def _drain(master: int, seconds: float) -> None:
    """Read (and drop) the app's output for a while, so it never blocks on a full pty."""
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                os.read(master, 65536)
            except OSError:
                return


def _peak_rss_kib(pid: int) -> int:
    """The process's peak resident set size since exec (VmHWM), in KiB."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


def _reap(pid: int, master: int, grace: float) -> None:
    """Wait for the app to exit (draining its output), killing it after `grace` seconds."""
    until = time.perf_counter() + grace
    while not os.waitpid(pid, os.WNOHANG)[0]:
        if time.perf_counter() > until:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return
        _drain(master, 0.05)


def seed_large(path: Path, count: int) -> None:
    """One incident with `count` entries over the last few hours (bulk insert, one commit)."""
    now = datetime.now(UTC)
    start = now - timedelta(hours=6)
    with Store.open(path, clock=lambda: start) as store:
        incident = store.declare("Checkout API errors", "SEV-1", "bench", service="checkout")
        step = (now - start - timedelta(minutes=1)) / count
        rows = []
        for n in range(1, count):
            at = format_utc(start + step * n)
            kind = ("note", "action", "decision", "status")[n % 4]
            rows.append((incident.id, at, at, kind, "bench", f"entry {n:06d} of the timeline"))
        last = format_utc(now - timedelta(seconds=30))
        rows.append((incident.id, last, last, "note", "bench", f"entry {count:06d} newest"))
        node = store.node  # stamped as the store stamps a write: uid, clock, node
        store.conn.execute("BEGIN IMMEDIATE")
        store.conn.executemany(
            "INSERT INTO entries (incident_id, at, written_at, kind, author, text, uid, node, hlc) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*row, uuid.uuid4().hex, node, f"{n:013d}-0000-{node}") for n, row in enumerate(rows)],
        )
        store.conn.execute("COMMIT")


_SEED_OTHER = """
import sys
from pathlib import Path
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/bench"]
import startup
startup.Store.open(Path(sys.argv[2])).close()
startup.seed_large(Path(sys.argv[3]), startup.ENTRIES)
"""


def other_tree(rev: str, workdir: Path) -> tuple[Path, Path, Path]:
    """`rev` of this repository unpacked under `workdir`, compiled, with an empty and a large
    database seeded by its own code (its schema may differ from this tree's)."""
    tree = workdir / "against"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "cockpit")], check=True)
    empty, large = workdir / "against-empty.db", workdir / "against-large.db"
    seed = [sys.executable, "-c", _SEED_OTHER, str(tree), str(empty), str(large)]
    subprocess.run(seed, check=True, env={**os.environ, "PYTHONPATH": str(tree)})
    return tree, empty, large


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--size", default="120x40", help="terminal COLSxROWS")
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--against", metavar="REV", help="also run this revision's cockpit")
    args = parser.parse_args()
    cols, rows = (int(part) for part in args.size.split("x"))
    # An installed cockpit has bytecode (pip compiles it), like Textual in site-packages; a
    # checkout run with PYTHONDONTWRITEBYTECODE would recompile every module on every start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "cockpit")], check=True)

    with tempfile.TemporaryDirectory(prefix="cockpit-bench-") as tmp:
        workdir = Path(tmp)
        minimal = workdir / "minimal_app.py"
        minimal.write_text(MINIMAL_APP, encoding="utf-8")
        config = workdir / "config.toml"
        config.write_text('[user]\nname = "bench"\n', encoding="utf-8")
        empty_db = workdir / "empty.db"
        Store.open(empty_db).close()
        large_db = workdir / "large.db"
        seed_large(large_db, ENTRIES)

        env = {k: v for k, v in os.environ.items() if not k.startswith(("COCKPIT_", "TEXTUAL"))}
        env.update(
            TERM="xterm-256color",
            COLORTERM="truecolor",
            HOME=str(workdir),
            XDG_CONFIG_HOME=str(workdir / ".config"),
            XDG_DATA_HOME=str(workdir / ".local"),
            PYTHONPATH=str(ROOT),
        )
        cockpit = [sys.executable, "-m", "cockpit", "--config", str(config), "--db"]
        cases = [
            Case(
                "minimal app (Header, Log, Footer)",
                [sys.executable, str(minimal), "0"],
                b"minimal-baseline",
            ),
            Case(
                "minimal app + 50k lines in Log",
                [sys.executable, str(minimal), str(ENTRIES)],
                f"line {ENTRIES:06d}".encode(),
            ),
            Case("cockpit (a) empty database", [*cockpit, str(empty_db)], b"no incident"),
            Case(
                "cockpit (b) 50,000 entries",
                [*cockpit, str(large_db)],
                f"entry {ENTRIES:06d} newest".encode(),
            ),
        ]
        if args.against:
            tree, other_empty, other_large = other_tree(args.against, workdir)
            cases += [
                Case(f"{args.against} (a)", [*cockpit, str(other_empty)], b"no incident", tree),
                Case(
                    f"{args.against} (b)",
                    [*cockpit, str(other_large)],
                    f"entry {ENTRIES:06d} newest".encode(),
                    tree,
                ),
            ]
        run_once(cases[0], env, cols, rows, args.timeout)  # warm the OS file cache once
        cases[0].seconds.clear()
        cases[0].peak_mb.clear()
        for round_ in range(args.runs):
            for case in cases if round_ % 2 == 0 else reversed(cases):
                run_once(case, env, cols, rows, args.timeout)

    base_time = statistics.median(cases[0].seconds)
    base_mem = statistics.median(cases[0].peak_mb)
    print(f"process start -> first painted frame, {cols}x{rows} pty, median of {args.runs} runs")
    print(f"{'case':36}{'first frame':>12}{'ratio':>8}{'peak RSS':>11}{'ratio':>8}")
    for case in cases:
        seconds = statistics.median(case.seconds)
        peak = statistics.median(case.peak_mb)
        print(
            f"{case.name:36}{seconds * 1e3:9.0f} ms{seconds / base_time:7.2f}x"
            f"{peak:8.1f} MB{peak / base_mem:7.2f}x"
        )
    a = statistics.median(cases[2].seconds) / base_time
    b = statistics.median(cases[3].seconds) / base_time
    b_mem = statistics.median(cases[3].peak_mb)
    print()
    print(f"target (a) <= 1.3x minimal: {a:.2f}x {'ok' if a <= 1.3 else 'MISSED'}")
    print(f"target (b) <= 1.5x minimal: {b:.2f}x {'ok' if b <= 1.5 else 'MISSED'}")
    print(f"target (b) peak < 150 MB:   {b_mem:.0f} MB {'ok' if b_mem < 150 else 'MISSED'}")
    if args.against:
        for mine, theirs in ((cases[2], cases[4]), (cases[3], cases[5])):
            ratio = statistics.median(mine.seconds) / statistics.median(theirs.seconds)
            paired = sorted(m / t for m, t in zip(mine.seconds, theirs.seconds, strict=True))
            low, high = quartiles(paired)
            print(
                f"{mine.name} / {theirs.name}: {ratio:.2f}x (round by round: median "
                f"{statistics.median(paired):.2f}x, middle half {low:.2f}x-{high:.2f}x)"
            )


def quartiles(values: list[float]) -> tuple[float, float]:
    """The first and third quartiles (the middle half of the values lies between them)."""
    if len(values) < 2:
        return values[0], values[0]
    first, _, third = statistics.quantiles(values, n=4)
    return first, third


if __name__ == "__main__":
    main()
