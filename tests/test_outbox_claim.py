"""What keeps a delivery from being sent twice: the claim is a compare-and-set on state *and*
attempts (a stale view that differs in only one of them loses), remote ids are kept per target
(Statuspage and Instatus both call theirs `incident`), and a delivery another live process is
sending is left alone, while one whose process is gone is taken over. The owner is a second,
real process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cockpit.comms.outbox import DOUBT_KEY, OWNER_KEY
from cockpit.comms.publish import publish
from cockpit.comms.worker import LEASE, DeliveryWorker, owner_alive, owner_id
from cockpit.config import config_from_dict
from cockpit.domain import Incident, Status
from cockpit.store import Store, StoreError
from tests.fakes.instatus import FakeInstatus
from tests.fakes.statuspage import FakeStatuspage
from tests.fakes.wiring import (
    INSTATUS_KEY_ENV,
    STATUSPAGE_KEY_ENV,
    FakeSleep,
    instatus_table,
    statuspage_table,
)
from tests.test_comms_delivery import drain

LEASE_END = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


@pytest.fixture
def statuspage(clock: Any) -> Iterator[FakeStatuspage]:
    fake = FakeStatuspage(clock=clock)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def instatus(clock: Any) -> Iterator[FakeInstatus]:
    fake = FakeInstatus(clock=clock)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def secrets(
    monkeypatch: pytest.MonkeyPatch, statuspage: FakeStatuspage, instatus: FakeInstatus
) -> None:
    monkeypatch.setenv(STATUSPAGE_KEY_ENV, statuspage.api_key)
    monkeypatch.setenv(INSTATUS_KEY_ENV, instatus.api_key)


def declare(store: Store) -> Incident:
    return store.declare("Checkout API errors", "SEV-1", "alice", service="checkout")


# ---- the claim ----------------------------------------------------------------------------


def claim(store: Store, delivery_id: int, state: str, attempts: int, **payload: Any) -> Any:
    return store.claim_delivery(
        delivery_id, state=state, attempts=attempts, lease_until=LEASE_END, payload=payload
    )


def test_a_stale_view_that_differs_only_in_state_loses_the_claim(store):
    incident = declare(store)
    first = store.enqueue(incident.id, "statuspage", "update", {"n": 1})
    won = claim(store, first, "queued", 0, by="one")
    assert won is not None and (won.state, won.attempts) == ("sending", 1)
    assert won.next_attempt_at == LEASE_END and won.payload == {"by": "one"}
    # Another process saw it after an earlier failed attempt: same attempts, other state.
    store.update_delivery(first, state="retrying")
    assert claim(store, first, "sending", 1, by="two") is None
    after = store.delivery(first)
    assert (after.state, after.attempts, after.payload) == ("retrying", 1, {"by": "one"})


def test_a_stale_view_that_differs_only_in_attempts_loses_the_claim(store):
    incident = declare(store)
    first = store.enqueue(incident.id, "statuspage", "update", {"n": 1})
    assert claim(store, first, "queued", 0, by="one") is not None
    store.update_delivery(first, state="queued")  # back in the queue after one attempt
    assert claim(store, first, "queued", 0, by="two") is None
    after = store.delivery(first)
    assert (after.state, after.attempts, after.payload) == ("queued", 1, {"by": "one"})
    # The view as it is now wins, and counts one more attempt.
    again = claim(store, first, "queued", 1, by="three")
    assert again is not None and (again.attempts, again.payload) == (2, {"by": "three"})


def test_a_claim_takes_only_the_delivery_it_names(store):
    incident = declare(store)
    first = store.enqueue(incident.id, "statuspage", "update", {"n": 1})
    second = store.enqueue(incident.id, "statuspage", "update", {"n": 2})
    assert claim(store, first, "queued", 0) is not None
    untouched = store.delivery(second)
    assert (untouched.state, untouched.attempts, untouched.payload) == ("queued", 0, {"n": 2})


# ---- remote ids per target ----------------------------------------------------------------


def test_remote_ids_are_kept_per_incident_target_and_key(store):
    one, two = declare(store), declare(store)
    store.set_remote_ref(one.id, "statuspage", "incident", "sp-1")
    store.set_remote_ref(one.id, "instatus", "incident", "in-1")
    store.set_remote_ref(two.id, "statuspage", "incident", "sp-2")
    assert store.remote_ref(one.id, "statuspage", "incident") == "sp-1"
    assert store.remote_ref(one.id, "instatus", "incident") == "in-1"
    assert store.remote_ref(two.id, "statuspage", "incident") == "sp-2"
    assert store.remote_ref(two.id, "instatus", "incident") is None
    assert store.remote_ref(one.id, "statuspage", "root_ts") is None
    store.set_remote_ref(one.id, "instatus", "incident", "in-1b")  # replaced, not added
    assert store.remote_ref(one.id, "instatus", "incident") == "in-1b"
    assert store.remote_ref(one.id, "statuspage", "incident") == "sp-1"


async def test_statuspage_and_instatus_each_post_into_their_own_incident(
    store, clock, statuspage, instatus
):
    config = config_from_dict(
        {"statuspage": statuspage_table(statuspage), "instatus": instatus_table(instatus)}
    )
    incident = declare(store)
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    await drain(store, config, clock)  # both incidents exist before the next update
    publish(store, config, incident.id, "Found it.", Status.IDENTIFIED, "alice", clock)
    publish(store, config, incident.id, "Fixed.", Status.RESOLVED, "alice", clock)
    await drain(store, config, clock)
    assert [d.state for d in store.deliveries()] == ["sent"] * 6
    (page,) = statuspage.incidents.values()
    (instatus_incident,) = instatus.incidents.values()
    assert len(page["incident_updates"]) == 3 and page["status"] == "resolved"
    assert len(instatus_incident["updates"]) == 3 and instatus_incident["resolved"]
    assert store.remote_ref(incident.id, "statuspage", "incident") == page["id"]
    assert store.remote_ref(incident.id, "instatus", "incident") == instatus_incident["id"]


# ---- taking over from another process ------------------------------------------------------

OWNER = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from cockpit.comms.outbox import DOUBT_KEY, OWNER_KEY
    from cockpit.comms.worker import owner_id
    from cockpit.store import Store

    with Store.open(sys.argv[1]) as store:
        (delivery,) = store.deliveries()
        payload = {**delivery.payload, OWNER_KEY: owner_id(), DOUBT_KEY: False}
        claimed = store.claim_delivery(
            delivery.id,
            state=delivery.state,
            attempts=delivery.attempts,
            lease_until=datetime.fromisoformat(sys.argv[2]),
            payload=payload,
        )
        assert claimed is not None
    print("claimed", flush=True)
    sys.stdin.read()  # "sending" until the test closes our stdin or kills us
    """
)


def start_owner(db_path: Path, lease_end: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", OWNER, str(db_path), lease_end],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


async def test_a_live_process_keeps_its_delivery_and_a_dead_ones_is_taken_over(
    db_path: Path, clock, statuspage
):
    config = config_from_dict({"statuspage": statuspage_table(statuspage)})
    with Store.open(db_path, clock=clock) as store:
        incident = declare(store)
        publish(store, config, incident.id, "Investigating.", None, "alice", clock)
        # Another cockpit claims it for an hour (its lease) and is still running.
        lease_end = (clock() + timedelta(hours=1)).isoformat()
        owner = start_owner(db_path, lease_end)
        try:
            assert owner.stdout is not None and owner.stdout.readline() == "claimed\n"
            (claimed,) = store.deliveries()
            assert claimed.payload[OWNER_KEY].endswith(f":{owner.pid}")

            alive = DeliveryWorker(store, config, clock=clock, sleep=FakeSleep(clock))
            await alive.run(budget=0)  # one look at the outbox, then stop
            (left,) = store.deliveries()
            assert (left.state, left.attempts) == ("sending", 1)
            assert left.payload[OWNER_KEY] == claimed.payload[OWNER_KEY]
            assert statuspage.requests == []
        finally:
            owner.kill()
            owner.wait()  # reaped: its pid is gone, not a zombie
        await drain(store, config, clock, budget=0)
        (taken,) = store.deliveries()
        assert (taken.state, taken.attempts) == ("sent", 2)
        assert DOUBT_KEY not in taken.payload and OWNER_KEY not in taken.payload
        # In doubt: it looked for the earlier attempt's incident before creating one.
        assert len(statuspage.calls("unresolved")) == 1
        (page,) = statuspage.incidents.values()
        assert len(page["incident_updates"]) == 1


def test_whether_an_owner_may_still_be_sending(monkeypatch):
    host = socket.gethostname()
    assert owner_alive(f"{host}:{os.getpid()}")  # this very process
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # reaped
    assert not owner_alive(f"{host}:{gone.pid}")
    # What cannot be checked from here counts as alive: the lease decides.
    assert owner_alive(f"other-{host}:{gone.pid}")  # another host
    assert owner_alive(f"{host}:not-a-pid")
    assert owner_alive(f":{gone.pid}")  # no host at all
    assert owner_alive("")
    assert owner_id() == f"{host}:{os.getpid()}"

    # Another user's process (init, for one) is not ours to signal, but alive. Not probed for
    # real: run as root, a mutant of the probe would signal the machine's init.
    def not_ours(pid: int, signal: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "kill", not_ours)
    assert owner_alive(f"{host}:{os.getpid()}")


async def test_a_claim_holds_for_the_lease_or_four_timeouts_whichever_is_longer(
    store, clock, statuspage
):
    assert timedelta(minutes=5) == LEASE  # the default the tests below see the worker use
    seen: list[Any] = []
    for timeout, held_for in ((0.5, timedelta(minutes=5)), (120.0, timedelta(seconds=4 * 125))):
        config = config_from_dict({"statuspage": statuspage_table(statuspage, timeout=timeout)})
        incident = declare(store)
        publish(store, config, incident.id, "Investigating.", None, "alice", clock)
        start = clock()
        worker = DeliveryWorker(
            store, config, clock=clock, sleep=FakeSleep(clock), on_change=seen.append
        )
        await worker.run(until_idle=True)
        sending = next(d for d in seen if d.incident_id == incident.id and d.state == "sending")
        assert sending.next_attempt_at == start + held_for
        assert sending.payload[OWNER_KEY] == owner_id() and sending.payload[DOUBT_KEY] is False


def test_an_empty_update_and_an_unknown_delivery_field_are_refused(store):
    incident = declare(store)
    for blank in ("", "   \n\t"):
        with pytest.raises(StoreError, match="a status update needs some text"):
            store.publish(incident.id, blank, "alice", deliveries=[("statuspage", "update", {})])
    assert store.deliveries() == []
    first = store.enqueue(incident.id, "statuspage", "update", {"n": 1})
    with pytest.raises(ValueError, match=r"unknown delivery fields: \['colour'\]"):
        store.update_delivery(first, colour="red")
    store.update_delivery(
        first,
        state="retrying",
        attempts=3,
        next_attempt_at=LEASE_END,
        last_error="HTTP 500",
        remote_id="r-1",
        sent_at=LEASE_END,
        payload={"n": 2},
    )
    after = store.delivery(first)
    assert (after.state, after.attempts, after.next_attempt_at, after.last_error) == (
        "retrying",
        3,
        LEASE_END,
        "HTTP 500",
    )
    assert (after.remote_id, after.sent_at, after.payload) == ("r-1", LEASE_END, {"n": 2})
