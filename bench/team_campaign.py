"""Team sync at the default poll: three cockpit processes (alice, bob, carol) work one incident
through a fake Slack that models the documented budget, while entries are written on random
laptops; then Slack goes down twice; then the app's key latency with sync on and off.

The fake Slack models the internal app's documented limits (team-sync.md §1.4): every
`conversations.replies` (and `conversations.history`) call counts against Tier 3, 50 a minute
per method for the whole app, so the three laptops, which share one bot token, share it
(429 + Retry-After beyond it); `chat.postMessage` one per second per channel, for everyone,
with no burst allowance (stricter than Slack); a message shows in reads up to 0.2 s after it
is posted. Each laptop calls it through its own `/as/NAME` prefix, so calls are counted per
laptop; the budget is still one.

An hour of incident, compressed: about an hour's worth of timeline (some 120 entries from three
people, plus the app phase's) is written in about ten minutes: steady writing on random laptops
(`--gap` apart on average), six times all three in the same second, a quiet stretch longer than
the idle threshold, and two outages (a minute, then 20 s) while everyone keeps writing. Only
the writing is faster than real; every timing sync uses is real (poll 5 s, idle poll 15 s after
two quiet minutes, Retry-After, the budget's minute), so reads a minute are what a real hour
costs, and posts a minute (and the channel's 429s) are more than a real hour's.

Prints, per phase: how long until both other laptops hold a teammate's entry (p50/p99/max,
from its commit on the writer's laptop), split into commit -> its message in the thread and
that message -> both others; for each outage, how long after Slack is back each entry written
during it is everywhere; thread reads and posts a minute for each laptop beside the documented
limits, and 429s. Then carol's app twice, side by side in pseudo-terminals, one syncing and one
not (a copy of her database), notes typed into each in turn while alice and bob keep writing:
Enter in the note dialog -> the note painted, p50/p99 and the ratio; each app's CPU over that
phase (its event loop's, its process's); and a teammate's entry from its commit to painted in
the syncing app. The load average is printed before and after.

    python bench/team_campaign.py [--poll 5] [--idle-poll 15] [--writes 90] [--gap 3]
        [--bursts 6] [--quiet 140] [--outages 60,20] [--notes 40] [--seed 1] [--keys-only]

`--keys-only` runs the last phase alone, in minutes: the team declares and joins, `--writes`
entries are written (`--gap` apart) so carol's timeline is not empty, then the key latency.

Exit 1 if the laptops do not converge, or a uid appears twice in the thread.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import pty
import random
import re
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cockpit.comms.sync import IDLE_AFTER  # noqa: E402
from cockpit.sync.wire import decode  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.fakes.team import Laptop, permalink, thread_uids, wait_for  # noqa: E402

TIER3_PER_MINUTE = 50
"""Slack's Tier 3 (conversations.replies, conversations.history): 50+ a minute, per method,
per app and workspace: shared by every laptop using the team's bot token."""
POSTS_PER_MINUTE = 60
"""chat.postMessage: one message a second per channel, shared by everyone posting there."""
TARGET_READS = 12
NAMES = ("alice", "bob", "carol")
_ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[=>PX^_]")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def spread(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 0.5):.2f} s, p99 {percentile(values, 0.99):.2f} s, "
        f"max {max(values, default=float('nan')):.2f} s (n={len(values)})"
    )


class Monitor:
    """Watches the three databases (read-only, every 50 ms) and notes when each entry text
    first shows in each: the writer's own database gives the moment it was committed."""

    def __init__(self, team: list[Laptop]) -> None:
        self.team = team
        self.seen: dict[tuple[str, str], float] = {}
        self._last = dict.fromkeys(NAMES, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        connections = {
            t.name: sqlite3.connect(f"file:{t.db}?mode=ro", uri=True, timeout=5) for t in self.team
        }
        try:
            while not self._stop.is_set():
                for name, conn in connections.items():
                    with contextlib.suppress(sqlite3.Error):
                        rows = conn.execute(
                            "SELECT id, text FROM entries WHERE id > ? ORDER BY id",
                            (self._last[name],),
                        ).fetchall()
                        now = time.time()  # comparable with the fake's message ts
                        for row_id, text in rows:
                            self.seen.setdefault((name, text), now)
                            self._last[name] = row_id
                time.sleep(0.05)
        finally:
            for conn in connections.values():
                conn.close()

    def everywhere(self, text: str) -> float | None:
        """When the last laptop got `text` (None while one has not)."""
        moments = [self.seen.get((name, text)) for name in NAMES]
        return None if None in moments else max(m for m in moments if m is not None)

    def delay(self, writer: str, text: str) -> float | None:
        """Seconds from the commit on the writer's laptop to the text on both others."""
        done, written = self.everywhere(text), self.seen.get((writer, text))
        return None if done is None or written is None else done - written


def uids(laptop: Laptop) -> set[str]:
    """Every entry uid in the laptop's database (read-only, no process)."""
    with contextlib.closing(sqlite3.connect(f"file:{laptop.db}?mode=ro", uri=True)) as conn:
        return {row[0] for row in conn.execute("SELECT uid FROM entries")}


@dataclass
class Write:
    writer: str
    text: str


class Campaign:
    def __init__(self, team: list[Laptop], monitor: Monitor, rng: random.Random) -> None:
        self.team = team
        self.monitor = monitor
        self.rng = rng
        self.failures: list[str] = []
        self._threads: list[threading.Thread] = []
        self._count = 0

    def write(self, tag: str, laptops: list[Laptop] | None = None) -> Write:
        """`cockpit log` on a random laptop, in the background (writes may overlap)."""
        laptop = self.rng.choice(laptops or self.team)
        self._count += 1
        text = f"{laptop.name} {tag} {self._count:03d}"

        def run() -> None:
            done = laptop.cli("log", text)
            if done.returncode != 0:
                self.failures.append(f"{laptop.name}: log failed: {done.stderr.strip()}")

        thread = threading.Thread(target=run)
        thread.start()
        self._threads.append(thread)
        return Write(laptop.name, text)

    def steady(self, tag: str, count: int, gap: float) -> list[Write]:
        """`count` writes on random laptops, `gap` seconds apart on average (half to 1.5x)."""
        written = []
        for _ in range(count):
            written.append(self.write(tag))
            time.sleep(self.rng.uniform(0.5 * gap, 1.5 * gap))
        return written

    def together(self, tag: str, count: int, pause: float) -> list[Write]:
        """`count` times, all three laptops write in the same second (they meet the
        channel's one post a second), then `pause` seconds."""
        written = []
        for _ in range(count):
            for laptop in self.team:
                written.append(self.write(tag, [laptop]))
            time.sleep(pause)
        return written

    def settle(self, writes: list[Write], timeout: float = 300) -> None:
        for thread in self._threads:
            thread.join()
        self._threads.clear()
        wait_for(
            lambda: all(self.monitor.everywhere(w.text) is not None for w in writes),
            timeout,
            f"{len(writes)} entries on every laptop",
            every=0.1,
        )

    def delays(self, writes: list[Write]) -> list[float]:
        found = [self.monitor.delay(w.writer, w.text) for w in writes]
        return [d for d in found if d is not None]

    def stages(self, writes: list[Write], posted: dict[str, float]) -> tuple[list[float], ...]:
        """Where the time went: commit -> its message in the thread (the writer's sync
        noticing it, pacing, 429s), and that message -> on both other laptops (the readers'
        poll, visibility lag, import)."""
        out, read = [], []
        for w in writes:
            written = self.monitor.seen.get((w.writer, w.text))
            done = self.monitor.everywhere(w.text)
            at = posted.get(w.text)
            if written is not None and done is not None and at is not None:
                out.append(at - written)
                read.append(done - at)
        return out, read


def posted_at(slack: FakeSlack) -> dict[str, float]:
    """The Slack ts (epoch seconds) of the message that carried each entry text."""
    found: dict[str, float] = {}
    with slack.lock:
        (root,) = slack.roots()
        messages = slack.thread(root["ts"])
    for message in messages:
        metadata = message.get("metadata")
        if isinstance(metadata, dict) and str(metadata.get("event_type")).startswith("cockpit_"):
            for wire in decode(metadata).entries:
                found.setdefault(wire.entry.text, float(message["ts"]))
    return found


class Calls:
    """Calls per laptop and method, and 429s, over a stretch of the campaign (`stop` ends it)."""

    def __init__(self, slack: FakeSlack) -> None:
        self.slack = slack
        self.start = time.monotonic()
        self.before = self._count()
        self.refused = len(slack.throttled)
        self.end = self.start
        self.after = self.before
        self.refused_end = self.refused

    def _count(self) -> dict[tuple[str, str], int]:
        return {
            (name, method): self.slack.calls_by(method, name)
            for name in NAMES
            for method in ("conversations.replies", "chat.postMessage")
        }

    def stop(self) -> Calls:
        self.end = time.monotonic()
        self.after = self._count()
        self.refused_end = len(self.slack.throttled)
        return self

    def per_minute(self) -> dict[tuple[str, str], float]:
        minutes = max(self.end - self.start, 1e-9) / 60
        return {key: (self.after[key] - self.before[key]) / minutes for key in self.after}

    def throttled(self) -> str:
        """The 429s Slack answered over the stretch, by method."""
        refused = self.slack.throttled[self.refused : self.refused_end]
        found = Counter(method for method, _ in refused)
        return ", ".join(f"{n} {m}" for m, n in sorted(found.items())) or "none"


def rates_line(label: str, calls: Calls) -> str:
    rates = calls.per_minute()
    reads = " ".join(f"{n} {rates[(n, 'conversations.replies')]:.1f}" for n in NAMES)
    posts = " ".join(f"{n} {rates[(n, 'chat.postMessage')]:.1f}" for n in NAMES)
    return f"  {label:<20} reads/min {reads}; posts/min {posts}; 429s: {calls.throttled()}"


# -- key latency in the app


class PtyApp:
    """`cockpit` (the app) in a pseudo-terminal, as a terminal emulator runs it; a thread
    reads its output all along (an app whose output is not read would block)."""

    def __init__(
        self, laptop: Laptop, config: Path, db: Path, cols: int = 120, rows: int = 40
    ) -> None:
        env = dict(laptop.env, COCKPIT_CONFIG=str(config), COCKPIT_DB=str(db))
        env["TERM"] = "xterm-256color"
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.laptop", "--skew", str(laptop.skew), "--"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        os.close(slave)
        self.seen = b""
        self.watch: set[bytes] = set()
        """Texts whose first painting is noted in `painted` (epoch seconds)."""
        self.painted: dict[bytes, float] = {}
        self._tail = b""
        self._changed = threading.Condition()
        self._open = True
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while self._open:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            now = time.time()
            with self._changed:
                self.seen += chunk
                self._tail = (self._tail + chunk)[-32768:]
                waiting = self.watch - self.painted.keys()
                if waiting:
                    screen = _ANSI.sub(b"", self._tail)
                    for text in waiting:
                        if text in screen:
                            self.painted[text] = now
                self._changed.notify_all()

    def mark(self) -> None:
        """Forget the output so far: the next `wait_for` looks only at what comes after."""
        with self._changed:
            self.seen = b""

    def wait_for(self, marker: bytes, timeout: float = 30) -> float:
        """Seconds until `marker` (a regular expression) is painted (after the last `mark`)."""
        start = time.perf_counter()
        pattern = re.compile(marker)
        with self._changed:
            while not pattern.search(_ANSI.sub(b"", self.seen)):
                left = timeout - (time.perf_counter() - start)
                if left <= 0:
                    tail = _ANSI.sub(b"", self.seen)[-300:].decode("utf-8", "replace")
                    raise AssertionError(f"not painted within {timeout:g} s: {marker!r}; {tail}")
                self._changed.wait(left)
        return time.perf_counter() - start

    def press(self, data: bytes) -> None:
        os.write(self.master, data)

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU time so far (user + system) of the app's main thread, which runs the event
        loop (every key, every redraw), and of the whole process (with the sync's, the
        writer's and the delivery worker's threads). Linux's /proc."""
        pid = self.process.pid

        def spent(stat: Path) -> float:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        return spent(Path(f"/proc/{pid}/task/{pid}/stat")), spent(Path(f"/proc/{pid}/stat"))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self.master, b"\x11")  # ctrl+q
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        self._open = False
        self._reader.join()
        os.close(self.master)


def note_latency(app: PtyApp, text: str) -> float:
    """Seconds from Enter in the note dialog to the note painted on the timeline."""
    app.mark()
    app.press(b"n")
    app.wait_for(b"what you saw or learned")
    app.press(text.encode())
    app.wait_for(text.encode())
    app.mark()
    start = time.perf_counter()
    app.press(b"\r")
    app.wait_for(b"carol +" + text.encode())  # the timeline's line, not the dialog's input
    return time.perf_counter() - start


def key_latency(
    carol: Laptop, campaign: Campaign, folder: Path, notes: int
) -> dict[str, list[float]]:
    """Two of carol's apps open side by side, one syncing (her database), one with sync off
    (a copy of it), while alice and bob keep writing; notes are typed into each in turn, so
    both see the same machine load. Also, under "on screen", seconds from a teammate's
    commit to its entry painted in the syncing app."""
    off = folder / "carol-nosync.toml"
    off.write_text(carol.config.read_text() + "enabled = false\n")
    copy = folder / "carol-nosync.db"
    with (
        contextlib.closing(sqlite3.connect(carol.db)) as source,
        contextlib.closing(sqlite3.connect(copy)) as target,
    ):
        source.backup(target)
    writers = [t for t in campaign.team if t is not carol]
    apps = {"sync on": PtyApp(carol, carol.config, carol.db), "sync off": PtyApp(carol, off, copy)}
    stop = threading.Event()
    watched: list[Write] = []

    def teammates() -> None:
        while not stop.is_set():
            write = campaign.write("teammate", writers)
            apps["sync on"].watch.add(write.text.encode())
            watched.append(write)
            stop.wait(campaign.rng.uniform(1.0, 3.0))

    found: dict[str, list[float]] = {"sync on": [], "sync off": [], "on screen": [], "drawn": []}
    background = threading.Thread(target=teammates)
    try:
        for app in apps.values():
            app.wait_for(b"Checkout API errors", 60)
        time.sleep(3.0)  # the sync (or nothing) starts after the first paint
        started = {label: app.cpu_seconds() for label, app in apps.items()}
        background.start()
        for n in range(notes):
            for label, app in apps.items():
                found[label].append(note_latency(app, f"keyprobe {label.split()[1]} {n:02d}"))
                time.sleep(campaign.rng.uniform(0.2, 0.6))
        for label, app in apps.items():
            loop, process = app.cpu_seconds()
            found[f"{label} cpu"] = [loop - started[label][0], process - started[label][1]]
    finally:
        stop.set()
        if background.is_alive():
            background.join()
        for app in apps.values():
            app.close()
    for write in watched:
        shown = apps["sync on"].painted.get(write.text.encode())
        written = campaign.monitor.seen.get((write.writer, write.text))
        if shown is not None and written is not None:
            found["on screen"].append(shown - written)
        stored = campaign.monitor.seen.get((carol.name, write.text))
        if shown is not None and stored is not None:
            found["drawn"].append(shown - stored)
    return found


@contextlib.contextmanager
def fake_slack() -> Iterator[FakeSlack]:
    slack = FakeSlack(
        rate_per_second=1.0,
        visibility_lag=0.2,
        read_limits={
            "conversations.replies": TIER3_PER_MINUTE,
            "conversations.history": TIER3_PER_MINUTE,
        },
    )
    slack.start()
    try:
        yield slack
    finally:
        slack.stop()


def print_keys(keys: dict[str, list[float]]) -> None:
    """The key latency of the two apps, side by side, and the ratio."""
    on, off = keys["sync on"], keys["sync off"]
    print("key latency: Enter in carol's note dialog -> the note painted (pty, 120x40)")
    for label in ("sync on", "sync off"):
        ms = sorted(v * 1000 for v in keys[label])
        print(
            f"  {label:<9} p50 {percentile(ms, 0.5):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms, "
            f"max {ms[-1]:.1f} ms (n={len(ms)})"
        )
    print(
        f"  ratio on/off: p50 {percentile(on, 0.5) / percentile(off, 0.5):.2f}x, "
        f"p99 {percentile(on, 0.99) / percentile(off, 0.99):.2f}x"
    )
    for label in ("sync on", "sync off"):
        loop, process = keys[f"{label} cpu"]
        print(
            f"  {label:<9} CPU over the phase: event loop (main thread) {loop:.2f} s, "
            f"whole process {process:.2f} s"
        )
    print(
        f"  meanwhile, a teammate's entry painted in carol's app (sync on), from its commit: "
        f"{spread(keys['on screen'])}"
    )
    print(f"    of which in carol's database -> painted: {spread(keys['drawn'])}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--poll", type=float, default=5.0, help="[sync] poll_seconds")
    parser.add_argument("--idle-poll", type=float, default=15.0, help="[sync] idle_poll_seconds")
    parser.add_argument("--writes", type=int, default=90, help="writes while Slack is up")
    parser.add_argument("--gap", type=float, default=3.0, help="mean seconds between writes")
    parser.add_argument("--bursts", type=int, default=6, help="times all three write at once")
    parser.add_argument("--quiet", type=float, default=IDLE_AFTER.total_seconds() + 20)
    parser.add_argument("--outages", default="60,20", help="seconds Slack is down, in turn")
    parser.add_argument("--notes", type=int, default=40, help="notes typed into each app")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--keys-only", action="store_true", help="only the key latency (after --writes writes)"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    outages = [float(s) for s in args.outages.split(",") if s.strip()]
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    folder = Path(tempfile.mkdtemp(prefix="team-campaign-"))
    with fake_slack() as slack:
        team = [
            Laptop(n, folder / n, slack, skew=s, poll=args.poll, idle=args.idle_poll)
            for n, s in zip(NAMES, (0, 3, -3), strict=True)
        ]
        monitor = Monitor(team)
        campaign = Campaign(team, monitor, rng)
        try:
            alice = team[0]
            assert alice.cli("declare", "Checkout API errors").returncode == 0
            alice.follow()
            wait_for(lambda: len(slack.roots()) == 1, 120, "the root")
            for laptop in team[1:]:
                assert laptop.cli("join", permalink(slack)).returncode == 0
                laptop.follow()
            monitor.start()
            if args.keys_only:
                written = campaign.steady("note", args.writes, args.gap)
                campaign.settle(written)
                carol = team[2]
                carol.kill()  # her app syncs instead of `sync --follow`
                print_keys(key_latency(carol, campaign, folder, args.notes))
                print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
                return 1 if campaign.failures else 0

            whole = Calls(slack)
            steady_calls = Calls(slack)
            busy = campaign.steady("note", args.writes, args.gap)
            campaign.settle(busy)
            steady_calls.stop()

            burst_calls = Calls(slack)
            bursts = campaign.together("burst", args.bursts, 2 * args.poll)
            campaign.settle(bursts)
            burst_calls.stop()

            quiet_calls = Calls(slack)
            time.sleep(args.quiet)
            after_quiet = campaign.steady("back", 6, args.gap)
            campaign.settle(after_quiet)
            quiet_calls.stop()

            outage_figures = []
            outage_calls = Calls(slack)
            for seconds in outages:
                slack.outage(seconds)
                ends = time.monotonic() + seconds
                during = []
                while time.monotonic() < ends - args.gap:
                    during.append(campaign.write("offline"))
                    time.sleep(rng.uniform(0.5, 2 * args.gap))
                wait_for(
                    lambda: slack.down_until is None or slack.clock() >= slack.down_until,
                    600,
                    "the outage's end",
                )
                back = time.time()
                campaign.settle(during, timeout=600)
                after = [monitor.everywhere(w.text) for w in during]
                outage_figures.append((seconds, [a - back for a in after if a is not None]))
                steady = campaign.steady("note", 10, args.gap)
                campaign.settle(steady)
                busy += steady
            outage_calls.stop()
            whole.stop()

            carol = team[2]
            carol.kill()  # her app syncs instead of `sync --follow`
            keys = key_latency(carol, campaign, folder, args.notes)
            carol.follow()
            with contextlib.suppress(AssertionError):
                wait_for(lambda: len({frozenset(uids(t)) for t in team}) == 1, 120, "agreement")
            same = len({frozenset(uids(t)) for t in team}) == 1
            posted = posted_at(slack)
            counts = Counter(thread_uids(slack))
            twice = [uid for uid, n in counts.items() if n > 1]
        finally:
            monitor.stop()
            for laptop in team:
                laptop.kill()
    writes = busy
    print(
        f"team sync: 3 laptops, poll {args.poll:g} s, idle poll {args.idle_poll:g} s after "
        f"{IDLE_AFTER.total_seconds():g} s quiet; {len(writes) + len(after_quiet)} writes "
        f"(mean gap {args.gap:g} s) while Slack is up"
    )
    print(
        f"  a teammate's entry on both other laptops: {spread(campaign.delays(writes))} "
        f"(target p99 <= poll + 1 s = {args.poll + 1:g} s)"
    )
    out, read = campaign.stages(writes, posted)
    print(f"    of which commit -> in the thread: {spread(out)}")
    print(f"    and in the thread -> both others: {spread(read)}")
    together = spread(campaign.delays(bursts))
    print(f"  {args.bursts} times all three writing in the same second: {together}")
    out, read = campaign.stages(bursts, posted)
    print(f"    of which commit -> in the thread: {spread(out)}")
    first = campaign.delays(after_quiet[:1])[0]
    print(
        f"  first entry after {args.quiet:g} s quiet: {first:.2f} s "
        f"(idle poll + 1 s = {args.idle_poll + 1:g} s); "
        f"the next {len(after_quiet) - 1}: {spread(campaign.delays(after_quiet[1:]))}"
    )
    for seconds, values in outage_figures:
        print(
            f"  after a {seconds:g} s outage, each entry written during it everywhere: "
            f"{spread(values)}"
        )
    print(
        f"  limits: reads < {TARGET_READS}/min per laptop (target); Tier 3 {TIER3_PER_MINUTE}/min "
        f"shared by the app ({TIER3_PER_MINUTE / 3:.1f} each for three); posts "
        f"{POSTS_PER_MINUTE}/min per channel, shared"
    )
    print(rates_line("steady writing:", steady_calls))
    print(rates_line("same-second bursts:", burst_calls))
    print(rates_line("quiet, then 6:", quiet_calls))
    print(rates_line("outages, recovery:", outage_calls))
    print(rates_line("all of the above:", whole))
    print(f"  uids in the thread: {len(counts)}, posted twice: {len(twice)}; laptops agree: {same}")
    print_keys(keys)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for failure in campaign.failures[:5]:
        print(f"  {failure}", file=sys.stderr)
    return 1 if twice or not same or campaign.failures else 0


if __name__ == "__main__":
    sys.exit(main())
