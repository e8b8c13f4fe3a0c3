"""A process without a target's secret leaves that target's deliveries queued (issue 11.6).

Every target (Slack bot and webhook, Statuspage, Instatus, Better Stack, the webhook's URL
and its signing secret, PagerDuty) is tried with its variable missing, and with a value this
process cannot send: the deliveries stay queued with no attempt counted and no error stored,
nothing reaches the service, the timeline says nothing failed, and the worker, `cockpit
deliver` (exit 1), `cockpit outbox` and the app's delivery line say why, naming the key and
never the value. A process that has the secret then sends them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from textual.widgets import OptionList

from cockpit.comms.events import hook_for
from cockpit.comms.publish import publish
from cockpit.comms.worker import DeliveryWorker
from cockpit.config import config_from_dict
from cockpit.domain import Kind
from cockpit.store import Store
from cockpit.tui.app import make_app
from cockpit.tui.widgets.deliveries import DeliveryBar
from tests.conftest import cli_env, run_cli
from tests.fakes import FakeSlack, FakeStatuspage
from tests.fakes.betterstack import FakeBetterstack
from tests.fakes.instatus import FakeInstatus
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.webhook import FakeWebhookReceiver
from tests.fakes.wiring import (
    BETTERSTACK_TOKEN_ENV,
    INSTATUS_KEY_ENV,
    PAGERDUTY_KEY_ENV,
    SLACK_TOKEN_ENV,
    SLACK_WEBHOOK_ENV,
    STATUSPAGE_KEY_ENV,
    WEBHOOK_SECRET,
    WEBHOOK_SECRET_ENV,
    FakeSleep,
    betterstack_table,
    instatus_table,
    pagerduty_table,
    secrets_env,
    service_secrets_env,
    slack_table,
    statuspage_table,
    webhook_table,
)

WEBHOOK_URL_ENV = "TEST_WEBHOOK_URL"

# name: (target, the variable left unset, the key its message names)
CASES = {
    "slack-bot": ("slack", SLACK_TOKEN_ENV, "slack.token_env"),
    "slack-webhook": ("slack", SLACK_WEBHOOK_ENV, "slack.webhook_url_env"),
    "statuspage": ("statuspage", STATUSPAGE_KEY_ENV, "statuspage.api_key_env"),
    "instatus": ("instatus", INSTATUS_KEY_ENV, "instatus.api_key_env"),
    "betterstack": ("betterstack", BETTERSTACK_TOKEN_ENV, "betterstack.api_key_env"),
    "webhook-url": ("webhook", WEBHOOK_URL_ENV, "webhook.url_env"),
    "webhook-secret": ("webhook", WEBHOOK_SECRET_ENV, "webhook.secret_env"),
    "pagerduty": ("pagerduty", PAGERDUTY_KEY_ENV, "pagerduty.routing_key_env"),
}


@pytest.fixture
def fakes(clock: Any) -> Iterator[dict[str, Any]]:
    started: dict[str, Any] = {
        "slack": FakeSlack(),
        "statuspage": FakeStatuspage(),
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


def every_target(fakes: dict[str, Any], case: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Tables for all six targets (Slack in the case's mode) and every secret's variable."""
    slack_mode = "webhook" if case == "slack-webhook" else "bot"
    hook = webhook_table(fakes["webhook"])
    hook["url_env"] = WEBHOOK_URL_ENV
    del hook["url"]
    tables = {
        "slack": slack_table(fakes["slack"], slack_mode),
        "statuspage": statuspage_table(fakes["statuspage"]),
        "instatus": instatus_table(fakes["instatus"]),
        "betterstack": betterstack_table(fakes["betterstack"]),
        "webhook": hook,
        "pagerduty": pagerduty_table(fakes["pagerduty"]),
    }
    env = {
        **secrets_env(fakes["slack"], fakes["statuspage"]),
        **service_secrets_env(fakes["instatus"], fakes["betterstack"], fakes["pagerduty"]),
        WEBHOOK_URL_ENV: fakes["webhook"].hook_url,
    }
    return tables, env


def reached(fake: Any) -> int:
    """Requests the service got (the webhook receiver counts what it received)."""
    return len(fake.received) if isinstance(fake, FakeWebhookReceiver) else len(fake.requests)


async def drain(store: Store, config: Any, clock: Any) -> DeliveryWorker:
    worker = DeliveryWorker(store, config, clock=clock, sleep=FakeSleep(clock), jitter=lambda: 0)
    await worker.run(until_idle=True, budget=60)
    return worker


def incident_with_everything_queued(store: Store, config: Any, clock: Any) -> int:
    """A SEV-1 (a page, a webhook event) with a published update (one per status target)."""
    store.events = hook_for(config)
    incident = store.declare("Checkout API errors", "SEV-1", "alice", service="checkout")
    publish(store, config, incident.id, "We are investigating.", None, "alice", clock)
    return incident.id


@pytest.mark.parametrize("case", list(CASES))
async def test_without_the_secret_deliveries_stay_queued_and_a_process_with_it_sends_them(
    store, clock, fakes, monkeypatch, case
):
    target, variable, key = CASES[case]
    tables, env = every_target(fakes, case)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(variable)
    config = config_from_dict(tables)
    incident = incident_with_everything_queued(store, config, clock)

    worker = await drain(store, config, clock)

    assert worker.held() == {target: f"{key}: the environment variable it names is not set"}
    mine = [d for d in store.deliveries() if d.target == target]
    others = [d for d in store.deliveries() if d.target != target]
    assert mine and {(d.state, d.attempts, d.last_error) for d in mine} == {("queued", 0, None)}
    assert others and {d.state for d in others} == {"sent"}  # nobody else waits
    assert reached(fakes[target]) == 0
    timeline = " ".join(e.text for e in store.entries(incident))
    assert "failed" not in timeline and "by hand" not in timeline
    assert variable not in timeline

    monkeypatch.setenv(variable, env[variable])  # a cockpit started with the secret
    worker = await drain(store, config, clock)
    assert worker.held() == {}
    assert {d.state for d in store.deliveries()} == {"sent"}
    assert reached(fakes[target]) > 0


@pytest.mark.parametrize(
    ("case", "value", "problem"),
    [
        ("pagerduty", "e93f0b", "is 6 characters, too short for a credential (at least 8)"),
        ("slack-bot", "xoxb-with a space", "holds characters an HTTP header cannot carry"),
        ("statuspage", "clé-privée-0123456789", "holds characters an HTTP header cannot carry"),
        ("webhook-secret", "tab\there-0123456789", "holds spaces or control characters"),
        ("webhook-url", "http://u:short@127.0.0.1/x", "its password is 5 characters, too short"),
        ("slack-webhook", "http://127.0.0.1/x?token=abc", "its query parameter 'token' is 3"),
    ],
)
async def test_a_secret_this_process_cannot_send_is_held_too_naming_the_problem(
    store, clock, fakes, monkeypatch, case, value, problem
):
    target, variable, key = CASES[case]
    tables, env = every_target(fakes, case)
    for name, good in env.items():
        monkeypatch.setenv(name, good)
    monkeypatch.setenv(variable, value)
    config = config_from_dict(tables)
    incident_with_everything_queued(store, config, clock)
    worker = await drain(store, config, clock)
    (reason,) = worker.held().values()
    assert reason.startswith(f"{key}: the environment variable it names {problem}")
    assert value not in reason and value.split("//")[-1] not in reason
    assert {d.state for d in store.deliveries() if d.target == target} == {"queued"}
    assert reached(fakes[target]) == 0


def write(tmp_path: Path, tables: dict[str, Any]) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(tomli_w.dumps(tables))
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("case", ["pagerduty", "slack-bot", "webhook-url"])
def test_deliver_and_outbox_say_why_and_deliver_with_the_secret_sends(tmp_path, fakes, case):
    target, variable, key = CASES[case]
    tables, env = every_target(fakes, case)
    config = write(tmp_path, tables)
    db = tmp_path / "cockpit.db"
    without = cli_env(db, config, **{k: v for k, v in env.items() if k != variable})
    assert run_cli("declare", "Checkout API errors", "-s", "SEV-1", env=without).returncode == 0
    assert run_cli("update", "-m", "We are investigating.", env=without).returncode == 0

    done = run_cli("deliver", env=without)
    why = (
        f"no secret here ({key}: the environment variable it names is not set); "
        "it waits for a cockpit that has it"
    )
    assert done.returncode == 1
    held = [line for line in done.stderr.splitlines() if f" {target} " in line]
    assert held and all(line.endswith(f"queued: {why}") for line in held), done.stderr
    assert f" {target} " not in done.stdout  # nothing was attempted for it
    listing = run_cli("outbox", env=without)
    assert listing.returncode == 0
    rows = [line for line in listing.stdout.splitlines() if f" {target} " in line]
    assert rows and all(row.endswith(f"  0  queued: {why}") for row in rows), listing.stdout
    shown = run_cli("show", "INC-1", env=without).stdout
    assert "failed" not in shown and "by hand" not in shown
    everything = done.stdout + done.stderr + listing.stdout + shown
    assert variable not in everything  # the key is named, never the value it holds

    done = run_cli("deliver", env=cli_env(db, config, **env))
    assert done.returncode == 0, done.stderr
    assert "outbox drained: everything delivered" in done.stdout
    assert reached(fakes[target]) > 0


async def test_the_app_leaves_them_queued_says_so_and_a_restart_with_the_secret_sends(
    tmp_path, db_path, fakes, monkeypatch
):
    tables, env = every_target(fakes, "pagerduty")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(PAGERDUTY_KEY_ENV)
    config = config_from_dict(tables)
    with Store.open(db_path) as store:
        store.events = hook_for(config)
        store.declare("Checkout API errors", "SEV-1", "alice", service="checkout")

    def bar(app: Any) -> str:
        shown = app.screen_stack[0].query_one(DeliveryBar)
        return str(shown.render()) if shown.display else ""

    app = make_app(config, db_path)
    async with app.run_test(size=(200, 30)) as pilot:
        for _ in range(200):  # the worker starts after the first paint, then sends
            await pilot.pause(0.05)
            if "✓ webhook" in bar(app) and "no secret here" in bar(app):
                break
        line = bar(app)
        assert app.screen_stack[0].query_one(DeliveryBar).has_class("-retrying")
        await pilot.press("o")  # the outbox says it in full
        await pilot.pause(0.2)
        options = app.screen.query_one("#deliveries", OptionList)
        shown = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
    app.store.close()
    assert "pagerduty queued: no secret here (pagerduty.routing_key_env: the environment" in line
    assert any(
        "queued: no secret here (pagerduty.routing_key_env: the environment variable it names "
        "is not set); it waits for a cockpit that has it" in option
        for option in shown
    ), shown
    with Store.open(db_path) as store:
        (page,) = [d for d in store.deliveries() if d.target == "pagerduty"]
        assert (page.state, page.attempts) == ("queued", 0)
        assert not [e for e in store.entries(page.incident_id) if e.kind is Kind.EXTERNAL]
    assert fakes["pagerduty"].requests == []

    monkeypatch.setenv(PAGERDUTY_KEY_ENV, env[PAGERDUTY_KEY_ENV])  # restarted with it
    app = make_app(config, db_path)
    async with app.run_test(size=(200, 30)) as pilot:
        for _ in range(200):
            await pilot.pause(0.05)
            if "✓ pagerduty" in bar(app):
                break
        assert "✓ pagerduty" in bar(app)
    app.store.close()
    assert len(fakes["pagerduty"].alerts) == 1
