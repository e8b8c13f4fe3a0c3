"""Slack down for a minute while everyone keeps working (issue 15's multi-process scenario).

Three cockpit processes (alice, bob, carol) share one incident through the fake Slack, each
with `cockpit sync --follow` running. The processes and the fake run on one compressed clock
(`tests.fakes.laptop --rate`: RATE clock seconds per real second), so the outage (switched
on, then off once 60 s of the processes' clocks have passed and every write is done) takes
about ten real seconds; `poll_seconds` below is real seconds,
POLL × RATE on their clocks. During the outage every laptop logs and changes state; after
it, all three databases must hold the same entries within 2 × poll of the moment the backlog
was drained into the thread (the last post of an entry written during the outage), nothing
lost, every uid in the thread once, and `cockpit show --json` the same on every shared field.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.sync.wire import decode
from tests.fakes.laptop import compressed
from tests.fakes.slack import FakeSlack
from tests.fakes.team import Laptop, held, permalink, settled, shared_view, thread_uids, wait_for

RATE = 6.0
"""Clock seconds per real second, for the processes and the fake Slack alike."""
POLL = 1.0
"""`[sync] poll_seconds` (real seconds: POLL × RATE = 6 s on the processes' clocks)."""
OUTAGE = 60.0
"""Seconds of the processes' clocks that Slack refuses everything."""
SETTLE = 120.0
"""Real seconds any step may take before the test gives up (a loaded two-core machine)."""


class FastLaptop(Laptop):
    """A laptop whose clock is the shared compressed one."""

    def __init__(self, name: str, folder: Path, slack: FakeSlack, epoch: float) -> None:
        super().__init__(name, folder, slack, poll=POLL)
        self.epoch = epoch

    def _argv(self, *args: str) -> list[str]:
        clock = ["--epoch", repr(self.epoch), "--rate", repr(RATE)]
        return [sys.executable, "-m", "tests.fakes.laptop", *clock, "--", *args]


@pytest.fixture
def epoch() -> float:
    return time.time()


@pytest.fixture
def slack(epoch: float) -> Iterator[FakeSlack]:
    fake = FakeSlack(rate_per_second=1.0, clock=lambda: compressed(epoch, RATE))
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def team(tmp_path: Path, slack: FakeSlack, epoch: float) -> Iterator[list[FastLaptop]]:
    laptops = [FastLaptop(n, tmp_path / n, slack, epoch) for n in ("alice", "bob", "carol")]
    yield laptops
    for laptop in laptops:
        laptop.kill()


def ok(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stderr


def side_by_side(*runs: tuple[Laptop, tuple[str, ...]]) -> None:
    started = [laptop.start(*args) for laptop, args in runs]
    for process in started:
        _, err = process.communicate(timeout=SETTLE)
        assert process.returncode == 0, err


def texts_in_thread(slack: FakeSlack) -> list[tuple[float, str]]:
    """(post time on the fake's clock, text) of every entry the thread carries."""
    found = []
    with slack.lock:
        (root,) = slack.roots()
        messages = slack.thread(root["ts"])
    for message in messages:
        metadata = message.get("metadata")
        if isinstance(metadata, dict) and str(metadata.get("event_type")).startswith("cockpit_"):
            found += [(float(message["ts"]), w.entry.text) for w in decode(metadata).entries]
    return found


@pytest.mark.slow
def test_slack_down_for_a_minute_while_everyone_keeps_working(
    slack: FakeSlack, team: list[FastLaptop]
) -> None:
    alice, bob, carol = team
    ok(alice.cli("declare", "Checkout API errors", "--severity", "SEV-2", "--new"))
    alice.follow()
    wait_for(lambda: len(slack.roots()) == 1, SETTLE, "alice's root in the thread")
    ok(bob.cli("join", permalink(slack)))
    ok(carol.cli("join", permalink(slack)))
    bob.follow()
    carol.follow()
    gid = alice.show()["gid"]
    side_by_side(*[(laptop, ("log", f"{laptop.name} before")) for laptop in team])

    wait_for(
        lambda: settled(team, gid), SETTLE, "the three laptops agree before the outage", every=0.05
    )

    # Switched on until OUTAGE seconds of the clocks have passed, and at least until every
    # write below is done (a loaded machine may take longer than that to run them).
    started = slack.clock()
    slack.outage(24 * 3600)
    during = [
        *[(laptop, ("log", f"{laptop.name} during {n}")) for laptop in team for n in range(3)],
        (bob, ("severity", "SEV-1")),
        (carol, ("status", "identified")),
        (alice, ("assign", "communicator", "alice")),
    ]
    side_by_side(*during)
    waiting = [found[1] if (found := held(laptop, gid)) else -1 for laptop in team]
    assert all(count >= 3 for count in waiting), waiting  # kept locally, queued to send
    assert not any("during" in text for _, text in texts_in_thread(slack))
    wait_for(
        lambda: slack.clock() - started >= timedelta(seconds=OUTAGE),
        SETTLE,
        "a minute of the processes' clocks",
        every=0.05,
    )
    slack.restore()
    down_until = slack.clock()
    wait_for(
        lambda: settled(team, gid), SETTLE, "the three laptops agree after the outage", every=0.05
    )
    converged = slack.clock()

    posted = [at for at, text in texts_in_thread(slack) if "during" in text]
    assert len(posted) == 9
    drained = datetime.fromtimestamp(max(posted), UTC)
    after_drain = (converged - max(drained, down_until)).total_seconds()
    poll = POLL * RATE
    print(
        f"outage {(down_until - started).total_seconds():.0f} s; backlog drained "
        f"{(drained - down_until).total_seconds():.1f} s "
        f"after it; converged {after_drain:.1f} s after the drain (2 × poll = {2 * poll:g} s, "
        f"clock seconds at {RATE:g}× real time)"
    )
    assert timedelta(seconds=after_drain) <= timedelta(seconds=2 * poll)

    views = [shared_view(laptop.show()) for laptop in team]
    assert views[1] == views[0] and views[2] == views[0]
    assert views[0]["severity"] == "SEV-1" and views[0]["status"] == "identified"
    assert views[0]["roles"]["communicator"] == "alice"
    texts = {entry[4] for entry in views[0]["entries"]}
    wanted = {f"{laptop.name} during {n}" for laptop in team for n in range(3)}
    assert wanted <= texts  # nothing written during the outage is lost
    counts = Counter(thread_uids(slack))
    assert [uid for uid, n in counts.items() if n > 1] == []
    assert {entry[0] for entry in views[0]["entries"]} <= set(counts)  # every entry is there
