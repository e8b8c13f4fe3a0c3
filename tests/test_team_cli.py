"""The team-sync commands as a person types them: `cockpit join`, `cockpit sync`,
`cockpit slack-manifest`, the `[sync]` table and `cockpit doctor`'s sync check."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.config import ConfigError, config_from_dict
from tests.fakes.slack import FakeSlack
from tests.fakes.team import Laptop, permalink


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.start()
    yield fake
    fake.stop()


def test_sync_is_on_exactly_in_bot_mode_unless_said_otherwise() -> None:
    bot = {"token_env": "T", "channel": "C0INCIDENT"}
    assert config_from_dict({"slack": bot}).sync_enabled
    assert not config_from_dict({"slack": {"webhook_url_env": "W"}}).sync_enabled
    assert not config_from_dict({}).sync_enabled
    assert not config_from_dict({"slack": bot, "sync": {"enabled": False}}).sync_enabled
    with pytest.raises(ConfigError, match=r"sync.enabled: .*bot mode"):
        config_from_dict({"sync": {"enabled": True}})
    with pytest.raises(ConfigError, match=r"sync.poll_seconds: expected seconds"):
        config_from_dict({"slack": bot, "sync": {"poll_seconds": 0}})
    with pytest.raises(ConfigError, match=r"sync.idle_poll_seconds: expected a number"):
        config_from_dict({"slack": bot, "sync": {"idle_poll_seconds": "15"}})
    with pytest.raises(ConfigError, match=r"sync.every: unknown key"):
        config_from_dict({"slack": bot, "sync": {"every": 5}})


@pytest.mark.slow
def test_join_sync_and_their_errors(tmp_path: Path, slack: FakeSlack) -> None:
    alice = Laptop("alice", tmp_path / "alice", slack)
    bob = Laptop("bob", tmp_path / "bob", slack)
    assert alice.cli("declare", "API down").returncode == 0
    first = alice.cli("sync")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("INC-1: 0 sent"), first.stdout
    assert alice.cli("log", "rolled back").returncode == 0
    second = alice.cli("sync", "--wait", "30")
    assert second.returncode == 0 and "1 sent" in second.stdout, second.stdout
    joined = bob.cli("join", permalink(slack))
    assert joined.returncode == 0 and joined.stdout == "INC-1\n", joined.stderr
    again = bob.cli("join", permalink(slack))  # joining twice is the same incident
    assert again.stdout == "INC-1\n"
    shown = json.loads(bob.cli("show", "--json").stdout)
    assert "rolled back" in [e["text"] for e in shown["entries"]]
    assert shown["thread"]["ts"] == slack.roots()[0]["ts"]
    # A malformed link is a usage error; a thread that is no incident, exit 1 with one line.
    bad = bob.cli("join", "https://example.com/archives/C0INCIDENT/p1")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    slack.add_user("U0DAVE", "dave")
    person = slack.say("U0DAVE", "hello", None)
    link = f"https://fake-team.slack.com/archives/C0INCIDENT/p{person['ts'].replace('.', '')}"
    other = bob.cli("join", link)
    assert other.returncode == 1 and "not a cockpit incident" in other.stderr
    assert other.stderr.count("\n") == 1 and "Traceback" not in other.stderr
    # Slack down: one round fails with exit 1 and says how it stands; --wait gives up.
    slack.outage(3600)
    assert bob.cli("log", "offline note").returncode == 0
    down = bob.cli("sync")
    assert down.returncode == 1 and "offline since" in down.stdout
    assert "1 entry waiting" in down.stdout, down.stdout
    waited = bob.cli("sync", "--wait", "1")
    assert waited.returncode == 1 and "not settled after 1 s" in waited.stderr


def test_sync_without_a_token_says_which_variable(tmp_path: Path, slack: FakeSlack) -> None:
    alice = Laptop("alice", tmp_path / "alice", slack)
    assert alice.cli("declare", "API down").returncode == 0
    del alice.env["TEST_SLACK_TOKEN"]
    done = alice.cli("sync")
    assert done.returncode == 1 and "slack.token_env" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1


def test_slack_manifest_has_exactly_the_scopes_and_says_why_internal(
    tmp_path: Path, slack: FakeSlack
) -> None:
    done = Laptop("alice", tmp_path / "alice", slack).cli("slack-manifest")
    manifest = json.loads(done.stdout)
    assert manifest["oauth_config"]["scopes"]["bot"] == [
        "chat:write",
        "channels:history",
        "groups:history",
        "users:read",
    ]
    assert "one thread read a minute" in done.stderr


def test_doctor_checks_scopes_and_throttled_reads(tmp_path: Path, slack: FakeSlack) -> None:
    alice = Laptop("alice", tmp_path / "alice", slack)
    good = alice.cli("doctor")
    assert any(line.startswith("ok    sync") for line in good.stdout.splitlines()), good.stdout
    slack.scopes = ("chat:write", "channels:history")
    lacking = alice.cli("doctor")
    assert "lacks the scopes groups:history, users:read" in lacking.stdout
    assert lacking.returncode == 1
    slack.scopes = ("chat:write", "channels:history", "groups:history", "users:read")
    slack.non_marketplace = True
    throttled = alice.cli("doctor")
    (line,) = [t for t in throttled.stdout.splitlines() if t[6:].startswith("sync ")]
    assert line.startswith("warn") and "one read a minute" in line
