"""Side effects happen once when several laptops share an incident (issue 15): a published
update is one message in the thread, the status-page incident is shared through the thread, a
teammate's resolve resolves the page, and an older update delivered late never moves a status
page's status back. Each laptop is a store of its own; Slack, the status pages and PagerDuty
are the local fakes; one fake clock for everything."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cockpit.comms.events import configure
from cockpit.comms.publish import publish
from cockpit.comms.slack_thread import SlackThreadApi
from cockpit.comms.sync import ThreadSync, shared_incidents
from cockpit.comms.worker import DeliveryWorker
from cockpit.config import Config, config_from_dict
from cockpit.domain import Kind, Status
from cockpit.store import Store
from cockpit.sync.permalink import parse_permalink
from cockpit.sync.wire import EVENT_TYPES, decode
from tests.conftest import FakeClock
from tests.fakes.betterstack import FakeBetterstack
from tests.fakes.instatus import FakeInstatus
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.server import Drop, Hang, Reply
from tests.fakes.slack import FakeSlack
from tests.fakes.statuspage import FakeStatuspage
from tests.fakes.wiring import (
    FakeSleep,
    betterstack_table,
    instatus_table,
    pagerduty_table,
    secrets_env,
    service_secrets_env,
    slack_table,
    statuspage_table,
)

CHANNEL = "C0INCIDENT"


@pytest.fixture
def slack(clock: FakeClock) -> Iterator[FakeSlack]:
    fake = FakeSlack(clock=clock)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def statuspage(clock: FakeClock) -> Iterator[FakeStatuspage]:
    fake = FakeStatuspage(clock=clock)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch, slack: FakeSlack, statuspage: FakeStatuspage) -> None:
    for name, value in secrets_env(slack, statuspage).items():
        monkeypatch.setenv(name, value)


class Laptop:
    """One teammate's cockpit: its store, its sync (kept: it remembers posts in doubt) and its
    delivery worker, all on the test's clock."""

    def __init__(
        self, name: str, path: Path, config: Config, clock: FakeClock, http: httpx.AsyncClient
    ) -> None:
        self.name = name
        self.config = config
        self.clock = clock
        self.store = configure(Store.open(path, clock=clock), config)
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

    async def deliver(self, budget: float = 3600.0) -> None:
        worker = DeliveryWorker(
            self.store, self.config, clock=self.clock, sleep=FakeSleep(self.clock), jitter=lambda: 0
        )
        await worker.run(until_idle=True, budget=budget)

    def publish(self, incident: int, text: str, status: Status | None = None) -> str:
        entry = publish(self.store, self.config, incident, text, status, self.name, self.clock)
        return entry.uid


@pytest.fixture
def make_config(slack: FakeSlack, statuspage: FakeStatuspage) -> Any:
    def make(**tables: Any) -> Config:
        base: dict[str, Any] = {"slack": slack_table(slack, "bot", timeout=0.5)}
        if tables.pop("with_statuspage", True):
            base["statuspage"] = statuspage_table(statuspage)
        return config_from_dict({**base, **tables})

    return make


@pytest.fixture
async def team(
    tmp_path: Path, clock: FakeClock, http: httpx.AsyncClient, make_config: Any
) -> AsyncIterator[tuple[Laptop, Laptop, int, int]]:
    """Alice declared an incident and started its thread; Bob joined it."""
    config = make_config()
    alice = Laptop("alice", tmp_path / "alice.db", config, clock, http)
    bob = Laptop("bob", tmp_path / "bob.db", config, clock, http)
    incident = alice.store.declare("Checkout API errors", "SEV-2", "alice", service="api").id
    await alice.round(incident)
    thread = alice.store.thread_for(incident)
    assert thread is not None and thread.permalink
    joined, _ = await bob.sync.join(parse_permalink(thread.permalink), thread.permalink)
    yield alice, bob, incident, joined.id
    alice.store.close()
    bob.store.close()


def carriers(slack: FakeSlack, uid: str) -> list[dict[str, Any]]:
    """The thread's messages whose metadata carries the entry `uid`."""
    (root,) = slack.roots()
    found = []
    for message in slack.thread(root["ts"]):
        metadata = message.get("metadata")
        if (
            isinstance(metadata, dict)
            and metadata.get("event_type") in EVENT_TYPES
            and uid in {wire.entry.uid for wire in decode(metadata).entries}
        ):
            found.append(message)
    return found


async def rounds(*laptops: tuple[Laptop, int], times: int = 3) -> None:
    for _ in range(times):
        for laptop, incident in laptops:
            await laptop.round(incident)


# ---- a published update is one message in the thread --------------------------------------


async def test_a_published_update_is_one_message_its_reply_carrying_the_entry(
    team: tuple[Laptop, Laptop, int, int], slack: FakeSlack
) -> None:
    alice, bob, incident, bobs = team
    uid = alice.publish(incident, "Investigating elevated errors.", Status.IDENTIFIED)
    # The sync runs before the delivery: it must leave the update to the Slack reply.
    await alice.round(incident)
    assert carriers(slack, uid) == []
    await alice.deliver()
    await rounds((alice, incident), (bob, bobs))
    (message,) = carriers(slack, uid)
    assert message["metadata"]["event_type"] == "cockpit_entry"
    assert message["metadata"]["event_payload"]["part"] == "reply"  # the update people read
    assert "Investigating elevated errors." in str(message["blocks"])
    assert alice.store.sync_pending(incident) == 0
    update = bob.store.last_entry(bobs, Kind.UPDATE)
    assert update is not None and update.uid == uid
    assert bob.store.incident(bobs).status is Status.IDENTIFIED
    assert bob.store.deliveries(bobs) == []  # imported: nothing queued on bob's laptop


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(Reply(500, "<html>oops</html>", {"Content-Type": "text/html"}, commit=True),
                     id="stored-then-500"),
        pytest.param(Drop(commit=True), id="stored-then-connection-lost"),
        pytest.param(Hang(seconds=5, commit=True), id="stored-then-timeout"),
        pytest.param(Reply(200, {"ok": False, "error": "internal_error"}, commit=True),
                     id="stored-then-internal_error"),
    ],
)  # fmt: skip
async def test_a_reply_in_doubt_is_found_by_its_key_and_never_echoed_or_posted_twice(
    team: tuple[Laptop, Laptop, int, int], slack: FakeSlack, failure: Any
) -> None:
    alice, bob, incident, bobs = team
    uid = alice.publish(incident, "Investigating.")
    slack.script("chat.postMessage", failure)
    await alice.deliver(budget=0)  # one attempt: it landed, alice never heard
    (delivery,) = [d for d in alice.store.deliveries(incident) if d.target == "slack"]
    assert delivery.state == "retrying"
    await rounds((alice, incident), (bob, bobs))  # syncing meanwhile echoes nothing
    await alice.deliver()
    await rounds((alice, incident), (bob, bobs))
    assert len(carriers(slack, uid)) == 1
    (delivery,) = [d for d in alice.store.deliveries(incident) if d.target == "slack"]
    assert delivery.state == "sent" and delivery.remote_id == carriers(slack, uid)[0]["ts"]
    assert alice.store.sync_pending(incident) == 0
    assert uid in {e.uid for e in bob.store.sync_entries(bobs)}


async def test_an_update_whose_slack_delivery_failed_for_good_is_echoed_once(
    team: tuple[Laptop, Laptop, int, int], slack: FakeSlack
) -> None:
    alice, bob, incident, bobs = team
    uid = alice.publish(incident, "Investigating.")
    slack.script("chat.postMessage", Reply(200, {"ok": False, "error": "is_archived"}))
    await alice.deliver()
    (delivery,) = [d for d in alice.store.deliveries(incident) if d.target == "slack"]
    assert delivery.state == "failed"
    await rounds((alice, incident), (bob, bobs))
    (message,) = carriers(slack, uid)
    assert "part" not in message["metadata"]["event_payload"]  # the sync's echo
    assert uid in {e.uid for e in bob.store.sync_entries(bobs)}


async def test_a_deleted_update_reply_is_echoed_again_by_the_rescan(
    team: tuple[Laptop, Laptop, int, int], slack: FakeSlack, clock: FakeClock
) -> None:
    alice, _, incident, _ = team
    uid = alice.publish(incident, "Investigating.")
    await alice.deliver()
    await alice.round(incident)
    (reply,) = carriers(slack, uid)
    slack.delete(reply["ts"])
    clock.advance(minutes=6)  # past the whole-read interval and the settling time
    await alice.round(incident)
    await alice.round(incident)
    assert len(carriers(slack, uid)) == 1


# ---- the status-page incident is the team's, shared through the thread ---------------------


class Page:
    """One status-page fake, as the tests look at it: its configuration table, how many
    incidents it holds, and the status it shows."""

    def __init__(self, name: str, fake: Any, table: dict[str, Any]) -> None:
        self.name = name
        self.fake = fake
        self.table = table

    @property
    def incidents(self) -> list[dict[str, Any]]:
        held = self.fake.reports if self.name == "betterstack" else self.fake.incidents
        return list(held.values())

    def shown(self) -> str:
        """The status customers read on the (one) incident."""
        (incident,) = self.incidents
        if self.name == "betterstack":
            states = {r["status"] for r in incident["affected_resources"]}
            return "resolved" if states == {"resolved"} else "open"
        return str(incident["status"]).lower()


@pytest.fixture(params=["statuspage", "instatus", "betterstack"])
def page(
    request: pytest.FixtureRequest,
    clock: FakeClock,
    statuspage: FakeStatuspage,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Page]:
    name = request.param
    if name == "statuspage":
        yield Page(name, statuspage, statuspage_table(statuspage))
        return
    fake: Any = FakeInstatus(clock=clock) if name == "instatus" else FakeBetterstack(clock=clock)
    fake.start()
    args = {"instatus": fake} if name == "instatus" else {"betterstack": fake}
    for key, value in service_secrets_env(**args).items():
        monkeypatch.setenv(key, value)
    table = instatus_table(fake) if name == "instatus" else betterstack_table(fake)
    yield Page(name, fake, table)
    fake.stop()


@pytest.fixture
async def paged_team(
    tmp_path: Path, clock: FakeClock, http: httpx.AsyncClient, make_config: Any, page: Page
) -> AsyncIterator[tuple[Laptop, Laptop, int, int]]:
    """`team`, with one status page (each kind in turn) instead of Statuspage alone."""
    config = make_config(with_statuspage=False, **{page.name: page.table})
    alice = Laptop("alice", tmp_path / "alice.db", config, clock, http)
    bob = Laptop("bob", tmp_path / "bob.db", config, clock, http)
    incident = alice.store.declare("Checkout API errors", "SEV-2", "alice", service="api").id
    await alice.round(incident)
    thread = alice.store.thread_for(incident)
    assert thread is not None and thread.permalink
    joined, _ = await bob.sync.join(parse_permalink(thread.permalink), thread.permalink)
    yield alice, bob, incident, joined.id
    alice.store.close()
    bob.store.close()


def ref_key(page: Page) -> str:
    return "report" if page.name == "betterstack" else "incident"


async def test_bobs_update_goes_to_the_status_page_incident_alice_created(
    paged_team: tuple[Laptop, Laptop, int, int], page: Page, clock: FakeClock
) -> None:
    alice, bob, incident, bobs = paged_team
    alice.publish(incident, "Investigating.")
    await alice.deliver()
    (created,) = page.incidents
    await rounds((alice, incident), (bob, bobs))
    assert bob.store.remote_ref(bobs, page.name, ref_key(page)) == str(created["id"])
    assert bob.store.deliveries(bobs) == []  # learning the id queued nothing
    clock.advance(minutes=1)
    bob.publish(bobs, "Fixed; watching.", Status.RESOLVED)
    await bob.deliver()
    assert len(page.incidents) == 1  # bob's update went to alice's incident
    assert page.shown() == "resolved"
    # Read again and again: the shared id is one entry, imported once.
    await rounds((alice, incident), (bob, bobs))
    shared = [e for e in bob.store.sync_entries(bobs) if e.meta.get("event") == "remote_ref"]
    assert len(shared) == 1 and shared[0].meta["value"] == str(created["id"])


async def test_two_laptops_that_each_created_one_converge_on_the_first(
    paged_team: tuple[Laptop, Laptop, int, int], page: Page, clock: FakeClock
) -> None:
    alice, bob, incident, bobs = paged_team
    alice.publish(incident, "Investigating (alice).")
    await alice.deliver()
    clock.advance(seconds=1)
    bob.publish(bobs, "Investigating (bob).")
    if page.name == "statuspage":  # Statuspage tags incidents with the gid: bob finds alice's
        await bob.deliver()
        assert len(page.incidents) == 1
        return
    await bob.deliver()  # Instatus and Better Stack cannot be searched for it: a second one
    first, second = page.incidents
    await rounds((alice, incident), (bob, bobs))
    for laptop, local in ((alice, incident), (bob, bobs)):
        assert laptop.store.remote_ref(local, page.name, ref_key(page)) == str(first["id"])
    notices = [e.text for e in bob.store.entries(bobs) if e.meta.get("event") == "ref-conflict"]
    assert notices and str(second["id"]) in notices[0]  # bob is told to close his by hand
    clock.advance(minutes=1)
    bob.publish(bobs, "Fixed.", Status.RESOLVED)
    await bob.deliver()
    assert len(first["updates"]) == 2  # from now on, the first one gets the updates


async def test_a_shared_id_unfit_for_a_url_or_not_derived_is_not_adopted(
    team: tuple[Laptop, Laptop, int, int],
) -> None:
    from dataclasses import replace

    from cockpit.store.syncing import shared_ref_uid

    alice, bob, incident, bobs = team
    gid = alice.store.incident(incident).gid
    alice.publish(incident, "Investigating.")
    await alice.deliver()
    shared = alice.store.sync_entries(incident)
    real = next(e for e in shared if e.meta.get("event") == "remote_ref")
    assert real.uid == shared_ref_uid(gid, "statuspage", "incident")
    forged = [
        replace(real, meta={**real.meta, "value": "../../pages/other/incidents"}),
        replace(real, meta={**real.meta, "value": "x" * 65}),
        replace(real, uid="ab" * 16),  # right shape, but not the uid every laptop derives
        replace(real, meta={**real.meta, "key": "other"}),
    ]
    for entry in forged:
        bob.store.import_entries(bobs, [entry], "file")
        assert bob.store.remote_ref(bobs, "statuspage", "incident") is None, entry


# ---- an older update delivered late never moves a status back -------------------------------


async def test_an_older_update_delivered_late_is_superseded_on_the_status_page(
    paged_team: tuple[Laptop, Laptop, int, int], page: Page, clock: FakeClock, slack: FakeSlack
) -> None:
    alice, bob, incident, bobs = paged_team
    older = alice.publish(incident, "Identified: a bad deploy.", Status.IDENTIFIED)
    await alice.round(incident)  # alice's status page delivery is held (she is offline)
    clock.advance(minutes=2)
    await bob.round(bobs)
    newer = bob.publish(bobs, "Resolved: rolled back.", Status.RESOLVED)
    await bob.deliver()
    assert page.shown() == "resolved"
    await rounds((bob, bobs), (alice, incident))
    await alice.deliver()  # back online: the older update goes out late
    assert page.shown() == "resolved"  # the newer status stands
    (held,) = [d for d in alice.store.deliveries(incident) if d.target == page.name]
    assert held.state == "superseded" and "bob" in (held.last_error or "")
    lines = [e for e in alice.store.entries(incident) if e.meta.get("event") == "superseded"]
    assert len(lines) == 1 and lines[0].meta["newer"] == newer
    # Slack still gets it, as history, without refreshing the headline to the older status.
    (reply,) = carriers(slack, older)
    assert reply["metadata"]["event_payload"]["part"] == "reply"
    (slack_delivery,) = [d for d in alice.store.deliveries(incident) if d.target == "slack"]
    assert slack_delivery.state == "sent" and "headline kept" in (slack_delivery.last_error or "")
    # The team learns why: the line is shared.
    await rounds((alice, incident), (bob, bobs))
    assert lines[0].uid in {e.uid for e in bob.store.sync_entries(bobs)}


async def test_an_older_update_sent_before_the_newer_one_exists_goes_out(
    paged_team: tuple[Laptop, Laptop, int, int], page: Page, clock: FakeClock
) -> None:
    alice, bob, incident, bobs = paged_team
    alice.publish(incident, "Identified: a bad deploy.", Status.IDENTIFIED)
    await alice.deliver()
    await rounds((alice, incident), (bob, bobs))
    clock.advance(minutes=2)
    bob.publish(bobs, "Resolved: rolled back.", Status.RESOLVED)
    await bob.deliver()
    assert page.shown() == "resolved"
    assert [d.state for d in alice.store.deliveries(incident)] == ["sent", "sent"]
    assert len(page.incidents) == 1


async def test_own_older_updates_still_go_out_in_order(
    paged_team: tuple[Laptop, Laptop, int, int], page: Page, clock: FakeClock
) -> None:
    alice, _, incident, _ = paged_team
    alice.publish(incident, "Identified.", Status.IDENTIFIED)
    clock.advance(minutes=1)
    alice.publish(incident, "Resolved.", Status.RESOLVED)
    await alice.deliver()
    assert {d.state for d in alice.store.deliveries(incident)} == {"sent"}
    assert page.shown() == "resolved"


# ---- one page per incident, resolved by whoever resolves ------------------------------------


@pytest.fixture
def pagerduty(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePagerDuty]:
    fake = FakePagerDuty(clock=clock)
    fake.start()
    for key, value in service_secrets_env(pagerduty=fake).items():
        monkeypatch.setenv(key, value)
    yield fake
    fake.stop()


async def paging_team(
    tmp_path: Path,
    clock: FakeClock,
    http: httpx.AsyncClient,
    make_config: Any,
    pagerduty: FakePagerDuty,
    severity: str,
) -> tuple[Laptop, Laptop, int, int]:
    config = make_config(pagerduty=pagerduty_table(pagerduty))
    alice = Laptop("alice", tmp_path / "alice.db", config, clock, http)
    bob = Laptop("bob", tmp_path / "bob.db", config, clock, http)
    incident = alice.store.declare("Payments failing", severity, "alice", service="pay").id
    await alice.round(incident)
    thread = alice.store.thread_for(incident)
    assert thread is not None and thread.permalink
    joined, _ = await bob.sync.join(parse_permalink(thread.permalink), thread.permalink)
    return alice, bob, incident, joined.id


async def test_bob_resolving_resolves_the_page_alice_sent(
    tmp_path: Path,
    clock: FakeClock,
    http: httpx.AsyncClient,
    make_config: Any,
    pagerduty: FakePagerDuty,
) -> None:
    alice, bob, incident, bobs = await paging_team(
        tmp_path, clock, http, make_config, pagerduty, "SEV-1"
    )
    await alice.deliver()
    (alert,) = pagerduty.alerts
    assert alert["dedup_key"] == alice.store.incident(incident).gid
    await rounds((alice, incident), (bob, bobs))
    assert bob.store.deliveries(bobs) == []  # the imported declaration paged nobody again
    clock.advance(minutes=5)
    bob.store.set_status(bobs, Status.RESOLVED, "bob")
    await bob.deliver()
    assert len(pagerduty.alerts) == 1 and alert["status"] == "resolved"


async def test_concurrent_raises_page_once_and_both_page_lines_reach_everyone(
    tmp_path: Path,
    clock: FakeClock,
    http: httpx.AsyncClient,
    make_config: Any,
    pagerduty: FakePagerDuty,
) -> None:
    alice, bob, incident, bobs = await paging_team(
        tmp_path, clock, http, make_config, pagerduty, "SEV-2"
    )
    alice.store.set_severity(incident, "SEV-1", "alice")
    bob.store.set_severity(bobs, "SEV-1", "bob")  # neither has seen the other's
    await alice.deliver()
    await bob.deliver()
    (alert,) = pagerduty.alerts  # the gid is the dedup key: one alert
    assert len(alert["events"]) == 2
    await rounds((alice, incident), (bob, bobs))
    # Each laptop's delivery #1 was a page: the line's uid comes from the delivery's own key,
    # so neither line hides the other.
    keys = {str(d.payload["key"]) for d in alice.store.deliveries(incident)} | {
        str(d.payload["key"]) for d in bob.store.deliveries(bobs)
    }
    assert len(keys) == 2
    for laptop, local in ((alice, incident), (bob, bobs)):
        lines = [e for e in laptop.store.entries(local) if e.meta.get("event") == "delivery"]
        assert {e.meta.get("key") for e in lines} == keys
        assert {e.text.split(" (")[0] for e in lines} == {"PagerDuty page sent"}


async def test_a_resolution_is_shared_although_the_incident_closed_here(
    team: tuple[Laptop, Laptop, int, int], clock: FakeClock
) -> None:
    alice, bob, incident, bobs = team
    alice.store.set_status(incident, Status.RESOLVED, "alice")
    # The background sync still takes it up: the resolution is not in the thread yet.
    assert shared_incidents(alice.store) == [incident]
    await rounds((alice, incident), (bob, bobs), times=1)
    assert bob.store.incident(bobs).status is Status.RESOLVED
    # Both keep reading it for a while: a late update, or why it was superseded, may follow.
    assert shared_incidents(alice.store) == [incident] and shared_incidents(bob.store) == [bobs]
    bob.store.append(bobs, Kind.NOTE, "checked the graphs after the rollback", "bob")
    clock.advance(hours=2)
    assert shared_incidents(alice.store) == []
    assert shared_incidents(bob.store) == [bobs]  # until bob's note is in the thread
    await rounds((bob, bobs), (alice, incident), times=1)
    assert shared_incidents(bob.store) == []


async def test_an_update_delivered_before_the_thread_exists_still_reaches_the_team(
    tmp_path: Path, clock: FakeClock, http: httpx.AsyncClient, make_config: Any, slack: FakeSlack
) -> None:
    config = make_config(with_statuspage=False)
    alice = Laptop("alice", tmp_path / "alice.db", config, clock, http)
    bob = Laptop("bob", tmp_path / "bob.db", config, clock, http)
    incident = alice.store.declare("Checkout API errors", "SEV-2", "alice").id
    uid = alice.publish(incident, "Investigating.")
    await alice.deliver()  # before any sync round: the reply cannot carry it into a team thread
    await alice.round(incident)
    thread = alice.store.thread_for(incident)
    assert thread is not None and thread.permalink
    joined, _ = await bob.sync.join(parse_permalink(thread.permalink), thread.permalink)
    assert uid in {e.uid for e in bob.store.sync_entries(joined.id)}
    alice.store.close()
    bob.store.close()
