"""Instatus, Better Stack, the generic webhook and PagerDuty against fakes on 127.0.0.1.

Every service gets the same five trials (success, a rate limit with Retry-After, a server
error then success, a permanent error shown in the service's words, and a retry after an
attempt that may have landed), plus what is particular to it. Waiting goes through a sleep
that moves the fake clock (`drain` from the Slack/Statuspage tests), so nothing really waits
but the deliberately short HTTP timeouts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cockpit.comms.events import hook_for
from cockpit.comms.outbox import DOUBT_KEY, state_text
from cockpit.comms.publish import preview, publish
from cockpit.config import Config, config_from_dict
from cockpit.domain import Incident, Kind, Status
from cockpit.store import Store
from tests.fakes import Drop, Hang, Reply
from tests.fakes.betterstack import FakeBetterstack
from tests.fakes.instatus import FakeInstatus
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.server import FakeServer
from tests.fakes.webhook import FakeWebhookReceiver
from tests.fakes.wiring import (
    BETTERSTACK_TOKEN_ENV,
    INSTATUS_KEY_ENV,
    PAGERDUTY_KEY_ENV,
    WEBHOOK_SECRET,
    WEBHOOK_SECRET_ENV,
    betterstack_table,
    instatus_table,
    pagerduty_table,
    service_secrets_env,
    webhook_table,
)
from tests.test_comms_delivery import drain

SERVICES = ("instatus", "betterstack", "webhook", "pagerduty")
ROUTE = {
    "instatus": "create",
    "betterstack": "create_report",
    "webhook": "receive",
    "pagerduty": "enqueue",
}
HTML_500 = Reply(
    500, "<html><body>Internal Server Error</body></html>", {"Content-Type": "text/html"}
)


@pytest.fixture
def fakes(clock: Any) -> Iterator[dict[str, Any]]:
    started: dict[str, FakeServer] = {
        "instatus": FakeInstatus(clock=clock),
        "betterstack": FakeBetterstack(clock=clock),
        "webhook": FakeWebhookReceiver(secret=WEBHOOK_SECRET, clock=clock),
        "pagerduty": FakePagerDuty(clock=clock),
    }
    for fake in started.values():
        fake.start()
    yield started
    for fake in started.values():
        fake.stop()


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch, fakes: dict[str, Any]) -> None:
    env = service_secrets_env(fakes["instatus"], fakes["betterstack"], fakes["pagerduty"])
    for name, value in env.items():
        monkeypatch.setenv(name, value)


TABLES = {
    "instatus": instatus_table,
    "betterstack": betterstack_table,
    "webhook": webhook_table,
    "pagerduty": pagerduty_table,
}


def config_for(fakes: dict[str, Any], *services: str, timeout: float = 0.5) -> Config:
    return config_from_dict({s: TABLES[s](fakes[s], timeout=timeout) for s in services})


def declare(store: Store, config: Config, severity: str = "SEV-1") -> Incident:
    """Declare the way the CLI and the app do: with the event hook installed."""
    store.events = hook_for(config)
    return store.declare(
        "Checkout API errors",
        severity,
        "alice",
        service="checkout",
        roles={"commander": "alice"},
    )


def first_delivery(service: str, store: Store, config: Config, clock: Any) -> Incident:
    """What queues the first delivery to each service: a published update for the status
    pages, the declaration itself for the webhook and the pager."""
    incident = declare(store, config)
    if service in ("instatus", "betterstack"):
        publish(store, config, incident.id, "We are investigating.", None, "alice", clock)
    return incident


def seen(service: str, fakes: dict[str, Any]) -> int:
    """What people see at the service: updates on the page, events received, alerts open."""
    fake = fakes[service]
    if service in ("instatus", "betterstack"):
        return len(fake.updates())
    if service == "webhook":
        return len(fake.events)
    return len(fake.alerts)


# ---- the same five trials for every service ---------------------------------------------

RATE_LIMITED = {
    "instatus": Reply(
        429,
        {"error": {"code": "rate_limited", "message": "Too many requests"}},
        {"Retry-After": "7"},
    ),
    "betterstack": Reply(429, {"errors": "Rate limit exceeded"}, {"Retry-After": "7"}),
    "webhook": Reply(429, "slow down", {"Retry-After": "7"}),
    "pagerduty": Reply(429, "429 - Request Limit Exceeded", {"Retry-After": "7"}),
}


@pytest.mark.parametrize("service", SERVICES)
async def test_success_delivers_once(store, clock, fakes, service):
    config = config_for(fakes, service)
    first_delivery(service, store, config, clock)
    run = await drain(store, config, clock)
    (delivery,) = store.deliveries()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("sent", 1, None)
    assert run.sleep is not None and run.sleep.calls == []
    assert seen(service, fakes) == 1


@pytest.mark.parametrize("service", SERVICES)
async def test_rate_limit_waits_for_retry_after(store, clock, fakes, service):
    config = config_for(fakes, service)
    fakes[service].script(ROUTE[service], RATE_LIMITED[service])
    first_delivery(service, store, config, clock)
    start = clock()
    run = await drain(store, config, clock)
    (delivery,) = store.deliveries()
    waiting = run.first(delivery.id, "retrying")
    assert waiting.next_attempt_at == start.replace(second=7)
    assert "rate limited" in (waiting.last_error or "")
    assert "asked to wait 7 s" in (waiting.last_error or "")
    assert run.sleep is not None and run.sleep.calls == [7.0]  # Retry-After, not backoff
    assert (delivery.state, delivery.attempts) == ("sent", 2)
    assert DOUBT_KEY not in delivery.payload  # a 429 did nothing: no check needed
    assert seen(service, fakes) == 1


@pytest.mark.parametrize("service", SERVICES)
async def test_server_error_then_success(store, clock, fakes, service):
    config = config_for(fakes, service)
    fakes[service].script(ROUTE[service], HTML_500)
    first_delivery(service, store, config, clock)
    run = await drain(store, config, clock)
    (delivery,) = store.deliveries()
    waiting = run.first(delivery.id, "retrying")
    assert "HTTP 500 (an HTML error page)" in (waiting.last_error or "")
    assert run.sleep is not None and run.sleep.calls == [1.0]  # backoff(1) with no jitter
    assert (delivery.state, delivery.attempts) == ("sent", 2)
    assert seen(service, fakes) == 1
    if service == "instatus":  # a 500 may have landed: it looked before creating again
        assert len(fakes[service].calls("list")) == 1
    if service == "betterstack":
        assert len(fakes[service].calls("list_reports")) == 1


@pytest.mark.parametrize(
    ("service", "variable", "value", "error"),
    [
        ("instatus", INSTATUS_KEY_ENV, "wrong-key", "Instatus: HTTP 403 forbidden: Not authorized"),
        (
            "betterstack",
            BETTERSTACK_TOKEN_ENV,
            "wrong-token",
            "Better Stack: HTTP 401 Invalid Team API Token",
        ),
        ("webhook", WEBHOOK_SECRET_ENV, "not-the-shared-secret", "Webhook: HTTP 401 bad signature"),
        (
            "pagerduty",
            PAGERDUTY_KEY_ENV,
            "0" * 32,
            "PagerDuty: HTTP 400 Event object is invalid: Invalid routing key",
        ),
        (
            "pagerduty",
            PAGERDUTY_KEY_ENV,
            "not-32-chars",
            "PagerDuty: HTTP 400 Event object is invalid: Length of 'routing_key' is "
            "incorrect (should be 32 characters)",
        ),
    ],
)
async def test_permanent_error_fails_at_once_in_the_services_words(
    store, clock, fakes, monkeypatch, service, variable, value, error
):
    monkeypatch.setenv(variable, value)
    config = config_for(fakes, service)
    first_delivery(service, store, config, clock)
    run = await drain(store, config, clock)
    (delivery,) = store.deliveries()
    assert (delivery.state, delivery.last_error, delivery.attempts) == ("failed", error, 1)
    assert state_text(delivery, clock()) == f"failed: {error}"
    assert run.sleep is not None and run.sleep.calls == []
    assert seen(service, fakes) == 0


AMBIGUOUS = [
    pytest.param(Hang(30, commit=True), id="timeout-after-commit"),
    pytest.param(Drop(commit=True), id="dropped-after-commit"),
    pytest.param(
        Reply(503, "<html>busy</html>", {"Content-Type": "text/html"}, commit=True),
        id="503-after-commit",
    ),
]


@pytest.mark.parametrize("action", AMBIGUOUS)
@pytest.mark.parametrize(
    ("service", "route"),
    [
        ("instatus", "create"),
        ("instatus", "add_update"),
        ("betterstack", "create_report"),
        ("betterstack", "add_update"),
    ],
)
async def test_status_page_retry_after_a_write_that_landed_does_not_duplicate(
    store, clock, fakes, service, route, action
):
    # Both can be read back (external-apis.md §4.1: GET incidents and one incident with its
    # updates; §4.2: the list endpoints paginate), and both take a time we choose.
    config = config_for(fakes, service, timeout=0.3)
    fake = fakes[service]
    fake.script(route, action)
    incident = first_delivery(service, store, config, clock)
    clock.advance(minutes=5)
    publish(store, config, incident.id, "Identified.", Status.IDENTIFIED, "alice", clock)
    run = await drain(store, config, clock)
    deliveries = store.deliveries()
    assert [d.state for d in deliveries] == ["sent", "sent"]
    assert any("retrying" in run.states(d.id) for d in deliveries)  # it really was retried
    assert [u["message"] for u in fake.updates()] == ["We are investigating.", "Identified."]
    created = fake.incidents if service == "instatus" else fake.reports
    assert len(created) == 1
    assert {d.remote_id for d in deliveries} == set(created)


async def test_pagerduty_retry_after_a_timeout_is_one_alert_by_its_dedup_key(store, clock, fakes):
    # The Events API cannot be read back (§5.1: write-only, routing key in the body), but
    # "events with the same key apply to the open alert": a repeated trigger is harmless.
    config = config_for(fakes, "pagerduty", timeout=0.3)
    fakes["pagerduty"].script("enqueue", Hang(30, commit=True))
    incident = first_delivery("pagerduty", store, config, clock)
    await drain(store, config, clock)
    (delivery,) = store.deliveries()
    assert (delivery.state, delivery.attempts) == ("sent", 2)
    (alert,) = fakes["pagerduty"].alerts
    assert alert["dedup_key"] == incident.gid
    assert [e["event_action"] for e in alert["events"]] == ["trigger", "trigger"]


async def test_webhook_is_at_least_once_a_repeat_has_the_same_id_body_and_signature(
    store, clock, fakes
):
    # A generic receiver offers nothing to check, so the webhook is documented at-least-once;
    # the repeat is byte-for-byte the same event, which a receiver drops by its id.
    config = config_for(fakes, "webhook", timeout=0.3)
    receiver = fakes["webhook"]
    receiver.script("receive", Hang(30, commit=True))
    first_delivery("webhook", store, config, clock)
    await drain(store, config, clock)
    (delivery,) = store.deliveries()
    assert (delivery.state, delivery.attempts) == ("sent", 2)
    one, two = receiver.received
    assert one.raw == two.raw
    assert one.headers["x-cockpit-signature"] == two.headers["x-cockpit-signature"]
    assert one.headers["x-cockpit-delivery"] == json.loads(one.raw)["id"]
    assert len(receiver.events) == 1


# ---- Instatus -------------------------------------------------------------------------------


async def test_instatus_creates_updates_and_resolves_with_components(store, clock, fakes):
    config = config_for(fakes, "instatus")
    fake = fakes["instatus"]
    incident = first_delivery("instatus", store, config, clock)
    clock.advance(minutes=10)
    publish(store, config, incident.id, "Found it.", Status.IDENTIFIED, "alice", clock)
    clock.advance(minutes=10)
    publish(store, config, incident.id, "Fixed.", Status.RESOLVED, "alice", clock)
    await drain(store, config, clock)
    assert [d.state for d in store.deliveries()] == ["sent"] * 3
    (page_incident,) = fake.incidents.values()
    create = fake.calls("create")[0]
    assert create.headers["authorization"] == f"Bearer {fake.api_key}"
    assert create.json["name"] == "Checkout API errors"
    assert create.json["statuses"] == [
        {"id": cid, "status": "MAJOROUTAGE"} for cid in fake.components
    ]
    for call in fake.calls("add_update"):  # Instatus requires both on every update
        assert call.json["components"] == list(fake.components)
        assert {s["id"] for s in call.json["statuses"]} == set(fake.components)
    assert [u["status"] for u in page_incident["updates"]] == [
        "INVESTIGATING",
        "IDENTIFIED",
        "RESOLVED",
    ]
    assert page_incident["status"] == "RESOLVED" and page_incident["resolved"]
    assert set(fake.components.values()) == {"OPERATIONAL"}
    assert store.remote_ref(incident.id, "instatus", "incident") == page_incident["id"]


async def test_instatus_error_shape_is_read_for_the_message(store, clock, fakes):
    config = config_from_dict(
        {"instatus": {**instatus_table(fakes["instatus"]), "component_ids": ["ckgone000000"]}}
    )
    first_delivery("instatus", store, config, clock)
    await drain(store, config, clock)
    (delivery,) = store.deliveries()
    assert delivery.last_error == "Instatus: HTTP 404 not_found: Component ckgone000000 not found"


# ---- Better Stack ---------------------------------------------------------------------------


@pytest.mark.parametrize("notify", [True, False])
async def test_betterstack_report_updates_resolution_and_explicit_notification(
    store, clock, fakes, notify
):
    fake = fakes["betterstack"]
    config = config_from_dict({"betterstack": betterstack_table(fake, notify=notify)})
    incident = first_delivery("betterstack", store, config, clock)
    clock.advance(minutes=10)
    publish(store, config, incident.id, "Found it.", Status.IDENTIFIED, "alice", clock)
    clock.advance(minutes=10)
    publish(store, config, incident.id, "Fixed.", Status.RESOLVED, "alice", clock)
    await drain(store, config, clock)
    assert [d.state for d in store.deliveries()] == ["sent"] * 3
    (report,) = fake.reports.values()
    assert report["title"] == "Checkout API errors"
    # The fake applies Better Stack's differing defaults (report: true, update: false) to
    # whatever is left out; cockpit leaves nothing out, so the configured choice holds.
    assert [u["notify_subscribers"] for u in report["updates"]] == [notify] * 3
    assert all("notify_subscribers" in c.json for c in fake.calls("create_report"))
    assert all("notify_subscribers" in c.json for c in fake.calls("add_update"))
    states = [{r["status"] for r in u["affected_resources"]} for u in report["updates"]]
    assert states == [{"downtime"}, {"downtime"}, {"resolved"}]
    assert fake.calls("create_report")[0].headers["authorization"] == f"Bearer {fake.token}"


def test_betterstack_needs_the_notification_choice_in_the_file(fakes):
    table = betterstack_table(fakes["betterstack"])
    del table["notify_subscribers"]
    with pytest.raises(Exception, match=r"betterstack\.notify_subscribers: missing; choose"):
        config_from_dict({"betterstack": table})


async def test_betterstack_check_pages_through_many_updates(store, clock, fakes):
    fake = fakes["betterstack"]
    fake.page_size = 2
    config = config_for(fakes, "betterstack", timeout=0.3)
    incident = first_delivery("betterstack", store, config, clock)
    await drain(store, config, clock)
    for n in range(5):
        clock.advance(minutes=1)
        publish(store, config, incident.id, f"Update {n}.", None, "alice", clock)
    await drain(store, config, clock)
    clock.advance(minutes=1)
    fake.script("add_update", Hang(30, commit=True))
    publish(store, config, incident.id, "The last one.", None, "alice", clock)
    await drain(store, config, clock)
    assert [u["message"] for u in fake.updates()][-1:] == ["The last one."]
    assert len(fake.updates()) == 7
    pages = fake.calls("list_updates")
    assert [p.query["page"] for p in pages] == ["1", "2", "3", "4"]


# ---- the webhook ----------------------------------------------------------------------------


async def test_webhook_event_for_declare_severity_status_update_and_resolve(store, clock, fakes):
    config = config_for(fakes, "webhook")
    incident = declare(store, config, "SEV-2")
    store.set_severity(incident.id, "SEV-1", "alice")
    store.set_status(incident.id, Status.IDENTIFIED, "alice")
    publish(store, config, incident.id, "We rolled back.", Status.MONITORING, "alice", clock)
    store.set_status(incident.id, Status.RESOLVED, "alice")
    await drain(store, config, clock)
    receiver = fakes["webhook"]
    types = [e["type"] for e in receiver.events]
    assert types == [
        "incident.declared",
        "incident.severity_changed",
        "incident.status_changed",
        "incident.status_changed",
        "incident.update_published",
        "incident.resolved",
    ]
    declared, severity, _, monitoring, update, resolved = receiver.events
    assert {e["schema"] for e in receiver.events} == {"cockpit.event.v1"}
    assert len({e["id"] for e in receiver.events}) == 6
    assert declared["incident"]["id"] == incident.ref
    assert declared["incident"]["severity"] == "SEV-2"
    assert declared["incident"]["roles"] == {"commander": "alice"}
    assert severity["change"] == {"field": "severity", "from": "SEV-2", "to": "SEV-1"}
    assert severity["incident"]["severity"] == "SEV-1"
    assert monitoring["change"] == {"field": "status", "from": "identified", "to": "monitoring"}
    assert update["update"] == {
        "text": "We rolled back.",
        "phase": "acknowledge",
        "status": "monitoring",
    }
    assert resolved["change"]["to"] == "resolved" and resolved["incident"]["resolved_at"]
    assert [r.headers["x-cockpit-event"] for r in receiver.received] == types
    assert {d.state for d in store.deliveries()} == {"sent"}


async def test_webhook_signature_is_what_a_receiver_computes_over_the_raw_body(store, clock, fakes):
    config = config_for(fakes, "webhook")
    first_delivery("webhook", store, config, clock)
    await drain(store, config, clock)
    (request,) = fakes["webhook"].received
    header = request.headers["x-cockpit-signature"]
    # The receiver's side, written out: HMAC-SHA256 with the shared secret over the bytes
    # exactly as they arrived, hex, after "sha256=".
    expected = hmac.new(WEBHOOK_SECRET.encode(), request.raw, hashlib.sha256).hexdigest()
    assert header == f"sha256={expected}"
    assert hmac.compare_digest(header.removeprefix("sha256="), expected)
    tampered = request.raw.replace(b"SEV-1", b"SEV-3")
    assert tampered != request.raw
    forged = hmac.new(WEBHOOK_SECRET.encode(), tampered, hashlib.sha256).hexdigest()
    assert forged != expected
    assert request.headers["content-type"] == "application/json; charset=utf-8"


async def test_webhook_without_a_secret_sends_no_signature(store, clock, fakes):
    receiver = fakes["webhook"]
    receiver.secret = ""
    config = config_from_dict({"webhook": webhook_table(receiver, signed=False)})
    first_delivery("webhook", store, config, clock)
    await drain(store, config, clock)
    (request,) = receiver.received
    assert "x-cockpit-signature" not in request.headers
    assert store.deliveries()[0].state == "sent"


# ---- PagerDuty ------------------------------------------------------------------------------


def pages(fakes: dict[str, Any]) -> list[tuple[str, str]]:
    return [(a["dedup_key"], a["status"]) for a in fakes["pagerduty"].alerts]


async def test_pagerduty_declare_at_paging_severity_triggers_and_resolving_resolves(
    store, clock, fakes
):
    config = config_for(fakes, "pagerduty")
    incident = declare(store, config, "SEV-1")
    await drain(store, config, clock)
    assert pages(fakes) == [(incident.gid, "triggered")]
    (alert,) = fakes["pagerduty"].alerts
    event = alert["events"][0]
    assert event["routing_key"] == fakes["pagerduty"].routing_key
    assert event["payload"]["summary"] == "[SEV-1] INC-1 Checkout API errors (checkout)"
    assert event["payload"]["severity"] == "critical"
    assert event["payload"]["source"] == "cockpit"
    store.set_status(incident.id, Status.RESOLVED, "alice")
    await drain(store, config, clock)
    assert pages(fakes) == [(incident.gid, "resolved")]
    assert [(d.action, d.state) for d in store.deliveries()] == [
        ("trigger", "sent"),
        ("resolve", "sent"),
    ]
    # The routing key is a secret: it is added when sending, never stored.
    assert all("routing_key" not in d.payload for d in store.deliveries())


async def test_pagerduty_raising_severity_into_paging_range_triggers_then(store, clock, fakes):
    config = config_for(fakes, "pagerduty")
    incident = declare(store, config, "SEV-3")
    store.set_severity(incident.id, "SEV-2", "alice")
    assert store.deliveries() == []  # not paging yet
    store.set_severity(incident.id, "SEV-1", "alice")
    store.set_severity(incident.id, "SEV-2", "alice")  # lowering keeps the alert open
    (trigger,) = store.deliveries()
    assert trigger.entry_id == store.find_entry(incident.id, Kind.SEVERITY, {"to": "SEV-1"}).id
    assert trigger.payload["payload"]["custom_details"]["reason"] == (
        "severity raised from SEV-2 to SEV-1"
    )
    await drain(store, config, clock)
    assert pages(fakes) == [(incident.gid, "triggered")]


async def test_pagerduty_never_paged_means_nothing_to_resolve(store, clock, fakes):
    config = config_for(fakes, "pagerduty")
    incident = declare(store, config, "SEV-2")
    store.set_status(incident.id, Status.RESOLVED, "alice")
    assert store.deliveries() == []


async def test_pagerduty_reopening_at_a_paging_severity_pages_again(store, clock, fakes):
    config = config_for(fakes, "pagerduty")
    incident = declare(store, config, "SEV-1")
    store.set_status(incident.id, Status.RESOLVED, "alice")
    await drain(store, config, clock)
    store.set_status(incident.id, Status.INVESTIGATING, "alice")
    await drain(store, config, clock)
    assert pages(fakes) == [(incident.gid, "resolved"), (incident.gid, "triggered")]


async def test_pagerduty_page_and_its_outcome_are_on_the_timeline(store, clock, fakes, monkeypatch):
    config = config_for(fakes, "pagerduty")
    incident = declare(store, config, "SEV-1")
    await drain(store, config, clock)
    store.set_status(incident.id, Status.RESOLVED, "alice")
    monkeypatch.setenv(PAGERDUTY_KEY_ENV, "not-32-chars")
    await drain(store, config, clock)
    external = store.entries(incident.id, kinds=[Kind.EXTERNAL])
    assert [e.text for e in external] == [
        f"PagerDuty page sent (dedup key {incident.gid}): [SEV-1] INC-1 Checkout API errors "
        "(checkout)",
        "PagerDuty resolve failed: PagerDuty: HTTP 400 Event object is invalid: Length of "
        "'routing_key' is incorrect (should be 32 characters); page people by hand",
    ]
    assert [e.author for e in external] == ["pagerduty", "pagerduty"]
    assert [e.meta["state"] for e in external] == ["sent", "failed"]


async def test_pagerduty_rate_limit_without_retry_after_waits_30_seconds(store, clock, fakes):
    config = config_for(fakes, "pagerduty")
    fakes["pagerduty"].script("enqueue", Reply(429, "429 - Request Limit Exceeded"))
    declare(store, config, "SEV-1")
    run = await drain(store, config, clock)
    assert run.sleep is not None and run.sleep.calls == [30.0]
    assert store.deliveries()[0].state == "sent"


def test_pagerduty_page_severities_are_checked_against_the_taxonomy(fakes):
    table = pagerduty_table(fakes["pagerduty"], severities=("SEV-1", "SEV-9"))
    with pytest.raises(
        Exception, match=r"pagerduty\.page_severities\[1\]: unknown severity 'SEV-9'"
    ):
        config_from_dict({"pagerduty": table})


# ---- incident events are written with the change ------------------------------------------


async def test_event_rows_are_written_inside_the_changes_transaction(store, clock, fakes, db_path):
    config = config_for(fakes, "webhook", "pagerduty")
    real = hook_for(config)
    assert real is not None
    seen_from_outside: list[int] = []

    def hook(event: Any) -> Any:
        other = sqlite3.connect(db_path)
        seen_from_outside.append(other.execute("SELECT count(*) FROM incidents").fetchone()[0])
        other.close()
        return real(event)

    store.events = hook
    incident = store.declare("Checkout API errors", "SEV-1", "alice")
    assert seen_from_outside == [0]  # the hook ran before the declaration was committed
    declared = store.find_entry(incident.id, Kind.SYSTEM, {"event": "declared"})
    assert [(d.target, d.action, d.entry_id) for d in store.deliveries()] == [
        ("webhook", "declared", declared.id),
        ("pagerduty", "trigger", declared.id),
    ]


async def test_publishing_a_resolution_queues_its_events_with_the_update(store, clock, fakes):
    config = config_for(fakes, "webhook", "pagerduty")
    incident = declare(store, config, "SEV-1")
    entry = publish(store, config, incident.id, "All fixed.", Status.RESOLVED, "alice", clock)
    status_entry = store.find_entry(incident.id, Kind.STATUS, {"to": "resolved"})
    assert [(d.target, d.action, d.entry_id) for d in store.deliveries()][2:] == [
        ("webhook", "resolved", status_entry.id),
        ("pagerduty", "resolve", status_entry.id),
        ("webhook", "resolution", entry.id),  # no update goes to the pager
    ]


def test_a_failing_hook_still_declares_and_the_timeline_says_so(store):
    def broken(event: Any) -> Any:
        raise KeyError("oops")

    store.events = broken
    incident = store.declare("Checkout API errors", "SEV-1", "alice")
    assert store.incident(incident.id).title == "Checkout API errors"
    assert store.deliveries() == []
    (note,) = [e for e in store.entries(incident.id) if e.meta.get("event") == "hook"]
    assert "could not queue pages or webhook events" in note.text
    assert "page people by hand" in note.text


def test_no_hook_without_a_target_that_takes_events(store, fakes):
    assert hook_for(config_for(fakes, "instatus", "betterstack")) is None
    hook = hook_for(config_for(fakes, "webhook"))
    assert hook is not None
    store.events = hook
    incident = store.declare("Checkout API errors", "SEV-1", "alice")
    assert [(d.target, d.action) for d in store.deliveries(incident.id)] == [
        ("webhook", "declared")
    ]


# ---- previews and probes ------------------------------------------------------------------


def test_preview_covers_every_new_target(store, clock, fakes):
    config = config_for(fakes, *SERVICES)
    incident = declare(store, config, "SEV-1")
    shown = preview(store, config, incident.id, "We are on it.", None, clock)
    assert [p.target for p in shown] == ["instatus", "betterstack", "webhook"]
    assert shown[0].heading.startswith(
        "Instatus · new incident “Checkout API errors” (INVESTIGATING)"
    )
    assert "components → MAJOROUTAGE" in shown[0].heading
    assert shown[1].heading.startswith("Better Stack · new status report")
    assert "subscribers notified" in shown[1].heading
    assert shown[2].heading == "Webhook · incident.update_published event, signed"
    assert {p.text for p in shown} == {"We are on it."}
    # Resolving also resolves the page and sends the webhook its resolved event.
    shown = preview(store, config, incident.id, "Fixed.", Status.RESOLVED, clock)
    assert [p.target for p in shown] == [
        "webhook",
        "pagerduty",
        "instatus",
        "betterstack",
        "webhook",
    ]
    assert shown[0].heading == "Webhook · incident.resolved event, signed"
    assert shown[1].heading == f"PagerDuty · resolve the alert {incident.gid}"
    assert shown[2].heading.startswith("Instatus · new incident")
    assert len(store.deliveries()) == 2  # a preview queues nothing


async def test_probes_make_a_harmless_authenticated_call(fakes, monkeypatch):
    import httpx

    from cockpit.comms.target import Permanent, Sent
    from cockpit.comms.targets import configured_targets

    config = config_for(fakes, *SERVICES)
    targets = configured_targets(config)
    async with httpx.AsyncClient() as http:
        ok = {name: await t.probe(http) for name, t in targets.items()}
        assert ok["instatus"] == Sent(note="page ckfakepage0001: 2 components listed")
        assert ok["betterstack"] == Sent(note="status page 123456 (Fake Co)")
        assert ok["webhook"] is None and ok["pagerduty"] is None
        assert fakes["webhook"].received == [] and fakes["pagerduty"].requests == []
        monkeypatch.setenv(INSTATUS_KEY_ENV, "wrong-key")
        monkeypatch.setenv(BETTERSTACK_TOKEN_ENV, "wrong-token")
        monkeypatch.setenv(PAGERDUTY_KEY_ENV, "not-32-chars")
        assert await targets["instatus"].probe(http) == Permanent(
            "Instatus: HTTP 403 forbidden: Not authorized"
        )
        assert await targets["betterstack"].probe(http) == Permanent(
            "Better Stack: HTTP 401 Invalid Team API Token"
        )
        bad = await targets["pagerduty"].probe(http)
        assert (
            isinstance(bad, Permanent) and "12 characters, an integration key has 32" in bad.error
        )
        missing = configured_targets(
            config_from_dict(
                {"instatus": {**instatus_table(fakes["instatus"]), "component_ids": ["ckgone0"]}}
            )
        )["instatus"]
        monkeypatch.setenv(INSTATUS_KEY_ENV, fakes["instatus"].api_key)
        assert await missing.probe(http) == Permanent(
            "Instatus: component ckgone0 is not on page ckfakepage0001 (instatus.component_ids)"
        )


# ---- configuration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ({"instatus": {"page_id": "p1", "api_key_env": "K"}}, r"instatus\.component_ids: missing"),
        (
            {
                "instatus": {
                    "page_id": "p1",
                    "api_key_env": "K",
                    "component_ids": ["c1"],
                    "component_status": {"SEV-1": "major_outage"},
                }
            },
            r"instatus\.component_status\.SEV-1: expected one of OPERATIONAL",
        ),
        (
            {
                "betterstack": {
                    "status_page_id": "1",
                    "notify_subscribers": True,
                    "resource_ids": ["2"],
                }
            },
            r"betterstack\.api_key_env: missing",
        ),
        ({"webhook": {}}, r"webhook\.url: missing"),
        ({"webhook": {"url": "ftp://x"}}, r"webhook\.url: expected an http"),
        (
            {"webhook": {"url": "https://x", "secret_env": "a secret!"}},
            r"webhook\.secret_env: expected the name",
        ),
        ({"pagerduty": {}}, r"pagerduty\.routing_key_env: missing"),
        ({"pagerduty": {"routing_key_env": "K", "page_severities": []}}, r"page_severities: empty"),
    ],
)
def test_configuration_mistakes_name_the_key(tables, message):
    with pytest.raises(Exception, match=message):
        config_from_dict(tables)


README = Path(__file__).resolve().parent.parent / "README.md"


async def test_readme_event_example_has_the_fields_events_carry(store, clock, fakes):
    readme = README.read_text()
    block = readme.split("### The webhook", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    example = json.loads(block)
    config = config_for(fakes, "webhook")
    incident = declare(store, config, "SEV-2")
    store.set_severity(incident.id, "SEV-1", "alice")
    await drain(store, config, clock)
    sent = fakes["webhook"].events[1]
    assert sent["type"] == example["type"]
    assert set(sent) == set(example)
    assert set(sent["incident"]) == set(example["incident"])
    assert set(sent["change"]) == set(example["change"])
