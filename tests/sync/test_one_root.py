"""One Slack root per incident (issue 15, "the Slack root is shared through the thread"): the
team sync and the Slack bot delivery both need the incident's root message; the store's claim
decides who posts it, the other replies under (or reads) that one and never posts a second.
Each laptop is a store of its own against the local fake Slack, on one fake clock; the last
test runs `cockpit deliver` and `cockpit sync` as two processes on one database."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cockpit.comms.publish import publish
from cockpit.comms.slack_thread import SlackThreadApi
from cockpit.comms.sync import ThreadSync
from cockpit.comms.transport import client
from cockpit.comms.worker import DeliveryWorker
from cockpit.config import Config, config_from_dict
from cockpit.domain import Kind, Status
from cockpit.store import Delivery, Store
from cockpit.sync.permalink import parse_permalink
from tests.conftest import FakeClock
from tests.fakes.server import Drop, Hang, Reply
from tests.fakes.slack import FakeSlack
from tests.fakes.team import Laptop as Process
from tests.fakes.wiring import FakeSleep, secrets_env, slack_table

CHANNEL = "C0INCIDENT"


@pytest.fixture
def slack(clock: FakeClock) -> Iterator[FakeSlack]:
    fake = FakeSlack(clock=clock)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch, slack: FakeSlack) -> None:
    for name, value in secrets_env(slack).items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def config(slack: FakeSlack) -> Config:
    return config_from_dict({"slack": slack_table(slack, "bot", timeout=0.5)})


class Laptop:
    """One teammate's cockpit: a store, its sync and (made per run) its delivery worker."""

    def __init__(
        self, name: str, path: Path, config: Config, clock: FakeClock, http: httpx.AsyncClient
    ) -> None:
        self.name = name
        self.config = config
        self.clock = clock
        self.store = Store.open(path, clock=clock)
        assert config.slack is not None
        self.sync = ThreadSync(
            self.store,
            SlackThreadApi(config.slack, http, clock),
            CHANNEL,
            clock=clock,
            sleep=FakeSleep(clock),
            jitter=lambda: 0.0,
        )

    async def round(self, incident: int) -> None:
        done = await self.sync.round(incident)
        assert done.failure is None, done.failure.reason

    async def deliver(self, on_change: Callable[[Delivery], None] | None = None) -> None:
        worker = DeliveryWorker(
            self.store,
            self.config,
            clock=self.clock,
            sleep=FakeSleep(self.clock),
            jitter=lambda: 0,
            on_change=on_change,
        )
        await worker.run(until_idle=True, budget=3600.0)

    def publish(self, incident: int, text: str) -> str:
        entry = publish(
            self.store, self.config, incident, text, Status.IDENTIFIED, self.name, self.clock
        )
        return entry.uid


@pytest.fixture
def alice(tmp_path: Path, config: Config, clock: FakeClock, http: httpx.AsyncClient) -> Laptop:
    return Laptop("alice", tmp_path / "alice.db", config, clock, http)


@pytest.fixture
def bob(tmp_path: Path, config: Config, clock: FakeClock, http: httpx.AsyncClient) -> Laptop:
    return Laptop("bob", tmp_path / "bob.db", config, clock, http)


def declare(laptop: Laptop) -> int:
    return laptop.store.declare("Checkout API errors", "SEV-2", laptop.name, service="api").id


def the_root(slack: FakeSlack) -> dict[str, Any]:
    """The channel's one root message (fails when there are none or several)."""
    roots = slack.roots()
    assert len(roots) == 1, [r.get("text") for r in roots]
    return roots[0]


def reply_uids(slack: FakeSlack, root_ts: str) -> list[str]:
    """The uids of the update entries carried by replies in the thread of `root_ts`."""
    found = []
    for message in slack.replies(root_ts):
        payload = (message.get("metadata") or {}).get("event_payload") or {}
        if payload.get("part") == "reply":
            found.append(payload.get("uid"))
    return found


def assert_one_thread(slack: FakeSlack, laptop: Laptop, incident: int, uid: str) -> None:
    """One root, a cockpit incident's, that the laptop's thread, the delivery's root and the
    update's reply all share; the update is in it once."""
    root = the_root(slack)
    assert root["metadata"]["event_type"] == "cockpit_incident"  # a teammate can join it
    thread = laptop.store.thread_for(incident)
    assert thread is not None and thread.root_ts == root["ts"]
    assert laptop.store.remote_ref(incident, "slack", f"root_ts:{CHANNEL}") == root["ts"]
    assert reply_uids(slack, root["ts"]) == [uid]
    assert laptop.store.sync_pending(incident) == 0


async def test_a_delivery_before_the_first_sync_round_posts_the_team_root_once(
    alice: Laptop, slack: FakeSlack
) -> None:
    incident = declare(alice)
    uid = alice.publish(incident, "Investigating elevated errors.")
    await alice.deliver()  # no sync round yet: the delivery needs the root first
    await alice.round(incident)
    await alice.round(incident)
    assert_one_thread(slack, alice, incident, uid)
    (delivery,) = alice.store.deliveries(incident)
    assert delivery.state == "sent"


async def test_the_delivery_replies_under_the_root_the_sync_posted(
    alice: Laptop, slack: FakeSlack
) -> None:
    incident = declare(alice)
    await alice.round(incident)
    uid = alice.publish(incident, "Investigating elevated errors.")
    await alice.deliver()
    await alice.round(incident)
    assert_one_thread(slack, alice, incident, uid)


def attempted(delivery: Delivery) -> bool:
    """The delivery's attempt is over (sent, or waiting to retry)."""
    return delivery.state not in ("queued", "sending")


def gate_root_post(laptop: Laptop, until: Callable[[], Awaitable[None]]) -> None:
    """Hold the sync's first post (the root) until `until()` returns: the delivery runs while
    the root is on its way, as when both start at once."""
    post = laptop.sync.api.post
    held = [True]

    async def gated(*args: Any, **kwargs: Any) -> str:
        if held[0]:
            held[0] = False
            await until()
        return await post(*args, **kwargs)

    laptop.sync.api.post = gated  # type: ignore[method-assign]


async def test_sync_and_delivery_at_once_post_one_root(
    alice: Laptop, slack: FakeSlack, clock: FakeClock
) -> None:
    incident = declare(alice)
    uid = alice.publish(incident, "Investigating elevated errors.")
    tried = asyncio.Event()
    gate_root_post(alice, tried.wait)
    worker = DeliveryWorker(
        alice.store,
        alice.config,
        clock=clock,
        sleep=FakeSleep(clock),
        jitter=lambda: 0,
        on_change=lambda delivery: tried.set() if attempted(delivery) else None,
    )
    # The sync claims the root first; the delivery, tried before that root lands, must not
    # post another.
    await asyncio.gather(alice.round(incident), worker.run(until_idle=True, budget=3600.0))
    await alice.round(incident)
    assert_one_thread(slack, alice, incident, uid)


async def test_sync_and_delivery_on_two_threads_with_two_connections_post_one_root(
    tmp_path: Path, config: Config, clock: FakeClock, slack: FakeSlack
) -> None:
    path = tmp_path / "alice.db"
    with Store.open(path, clock=clock) as store:
        incident = store.declare("Checkout API errors", "SEV-2", "alice").id
        publish(store, config, incident, "Investigating.", Status.IDENTIFIED, "alice", clock)
    tried = threading.Event()

    async def delivery_tried() -> None:
        await asyncio.to_thread(tried.wait, 60)

    def on_its_own_thread(part: str) -> None:
        async def run() -> None:
            async with client() as http:
                laptop = Laptop("alice", path, config, clock, http)
                try:
                    if part == "sync":
                        gate_root_post(laptop, delivery_tried)
                        await laptop.round(incident)
                    else:
                        await laptop.deliver(
                            on_change=lambda d: tried.set() if attempted(d) else None
                        )
                finally:
                    laptop.store.close()

        asyncio.run(run())

    await asyncio.gather(
        asyncio.to_thread(on_its_own_thread, "sync"),
        asyncio.to_thread(on_its_own_thread, "deliver"),
    )
    await asyncio.to_thread(on_its_own_thread, "deliver")
    await asyncio.to_thread(on_its_own_thread, "sync")
    root = the_root(slack)
    with Store.open(path, clock=clock) as store:
        thread = store.thread_for(incident)
        assert thread is not None and thread.root_ts == root["ts"]
        (delivery,) = store.deliveries(incident)
        assert delivery.state == "sent"
        update = store.last_entry(incident, Kind.UPDATE)
        assert update is not None and reply_uids(slack, root["ts"]) == [update.uid]


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(Reply(500, "<html>oops</html>", {"Content-Type": "text/html"}, commit=True),
                     id="stored-then-500"),
        pytest.param(Drop(commit=True), id="stored-then-connection-lost"),
        pytest.param(Reply(200, {"ok": False, "error": "internal_error"}, commit=True),
                     id="stored-then-internal_error"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("first", ["sync", "delivery"])
async def test_a_root_post_in_doubt_is_found_by_its_gid_before_the_other_path_posts(
    alice: Laptop, slack: FakeSlack, clock: FakeClock, failure: Any, first: str
) -> None:
    incident = declare(alice)
    uid = alice.publish(incident, "Investigating elevated errors.")
    slack.script("chat.postMessage", failure)
    if first == "sync":
        done = await alice.sync.round(incident)
        assert done.failure is not None and done.failure.maybe_landed
    else:
        worker = DeliveryWorker(
            alice.store, alice.config, clock=clock, sleep=FakeSleep(clock), jitter=lambda: 0
        )
        await worker.run(until_idle=True, budget=0.0)  # one attempt, no retry
    assert len(slack.roots()) == 1  # it landed, although the poster never heard so
    clock.advance(seconds=120)  # the claim of the poster in doubt has run out
    if first == "sync":
        await alice.deliver()
        await alice.round(incident)
    else:
        await alice.round(incident)
        await alice.deliver()
    await alice.round(incident)
    assert_one_thread(slack, alice, incident, uid)


async def test_a_teammate_who_joined_delivers_under_the_declarers_root(
    alice: Laptop, bob: Laptop, slack: FakeSlack
) -> None:
    incident = declare(alice)
    await alice.round(incident)
    thread = alice.store.thread_for(incident)
    assert thread is not None and thread.permalink
    joined, _ = await bob.sync.join(parse_permalink(thread.permalink), thread.permalink)
    uid = bob.publish(joined.id, "Bob here: rolling back.")
    await bob.deliver()
    await bob.round(joined.id)
    await alice.round(incident)
    root = the_root(slack)
    assert reply_uids(slack, root["ts"]) == [uid]
    update = alice.store.last_entry(incident, Kind.UPDATE)
    assert update is not None and update.uid == uid


async def test_a_teammate_who_imported_the_incident_from_a_file_finds_the_root(
    alice: Laptop, bob: Laptop, slack: FakeSlack
) -> None:
    incident = declare(alice)
    await alice.round(incident)
    gid = alice.store.incident(incident).gid
    bobs = bob.store.import_entries(gid, alice.store.sync_entries(incident), "file")
    assert bobs
    bobs_id = bob.store.incident_by_gid(gid).id
    uid = bob.publish(bobs_id, "Bob here: rolling back.")
    await bob.deliver()  # bob has no thread: he looks for the incident's root by its gid
    await bob.round(bobs_id)
    await alice.round(incident)
    root = the_root(slack)
    assert bob.store.thread_for(bobs_id) is not None
    assert reply_uids(slack, root["ts"]) == [uid]
    update = alice.store.last_entry(incident, Kind.UPDATE)
    assert update is not None and update.uid == uid


def test_deliver_and_sync_as_two_processes_post_one_root(tmp_path: Path) -> None:
    slack = FakeSlack()
    slack.start()
    try:
        laptop = Process("alice", tmp_path / "alice", slack)
        for args in (
            ("declare", "Checkout down", "--severity", "SEV-1", "--service", "api"),
            ("update", "-m", "Investigating checkout errors.", "--status", "identified"),
        ):
            done = laptop.cli(*args)
            assert done.returncode == 0, done.stderr
        # The first post (the root, whoever makes it) lands but its answer never comes: the
        # other process runs meanwhile, and must neither post a root nor lose the first.
        slack.script("chat.postMessage", Hang(seconds=5, commit=True))
        running = [laptop.start("deliver", "--wait", "60"), laptop.start("sync", "--wait", "30")]
        for process in running:
            _, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
        done = laptop.cli("sync", "--wait", "30")
        assert done.returncode == 0, done.stderr
        root = the_root(slack)
        assert root["metadata"]["event_type"] == "cockpit_incident"
        assert len(reply_uids(slack, root["ts"])) == 1
    finally:
        slack.stop()
