"""Delivering status updates to fake Slack and Statuspage servers over real HTTP (127.0.0.1).

Waiting for Retry-After and backoff goes through an injected sleep that moves the fake
clock, so nothing here really waits except for the deliberately short HTTP timeouts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cockpit.comms.outbox import DOUBT_KEY, OutboxError, retry, undelivered
from cockpit.comms.publish import publish
from cockpit.comms.worker import DeliveryWorker
from cockpit.config import Config, config_from_dict
from cockpit.domain import Incident, Status
from cockpit.store import Delivery, Store
from tests.fakes import Drop, FakeSlack, FakeStatuspage, Hang, Pass, Reply, refused_url
from tests.fakes.wiring import (
    SLACK_TOKEN_ENV,
    SLACK_WEBHOOK_ENV,
    STATUSPAGE_KEY_ENV,
    FakeSleep,
    secrets_env,
    slack_table,
    statuspage_table,
    wired_config,
)

MODES = ("webhook", "bot", "statuspage")
HTML_500 = Reply(
    500, "<html><body>Server Error | Slack</body></html>", {"Content-Type": "text/html"}
)


@pytest.fixture
def slack(clock: Any) -> Iterator[FakeSlack]:
    fake = FakeSlack(clock=clock)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def statuspage(clock: Any) -> Iterator[FakeStatuspage]:
    fake = FakeStatuspage(clock=clock)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch, slack: FakeSlack, statuspage: FakeStatuspage) -> None:
    for name, value in secrets_env(slack, statuspage).items():
        monkeypatch.setenv(name, value)


def config_for(mode: str, slack: FakeSlack, statuspage: FakeStatuspage, **kw: Any) -> Config:
    if mode == "statuspage":
        return wired_config(statuspage=statuspage, **kw)
    return wired_config(slack, mode=mode, **kw)


def declare(store: Store) -> Incident:
    return store.declare(
        "Checkout API errors",
        "SEV-1",
        "alice",
        service="checkout",
        roles={"commander": "alice"},
    )


class Run:
    """One drain of the outbox: what changed, when (real time), and what was slept."""

    def __init__(self) -> None:
        self.events: list[tuple[float, Delivery]] = []
        self.sleep: FakeSleep | None = None
        self.started = 0.0

    def states(self, delivery_id: int) -> list[str]:
        return [d.state for _, d in self.events if d.id == delivery_id]

    def first(self, delivery_id: int, state: str) -> Delivery:
        return next(d for _, d in self.events if d.id == delivery_id and d.state == state)

    def at(self, delivery_id: int, state: str) -> float:
        return next(t for t, d in self.events if d.id == delivery_id and d.state == state)


async def drain(store: Store, config: Config, clock: Any, budget: float = 3600.0) -> Run:
    run = Run()
    run.sleep = FakeSleep(clock)
    run.started = time.monotonic()
    worker = DeliveryWorker(
        store,
        config,
        clock=clock,
        sleep=run.sleep,
        jitter=lambda: 0.0,
        on_change=lambda d: run.events.append((time.monotonic() - run.started, d)),
    )
    await worker.run(until_idle=True, budget=budget)
    return run


def posts(mode: str, slack: FakeSlack, statuspage: FakeStatuspage) -> int:
    """How many things customers or the channel would see."""
    if mode == "webhook":
        return len(slack.webhook_messages)
    if mode == "bot":  # thread replies; the headline is not an update
        return sum(
            m.get("metadata", {}).get("event_payload", {}).get("part") == "reply"
            for m in slack.messages["C0INCIDENT"]
        )
    return sum(len(i["incident_updates"]) for i in statuspage.incidents.values())


ROUTE = {"webhook": "webhook", "bot": "chat.postMessage", "statuspage": "create"}


# ---- success paths ----------------------------------------------------------------------


async def test_webhook_mode_posts_one_block_kit_message_per_update(store, clock, slack, statuspage):
    config = config_for("webhook", slack, statuspage)
    incident = declare(store)
    publish(store, config, incident.id, "We are investigating.", None, "alice", clock)
    publish(store, config, incident.id, "All fixed.", Status.RESOLVED, "alice", clock)
    await drain(store, config, clock)
    assert [d.state for d in store.deliveries()] == ["sent", "sent"]
    first, last = slack.webhook_messages
    assert first["blocks"][0]["text"]["text"].startswith("*SEV-1 · INC-1 · Checkout API errors*")
    assert "We are investigating." in first["blocks"][1]["text"]["text"]
    assert "We are investigating." in first["text"]  # plain-text fallback for notifications
    assert "Resolved · status: *resolved*" in last["blocks"][0]["text"]["text"]
    request = slack.calls("webhook")[0]
    assert request.headers["content-type"] == "application/json; charset=utf-8"


async def test_bot_mode_root_message_thread_replies_broadcast_and_chat_update(
    store, clock, slack, statuspage
):
    config = config_for("bot", slack, statuspage)
    incident = declare(store)
    publish(store, config, incident.id, "We are investigating.", None, "alice", clock)
    store.assign(incident.id, "commander", "carol", "alice")
    publish(store, config, incident.id, "Rolled back.", Status.MONITORING, "carol", clock)
    publish(store, config, incident.id, "Resolved for good.", Status.RESOLVED, "carol", clock)
    await drain(store, config, clock)

    deliveries = store.deliveries()
    assert [d.state for d in deliveries] == ["sent"] * 3
    (root,) = slack.roots()
    replies = slack.replies(root["ts"])
    assert [r["blocks"][1]["text"]["text"] for r in replies] == [
        "We are investigating.",
        "Rolled back.",
        "Resolved for good.",
    ]
    assert [r.get("reply_broadcast", False) for r in replies] == [False, False, True]
    # Every message carries its delivery's key, so a retry can find it.
    keys = [d.payload["key"] for d in deliveries]
    assert [r["metadata"]["event_payload"]["delivery"] for r in replies] == keys
    assert root["metadata"]["event_payload"] == {
        "delivery": keys[0],
        "part": "root",
        "incident": "INC-1",
    }
    # The root was kept current: severity, status and the new commander.
    assert len(slack.updates) == 2
    fields = [f["text"] for f in root["blocks"][0]["fields"]]
    assert "*Status*\nresolved" in fields and "*Commander*\ncarol" in fields
    assert "Resolved for good." in root["blocks"][1]["text"]["text"]
    assert store.remote_ref(incident.id, "slack", "root_ts:C0INCIDENT") == root["ts"]
    assert [d.remote_id for d in deliveries] == [r["ts"] for r in replies]
    assert all("warning" not in str(r) for r in slack.calls("chat.postMessage"))


async def test_statuspage_create_update_resolve_with_components(store, clock, slack, statuspage):
    config = config_for("statuspage", slack, statuspage)
    incident = declare(store)
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    publish(store, config, incident.id, "Found it.", Status.IDENTIFIED, "alice", clock)
    creation = statuspage.calls("create")
    await drain(store, config, clock)
    creation = statuspage.calls("create")
    assert len(creation) == 1
    sent = creation[0].json["incident"]
    assert sent["name"] == "Checkout API errors"
    assert sent["impact_override"] == "critical"
    assert sent["components"] == {"cmpapi000001": "major_outage", "cmpweb000002": "major_outage"}
    assert creation[0].headers["authorization"] == f"OAuth {statuspage.api_key}"
    (page_incident,) = statuspage.incidents.values()
    assert page_incident["status"] == "identified"

    publish(store, config, incident.id, "Fixed.", Status.RESOLVED, "alice", clock)
    await drain(store, config, clock)
    assert page_incident["status"] == "resolved"
    assert {c["status"] for c in page_incident["components"]} == {"operational"}
    assert [u["body"] for u in reversed(page_incident["incident_updates"])] == [
        "Investigating.",
        "Found it.",
        "Fixed.",
    ]
    assert {d.remote_id for d in store.deliveries()} == {page_incident["id"]}


# ---- rate limits and transient failures ---------------------------------------------------

RATE_LIMITED = {
    "webhook": Reply(429, "rate_limited", {"Retry-After": "7"}),
    "bot": Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"}),
    "statuspage": Reply(420, {"message": "Rate limit exceeded"}, {"Retry-After": "7"}),
}


@pytest.mark.parametrize("mode", [*MODES, "statuspage-429"])
async def test_rate_limit_waits_for_retry_after(store, clock, slack, statuspage, mode):
    base = mode.split("-")[0]
    reply = RATE_LIMITED[base]
    if mode == "statuspage-429":
        reply = Reply(429, {"message": "Too many requests"}, {"Retry-After": "7"})
    config = config_for(base, slack, statuspage)
    incident = declare(store)
    (fake := statuspage if base == "statuspage" else slack).script(ROUTE[base], reply)
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    start = clock()
    run = await drain(store, config, clock)
    (delivery,) = store.deliveries()
    waiting = run.first(delivery.id, "retrying")
    assert waiting.next_attempt_at == start.replace(second=7)
    assert "rate limited" in (waiting.last_error or "")
    assert "asked to wait 7 s" in (waiting.last_error or "")
    assert run.sleep is not None and run.sleep.calls == [7.0]  # Retry-After, not backoff
    assert delivery.state == "sent" and delivery.attempts == 2
    assert posts(base, slack, statuspage) == 1
    assert DOUBT_KEY not in delivery.payload
    del fake


@pytest.mark.parametrize("mode", MODES)
async def test_server_error_then_success_backs_off_and_does_not_duplicate(
    store, clock, slack, statuspage, mode
):
    config = config_for(mode, slack, statuspage)
    incident = declare(store)
    fake = statuspage if mode == "statuspage" else slack
    fake.script(ROUTE[mode], HTML_500)
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    run = await drain(store, config, clock)
    (delivery,) = store.deliveries()
    assert delivery.state == "sent" and delivery.attempts == 2
    waiting = run.first(delivery.id, "retrying")
    assert "HTTP 500 (an HTML error page)" in (waiting.last_error or "")
    assert run.sleep is not None and run.sleep.calls == [1.0]  # backoff(1) with no jitter
    assert posts(mode, slack, statuspage) == 1
    if mode == "bot":  # a 500 may have landed: it looked before posting again
        assert len(slack.calls("conversations.history")) == 1
    if mode == "statuspage":
        assert len(statuspage.calls("unresolved")) == 1


async def test_backoff_grows_while_a_service_keeps_failing(store, clock, slack, statuspage):
    config = config_for("bot", slack, statuspage)
    incident = declare(store)
    slack.script("chat.postMessage", *[HTML_500] * 5)
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    run = await drain(store, config, clock)
    assert run.sleep is not None and run.sleep.calls == [1.0, 2.0, 4.0, 8.0, 16.0]
    (delivery,) = store.deliveries()
    assert delivery.state == "sent" and len(slack.messages["C0INCIDENT"]) == 2


@pytest.mark.parametrize("mode", MODES)
async def test_a_hang_longer_than_the_timeout_is_cut_short_and_retried(
    store, clock, slack, statuspage, mode
):
    config = config_for(mode, slack, statuspage, timeout=0.3)
    incident = declare(store)
    fake = statuspage if mode == "statuspage" else slack
    fake.script(ROUTE[mode], Hang(30))
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    run = await drain(store, config, clock)
    assert not fake.hang_over.is_set()  # done while the 30 s hang still held its request
    (delivery,) = store.deliveries()
    waiting = run.first(delivery.id, "retrying")
    assert "no answer within 0.3 s" in (waiting.last_error or "")
    assert delivery.state == "sent"
    assert posts(mode, slack, statuspage) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_connection_refused_keeps_retrying_with_backoff(
    store, clock, slack, statuspage, mode, monkeypatch
):
    dead = refused_url()
    if mode == "webhook":
        monkeypatch.setenv(SLACK_WEBHOOK_ENV, dead + "/services/T/B/x")
        config = config_for(mode, slack, statuspage)
    elif mode == "bot":
        config = config_from_dict({"slack": {**slack_table(slack, "bot"), "api_url": dead}})
    else:
        config = config_from_dict(
            {"statuspage": {**statuspage_table(statuspage), "api_url": dead + "/v1"}}
        )
    incident = declare(store)
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    run = await drain(store, config, clock, budget=60)
    (delivery,) = store.deliveries()
    assert delivery.state == "retrying"
    assert "could not connect" in (delivery.last_error or "")
    assert run.sleep is not None and run.sleep.calls[:4] == [1.0, 2.0, 4.0, 8.0]
    assert delivery.attempts >= 5
    assert DOUBT_KEY not in delivery.payload  # refused: nothing can have landed


# ---- permanent errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("webhook", "Slack webhook: HTTP 403 invalid_token"),
        ("bot", "Slack chat.postMessage: invalid_auth"),
        ("statuspage", "Statuspage: HTTP 401 Could not authenticate"),
    ],
)
async def test_bad_credentials_fail_at_once_with_the_services_error(
    store, clock, slack, statuspage, mode, error, monkeypatch
):
    monkeypatch.setenv(SLACK_TOKEN_ENV, "xoxb-wrong-token")
    monkeypatch.setenv(STATUSPAGE_KEY_ENV, "wrong-key")
    slack.script("webhook", Reply(403, "invalid_token"))
    config = config_for(mode, slack, statuspage)
    incident = declare(store)
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    run = await drain(store, config, clock)
    (delivery,) = store.deliveries()
    assert delivery.state == "failed"
    assert delivery.last_error == error
    assert delivery.attempts == 1
    assert run.sleep is not None and run.sleep.calls == []
    assert posts(mode, slack, statuspage) == 0


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("webhook", "Slack webhook: HTTP 404 channel_not_found"),
        ("bot", "Slack chat.postMessage: channel_not_found"),
        ("statuspage", "Statuspage: HTTP 404 Page not found"),
    ],
)
async def test_unknown_channel_or_page_fails_at_once_with_the_services_error(
    store, clock, slack, statuspage, mode, error
):
    slack.script("webhook", Reply(404, "channel_not_found"))
    if mode == "bot":
        config = config_from_dict({"slack": {**slack_table(slack, "bot"), "channel": "C0GONE"}})
    elif mode == "statuspage":
        config = config_from_dict(
            {"statuspage": {**statuspage_table(statuspage), "page_id": "nosuchpage"}}
        )
    else:
        config = config_for(mode, slack, statuspage)
    incident = declare(store)
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    await drain(store, config, clock)
    (delivery,) = store.deliveries()
    assert (delivery.state, delivery.last_error, delivery.attempts) == ("failed", error, 1)


async def test_missing_secret_leaves_the_delivery_queued_for_a_process_that_has_it(
    store, clock, slack, statuspage, monkeypatch
):
    monkeypatch.delenv(SLACK_TOKEN_ENV)
    config = config_for("bot", slack, statuspage)
    incident = declare(store)
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    await drain(store, config, clock)
    (delivery,) = store.deliveries()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("queued", 0, None)
    assert slack.requests == []
    monkeypatch.setenv(SLACK_TOKEN_ENV, slack.token)  # a cockpit started with it
    await drain(store, config, clock)
    assert store.delivery(delivery.id).state == "sent"


# ---- no duplicates after an attempt that may have landed ----------------------------------


@pytest.mark.parametrize(
    "script",
    [
        pytest.param([Hang(30, commit=True)], id="root-post-timeout-after-commit"),
        pytest.param([Pass(), Hang(30, commit=True)], id="reply-timeout-after-commit"),
        pytest.param(
            [Pass(), Reply(200, {"ok": False, "error": "internal_error"}, commit=True)],
            id="reply-internal-error-after-commit",
        ),
        pytest.param([Drop(commit=True)], id="root-connection-dropped-after-commit"),
        pytest.param([Pass(), Pass(), Hang(30, commit=True)], id="second-update-timeout"),
    ],
)
async def test_slack_bot_retry_after_a_committed_post_does_not_duplicate(
    store, clock, slack, statuspage, script
):
    config = config_for("bot", slack, statuspage, timeout=0.3)
    incident = declare(store)
    slack.script("chat.postMessage", *script)
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    publish(store, config, incident.id, "Identified.", Status.IDENTIFIED, "alice", clock)
    run = await drain(store, config, clock)
    deliveries = store.deliveries()
    assert [d.state for d in deliveries] == ["sent", "sent"]
    assert any(d.attempts == 2 for d in deliveries)  # one of them really was retried
    assert any("retrying" in run.states(d.id) for d in deliveries)
    (root,) = slack.roots()
    replies = slack.replies(root["ts"])
    keys = [r["metadata"]["event_payload"]["delivery"] for r in replies]
    assert keys == [d.payload["key"] for d in deliveries]  # each exactly once, in order
    assert [d.remote_id for d in deliveries] == [r["ts"] for r in replies]


async def test_slack_bot_headline_refresh_timeout_does_not_repost_the_reply(
    store, clock, slack, statuspage
):
    config = config_for("bot", slack, statuspage, timeout=0.3)
    incident = declare(store)
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    await drain(store, config, clock)
    slack.script("chat.update", Hang(30, commit=True))
    publish(store, config, incident.id, "Identified.", Status.IDENTIFIED, "alice", clock)
    await drain(store, config, clock)
    (root,) = slack.roots()
    assert len(slack.replies(root["ts"])) == 2
    assert len(slack.calls("chat.update")) == 2  # the refresh alone was repeated
    assert store.deliveries()[1].state == "sent"


async def test_slack_bot_headline_that_cannot_be_updated_still_counts_as_sent(
    store, clock, slack, statuspage
):
    config = config_for("bot", slack, statuspage)
    incident = declare(store)
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    slack.script("chat.update", Reply(200, {"ok": False, "error": "cant_update_message"}))
    publish(store, config, incident.id, "Identified.", Status.IDENTIFIED, "alice", clock)
    await drain(store, config, clock)
    second = store.deliveries()[1]
    assert second.state == "sent"
    assert second.last_error == "headline not refreshed: Slack chat.update: cant_update_message"


@pytest.mark.parametrize(
    ("route", "action"),
    [
        ("create", Hang(30, commit=True)),
        ("create", Drop(commit=True)),
        ("create", Reply(503, {"message": "Service Unavailable"}, commit=True)),
        ("update", Hang(30, commit=True)),
    ],
)
async def test_statuspage_retry_after_a_committed_write_does_not_duplicate(
    store, clock, slack, statuspage, route, action
):
    config = config_for("statuspage", slack, statuspage, timeout=0.3)
    incident = declare(store)
    statuspage.script(route, action)
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    publish(store, config, incident.id, "Identified.", Status.IDENTIFIED, "alice", clock)
    await drain(store, config, clock)
    assert [d.state for d in store.deliveries()] == ["sent", "sent"]
    (page_incident,) = statuspage.incidents.values()
    assert [u["body"] for u in reversed(page_incident["incident_updates"])] == [
        "Investigating.",
        "Identified.",
    ]
    assert len(statuspage.calls("create")) == 1


async def test_statuspage_incident_created_already_resolved_is_found_by_search(
    store, clock, slack, statuspage
):
    config = config_for("statuspage", slack, statuspage, timeout=0.3)
    incident = declare(store)
    statuspage.script("create", Hang(30, commit=True))
    publish(store, config, incident.id, "It was brief.", Status.RESOLVED, "alice", clock)
    await drain(store, config, clock)
    assert len(statuspage.incidents) == 1
    assert len(statuspage.calls("list")) == 1  # ?q= search beside the unresolved list
    assert store.deliveries()[0].state == "sent"


async def test_webhook_mode_is_at_least_once_a_retry_after_a_timeout_may_repeat(
    store, clock, slack, statuspage
):
    # Documented behaviour: a webhook cannot be read back, so there is nothing to check.
    config = config_for("webhook", slack, statuspage, timeout=0.3)
    incident = declare(store)
    slack.script("webhook", Hang(30, commit=True))
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    await drain(store, config, clock)
    assert store.deliveries()[0].state == "sent"
    assert len(slack.webhook_messages) == 2


async def test_worker_stopped_mid_flight_hands_back_and_the_next_one_checks(
    store, clock, slack, statuspage
):
    config = config_for("bot", slack, statuspage, timeout=30)
    incident = declare(store)
    slack.script("chat.postMessage", Pass(), Hang(30, commit=True))
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    worker = DeliveryWorker(store, config, clock=clock, sleep=FakeSleep(clock))
    task = asyncio.create_task(worker.run())
    assert await asyncio.to_thread(slack.hanging.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (delivery,) = store.deliveries()
    assert delivery.state == "retrying" and delivery.payload[DOUBT_KEY] is True
    await drain(store, config, clock)
    (root,) = slack.roots()
    assert len(slack.replies(root["ts"])) == 1
    assert store.delivery(delivery.id).state == "sent"


async def test_two_workers_on_one_database_never_send_the_same_delivery(
    db_path, clock, slack, statuspage
):
    config = wired_config(slack, statuspage, mode="bot")
    with Store.open(db_path, clock=clock) as one, Store.open(db_path, clock=clock) as two:
        incident = declare(one)
        for n in range(4):
            publish(one, config, incident.id, f"Update {n}.", None, "alice", clock)

        async def sleep(seconds: float) -> None:  # time passes as slowly as for real
            await asyncio.sleep(0.01)
            clock.advance(seconds=min(seconds, 0.01))

        workers = [DeliveryWorker(s, config, clock=clock, sleep=sleep) for s in (one, two)]
        await asyncio.gather(*(w.run(until_idle=True, budget=3600) for w in workers))
        assert {d.state for d in one.deliveries()} == {"sent"}
    (root,) = slack.roots()
    assert len(slack.replies(root["ts"])) == 4
    (page_incident,) = statuspage.incidents.values()
    assert len(page_incident["incident_updates"]) == 4


# ---- one target never delays another ------------------------------------------------------


async def test_a_hanging_target_does_not_delay_the_other(store, clock, slack, statuspage):
    config = config_from_dict(
        {
            "slack": slack_table(slack, "bot", timeout=1.5),
            "statuspage": statuspage_table(statuspage, timeout=1.5),
        }
    )
    incident = declare(store)
    slack.script("chat.postMessage", Hang(30))
    statuspage.script("create", HTML_500)  # fails, backs off and succeeds meanwhile
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    publish(store, config, incident.id, "Identified.", Status.IDENTIFIED, "alice", clock)
    run = await drain(store, config, clock)
    slack_first, _, _, page_second = store.deliveries()
    # Statuspage's second update went out before Slack's hang (30 s) was even cut at its
    # 1.5 s timeout: order, not a stopwatch.
    assert run.at(page_second.id, "sent") < run.at(slack_first.id, "retrying")
    assert "no answer within 1.5 s" in (run.first(slack_first.id, "retrying").last_error or "")
    assert {d.state for d in store.deliveries()} == {"sent"}


async def test_a_failing_target_does_not_stop_the_other(
    store, clock, slack, statuspage, monkeypatch
):
    monkeypatch.setenv(SLACK_TOKEN_ENV, "xoxb-revoked")
    config = wired_config(slack, statuspage, mode="bot")
    incident = declare(store)
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    publish(store, config, incident.id, "Identified.", Status.IDENTIFIED, "alice", clock)
    await drain(store, config, clock)
    states = {(d.target, d.state) for d in store.deliveries()}
    assert states == {("slack", "failed"), ("statuspage", "sent")}
    assert len(undelivered(store)) == 2


async def test_deliveries_to_one_target_stay_in_order_while_one_waits(
    store, clock, slack, statuspage
):
    config = config_for("statuspage", slack, statuspage)
    incident = declare(store)
    statuspage.script("create", HTML_500, HTML_500)
    for text in ("one", "two", "three"):
        publish(store, config, incident.id, text, None, "alice", clock)
    await drain(store, config, clock)
    (page_incident,) = statuspage.incidents.values()
    assert [u["body"] for u in reversed(page_incident["incident_updates"])] == [
        "one",
        "two",
        "three",
    ]
    assert [c.method for c in statuspage.requests and [r for _, r in statuspage.requests]][-2:] == [
        "PATCH",
        "PATCH",
    ]


# ---- safe text --------------------------------------------------------------------------

HOSTILE = (
    "<!channel> please look <https://evil.example|click here> now & then\n"
    "\x1b[2J\x1b[31mred alert\x1b[0m\x07\x00 \u202egnp.exe\u202c\n" + "A" * 24_000
)  # the longest update the store takes is 25,000 characters (domain.UPDATE_TEXT)


@pytest.mark.parametrize("mode", MODES)
async def test_hostile_text_is_sent_safely(store, clock, slack, statuspage, mode):
    config = config_for(mode, slack, statuspage)
    incident = store.declare("<!here> checkout & <@U123> down", "SEV-1", "alice")
    publish(store, config, incident.id, HOSTILE, None, "alice", clock)
    await drain(store, config, clock)
    (delivery,) = store.deliveries()
    assert delivery.state == "sent", delivery.last_error  # accepted: within every limit
    if mode == "statuspage":
        (sent,) = [r.json["incident"] for r in statuspage.calls("create")]
        assert len(sent["body"]) <= 25_000
        assert sent["body"].endswith("A" * 24_000)  # within Statuspage's limit: whole
        shown = sent["body"] + sent["name"]
    else:
        message = (
            slack.webhook_messages[0] if mode == "webhook" else slack.messages["C0INCIDENT"][1]
        )
        texts = [message["text"]] + [
            t["text"] for b in message["blocks"] for t in [b.get("text") or {}] if t
        ]
        texts += [e["text"] for b in message["blocks"] for e in b.get("elements", [])]
        shown = "\n".join(texts)
        # No ping, no disguised link, no mention: the markup arrives as escaped text.
        for markup in ("<!channel>", "<!here>", "<https://evil", "<@U123>"):
            assert markup not in shown
        assert "&lt;!channel&gt;" in shown and "&lt;https://evil.example|click here&gt;" in shown
        assert "&amp; then" in shown
        assert sum(len(b.get("text", {}).get("text", "")) for b in message["blocks"]) <= 12_000
        assert "more characters]" in shown
    for bad in ("\x1b", "\x07", "\x00", "\u202e"):
        assert bad not in shown
    assert "red alert" in shown


# ---- secrets ------------------------------------------------------------------------------


async def test_secrets_never_reach_the_database_errors_or_logs(
    store, clock, slack, statuspage, caplog
):
    caplog.set_level(logging.DEBUG)
    webhook = slack.webhook_url
    secret_part = webhook.rsplit("/", 1)[1]
    # Services that echo what they were sent in their error pages.
    slack.script("webhook", Reply(400, f"invalid_payload for {webhook}"))
    statuspage.script("create", Reply(422, {"message": f"bad key OAuth {statuspage.api_key}"}))
    config = config_from_dict(
        {"slack": slack_table(slack, "webhook"), "statuspage": statuspage_table(statuspage)}
    )
    incident = declare(store)
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    await drain(store, config, clock)
    errors = " ".join(d.last_error or "" for d in store.deliveries())
    assert "invalid_payload for" in errors and "bad key OAuth" in errors
    store.close()
    stored = b"".join(p.read_bytes() for p in Path(store.path).parent.glob("cockpit.db*"))
    for secret in (secret_part, statuspage.api_key, slack.token):
        assert secret not in errors
        assert secret.encode() not in stored
        assert secret not in caplog.text


# ---- the outbox by hand ---------------------------------------------------------------------


async def test_retrying_an_update_older_than_one_delivered_is_refused(
    store, clock, slack, statuspage, monkeypatch
):
    config = config_for("statuspage", slack, statuspage)
    incident = declare(store)
    monkeypatch.setenv(STATUSPAGE_KEY_ENV, "wrong-api-key")
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    await drain(store, config, clock)
    monkeypatch.setenv(STATUSPAGE_KEY_ENV, statuspage.api_key)
    publish(store, config, incident.id, "Resolved.", Status.RESOLVED, "alice", clock)
    await drain(store, config, clock)
    old, new = store.deliveries()
    assert (old.state, new.state) == ("failed", "sent")
    assert undelivered(store) == []  # the newer update made the failed one moot
    with pytest.raises(OutboxError, match=r"older than #2, which was delivered"):
        retry(store, old.id, clock())
    with pytest.raises(OutboxError, match="only failed deliveries"):
        retry(store, new.id, clock())


async def test_deliveries_for_a_target_this_configuration_lacks_are_left_alone(
    store, clock, slack, statuspage
):
    # Another process (another config.toml) queued them; it, not we, can send them.
    incident = declare(store)
    publish(store, config_for("bot", slack, statuspage), incident.id, "x", None, "alice", clock)
    await drain(store, config_for("statuspage", slack, statuspage), clock)
    (delivery,) = store.deliveries()
    assert (delivery.state, delivery.attempts) == ("queued", 0)
    assert slack.requests == []


async def test_a_rate_limit_holds_every_lane_of_that_target_only(store, clock, slack, statuspage):
    from datetime import timedelta

    config = wired_config(slack, statuspage, mode="bot")
    first, second = declare(store), declare(store)
    slack.script("chat.postMessage", RATE_LIMITED["bot"])
    publish(store, config, first.id, "One.", None, "alice", clock)
    publish(store, config, second.id, "Two.", None, "alice", clock)
    start = clock()
    later = {d.target: d.id for d in store.deliveries(second.id)}
    for delivery_id in later.values():  # due a second after Slack asked us to wait 7 s
        store.update_delivery(delivery_id, next_attempt_at=start + timedelta(seconds=1))
    # Time moves only while no request is in flight, so the 429 is read before second 1.
    events: list[Delivery] = []
    worker = DeliveryWorker(store, config, clock=clock, jitter=lambda: 0.0, on_change=events.append)

    async def sleep(seconds: float) -> None:
        if worker._running:
            await asyncio.wait(set(worker._running.values()))
        clock.advance(seconds=seconds)

    worker.sleep = sleep
    await worker.run(until_idle=True, budget=3600)
    assert {d.state for d in store.deliveries()} == {"sent"}
    run = Run()
    run.events = [(0.0, d) for d in events]
    slack_two = run.first(later["slack"], "sending")
    page_two = run.first(later["statuspage"], "sending")
    assert slack_two.updated_at is not None and slack_two.updated_at >= start.replace(second=7)
    assert page_two.updated_at == start.replace(second=1)  # another target: not held


def test_state_text_for_people(store, clock):
    from datetime import timedelta

    from cockpit.comms.outbox import state_text

    incident = declare(store)
    delivery_id = store.enqueue(incident.id, "slack", "update", {"key": "k"})
    assert state_text(store.delivery(delivery_id), clock()) == "queued"
    store.update_delivery(
        delivery_id,
        state="retrying",
        next_attempt_at=clock() + timedelta(seconds=42),
        last_error="Slack chat.postMessage: internal_error",
    )
    assert state_text(store.delivery(delivery_id), clock()) == (
        "retrying in 00:42 (Slack chat.postMessage: internal_error)"
    )
    store.update_delivery(delivery_id, state="failed", last_error="Statuspage: HTTP 401 x\x1b[2J")
    assert state_text(store.delivery(delivery_id), clock()) == "failed: Statuspage: HTTP 401 x"


async def test_the_check_pages_through_a_long_busy_thread(store, clock, slack, statuspage):
    config = config_for("bot", slack, statuspage, timeout=0.3)
    incident = declare(store)
    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    await drain(store, config, clock)
    (root,) = slack.roots()
    for n in range(450):  # people talking in the thread
        chatter = {"type": "message", "ts": f"{float(root['ts']) + n + 1:.6f}", "text": f"+{n}"}
        slack.messages["C0INCIDENT"].append({**chatter, "thread_ts": root["ts"]})
    slack.script("chat.postMessage", Hang(30, commit=True))
    publish(store, config, incident.id, "Identified.", Status.IDENTIFIED, "alice", clock)
    await drain(store, config, clock)
    ours = [m for m in slack.replies(root["ts"]) if "metadata" in m]
    assert [m["blocks"][1]["text"]["text"] for m in ours] == ["Investigating.", "Identified."]
    pages = slack.calls("conversations.replies")
    assert len(pages) >= 3 and pages[-1].query.get("cursor")
