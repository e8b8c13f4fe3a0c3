"""When the worker waits, and for how long: a Retry-After given as an HTTP date, the caps on
backoff (300 s) and on a Retry-After (1 h), stopping mid-flight while the service still holds
the request, and a new update that does not wait behind another lane's pending retry. Time is
the injected clock; what would show a slow stop is the fake service, not a stopwatch."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from cockpit.comms.outbox import DOUBT_KEY
from cockpit.comms.publish import publish
from cockpit.comms.worker import BACKOFF_CAP, MAX_RETRY_AFTER, DeliveryWorker, backoff
from cockpit.config import Config
from cockpit.domain import Incident
from cockpit.store import Delivery, Store
from tests.fakes import FakeStatuspage, Hang, Reply
from tests.fakes.wiring import STATUSPAGE_KEY_ENV, FakeSleep, wired_config
from tests.test_comms_delivery import HTML_500, drain


@pytest.fixture
def statuspage(clock: Any) -> Iterator[FakeStatuspage]:
    fake = FakeStatuspage(clock=clock)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch, statuspage: FakeStatuspage) -> None:
    monkeypatch.setenv(STATUSPAGE_KEY_ENV, statuspage.api_key)


def declare(store: Store, title: str = "Checkout API errors") -> Incident:
    return store.declare(title, "SEV-1", "alice", service="checkout")


def rate_limited(after: str) -> Reply:
    return Reply(429, {"message": "Too many requests"}, {"Retry-After": after})


# ---- how long ------------------------------------------------------------------------------


async def test_a_retry_after_given_as_an_http_date_waits_until_then(store, clock, statuspage):
    config = wired_config(statuspage=statuspage)
    incident = declare(store)
    start = clock()
    statuspage.script("create", rate_limited(format_datetime(start + timedelta(seconds=90), True)))
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    run = await drain(store, config, clock)
    assert run.sleep is not None and run.sleep.calls == [90.0]
    waiting = run.first(store.deliveries()[0].id, "retrying")
    assert waiting.next_attempt_at == start + timedelta(seconds=90)
    assert "asked to wait 90 s" in (waiting.last_error or "")
    assert store.deliveries()[0].state == "sent"


@pytest.mark.parametrize(
    ("asked", "waited"), [("7200", 3600.0), ("3600", 3600.0), ("3599", 3599.0)]
)
async def test_a_retry_after_is_capped_at_an_hour(store, clock, statuspage, asked, waited):
    config = wired_config(statuspage=statuspage)
    incident = declare(store)
    start = clock()
    statuspage.script("create", rate_limited(asked))
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    run = await drain(store, config, clock, budget=2 * MAX_RETRY_AFTER)
    assert run.sleep is not None and run.sleep.calls == [waited]
    waiting = run.first(store.deliveries()[0].id, "retrying")
    assert waiting.next_attempt_at == start + timedelta(seconds=waited)
    assert f"asked to wait {asked} s" in (waiting.last_error or "")  # what it asked, shown
    assert store.deliveries()[0].state == "sent"


def test_backoff_doubles_up_to_a_300_second_cap_scaled_by_jitter():
    assert [backoff(n, 0.0) for n in range(0, 11)] == [
        1.0,
        1.0,
        2.0,
        4.0,
        8.0,
        16.0,
        32.0,
        64.0,
        128.0,
        150.0,
        150.0,
    ]
    assert backoff(9, 0.5) == 225.0 and backoff(8, 0.5) == 192.0
    # Jitter scales between half and all of the capped value, never past the cap.
    assert backoff(40, 0.999999) <= BACKOFF_CAP == 300.0
    assert backoff(40, 0.999999) == pytest.approx(300.0, abs=0.001)
    assert backoff(5000, 0.0) == 150.0  # no overflow however long a service keeps failing


async def test_a_service_failing_for_long_waits_at_most_the_cap(store, clock, statuspage):
    config = wired_config(statuspage=statuspage)
    incident = declare(store)
    statuspage.script("create", *[HTML_500] * 11)
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    run = await drain(store, config, clock, budget=3 * 3600)
    assert run.sleep is not None
    assert run.sleep.calls == [1, 2, 4, 8, 16, 32, 64, 128, 150, 150, 150]
    (delivery,) = store.deliveries()
    assert delivery.state == "sent" and delivery.attempts == 12


# ---- stopping, and not waiting for someone else ---------------------------------------------


async def test_stopping_mid_flight_does_not_wait_for_the_service(store, clock, statuspage):
    config = wired_config(statuspage=statuspage, timeout=30)
    incident = declare(store)
    statuspage.script("create", Hang(30, commit=True))
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    worker = DeliveryWorker(store, config, clock=clock, sleep=FakeSleep(clock))
    task = asyncio.create_task(worker.run())
    assert await asyncio.to_thread(statuspage.hanging.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The service is still holding the request: the worker stopped without waiting for it.
    assert not statuspage.hang_over.is_set()
    (delivery,) = store.deliveries()
    assert delivery.state == "retrying" and delivery.payload[DOUBT_KEY] is True
    assert delivery.last_error == "interrupted before the service answered"
    assert delivery.next_attempt_at == clock()


class BlockingSleep:
    """A sleep that never ends by itself: only a wake-up can move the worker on."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.parked = asyncio.Event()  # the worker is waiting

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.parked.set()
        await asyncio.Event().wait()


async def test_a_new_update_does_not_wait_behind_another_lanes_pending_retry(
    store, clock, statuspage
):
    config: Config = wired_config(statuspage=statuspage)
    failing = declare(store, "Checkout API errors")
    statuspage.script("create", HTML_500)
    publish(store, config, failing.id, "Investigating.", None, "alice", clock)
    changes: asyncio.Queue[Delivery] = asyncio.Queue()
    sleep = BlockingSleep()
    worker = DeliveryWorker(
        store,
        config,
        clock=clock,
        sleep=sleep,
        jitter=lambda: 0.0,
        poll_seconds=3600,  # no polling by real time: only `wake` can start the new one
        on_change=changes.put_nowait,
    )
    task = asyncio.create_task(worker.run())
    try:
        await sleep.parked.wait()  # the first delivery failed and waits for its retry
        other = declare(store, "Search is slow")
        publish(store, config, other.id, "Looking.", None, "alice", clock)
        worker.wake()
        # A hang guard only: a worker that waited for the retry would never get here.
        while True:
            change = await asyncio.wait_for(changes.get(), 60)
            if change.incident_id == other.id and change.state == "sent":
                break
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert set(sleep.calls) == {1.0}  # each wait was for the first one's backoff
    first, second = store.deliveries()
    assert (first.state, first.attempts) == ("retrying", 1)
    assert (second.state, second.attempts) == ("sent", 1)
