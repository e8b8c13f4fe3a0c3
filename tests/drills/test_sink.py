"""Nothing leaves the laptop in a drill: with every target configured against local fakes, a
drill played through the CLI (and the app's delivery worker) sends no request, while the sink
records each target's delivery as the real one would have rendered it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from cockpit.cli import main
from cockpit.comms.sink import SINK_NOTE, SINK_PREFIX
from cockpit.comms.worker import DeliveryWorker
from cockpit.config import load_config
from cockpit.domain import Kind
from cockpit.drills.play import drills_database
from cockpit.store.drills import DrillStore
from tests.conftest import FakeClock
from tests.fakes import FakeSlack, FakeStatuspage
from tests.fakes.betterstack import FakeBetterstack
from tests.fakes.instatus import FakeInstatus
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.server import FakeServer
from tests.fakes.webhook import FakeWebhookReceiver
from tests.fakes.wiring import (
    WEBHOOK_SECRET,
    betterstack_table,
    instatus_table,
    pagerduty_table,
    secrets_env,
    service_secrets_env,
    slack_table,
    statuspage_table,
    webhook_table,
)

ZERO = datetime(2026, 11, 27, 2, 14, tzinfo=UTC)
EVERY_TARGET = ("slack", "statuspage", "instatus", "betterstack", "webhook", "pagerduty")


@pytest.fixture
def fakes() -> Iterator[dict[str, FakeServer]]:
    started: dict[str, FakeServer] = {
        "slack": FakeSlack(),
        "statuspage": FakeStatuspage(),
        "instatus": FakeInstatus(),
        "betterstack": FakeBetterstack(),
        "webhook": FakeWebhookReceiver(secret=WEBHOOK_SECRET),
        "pagerduty": FakePagerDuty(),
    }
    for fake in started.values():
        fake.start()
    yield started
    for fake in started.values():
        fake.stop()


@pytest.fixture
def config_path(tmp_path: Path, fakes: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every target configured, each against its fake, with its secret in the environment."""
    env = {
        **secrets_env(fakes["slack"], fakes["statuspage"]),
        **service_secrets_env(fakes["instatus"], fakes["betterstack"], fakes["pagerduty"]),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    tables = {
        "user": {"name": "alice"},
        "slack": slack_table(fakes["slack"], "bot"),
        "statuspage": statuspage_table(fakes["statuspage"]),
        "instatus": instatus_table(fakes["instatus"]),
        "betterstack": betterstack_table(fakes["betterstack"]),
        "webhook": webhook_table(fakes["webhook"]),
        "pagerduty": pagerduty_table(fakes["pagerduty"]),
    }
    path = tmp_path / "config.toml"
    path.write_text(tomli_w.dumps(tables), encoding="utf-8")
    path.chmod(0o600)
    return path


def cockpit(tmp_path: Path, config: Path, wall: FakeClock, *args: str) -> int:
    return main(["--db", str(tmp_path / "cockpit.db"), "--config", str(config), *args], clock=wall)


def requests_made(fakes: dict[str, FakeServer]) -> dict[str, int]:
    return {name: len(fake.requests) for name, fake in fakes.items() if fake.requests}


def test_a_drill_sends_nothing_anywhere_and_the_sink_records_every_target(
    tmp_path: Path, config_path: Path, fakes: dict[str, FakeServer]
) -> None:
    wall = FakeClock(ZERO)

    def run(*args: str) -> None:
        assert cockpit(tmp_path, config_path, wall, *args) == 0, args

    run("drill", "start", "api-high-error-rate", "--speed", "10")
    wall.advance(seconds=30)
    run("severity", "--incident", "DRILL-1", "SEV-1")  # pages PagerDuty, tells the webhook
    run("update", "--incident", "DRILL-1", "-m", "Checkout <!channel> & <https://x|y> fails")
    wall.advance(seconds=60)
    run("status", "--incident", "DRILL-1", "resolved")
    run("update", "--incident", "DRILL-1", "--template", "resolution", "-m", "Fixed")

    assert requests_made(fakes) == {}
    with DrillStore.open(drills_database(tmp_path / "cockpit.db"), read_only=True) as store:
        deliveries = store.deliveries(1)
        timeline = store.entries(1)
    assert {d.target for d in deliveries} == set(EVERY_TARGET)
    for delivery in deliveries:
        assert delivery.state == "sent", delivery
        assert (delivery.remote_id or "").startswith(SINK_PREFIX)
        assert delivery.last_error == SINK_NOTE
    # Rendered as the real delivery would be: Slack's escaping, no mention, no link.
    slack = next(d for d in deliveries if d.target == "slack")
    assert "&lt;!channel&gt; &amp; &lt;https://x|y&gt;" in str(slack.payload)
    # The pager's line on the timeline says nobody was paged.
    paged = [
        e.text for e in timeline if e.kind is Kind.EXTERNAL and e.meta.get("event") == "delivery"
    ]
    assert paged and all(text.startswith("drill, not sent: PagerDuty") for text in paged)
    assert not (tmp_path / "cockpit.db").exists()


def test_the_apps_delivery_worker_on_a_drills_database_only_records(
    tmp_path: Path, config_path: Path, fakes: dict[str, FakeServer]
) -> None:
    """The worker the app runs (its own connection from `another`) takes the sink too, even
    when handed the real targets."""
    wall = FakeClock(ZERO)
    config = load_config(config_path)
    assert cockpit(tmp_path, config_path, wall, "drill", "start", "api-high-error-rate") == 0
    with DrillStore.open(drills_database(tmp_path / "cockpit.db"), clock=wall) as store:
        from cockpit.comms.publish import publish
        from cockpit.comms.targets import configured_targets

        publish(store, config, 1, "Investigating", None, "alice", wall)
        queued = [d for d in store.deliveries(1) if d.state == "queued"]
        assert {d.target for d in queued} >= {"slack", "statuspage", "instatus", "betterstack"}
        other = store.another(busy_timeout_ms=200)
        worker = DeliveryWorker(other, config, clock=wall, targets=configured_targets(config))
        assert worker.held() == {}
        asyncio.run(worker.run(until_idle=True))
        other.close()
        assert {d.state for d in store.deliveries(1)} == {"sent"}
    assert requests_made(fakes) == {}


def test_the_same_configuration_does_send_for_a_real_incident(
    tmp_path: Path, config_path: Path, fakes: dict[str, FakeServer]
) -> None:
    """The control: the fakes are wired, so the silence above is the sink's doing."""
    wall = FakeClock(ZERO)
    assert cockpit(tmp_path, config_path, wall, "declare", "Real", "--severity", "SEV-1") == 0
    assert cockpit(tmp_path, config_path, wall, "update", "-m", "Investigating") == 0
    assert cockpit(tmp_path, config_path, wall, "deliver", "--wait", "0") == 0
    assert set(requests_made(fakes)) == set(EVERY_TARGET)


def test_team_sync_refuses_a_drill_and_nothing_reaches_slack(
    tmp_path: Path,
    config_path: Path,
    fakes: dict[str, FakeServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Slack in bot mode turns team sync on; a drill still shares nothing: `cockpit sync` on a
    drill is refused in one line before any request, and the drill's deliveries stay recorded."""
    wall = FakeClock(ZERO)
    assert cockpit(tmp_path, config_path, wall, "drill", "start", "api-high-error-rate") == 0
    assert cockpit(tmp_path, config_path, wall, "log", "--incident", "DRILL-1", "rolled back") == 0
    capsys.readouterr()
    assert cockpit(tmp_path, config_path, wall, "sync", "--incident", "DRILL-1") == 1
    err = capsys.readouterr().err
    assert err == "cockpit: a drill shares nothing with the team: team sync is for real incidents\n"
    assert requests_made(fakes) == {}
