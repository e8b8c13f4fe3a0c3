"""`cockpit update`, `deliver` and `outbox` as real processes, against fakes on 127.0.0.1,
including a delivering process killed mid-flight and restarted."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from cockpit.store import Store
from tests.conftest import ROOT, cli_env, run_cli
from tests.fakes import FakeSlack, FakeStatuspage, Hang, Pass, Reply
from tests.fakes.wiring import secrets_env, slack_table, statuspage_table


@pytest.fixture
def fakes() -> Iterator[tuple[FakeSlack, FakeStatuspage]]:
    slack, page = FakeSlack(), FakeStatuspage()
    slack.start()
    page.start()
    yield slack, page
    slack.stop()
    page.stop()


def write_config(path: Path, tables: dict[str, Any]) -> Path:
    path.write_text(tomli_w.dumps(tables))
    return path


@pytest.fixture
def setup(tmp_path: Path, fakes: tuple[FakeSlack, FakeStatuspage]) -> dict[str, Any]:
    slack, page = fakes
    config = write_config(
        tmp_path / "config.toml",
        {
            "user": {"name": "alice"},
            "slack": slack_table(slack, "bot", timeout=20),
            "statuspage": statuspage_table(page, timeout=20),
        },
    )
    db = tmp_path / "cockpit.db"
    env = cli_env(db, config, **secrets_env(slack, page))
    return {"slack": slack, "page": page, "db": db, "config": config, "env": env}


def cli(setup: dict[str, Any], *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=kw.pop("env", setup["env"]), **kw)


def declare(setup: dict[str, Any]) -> None:
    done = cli(setup, "declare", "Checkout API errors", "-s", "SEV-1", "--service", "checkout")
    assert done.returncode == 0, done.stderr


# ---- update ------------------------------------------------------------------------------


def test_update_without_targets_records_the_entry_and_restarts_the_countdown(tmp_path):
    db = tmp_path / "c.db"
    assert run_cli("declare", "Checkout", "-s", "SEV-1", db=db).returncode == 0
    done = run_cli("update", db=db)
    assert done.returncode == 0, done.stderr
    assert "published acknowledge" in done.stdout
    assert "recorded on the timeline only" in done.stdout
    shown = json.loads(run_cli("show", "--json", db=db).stdout)
    (entry,) = [e for e in shown["entries"] if e["kind"] == "update"]
    assert entry["text"].startswith("We are aware of an issue affecting Checkout")
    assert shown["next_update_due"] > entry["at"]  # every 30 min from this update now
    assert shown["deliveries"] == []


def test_update_message_template_and_status(setup):
    declare(setup)
    done = cli(setup, "update", "--message", "We rolled back v142.")
    assert done.returncode == 0, done.stderr
    assert "queued for slack, statuspage" in done.stdout
    done = cli(setup, "update", "--template", "update", "--message", "Error rate is falling.")
    assert "Error rate is falling. Next update within 30 minutes." in done.stdout
    done = cli(setup, "update", "--status", "resolved")
    assert "published resolution" in done.stdout
    assert "has been resolved as of" in done.stdout
    shown = json.loads(cli(setup, "show", "INC-1", "--json").stdout)
    assert shown["status"] == "resolved"
    assert [d["action"] for d in shown["deliveries"]] == [
        "acknowledge",
        "acknowledge",
        "update",
        "update",
        "resolution",
        "resolution",
    ]
    assert cli(setup, "update", "--status", "fixed").returncode == 2


def test_update_dry_run_previews_each_target_and_queues_nothing(setup):
    declare(setup)
    done = cli(setup, "update", "--dry-run", "--message", "<!channel> see <https://x|here>")
    assert done.returncode == 0, done.stderr
    assert "── Slack #C0INCIDENT · new headline message, this update in its thread" in done.stdout
    assert "── Statuspage · new incident “Checkout API errors” (investigating" in done.stdout
    assert "<!channel> see <https://x|here>" in done.stdout  # as people will read it
    assert json.loads(cli(setup, "show", "--json").stdout)["deliveries"] == []


MESSAGE = "Card payments fail for 30% of customers; Apple Pay works."


def every_target(setup: dict[str, Any], templates: dict[str, str]) -> dict[str, str]:
    """An environment whose config has every target and `templates` (nothing is sent)."""
    closed = "http://127.0.0.1:9"
    tables = tomllib.loads(Path(setup["config"]).read_text())
    tables["templates"] = templates
    tables["instatus"] = {
        "page_id": "p1",
        "api_key_env": "X_KEY",
        "api_url": closed,
        "component_ids": ["c1"],
    }
    tables["betterstack"] = {
        "status_page_id": "7",
        "api_key_env": "X_KEY",
        "api_url": closed,
        "resource_ids": ["9"],
        "notify_subscribers": False,
    }
    tables["webhook"] = {"url": f"{closed}/hook", "secret_env": "X_KEY"}
    config = write_config(setup["config"].with_name("every.toml"), tables)
    return {**setup["env"], "COCKPIT_CONFIG": str(config)}


def previews(stdout: str) -> dict[str, str]:
    """`update --dry-run` output: each target's heading -> its text."""
    sections: dict[str, str] = {}
    for block in stdout.split("── ")[1:]:
        heading, _, body = block.partition("\n")
        sections[heading] = "\n".join(line.strip() for line in body.splitlines())
    return sections


def test_a_message_is_never_dropped_by_a_template(setup):
    """Issue 12.1: `--template acknowledge --message TEXT` published the template without
    TEXT. A template without {summary} gets the message as its own paragraph; one with
    {summary} twice gets it twice; the message keeps its spacing; the preview of every
    target shows it."""
    declare(setup)
    env = every_target(
        setup,
        {
            "update": "Update on {service}: {summary} (again: {summary})",
            "resolution": "Resolved {id}.",
        },
    )
    done = cli(setup, "update", "-t", "acknowledge", "-m", MESSAGE, "--dry-run", env=env)
    assert done.returncode == 0, done.stderr
    shown = previews(done.stdout)
    assert len(shown) == 5, done.stdout  # Slack, Statuspage, Instatus, Better Stack, webhook
    for heading, text in shown.items():
        assert "We are aware of an issue affecting checkout" in text, heading
        assert MESSAGE in text, heading

    done = cli(setup, "update", "-t", "acknowledge", "-m", MESSAGE, env=env)
    assert done.returncode == 0, done.stderr
    assert MESSAGE in done.stdout
    typed = "Rolled back  v142:\n  api-1\tok\n  api-2\tok"
    done = cli(setup, "update", "-t", "update", "-m", "-", env=env, input=typed + "\n")
    assert done.returncode == 0, done.stderr
    done = cli(setup, "update", "-t", "resolution", "-m", "Fixed.", "--status", "resolved", env=env)
    assert done.returncode == 0, done.stderr

    with Store.open(setup["db"]) as store:
        texts = [e.text for e in store.entries(1) if e.kind.value == "update"]
        deliveries = store.deliveries(1)
    assert texts[0].endswith(".\n\n" + MESSAGE)  # its own paragraph after the template
    assert texts[1] == f"Update on checkout: {typed} (again: {typed})"  # as typed, twice
    assert texts[2] == "Resolved INC-1.\n\nFixed."
    bodies = [json.dumps(d.payload, ensure_ascii=False) for d in deliveries if d.entry_id]
    assert sum(MESSAGE in body for body in bodies) == 5  # every target of the first update


def test_a_dry_run_without_targets_shows_what_would_be_recorded(tmp_path):
    db = tmp_path / "c.db"
    assert run_cli("declare", "Checkout", "-s", "SEV-1", db=db).returncode == 0
    done = run_cli("update", "-t", "acknowledge", "-m", MESSAGE, "--dry-run", db=db)
    assert done.returncode == 0, done.stderr
    assert "no targets configured: this would be recorded on the timeline only" in done.stdout
    assert f"   {MESSAGE}" in done.stdout.splitlines()


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        (("-t", "acknowledge", "-m", "   "), 2, "--message is empty"),
        (("-t", "acknowledge", "-m", "-"), 2, "--message is empty"),  # blank stdin
        (("-m", "\x1b[2J\x07"), 2, "--message is empty"),  # nothing a reader would see
        (("-t", "update", "-m", "\u202e\x1b[0m "), 2, "--message is empty"),
        (("-t", "update", "-m", "\u202eok"), 0, ""),
    ],
)
def test_an_empty_message_is_refused_not_published(setup, args, code, error):
    declare(setup)
    done = cli(setup, "update", *args, input="  \n\n")
    assert (done.returncode, error in done.stderr) == (code, True), done.stderr
    assert len(done.stderr.strip().splitlines()) == (1 if error else 0)
    with Store.open(setup["db"]) as store:
        assert store.updates_sent(1)[0] == (1 if code == 0 else 0)


def test_a_message_over_a_service_limit_is_cut_visibly_and_kept_whole(setup):
    """A cut to a service's limit is shown in the preview and stored in the delivery; the
    timeline keeps every character."""
    declare(setup)
    env = every_target(setup, {})
    # Just under the cockpit's own limit for an update (25,000, the largest a status page
    # takes): Slack cuts it visibly, every other service takes all of it.
    long = "x" * 24_000 + " END"
    done = cli(setup, "update", "-t", "acknowledge", "-m", long, "--dry-run", env=env)
    shown = previews(done.stdout)
    assert len(shown) == 5
    for heading, text in shown.items():
        if heading.startswith("Slack"):
            assert re.search(r"\[truncated: [\d,]+ more characters\]", text), heading
        else:
            assert text.endswith(" END"), heading
    assert cli(setup, "update", "-t", "acknowledge", "-m", long, env=env).returncode == 0
    with Store.open(setup["db"]) as store:
        (entry,) = [e for e in store.entries(1) if e.kind.value == "update"]
        assert entry.text.endswith("\n\n" + long)
        cut = [d for d in store.deliveries(1) if "truncated:" in json.dumps(d.payload)]
        assert {d.target for d in cut} == {"slack"}


# ---- deliver and outbox ------------------------------------------------------------------


def test_deliver_sends_everything_and_outbox_lists_it(setup):
    declare(setup)
    cli(setup, "update")
    cli(setup, "update", "--message", "Identified the bad deploy.", "--status", "identified")
    done = cli(setup, "deliver")
    assert done.returncode == 0, done.stderr
    assert "outbox drained: everything delivered" in done.stdout
    assert done.stdout.count(" sent ") == 4
    listing = cli(setup, "outbox").stdout
    assert listing.splitlines()[0].split() == ["ID", "INCIDENT", "TARGET", "ACTION", "ATT", "STATE"]
    assert listing.count("sent") == 4
    assert len(setup["slack"].messages["C0INCIDENT"]) == 3  # root + 2 replies
    assert len(setup["page"].incidents) == 1


def test_deliver_exits_nonzero_with_the_services_error_then_retry_succeeds(setup):
    declare(setup)
    cli(setup, "update")
    bad = {**setup["env"], "TEST_SLACK_TOKEN": "xoxb-revoked-0000"}
    done = cli(setup, "deliver", "--wait", "0", env=bad)
    assert done.returncode == 1
    assert "1 update(s) not delivered" in done.stderr
    assert "failed: Slack chat.postMessage: invalid_auth" in done.stderr
    listing = cli(setup, "outbox").stdout
    assert "failed: Slack chat.postMessage: invalid_auth" in listing
    failed = next(line for line in listing.splitlines() if "failed" in line)
    delivery_id = failed.split()[0].lstrip("#")
    assert cli(setup, "outbox", "--retry", "999").returncode == 1
    done = cli(setup, "outbox", "--retry", delivery_id)
    assert done.returncode == 0 and "queued again" in done.stdout
    assert cli(setup, "deliver").returncode == 0
    assert "only failed deliveries" in cli(setup, "outbox", "--retry", delivery_id).stderr


def test_deliver_wait_zero_gives_every_queued_update_one_attempt(setup):
    declare(setup)
    for n in range(3):
        cli(setup, "update", "--message", f"Update {n}.")
    setup["page"].script("create", Reply(503, {"message": "down"}))
    done = cli(setup, "deliver", "--wait", "0")
    assert done.returncode == 1  # statuspage is waiting to retry
    states = cli(setup, "outbox").stdout
    assert states.count("sent") == 3  # all three Slack updates went
    assert "retrying" in states and "HTTP 503 down" in states


def test_secrets_never_appear_in_command_output(setup):
    slack, page = setup["slack"], setup["page"]
    declare(setup)
    cli(setup, "update")
    slack.script("chat.postMessage", Reply(400, f"bad request with Bearer {slack.token}"))
    page.script("create", Reply(422, {"message": f"key {page.api_key} refused"}))
    done = cli(setup, "deliver", "--wait", "0")
    listing = cli(setup, "outbox")
    shown = done.stdout + done.stderr + listing.stdout + listing.stderr
    assert "bad request with Bearer" in shown and "refused" in shown
    assert slack.token not in shown and page.api_key not in shown
    stored = b"".join(p.read_bytes() for p in setup["db"].parent.glob("cockpit.db*"))
    assert slack.token.encode() not in stored and page.api_key.encode() not in stored


# ---- a crash mid-flight --------------------------------------------------------------------


def test_killed_mid_flight_then_restarted_delivers_the_rest_exactly_once(setup):
    slack, page = setup["slack"], setup["page"]
    declare(setup)
    for text in ("We are investigating.", "We found the cause.", "Fixed."):
        assert cli(setup, "update", "--message", text).returncode == 0
    # Slack takes the root message, then the first reply and never answers; Statuspage
    # creates the incident and never answers. Both did the work.
    slack.script("chat.postMessage", Pass(), Hang(120, commit=True))
    page.script("create", Hang(120, commit=True))
    proc = subprocess.Popen(
        [sys.executable, "-m", "cockpit", "deliver", "--wait", "60"],
        env=setup["env"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert slack.hanging.wait(20) and page.hanging.wait(20)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()  # reaped: its pid is gone, so its claims can be taken over at once
    with Store.open(setup["db"]) as store:
        in_flight = [d for d in store.deliveries() if d.state == "sending"]
    assert [(d.target, d.attempts) for d in in_flight] == [("slack", 1), ("statuspage", 1)]

    done = cli(setup, "deliver", "--wait", "30")
    assert done.returncode == 0, done.stderr
    with Store.open(setup["db"]) as store:
        deliveries = store.deliveries()
    assert {d.state for d in deliveries} == {"sent"}
    (root,) = slack.roots()
    replies = slack.replies(root["ts"])
    slack_keys = [d.payload["key"] for d in deliveries if d.target == "slack"]
    assert [r["metadata"]["event_payload"]["delivery"] for r in replies] == slack_keys
    assert len(slack.calls("chat.postMessage")) == 4  # root, hung reply, two more: no repeat
    (incident,) = page.incidents.values()
    assert [u["body"] for u in reversed(incident["incident_updates"])] == [
        "We are investigating.",
        "We found the cause.",
        "Fixed.",
    ]
    assert len(page.calls("create")) == 1
    retried = {d.id: d.attempts for d in deliveries if d.id in {x.id for x in in_flight}}
    assert sorted(retried.values()) == [2, 2]
