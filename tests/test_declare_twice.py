"""`cockpit declare` with team sync on looks in the Slack channel first: an open cockpit
incident there is printed with the `cockpit join` command and nothing is declared (exit 1)
unless --new is given. A resolved or day-old incident, another app's look-alike root, or an
incident this laptop holds already are told apart; Slack down never stops a declaration."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.slack import TEAM_URL, FakeSlack
from tests.fakes.team import Laptop, permalink


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.start()
    yield fake
    fake.stop()


def run(laptop: Laptop, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        laptop._argv(*args), env=laptop.env, input="", capture_output=True, text=True, timeout=120
    )


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, done.stderr
    return done


def incidents(laptop: Laptop) -> list[str]:
    listed = run(laptop, "list")
    return [line.split()[0] for line in listed.stdout.splitlines() if line.startswith("INC-")]


@pytest.fixture
def alice(tmp_path: Path, slack: FakeSlack) -> Laptop:
    laptop = Laptop("alice", tmp_path / "alice", slack)
    ok(run(laptop, "declare", "Checkout API errors", "-s", "SEV-2", "--new"))
    ok(run(laptop, "sync"))
    return laptop


def test_an_open_incident_in_the_channel_is_offered_and_nothing_is_declared(
    tmp_path: Path, slack: FakeSlack, alice: Laptop
) -> None:
    bob = Laptop("bob", tmp_path / "bob", slack)
    refused = run(bob, "declare", "Checkout is down")
    assert refused.returncode == 1
    lines = refused.stderr.splitlines()
    assert lines[0].startswith(
        "cockpit: already open in the Slack channel: SEV-2 · Checkout API errors · declared "
    )
    assert " by alice; join it with: cockpit join " in lines[0]
    assert lines[-1] == "cockpit: nothing declared; --new declares another all the same"
    assert incidents(bob) == []
    link = lines[0].split("cockpit join ")[1]
    assert link == permalink(slack) and link.startswith(TEAM_URL)
    assert ok(run(bob, "join", link)).stdout.strip() == "INC-1"  # the printed command works
    ok(run(bob, "declare", "Something else entirely", "--new"))
    assert incidents(bob) == ["INC-2", "INC-1"] or sorted(incidents(bob)) == ["INC-1", "INC-2"]


def test_an_incident_held_here_already_is_named_by_its_local_id(alice: Laptop) -> None:
    refused = run(alice, "declare", "Checkout again")
    assert refused.returncode == 1
    assert "it is here as INC-1: cockpit show INC-1" in refused.stderr
    assert incidents(alice) == ["INC-1"]


def test_a_resolved_incident_is_not_offered(
    tmp_path: Path, slack: FakeSlack, alice: Laptop
) -> None:
    ok(run(alice, "status", "resolved"))
    ok(run(alice, "sync"))
    bob = Laptop("bob", tmp_path / "bob", slack)
    ok(run(bob, "declare", "A new outage"))  # bob never held it: its thread says resolved
    again = ok(run(alice, "declare", "Another one"))  # alice holds it, resolved
    assert "already open" not in again.stderr


def test_a_day_old_quiet_incident_is_not_offered(
    tmp_path: Path, slack: FakeSlack, alice: Laptop
) -> None:
    tomorrow = Laptop("bob", tmp_path / "bob", slack, skew=25 * 3600)
    done = ok(run(tomorrow, "declare", "A new outage"))
    assert "already open" not in done.stderr


def test_another_apps_look_alike_root_is_not_offered(
    tmp_path: Path, slack: FakeSlack, alice: Laptop
) -> None:
    with slack.lock:
        (root,) = slack.roots()
        root.update(bot_id="B0OTHER", app_id="A0OTHER")
        root["bot_profile"] = {"id": "B0OTHER", "name": "Other", "app_id": "A0OTHER"}
    bob = Laptop("bob", tmp_path / "bob", slack)
    ok(run(bob, "declare", "A new outage"))


def test_slack_down_is_said_in_one_line_and_the_incident_declared(
    tmp_path: Path, slack: FakeSlack, alice: Laptop
) -> None:
    slack.outage(600)
    bob = Laptop("bob", tmp_path / "bob", slack)
    done = ok(run(bob, "declare", "Checkout is down"))
    (note,) = done.stderr.splitlines()
    assert note.startswith("cockpit: note: could not look for an open incident in Slack (")
    assert note.endswith("); declaring all the same")
    assert done.stdout.splitlines()[0] == "INC-1"
    shown = json.loads(run(bob, "show", "--json").stdout)
    assert shown["title"] == "Checkout is down"
