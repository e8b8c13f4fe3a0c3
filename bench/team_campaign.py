"""Team sync at scale: three cockpit processes (alice, bob, carol) follow one incident through
a fake Slack with Tier 3's shared read budget and one post per second per channel, while
entries are written on random laptops; then Slack goes down for a while and comes back.

Prints, for each write, how long until the other two laptops hold it (p50/p99), the same after
the outage, and Slack reads and posts per minute per laptop beside the documented limits.

    python bench/team_campaign.py [--poll 5] [--writes 30] [--gap 2] [--outage 20]

Exit 1 if the laptops do not converge or a uid appears twice in the thread.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.fakes.team import Laptop, permalink, thread_uids, wait_for  # noqa: E402

TIER3_PER_MINUTE = 50


def holds(laptop: Laptop, text: str) -> bool:
    """Whether the laptop's database has an entry with this text (read-only, no process)."""
    try:
        with sqlite3.connect(f"file:{laptop.db}?mode=ro", uri=True, timeout=5) as conn:
            return (
                conn.execute("SELECT 1 FROM entries WHERE text = ?", (text,)).fetchone() is not None
            )
    except sqlite3.Error:
        return False


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--poll", type=float, default=5.0, help="[sync] poll_seconds")
    parser.add_argument("--writes", type=int, default=30)
    parser.add_argument("--gap", type=float, default=2.0, help="seconds between writes")
    parser.add_argument("--outage", type=float, default=20.0, help="seconds Slack is down")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    slack = FakeSlack(
        rate_per_second=1.0,
        visibility_lag=0.2,
        read_limits={"conversations.replies": TIER3_PER_MINUTE},
    )
    slack.start()
    folder = Path(tempfile.mkdtemp(prefix="team-campaign-"))
    names = ("alice", "bob", "carol")
    team = [
        Laptop(n, folder / n, slack, skew=s, poll=args.poll)
        for n, s in zip(names, (0, 3, -3), strict=True)
    ]
    try:
        alice = team[0]
        alice.cli("declare", "Checkout API errors")
        alice.follow()
        wait_for(lambda: len(slack.roots()) == 1, 120, "the root")
        for laptop in team[1:]:
            assert laptop.cli("join", permalink(slack)).returncode == 0
            laptop.follow()
        measure_from = time.monotonic()
        reads_before = len(slack.calls("conversations.replies"))
        posts_before = len(slack.calls("chat.postMessage"))
        delays: list[float] = []
        for n in range(args.writes):
            writer = rng.choice(team)
            text = f"{writer.name} note {n}"
            assert writer.cli("log", text).returncode == 0
            written = time.monotonic()
            others = [t for t in team if t is not writer]
            wait_for(lambda t=text, o=others: all(holds(x, t) for x in o), 300, text, every=0.05)
            delays.append(time.monotonic() - written)
            time.sleep(args.gap)
        minutes = (time.monotonic() - measure_from) / 60
        reads = (len(slack.calls("conversations.replies")) - reads_before) / minutes / len(team)
        posts = (len(slack.calls("chat.postMessage")) - posts_before) / minutes / len(team)

        slack.outage(args.outage)
        backlog = [f"{t.name} offline {n}" for n in range(3) for t in team]
        for text in backlog:
            team[int(text.split()[-1]) % 3].cli("log", text)
        wait_for(lambda: slack.clock() >= (slack.down_until or slack.clock()), 600, "outage end")
        back = time.monotonic()
        wait_for(lambda: all(holds(t, x) for t in team for x in backlog), 600, "after the outage")
        after_outage = time.monotonic() - back
        counts = Counter(thread_uids(slack))
        twice = [uid for uid, n in counts.items() if n > 1]
    finally:
        for laptop in team:
            laptop.kill()
        slack.stop()
    print(f"team sync: 3 laptops, poll {args.poll:g} s, {args.writes} writes, {args.gap:g} s apart")
    print(
        f"  a teammate's entry on the other two laptops: p50 {percentile(delays, 0.5):.2f} s, "
        f"p99 {percentile(delays, 0.99):.2f} s (target: poll + 1 s = {args.poll + 1:g} s)"
    )
    print(f"  after a {args.outage:g} s outage, the backlog everywhere in {after_outage:.2f} s")
    print(
        f"  per laptop: {reads:.1f} thread reads/min (target < 12; Tier 3 shared: "
        f"{TIER3_PER_MINUTE}/min), {posts:.1f} posts/min; 429s answered: {len(slack.throttled)}"
    )
    print(f"  uids in the thread: {len(counts)}, posted twice: {len(twice)}")
    return 1 if twice else 0


if __name__ == "__main__":
    sys.exit(main())
