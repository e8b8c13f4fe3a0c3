"""When the background sync reads and posts (issue 15, the default poll's targets): an entry
written on this laptop goes out on the next turn without waiting for a read; reads follow the
poll (under 12 a minute at 5 s), slow to the idle poll only after two quiet minutes, and come
back at once when a teammate writes; Slack's Retry-After holds only what it was about (reads
or posts); a post that may have landed is never sent again without a read first.

Time is an injected clock moved by what `step` returns: no sleeps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest

from cockpit.comms.slack_thread import SlackThreadApi
from cockpit.comms.sync import IDLE_AFTER, LOCAL_CHECK, POLL_SPREAD, ThreadSync
from cockpit.config import SlackConfig
from cockpit.domain import Kind, system_clock
from cockpit.store import Store
from cockpit.sync.permalink import parse_permalink
from cockpit.sync.wire import decode
from tests.fakes.server import Reply
from tests.fakes.slack import FakeSlack

TOKEN = "xoxb-fake-0123456789-secrettoken"
READ = "conversations.replies"
POST = "chat.postMessage"


class Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = system_clock()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack(token=TOKEN)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def laptops(tmp_path: Path, clock: Clock) -> Iterator[Callable[[str], Store]]:
    opened: list[Store] = []

    def make(name: str) -> Store:
        store = Store.open(tmp_path / f"{name}.db", clock=clock)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


async def _no_sleep(_: float) -> None:
    return None


def syncer(
    slack: FakeSlack, http: httpx.AsyncClient, store: Store, clock: Clock, **kw: Any
) -> ThreadSync:
    config = SlackConfig(
        token=TOKEN, channel="C0INCIDENT", api_url=slack.api_url, timeout_seconds=2
    )
    kw.setdefault("jitter", lambda: 0.0)
    return ThreadSync(
        store,
        SlackThreadApi(config, http, clock),
        "C0INCIDENT",
        clock=clock,
        sleep=_no_sleep,
        doubt_settle=timedelta(0),
        **kw,
    )


def calls(slack: FakeSlack, method: str) -> int:
    return len(slack.calls(method))


def echoed(slack: FakeSlack) -> list[str]:
    """Every entry uid the thread carries, duplicates kept."""
    (root,) = slack.roots()
    found = []
    for message in slack.thread(root["ts"]):
        metadata = message.get("metadata")
        if isinstance(metadata, dict) and metadata["event_type"].startswith("cockpit_"):
            found += [w.entry.uid for w in decode(metadata).entries]
    return found


async def turns(sync: ThreadSync, clock: Clock, incident: int, seconds: float) -> list[float]:
    """Turns of `sync.step` for `seconds` of the clock; the moments (seconds from the start)
    of the turns that read the thread."""
    api = sync.api
    start = clock()
    reads = []
    while (clock() - start).total_seconds() < seconds:
        before = api.calls.get(READ, 0)
        wait = await sync.step([incident])
        if api.calls.get(READ, 0) > before:
            reads.append((clock() - start).total_seconds())
        assert 0 <= wait <= LOCAL_CHECK
        clock.advance(max(wait, 0.01))
    return reads


async def declared(sync: ThreadSync, clock: Clock) -> int:
    incident = sync.store.declare("API down", "SEV-2", "alice", service="api").id
    await sync.step([incident])  # the root, and a first read
    clock.advance(LOCAL_CHECK)
    return incident


async def test_an_entry_written_by_another_process_goes_out_on_the_next_turn_without_a_read(
    slack: FakeSlack,
    http: httpx.AsyncClient,
    laptops: Callable[[str], Store],
    clock: Clock,
    tmp_path: Path,
) -> None:
    alice = laptops("alice")
    sync = syncer(slack, http, alice, clock)
    incident = await declared(sync, clock)
    reads, posts = calls(slack, READ), calls(slack, POST)
    assert await sync.step([incident]) == LOCAL_CHECK  # nothing written: no call at all
    assert (calls(slack, READ), calls(slack, POST)) == (reads, posts)
    # `cockpit log` (or the app's writer) commits through another connection.
    with Store.open(tmp_path / "alice.db", clock=clock) as cli:
        note = cli.append(incident, Kind.NOTE, "rolled back api v142", "alice")
    clock.advance(LOCAL_CHECK)
    await sync.step([incident])
    assert calls(slack, POST) == posts + 1 and calls(slack, READ) == reads
    assert note.uid in echoed(slack)
    assert alice.sync_pending(incident) == 0


async def test_wake_sends_an_entry_written_on_the_syncs_own_connection(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store], clock: Clock
) -> None:
    alice = laptops("alice")
    sync = syncer(slack, http, alice, clock)
    incident = await declared(sync, clock)
    note = alice.append(incident, Kind.ACTION, "scaled the pool", "alice")
    await sync.step([incident])
    assert note.uid not in echoed(slack)  # its own commit does not change data_version
    sync.wake()
    await sync.step([incident])
    assert note.uid in echoed(slack)


async def test_a_teammates_entry_is_read_within_the_poll_plus_its_spread(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store], clock: Clock
) -> None:
    alice, bob = laptops("alice"), laptops("bob")
    for jitter in (0.0, 1.0):
        sync = syncer(slack, http, alice, clock, jitter=lambda j=jitter: j)
        incident = await declared(sync, clock)
        reads = await turns(sync, clock, incident, 30)
        gaps = [b - a for a, b in pairwise(reads)]
        assert gaps and all(5.0 <= gap <= 5.0 * (1 + POLL_SPREAD * jitter) + 0.02 for gap in gaps)
    # Bob's entry, posted just after one of alice's reads, is in her database by the next.
    link = alice.thread_for(incident).permalink  # type: ignore[union-attr]
    assert link
    bob_sync = syncer(slack, http, bob, clock)
    joined, _ = await bob_sync.join(parse_permalink(link), link)
    await turns(sync, clock, incident, 5.3)  # just after a read
    note = bob.append(joined.id, Kind.NOTE, "db failover done", "bob")
    await bob_sync.step([joined.id])
    start = clock()
    while note.uid not in {e.uid for e in alice.sync_entries(incident)}:
        await turns(sync, clock, incident, LOCAL_CHECK)
    assert (clock() - start).total_seconds() <= 5.0 * (1 + POLL_SPREAD)


async def test_reads_stay_under_twelve_a_minute_while_a_teammate_writes(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store], clock: Clock
) -> None:
    alice, bob = laptops("alice"), laptops("bob")
    values = iter([0.5, 0.1, 0.9, 0.3, 0.7] * 1000)
    sync = syncer(slack, http, alice, clock, jitter=lambda: next(values))
    incident = await declared(sync, clock)
    link = alice.thread_for(incident).permalink  # type: ignore[union-attr]
    assert link
    bob_sync = syncer(slack, http, bob, clock)
    joined, _ = await bob_sync.join(parse_permalink(link), link)
    reads: list[float] = []
    for minute in range(4):
        bob.append(joined.id, Kind.NOTE, f"still on it {minute}", "bob")
        await bob_sync.send(joined.id)
        reads += await turns(sync, clock, incident, 60)
        assert 11 <= len(reads) / (minute + 1) < 12  # active: the poll, never faster


async def test_the_idle_poll_starts_after_two_quiet_minutes_and_ends_with_a_teammates_entry(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store], clock: Clock
) -> None:
    alice, bob = laptops("alice"), laptops("bob")
    sync = syncer(slack, http, alice, clock)
    incident = await declared(sync, clock)
    quiet = IDLE_AFTER.total_seconds()
    reads = await turns(sync, clock, incident, quiet + 60)
    early = [b - a for a, b in pairwise(reads) if b < quiet]
    late = [b - a for a, b in pairwise(reads) if a > quiet + 1]
    assert early and all(gap < 5.1 for gap in early)  # just started counts as activity
    assert late and all(gap >= 15.0 for gap in late)
    link = alice.thread_for(incident).permalink  # type: ignore[union-attr]
    assert link
    bob_sync = syncer(slack, http, bob, clock)
    joined, _ = await bob_sync.join(parse_permalink(link), link)
    bob.append(joined.id, Kind.NOTE, "found it", "bob")
    await bob_sync.send(joined.id)
    reads = await turns(sync, clock, incident, 45)
    assert reads[0] <= 15.1  # the idle poll found it ...
    assert all(b - a < 5.1 for a, b in pairwise(reads))  # ... then active


async def test_retry_after_on_reads_holds_reads_but_not_posts(
    slack: FakeSlack,
    http: httpx.AsyncClient,
    laptops: Callable[[str], Store],
    clock: Clock,
    tmp_path: Path,
) -> None:
    alice = laptops("alice")
    sync = syncer(slack, http, alice, clock)
    incident = await declared(sync, clock)
    slack.script(READ, Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "40"}))
    clock.advance(5)
    await sync.step([incident])
    reads = calls(slack, READ)
    with Store.open(tmp_path / "alice.db", clock=clock) as cli:
        note = cli.append(incident, Kind.NOTE, "paged the db team", "alice")
    clock.advance(LOCAL_CHECK)
    await sync.step([incident])
    assert note.uid in echoed(slack)  # posted while reads wait
    assert "rate limited" in (sync.status(incident).reason or "")
    assert await turns(sync, clock, incident, 39) == []
    assert calls(slack, READ) == reads  # Retry-After honoured
    assert await turns(sync, clock, incident, 2)  # then read again
    assert sync.status(incident).state == "live"


async def test_retry_after_on_a_post_holds_posts_which_go_when_it_ends(
    slack: FakeSlack,
    http: httpx.AsyncClient,
    laptops: Callable[[str], Store],
    clock: Clock,
    tmp_path: Path,
) -> None:
    alice = laptops("alice")
    sync = syncer(slack, http, alice, clock)
    incident = await declared(sync, clock)
    slack.script(POST, Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "2"}))
    with Store.open(tmp_path / "alice.db", clock=clock) as cli:
        note = cli.append(incident, Kind.NOTE, "restarted the workers", "alice")
    clock.advance(LOCAL_CHECK)
    await sync.step([incident])
    posts = calls(slack, POST)
    await turns(sync, clock, incident, 1.9)
    assert calls(slack, POST) == posts and note.uid not in echoed(slack)
    await turns(sync, clock, incident, 0.3)  # the turn after the hold, not the next read
    assert echoed(slack).count(note.uid) == 1


async def test_an_entry_whose_post_may_have_landed_is_not_sent_again_without_a_read(
    slack: FakeSlack,
    http: httpx.AsyncClient,
    laptops: Callable[[str], Store],
    clock: Clock,
    tmp_path: Path,
) -> None:
    alice = laptops("alice")
    sync = syncer(slack, http, alice, clock)
    incident = await declared(sync, clock)
    slack.script(POST, Reply(500, {"ok": False, "error": "internal_error"}, commit=True))
    with Store.open(tmp_path / "alice.db", clock=clock) as cli:
        first = cli.append(incident, Kind.NOTE, "stored, then 500", "alice")
        clock.advance(LOCAL_CHECK)
        await sync.step([incident])
        second = cli.append(incident, Kind.NOTE, "written after", "alice")
    clock.advance(LOCAL_CHECK)
    await sync.step([incident])  # a turn without a read: only the second goes
    assert echoed(slack).count(first.uid) == 1 and echoed(slack).count(second.uid) == 1
    await turns(sync, clock, incident, 10)  # reads find the first: marked sent, not reposted
    assert echoed(slack).count(first.uid) == 1
    assert alice.sync_pending(incident) == 0


def test_more_laptops_than_the_budget_is_for_slow_everyones_poll(
    laptops: Callable[[str], Store], clock: Clock, slack: FakeSlack
) -> None:
    config = SlackConfig(token=TOKEN, channel="C0INCIDENT", api_url=slack.api_url)
    sync = ThreadSync(laptops("alice"), SlackThreadApi(config, None, clock), "C0INCIDENT")  # type: ignore[arg-type]
    assert sync.poll_interval(3, idle=False) == 5.0
    assert sync.poll_interval(6, idle=False) == 10.0
    assert sync.poll_interval(2, idle=True) == 15.0


async def test_an_incident_no_longer_synced_does_not_spin_the_loop(
    slack: FakeSlack, http: httpx.AsyncClient, laptops: Callable[[str], Store], clock: Clock
) -> None:
    sync = syncer(slack, http, laptops("alice"), clock)
    await declared(sync, clock)
    clock.advance(60)  # its next read is long due, but it was resolved: no longer listed
    assert await sync.step([]) == LOCAL_CHECK


async def test_a_backlog_refused_after_an_outage_goes_when_the_hold_ends_not_a_read_later(
    slack: FakeSlack,
    http: httpx.AsyncClient,
    laptops: Callable[[str], Store],
    clock: Clock,
    tmp_path: Path,
) -> None:
    alice = laptops("alice")
    sync = syncer(slack, http, alice, clock)
    incident = await declared(sync, clock)
    slack.outage(3600)
    with Store.open(tmp_path / "alice.db", clock=clock) as cli:
        note = cli.append(incident, Kind.NOTE, "working offline", "alice")
    clock.advance(LOCAL_CHECK)
    await sync.step([incident])  # 503: it may have landed
    slack.restore()
    slack.script(POST, Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}))
    reads = await turns(sync, clock, incident, 5.0)  # the read misses it; its post is refused
    assert len(reads) == 1 and note.uid not in echoed(slack)
    assert await turns(sync, clock, incident, 1.3) == []  # no read in between ...
    assert echoed(slack).count(note.uid) == 1  # ... yet posted when the hold ended


async def test_a_read_that_brings_nothing_new_writes_nothing(
    slack: FakeSlack,
    http: httpx.AsyncClient,
    laptops: Callable[[str], Store],
    clock: Clock,
    tmp_path: Path,
) -> None:
    alice, bob = laptops("alice"), laptops("bob")
    sync = syncer(slack, http, alice, clock)
    incident = await declared(sync, clock)
    link = alice.thread_for(incident).permalink  # type: ignore[union-attr]
    assert link
    bob_sync = syncer(slack, http, bob, clock)
    joined, _ = await bob_sync.join(parse_permalink(link), link)
    bob.append(joined.id, Kind.NOTE, "seen once", "bob")
    await bob_sync.send(joined.id)
    with Store.open(tmp_path / "alice.db", clock=clock) as screen:  # what the open app polls
        version = screen.data_version()
        reads = await turns(sync, clock, incident, 5.5)
        assert len(reads) == 1 and screen.data_version() != version  # bob's note: imported
        version = screen.data_version()
        reads = await turns(sync, clock, incident, 50)  # the overlap re-reads bob's note
        assert len(reads) == 10 and screen.data_version() == version
        reads = await turns(sync, clock, incident, 10)
        assert screen.data_version() != version  # last_read_at, written once a minute
    last_read = sync.status(incident).last_read_at
    assert last_read is not None and (clock() - last_read).total_seconds() <= 5.3  # from memory
