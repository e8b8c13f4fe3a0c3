"""The delivery worker's rarer paths, with a scripted target instead of a fake service: a claim
another process won, a secret lost between the check and the post, an in-doubt check that
itself fails or finds the earlier attempt, and a database that refuses the outcome."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
import pytest

from cockpit.comms.outbox import DOUBT_KEY, OWNER_KEY
from cockpit.comms.target import MissingSecret, Outcome, Permanent, Preview, Retry, Sent, Target
from cockpit.comms.worker import DeliveryWorker
from cockpit.config import Config
from cockpit.store import Delivery, Store, StoreError
from tests.fakes.wiring import FakeSleep


class Scripted(Target):
    """A target that answers what the test says and counts what it was asked."""

    name: ClassVar[str] = "scripted"
    can_check: ClassVar[bool] = True

    def __init__(self, post: Outcome | Exception, previous: Any = None) -> None:
        super().__init__(timeout=1.0)
        self.answer = post
        self.previous = previous
        self.posts = 0
        self.checks = 0

    def render(self, message: Any) -> dict[str, Any]:
        return {}

    def describe(self, payload: Mapping[str, Any], *, continuing: bool) -> Preview:
        return Preview(self.name, "", "")

    async def post(self, http: httpx.AsyncClient, attempt: Any) -> Outcome:
        self.posts += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    async def find_previous(self, http: httpx.AsyncClient, attempt: Any) -> Any:
        self.checks += 1
        return self.previous

    async def finish(self, http: httpx.AsyncClient, attempt: Any, remote_id: str) -> Outcome:
        return Sent(remote_id)


def queued(store: Store, **payload: Any) -> Delivery:
    incident = store.declare("Checkout API errors", "SEV-2", "alice")
    return store.delivery(store.enqueue(incident.id, "scripted", "update", payload))


async def drain(store: Store, clock: Any, target: Scripted) -> list[Delivery]:
    """One attempt at everything queued; every change the worker announced."""
    seen: list[Delivery] = []
    worker = DeliveryWorker(
        store,
        Config(),
        clock=clock,
        sleep=FakeSleep(clock),
        targets={"scripted": target},
        on_change=seen.append,
    )
    await worker.run(until_idle=True, budget=0)
    return seen


async def test_a_claim_another_process_won_is_left_to_it(store, clock, monkeypatch):
    delivery = queued(store, n=1)
    monkeypatch.setattr(store, "claim_delivery", lambda *a, **kw: None)
    target = Scripted(Sent("x"))
    seen = await drain(store, clock, target)
    assert seen == [] and target.posts == 0
    assert store.delivery(delivery.id) == delivery


async def test_a_secret_lost_before_the_post_hands_the_delivery_back_untouched(store, clock):
    delivery = queued(store, n=1)
    target = Scripted(MissingSecret("scripted.key_env: TEST_KEY is not set", env=True))
    seen = await drain(store, clock, target)
    assert target.posts == 1
    assert [d.state for d in seen] == ["sending", "queued"]
    after = store.delivery(delivery.id)
    assert (after.state, after.attempts, after.next_attempt_at, after.payload) == (
        "queued",
        0,
        delivery.next_attempt_at,
        {"n": 1},
    )
    assert after.last_error is None


@pytest.mark.parametrize(
    ("found", "state", "error"),
    [
        (Permanent("the page is gone"), "failed", "the page is gone"),
        (Retry("search timed out"), "retrying", "search timed out"),
        (Sent("inc-7"), "sent", None),
    ],
)
async def test_an_in_doubt_check_that_decides_is_the_outcome(store, clock, found, state, error):
    delivery = queued(store, n=1, **{DOUBT_KEY: True})
    target = Scripted(Sent("posted-again"), previous=found)
    await drain(store, clock, target)
    after = store.delivery(delivery.id)
    assert target.checks == 1 and target.posts == 0  # never posted again
    assert (after.state, after.last_error) == (state, error)
    assert OWNER_KEY not in after.payload


async def test_an_in_doubt_check_that_finds_the_earlier_post_finishes_it(store, clock):
    delivery = queued(store, n=1, **{DOUBT_KEY: True})
    target = Scripted(Sent("posted-again"), previous="inc-earlier")
    await drain(store, clock, target)
    after = store.delivery(delivery.id)
    assert target.posts == 0 and (after.state, after.remote_id) == ("sent", "inc-earlier")
    assert DOUBT_KEY not in after.payload


async def test_a_database_that_refuses_the_outcome_is_logged_and_the_lease_brings_it_back(
    store, clock, monkeypatch, caplog
):
    delivery = queued(store, n=1)

    def refuse(*args: object, **kwargs: object) -> None:
        raise StoreError("database is locked")

    monkeypatch.setattr(store, "update_delivery", refuse)
    caplog.set_level(logging.WARNING, logger="cockpit.comms")
    await drain(store, clock, Scripted(Sent("x")))
    assert [r.getMessage() for r in caplog.records] == [
        f"delivery #{delivery.id}: database is locked"
    ]
    after = store.delivery(delivery.id)
    assert (after.state, after.attempts) == ("sending", 1)  # claimed: its lease will end
