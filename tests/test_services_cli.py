"""Paging and webhook events from the command line, as real processes against local fakes:
the CLI installs the same event hook as the app, and `cockpit log` stays light."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tests.conftest import ROOT, cli_env, run_cli
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.webhook import FakeWebhookReceiver
from tests.fakes.wiring import WEBHOOK_SECRET, pagerduty_table, service_secrets_env, webhook_table


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[dict[str, Any]]:
    pager, receiver = FakePagerDuty(), FakeWebhookReceiver(secret=WEBHOOK_SECRET)
    pager.start()
    receiver.start()
    config = tmp_path / "config.toml"
    config.write_text(
        tomli_w.dumps(
            {
                "user": {"name": "alice"},
                "pagerduty": pagerduty_table(pager, timeout=10),
                "webhook": webhook_table(receiver, timeout=10),
            }
        )
    )
    db = tmp_path / "cockpit.db"
    env = cli_env(db, config, **service_secrets_env(pagerduty=pager))
    yield {"pager": pager, "receiver": receiver, "env": env, "db": db}
    pager.stop()
    receiver.stop()


def cli(setup: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=setup["env"])


def test_declare_pages_through_the_outbox_and_the_timeline_says_so(setup):
    done = cli(setup, "declare", "Checkout API errors", "-s", "SEV-1", "--service", "checkout")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "INC-1\n"  # scripts read the id; the note goes to stderr
    assert "queued webhook declared, pagerduty trigger" in done.stderr
    assert setup["pager"].alerts == []  # queued, not sent: deliver (or the app) sends it
    done = cli(setup, "deliver", "--wait", "5")
    assert done.returncode == 0, done.stderr
    gid = json.loads(cli(setup, "show", "--json").stdout)["gid"]
    assert [(a["dedup_key"], a["status"]) for a in setup["pager"].alerts] == [(gid, "triggered")]
    assert [e["type"] for e in setup["receiver"].events] == ["incident.declared"]
    shown = json.loads(cli(setup, "show", "--json").stdout)
    external = [e["text"] for e in shown["entries"] if e["kind"] == "external"]
    assert external == [
        f"PagerDuty page sent (dedup key {gid}): [SEV-1] INC-1 Checkout API errors (checkout)"
    ]

    done = cli(setup, "update", "--status", "resolved", "--dry-run")
    assert f"── PagerDuty · resolve the alert {gid}" in done.stdout
    assert "── Webhook · incident.resolved event, signed" in done.stdout
    done = cli(setup, "status", "resolved")
    assert "queued webhook resolved, pagerduty resolve" in done.stderr
    assert cli(setup, "deliver", "--wait", "5").returncode == 0
    assert [a["status"] for a in setup["pager"].alerts] == ["resolved"]


def test_below_the_paging_severity_nothing_pages(setup):
    done = cli(setup, "declare", "Slow search", "-s", "SEV-3")
    assert done.returncode == 0, done.stderr
    assert "pagerduty" not in done.stderr
    done = cli(setup, "severity", "SEV-1")
    assert "queued webhook severity, pagerduty trigger" in done.stderr


def test_log_with_paging_configured_imports_neither_textual_nor_httpx(setup):
    assert cli(setup, "declare", "x", "-s", "SEV-1").returncode == 0
    probe = (
        "import sys; sys.argv = ['cockpit', 'log', 'probe'];"
        "import cockpit.cli as c; rc = c.main();"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'httpx', 'rich'));"
        "print(rc, heavy)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=setup["env"], cwd=ROOT
    )
    assert done.stdout.strip() == "0 []", done.stderr
