"""`cockpit update` asks what the composer asks before publishing: a teammate's update that
arrived (read from the Slack thread first), someone else holding the communicator role. A
terminal is asked; a script is refused (exit 1, nothing queued) unless it passes --yes. Slack
being down never stops an update: it is said in one line."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cockpit.cli import main
from tests.conftest import run_cli
from tests.fakes.slack import FakeSlack
from tests.fakes.team import Laptop, permalink


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.start()
    yield fake
    fake.stop()


def run(laptop: Laptop, *args: str) -> subprocess.CompletedProcess[str]:
    """A command with standard input that is not a terminal (as a script runs it)."""
    return subprocess.run(
        laptop._argv(*args),
        env=laptop.env,
        input="",
        capture_output=True,
        text=True,
        timeout=120,
    )


def updates(laptop: Laptop) -> list[str]:
    shown = json.loads(run(laptop, "show", "--json").stdout)
    return [e["text"] for e in shown["entries"] if e["kind"] == "update"]


def ok(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_a_teammates_update_in_the_thread_is_read_and_asked_about(
    tmp_path: Path, slack: FakeSlack
) -> None:
    alice = Laptop("alice", tmp_path / "alice", slack)
    bob = Laptop("bob", tmp_path / "bob", slack)
    ok(run(alice, "declare", "Checkout API errors", "-s", "SEV-2"))
    ok(run(alice, "sync"))
    ok(run(bob, "join", permalink(slack)))
    ok(run(bob, "update", "-m", "Payments fail for 5% of customers."))
    ok(run(bob, "deliver"))  # the update's Slack reply carries it into the thread
    ok(run(bob, "sync"))

    refused = run(alice, "update", "-m", "We are rolling back.")
    assert refused.returncode == 1
    assert "bob published an update at" in refused.stderr
    assert "“Payments fail for 5% of customers.”" in refused.stderr
    assert "nothing published; --yes publishes all the same" in refused.stderr
    assert updates(alice) == ["Payments fail for 5% of customers."]  # read, not ours queued

    # Asked once: the same update does not stop the next try (it was seen), --yes or not.
    ok(run(alice, "update", "-m", "We are rolling back."))
    assert updates(alice)[-1] == "We are rolling back."


def test_slack_down_is_said_and_the_update_is_published_all_the_same(
    tmp_path: Path, slack: FakeSlack
) -> None:
    alice = Laptop("alice", tmp_path / "alice", slack)
    ok(run(alice, "declare", "Checkout API errors", "-s", "SEV-2"))
    ok(run(alice, "sync"))
    slack.outage(600)
    done = run(alice, "update", "-m", "Still on it.")
    assert done.returncode == 0, done.stderr
    (line,) = [line for line in done.stderr.splitlines() if "could not read" in line]
    assert line.startswith("cockpit: note: could not read the Slack thread")
    assert updates(alice) == ["Still on it."]


@pytest.fixture
def declared(tmp_path: Path) -> dict[str, Path]:
    config = tmp_path / "config.toml"
    config.write_text('[user]\nname = "alice"\n')
    db = tmp_path / "c.db"
    done = run_cli("declare", "Checkout", "-s", "SEV-1", db=db, config=config)
    assert done.returncode == 0, done.stderr
    done = run_cli("assign", "communicator", "bob", db=db, config=config)
    assert done.returncode == 0, done.stderr
    return {"db": db, "config": config}


def shown_updates(files: dict[str, Path]) -> list[str]:
    shown = json.loads(run_cli("show", "--json", **files).stdout)  # type: ignore[arg-type]
    return [e["text"] for e in shown["entries"] if e["kind"] == "update"]


def test_someone_else_being_communicator_refuses_a_script_until_yes(
    declared: dict[str, Path],
) -> None:
    refused = run_cli("update", "-m", "Ours.", input="", **declared)  # type: ignore[arg-type]
    assert refused.returncode == 1
    assert "cockpit: bob is communicator, not you (alice)" in refused.stderr
    assert shown_updates(declared) == []
    done = run_cli("update", "-m", "Ours.", "--yes", input="", **declared)  # type: ignore[arg-type]
    assert done.returncode == 0, done.stderr
    assert shown_updates(declared) == ["Ours."]


def test_the_communicator_and_a_dry_run_are_never_asked(declared: dict[str, Path]) -> None:
    dry = run_cli("update", "-m", "Ours.", "--dry-run", input="", **declared)  # type: ignore[arg-type]
    assert dry.returncode == 0, dry.stderr
    declared["config"].write_text('[user]\nname = "Bob"\n')
    done = run_cli("update", "-m", "Ours.", input="", **declared)  # type: ignore[arg-type]
    assert done.returncode == 0, done.stderr
    assert shown_updates(declared) == ["Ours."]


def test_a_laptop_without_a_name_says_so_rather_than_guessing(declared: dict[str, Path]) -> None:
    declared["config"].write_text("")
    refused = run_cli("update", "-m", "Ours.", input="", **declared)  # type: ignore[arg-type]
    assert refused.returncode == 1
    assert "this laptop has no [user] name to tell whether that is you" in refused.stderr


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "status", "published"), [("y\n", 0, ["Ours."]), ("\n", 1, [])])
def test_a_terminal_is_asked(
    declared: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answer: str,
    status: int,
    published: list[Any],
) -> None:
    monkeypatch.setattr("sys.stdin", Terminal(answer))
    args = ["--config", str(declared["config"]), "--db", str(declared["db"])]
    assert main([*args, "update", "-m", "Ours."]) == status
    assert "Publish yours all the same? [y/N]" in capsys.readouterr().out
    assert shown_updates(declared) == published
