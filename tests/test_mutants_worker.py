"""The delivery worker where a full mutation run (`make mutate`, issue 14) found nothing
asserting."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import httpx
import pytest

from cockpit.comms import transport
from cockpit.comms.outbox import DOUBT_KEY
from cockpit.comms.publish import publish
from cockpit.comms.target import MissingSecret, Outcome, Permanent, Retry, Sent
from cockpit.comms.worker import DeliveryWorker, owner_alive
from cockpit.config import Config, config_from_dict
from cockpit.domain import Kind
from cockpit.store import Delivery, Store
from tests.conftest import FakeClock
from tests.fakes.server import Reply
from tests.fakes.slack import FakeSlack
from tests.fakes.statuspage import FakeStatuspage
from tests.fakes.wiring import (
    STATUSPAGE_KEY_ENV,
    FakeSleep,
    secrets_env,
    slack_table,
    statuspage_table,
)
from tests.test_outbox_claim import start_owner
from tests.test_worker_paths import Scripted, drain, queued


async def test_a_running_worker_keeps_request_urls_out_of_the_logs(
    store: Store, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    # httpx and httpcore log every request URL at INFO, and a webhook URL is a secret.
    for name in ("httpx", "httpcore"):  # as a fresh process finds them
        logging.getLogger(name).setLevel(logging.NOTSET)
    queued(store, n=1)
    await drain(store, clock, Scripted(Sent("x")))
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).info("HTTP Request: POST https://hooks.example/T000/B000/XXXX")
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING
    assert "hooks.example" not in caplog.text


def test_asking_whether_an_owner_is_alive_sends_it_no_signal() -> None:
    # The probe is signal 0; a real signal (SIGHUP: hang up) would end the very cockpit whose
    # claim is being checked. Caught here instead of ending this test process.
    received: list[int] = []
    previous = signal.signal(signal.SIGHUP, lambda number, frame: received.append(number))
    try:
        assert owner_alive(f"{socket.gethostname()}:{os.getpid()}")
    finally:
        signal.signal(signal.SIGHUP, previous)
    assert received == []


async def looks_at_the_outbox(store: Store, monkeypatch: pytest.MonkeyPatch) -> asyncio.Queue[int]:
    """Each time the worker reads the outbox, the count so far."""
    looks: asyncio.Queue[int] = asyncio.Queue()
    read = store.deliveries

    def counted(*args: Any, **kwargs: Any) -> list[Delivery]:
        looks.put_nowait(looks.qsize() + 1)
        return read(*args, **kwargs)

    monkeypatch.setattr(store, "deliveries", counted)
    return looks


async def settle() -> None:
    """Let every task that can run, run (no time passes)."""
    for _ in range(50):
        await asyncio.sleep(0)


async def test_an_idle_worker_woken_once_looks_once_and_waits_again(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A wake-up left set would make every later wait return at once: the app's worker would
    # spin on the outbox, a core busy for as long as the app is open.
    looks = await looks_at_the_outbox(store, monkeypatch)
    worker = DeliveryWorker(
        store, Config(), clock=clock, sleep=FakeSleep(clock), targets={}, poll_seconds=3600
    )
    task = asyncio.create_task(worker.run())
    try:
        await looks.get()  # its first look: nothing queued, so it waits
        await settle()
        assert looks.empty() and not task.done()
        worker.wake()
        await looks.get()
        await settle()
        assert looks.empty()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
def statuspage(clock: FakeClock) -> Iterator[FakeStatuspage]:
    fake = FakeStatuspage(clock=clock)
    fake.start()
    yield fake
    fake.stop()


async def test_a_running_worker_takes_over_within_a_poll_of_the_owner_dying(
    db_path: Path, clock: FakeClock, statuspage: FakeStatuspage, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another cockpit claimed the update for an hour and dies while this worker waits: the
    # worker looks again after one poll and sends it then, not when the hour is over.
    monkeypatch.setenv(STATUSPAGE_KEY_ENV, statuspage.api_key)
    config = config_from_dict({"statuspage": statuspage_table(statuspage)})
    with Store.open(db_path, clock=clock) as store:
        incident = store.declare("Checkout API errors", "SEV-1", "alice")
        publish(store, config, incident.id, "Investigating.", None, "alice", clock)
        start = clock()
        owner = start_owner(db_path, (start + timedelta(hours=1)).isoformat())
        try:
            assert owner.stdout is not None and owner.stdout.readline() == "claimed\n"
            waits: list[float] = []

            async def owner_dies_meanwhile(seconds: float) -> None:
                waits.append(seconds)
                if owner.poll() is None:
                    owner.kill()
                    owner.wait()  # reaped: its pid is gone
                clock.advance(seconds=seconds)
                await asyncio.sleep(0)

            worker = DeliveryWorker(store, config, clock=clock, sleep=owner_dies_meanwhile)
            await worker.run(until_idle=True)
        finally:
            owner.kill()
            owner.wait()
        (taken,) = store.deliveries()
        poll = timedelta(seconds=worker.poll_seconds)  # how often: a default, not this promise
        assert waits == [worker.poll_seconds] and poll < timedelta(hours=1)
        assert (taken.state, taken.sent_at) == ("sent", start + poll)


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[httpx.AsyncClient]:
    """Every HTTP client the worker makes."""
    clients: list[httpx.AsyncClient] = []
    make = transport.client

    def client() -> httpx.AsyncClient:
        clients.append(make())
        return clients[-1]

    monkeypatch.setattr(transport, "client", client)
    return clients


async def test_a_stopped_worker_has_closed_its_connections_and_can_run_again(
    store: Store, clock: FakeClock, made: list[httpx.AsyncClient]
) -> None:
    target = Scripted(Sent("x"))
    worker = DeliveryWorker(
        store, Config(), clock=clock, sleep=FakeSleep(clock), targets={"scripted": target}
    )
    queued(store, n=1)
    await worker.run(until_idle=True)
    assert [c.is_closed for c in made] == [True]
    queued(store, n=2)
    await worker.run(until_idle=True)  # a new client: the closed one cannot send
    assert [c.is_closed for c in made] == [True, True]
    assert target.posts == 2 and [d.state for d in store.deliveries()] == ["sent", "sent"]


async def test_a_retry_due_in_a_fraction_of_a_second_is_attempted_then(
    store: Store, clock: FakeClock
) -> None:
    # Retry-After: 0 plus a quarter second of jitter: the worker waits exactly that long.
    target = Scripted(Retry("busy", after=0.0))
    sleep = FakeSleep(clock)
    worker = DeliveryWorker(
        store,
        Config(),
        clock=clock,
        sleep=sleep,
        jitter=lambda: 0.25,
        targets={"scripted": target},
    )
    delivery = queued(store, n=1)
    start = clock()
    attempted_at: list[datetime] = []
    post = target.post

    async def second_answer_sent(http: httpx.AsyncClient, attempt: Any) -> Outcome:
        attempted_at.append(clock())
        outcome = await post(http, attempt)
        target.answer = Sent("x")
        return outcome

    target.post = second_answer_sent  # type: ignore[method-assign]
    await worker.run(until_idle=True)
    assert sleep.calls == [0.25]
    assert attempted_at == [start, start + timedelta(seconds=0.25)]
    assert store.delivery(delivery.id).state == "sent"


@pytest.fixture
def slack(clock: FakeClock) -> Iterator[FakeSlack]:
    fake = FakeSlack(clock=clock)
    fake.start()
    yield fake
    fake.stop()


@pytest.mark.parametrize("sync", [False, True])
async def test_a_slack_delivery_starts_the_team_thread_exactly_when_team_sync_is_on(
    store: Store, clock: FakeClock, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, sync: bool
) -> None:
    for name, value in secrets_env(slack).items():
        monkeypatch.setenv(name, value)
    config = config_from_dict({"slack": slack_table(slack, "bot"), "sync": {"enabled": sync}})
    incident = store.declare("Checkout API errors", "SEV-2", "alice")
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    worker = DeliveryWorker(store, config, clock=clock, sleep=FakeSleep(clock))
    await worker.run(until_idle=True)
    assert [d.state for d in store.deliveries()] == ["sent"]
    (root,) = slack.roots()  # the team's root when sharing, else the delivery's own
    team_root = (root.get("metadata") or {}).get("event_type") == "cockpit_incident"
    assert (store.thread_for(incident.id) is not None, team_root) == (sync, sync)


class Holding(Scripted):
    """A target whose first post hangs until the worker is stopped; later posts are sent."""

    def __init__(self) -> None:
        super().__init__(Sent("x"))
        self.holding = asyncio.Event()

    async def post(self, http: httpx.AsyncClient, attempt: Any) -> Outcome:
        self.posts += 1
        if self.posts == 1:
            self.holding.set()
            await asyncio.Event().wait()
        return self.answer


async def test_a_worker_stopped_mid_flight_has_handed_the_delivery_back_when_it_returns(
    store: Store, clock: FakeClock, made: list[httpx.AsyncClient]
) -> None:
    target = Holding()
    worker = DeliveryWorker(
        store, Config(), clock=clock, sleep=FakeSleep(clock), targets={"scripted": target}
    )
    delivery = queued(store, n=1)
    task = asyncio.create_task(worker.run())
    await target.holding.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # Already handed back, in doubt, and the connections closed: nothing is left to the loop.
    handed_back = store.delivery(delivery.id)
    assert (handed_back.state, handed_back.payload[DOUBT_KEY]) == ("retrying", True)
    assert [c.is_closed for c in made] == [True]
    await worker.run(until_idle=True)  # the next run checks (in doubt), then posts
    after = store.delivery(delivery.id)
    assert (after.state, target.checks, target.posts) == ("sent", 1, 2)


async def test_a_secret_lost_before_the_post_is_handed_back_without_an_error_logged(
    store: Store, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    # `cockpit deliver` prints what is logged at ERROR: a hand-back that went on to record an
    # outcome would print asyncio's "Task exception was never retrieved" and a traceback.
    caplog.set_level(logging.ERROR)
    delivery = queued(store, n=1)
    target = Scripted(MissingSecret("scripted.key_env: TEST_KEY is not set", env=True))
    await drain(store, clock, target)
    gc.collect()  # a task's unretrieved exception is logged when the task is freed
    assert [r.getMessage() for r in caplog.records] == []
    assert (target.posts, store.delivery(delivery.id).state) == (1, "queued")


async def test_a_bug_in_a_target_fails_its_delivery_says_so_in_the_log_and_stops_nothing_else(
    store: Store, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="cockpit.comms")
    broken = queued(store, n=1)
    target = Scripted(ZeroDivisionError("division by zero"))
    posted: list[int] = []
    post = target.post

    async def only_the_first_is_broken(http: httpx.AsyncClient, attempt: Any) -> Outcome:
        posted.append(attempt.delivery.id)
        if len(posted) > 1:
            return Sent("x")
        return await post(http, attempt)

    target.post = only_the_first_is_broken  # type: ignore[method-assign]
    other = queued(store, n=2)  # another incident: another lane
    await drain(store, clock, target)
    failed = store.delivery(broken.id)
    assert (failed.state, failed.last_error) == (
        "failed",
        "unexpected error (ZeroDivisionError: division by zero); this is a cockpit bug",
    )
    assert store.delivery(other.id).state == "sent"
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        ("cockpit.comms", f"delivery #{broken.id} to scripted: ZeroDivisionError: division by zero")
    ]


async def test_the_apps_worker_sends_a_lanes_updates_back_to_back_and_keeps_running(
    store: Store, clock: FakeClock
) -> None:
    # The app's worker polls by real time (here: never, in effect); an attempt that ends must
    # end the wait at once, and ending it must neither stop the worker nor wait for the poll.
    incident = store.declare("Checkout API errors", "SEV-2", "alice")
    ids = [store.enqueue(incident.id, "scripted", "update", {"n": n}) for n in (1, 2)]
    changes: asyncio.Queue[Delivery] = asyncio.Queue()
    worker = DeliveryWorker(
        store,
        Config(),
        clock=clock,
        sleep=FakeSleep(clock),
        targets={"scripted": Scripted(Sent("x"))},
        poll_seconds=3600,
        on_change=changes.put_nowait,
    )
    task = asyncio.create_task(worker.run())
    sent: list[int] = []
    try:
        while len(sent) < 2:
            change = asyncio.ensure_future(changes.get())
            # 60 s: a hang guard only, for a worker that would wait for its poll.
            await asyncio.wait({change, task}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
            assert change.done(), "the worker stopped, or waits for its poll"
            if change.result().state == "sent":
                sent.append(change.result().id)
        await settle()
        assert not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert sent == ids


async def test_an_earlier_post_found_but_not_finished_is_finished_next_time_without_a_search(
    store: Store, clock: FakeClock
) -> None:
    # The check found the earlier attempt's incident; finishing it failed. The id is kept, so
    # the next attempt finishes that incident instead of searching (or posting) again.
    delivery = queued(store, n=1, **{DOUBT_KEY: True})
    target = Scripted(Sent("posted-again"), previous="inc-earlier")
    finishing: list[str] = []

    async def finish(http: httpx.AsyncClient, attempt: Any, remote_id: str) -> Outcome:
        finishing.append(remote_id)
        return Retry("timed out") if len(finishing) == 1 else Sent(remote_id)

    target.finish = finish  # type: ignore[method-assign]
    await drain(store, clock, target)
    kept = store.delivery(delivery.id)
    assert (kept.state, kept.remote_id, target.checks) == ("retrying", "inc-earlier", 1)
    clock.advance(minutes=5)
    await drain(store, clock, target)
    done = store.delivery(delivery.id)
    assert (done.state, done.remote_id) == ("sent", "inc-earlier")
    assert (target.checks, target.posts, finishing) == (1, 0, ["inc-earlier", "inc-earlier"])


async def test_an_attempt_checked_and_then_refused_is_no_longer_in_doubt(
    store: Store, clock: FakeClock
) -> None:
    # The check showed the earlier attempt did not land and the new post was refused outright
    # (not "may have landed"): the next attempt posts without searching again.
    delivery = queued(store, n=1, **{DOUBT_KEY: True})
    target = Scripted(Retry("service unavailable"), previous=None)
    await drain(store, clock, target)
    after = store.delivery(delivery.id)
    assert (after.state, target.checks, target.posts) == ("retrying", 1, 1)
    assert DOUBT_KEY not in after.payload
    clock.advance(minutes=5)
    target.answer = Sent("inc-1")
    await drain(store, clock, target)
    assert (store.delivery(delivery.id).state, target.checks, target.posts) == ("sent", 1, 2)


class Following(Scripted):
    """A status page: an older update must not move its status back."""

    follows_status: ClassVar[bool] = True


async def test_an_older_update_superseded_by_a_teammates_says_whose_and_keeps_its_payload(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = "alice " + "a" * 194  # a local name at its limit (200 characters)
    bob = "bob " + "b" * 596  # a teammate's name: another laptop's is taken as it comes
    incident = store.declare("Checkout API errors", "SEV-2", alice)
    older = store.append(incident.id, Kind.UPDATE, "Investigating.", alice)
    delivery_id = store.enqueue(
        incident.id, "scripted", "update", {"key": "k-1"}, entry_id=older.id
    )
    newer = SimpleNamespace(uid="f" * 32, author=bob, at=older.at + timedelta(minutes=6))
    monkeypatch.setattr(store, "newer_update", lambda entry_id, target: newer)
    target = Following(Sent("x"))
    seen = await drain(store, clock, target)

    assert target.posts == 0 and [d.state for d in seen] == ["sending", "superseded"]
    after = store.delivery(delivery_id)
    reason = f"superseded by {bob}'s newer update of 02:20:00 UTC, already published"
    assert (after.state, after.next_attempt_at) == ("superseded", None)
    assert after.payload == {"key": "k-1"}  # neither this process's claim nor a doubt
    assert after.last_error == reason[:500] and len(reason) > 500
    (line,) = [e for e in store.entries(incident.id) if e.kind is Kind.EXTERNAL]
    said = (
        f"scripted: {alice}'s update of 02:14:00 UTC not sent; {bob}'s newer update of 02:20:00"
        " UTC stands there (an older update never moves a status back)"
    )
    assert line.text == said[:500] and line.author == "scripted"
    assert line.meta == {
        "event": "superseded",
        "target": "scripted",
        "key": "k-1",
        "newer": newer.uid,
    }


async def test_a_team_root_slack_refuses_for_good_fails_the_delivery_and_posts_nothing_else(
    store: Store, clock: FakeClock, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With team sync on, the update is a reply under the team's root; when Slack refuses that
    # root for good (the bot is not in the channel), the update must not go out as a root of
    # its own that no teammate's thread knows.
    for name, value in secrets_env(slack).items():
        monkeypatch.setenv(name, value)
    config = config_from_dict({"slack": slack_table(slack, "bot")})
    slack.script("chat.postMessage", Reply(200, {"ok": False, "error": "not_in_channel"}))
    incident = store.declare("Checkout API errors", "SEV-2", "alice")
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    await DeliveryWorker(store, config, clock=clock, sleep=FakeSleep(clock)).run(until_idle=True)
    (delivery,) = store.deliveries()
    assert (delivery.state, delivery.last_error) == (
        "failed",
        "Slack chat.postMessage: not_in_channel",
    )
    assert len(slack.calls("chat.postMessage")) == 1 and slack.roots() == []


async def test_a_retry_after_is_waited_in_full_plus_the_jitter_never_less(
    store: Store, clock: FakeClock
) -> None:
    # Retry-After is the least the service asks to wait: the jitter spreads retries after it.
    delivery = queued(store, n=1)
    target = Scripted(Retry("rate limited", after=30.0))
    worker = DeliveryWorker(
        store,
        Config(),
        clock=clock,
        sleep=FakeSleep(clock),
        jitter=lambda: 0.25,
        targets={"scripted": target},
    )
    await worker.run(until_idle=True, budget=0)
    after = store.delivery(delivery.id)
    assert after.next_attempt_at == clock() + timedelta(seconds=30.25)
    assert after.last_error == "rate limited, asked to wait 30 s"


class Paging(Scripted):
    """A pager: what it did goes on the timeline (`None`: nothing for this delivery)."""

    def timeline_text(self, action: str, payload: Any, outcome: Outcome) -> str | None:
        if payload.get("quiet"):
            return None
        return "paged the on-call" if isinstance(outcome, Sent) else "could not page"


def timeline_lines(store: Store, incident_id: int) -> list[tuple[str, dict[str, object]]]:
    return [(e.text, dict(e.meta)) for e in store.entries(incident_id) if e.kind is Kind.EXTERNAL]


async def test_a_page_sent_or_failed_for_good_is_one_timeline_line_naming_its_delivery(
    store: Store, clock: FakeClock
) -> None:
    keyed = queued(store, key="k-1")
    unkeyed = queued(store, n=2)  # no key: the line names the local delivery
    quiet = queued(store, quiet=True)
    await drain(store, clock, Paging(Sent("x")))
    for delivery, key in ((keyed, "k-1"), (unkeyed, f"delivery-{unkeyed.id}")):
        assert timeline_lines(store, delivery.incident_id) == [
            (
                "paged the on-call",
                {
                    "event": "delivery",
                    "delivery": delivery.id,
                    "target": "scripted",
                    "action": "update",
                    "state": "sent",
                    "key": key,
                },
            )
        ]
    assert store.delivery(quiet.id).state == "sent"
    assert timeline_lines(store, quiet.incident_id) == []


async def test_a_page_retried_says_nothing_until_it_fails_for_good(
    store: Store, clock: FakeClock
) -> None:
    delivery = queued(store, key="k-2")
    target = Paging(Retry("service unavailable"))
    await drain(store, clock, target)
    assert store.delivery(delivery.id).state == "retrying"
    assert timeline_lines(store, delivery.incident_id) == []
    clock.advance(minutes=5)
    target.answer = Permanent("the routing key is unknown")
    await drain(store, clock, target)
    lines = timeline_lines(store, delivery.incident_id)
    assert [(text, meta["state"]) for text, meta in lines] == [("could not page", "failed")]


class Creating(Scripted):
    """A status page that creates the incident's page at the first post."""

    shared_refs: ClassVar[frozenset[str]] = frozenset({"incident"})

    async def post(self, http: httpx.AsyncClient, attempt: Any) -> Outcome:
        attempt.set_ref("incident", "inc-1")
        return await super().post(http, attempt)


@pytest.mark.parametrize("sync", [False, True])
async def test_a_created_page_is_shared_with_the_team_exactly_when_team_sync_is_on(
    store: Store, clock: FakeClock, slack: FakeSlack, sync: bool
) -> None:
    config = config_from_dict({"slack": slack_table(slack, "bot"), "sync": {"enabled": sync}})
    delivery = queued(store, n=1)
    target = Creating(Sent("x"))
    worker = DeliveryWorker(
        store, config, clock=clock, sleep=FakeSleep(clock), targets={"scripted": target}
    )
    await worker.run(until_idle=True)
    assert store.remote_ref(delivery.incident_id, "scripted", "incident") == "inc-1"
    shared = [meta for _, meta in timeline_lines(store, delivery.incident_id)]
    assert len(shared) == (1 if sync else 0)


async def test_a_failure_is_kept_in_at_most_500_characters(store: Store, clock: FakeClock) -> None:
    delivery = queued(store, n=1)
    await drain(store, clock, Scripted(Permanent("the service said: " + "x" * 600)))
    assert store.delivery(delivery.id).last_error == ("the service said: " + "x" * 600)[:500]


def test_the_apps_worker_quits_on_its_own_loop_with_nothing_left_pending(
    store: Store, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    # As the app runs it (tui/delivery_runner.py): a loop of its own, the worker cancelled
    # when the app quits, then the loop closed. A task still pending then is destroyed, and
    # asyncio logs "Task was destroyed but it is pending!" at ERROR.
    caplog.set_level(logging.ERROR)
    loop = asyncio.new_event_loop()
    try:
        worker = DeliveryWorker(store, Config(), clock=clock, sleep=FakeSleep(clock), targets={})
        task = loop.create_task(worker.run())
        loop.run_until_complete(settle())  # it has looked, found nothing, and waits
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            loop.run_until_complete(task)
    finally:
        loop.close()
    gc.collect()
    assert [r.getMessage() for r in caplog.records] == []


async def test_a_retry_after_holds_every_lane_of_that_service_until_it_ends(
    store: Store, clock: FakeClock
) -> None:
    # The service asked to wait a minute; an update queued meanwhile for another incident
    # waits for that minute too, rather than being refused for the same reason.
    first = queued(store, n=1)
    target = Scripted(Sent("x"))
    attempts: list[tuple[int, datetime]] = []
    later: list[Delivery] = []
    post = target.post

    async def rate_limited_once(http: httpx.AsyncClient, attempt: Any) -> Outcome:
        attempts.append((attempt.delivery.id, clock()))
        if len(attempts) == 1:
            later.append(queued(store, n=2))  # published while the service says wait
            return Retry("rate limited", after=60.0)
        return await post(http, attempt)

    target.post = rate_limited_once  # type: ignore[method-assign]
    start = clock()
    worker = DeliveryWorker(
        store,
        Config(),
        clock=clock,
        sleep=FakeSleep(clock),
        jitter=lambda: 0.0,
        targets={"scripted": target},
    )
    await worker.run(until_idle=True)
    minute = start + timedelta(seconds=60)
    assert sorted(attempts) == [(first.id, start), (first.id, minute), (later[0].id, minute)]
