"""`cockpit doctor` service checks: a harmless authenticated call per target, against the fakes.

Good tokens pass, wrong tokens fail with the service's words and a fix naming the variable,
closed ports fail as unreachable; each is one line, and any failure exits non-zero. Nothing is
ever posted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import tomli_w

from cockpit.comms.probe import probe_services
from cockpit.comms.target import Outcome, Permanent, Preview, Retry, Sent, Target
from cockpit.config import Config
from tests.conftest import cli_env, run_cli
from tests.fakes import FakeSlack, FakeStatuspage, Hang, Reply, refused_url
from tests.fakes.wiring import (
    SLACK_TOKEN_ENV,
    STATUSPAGE_KEY_ENV,
    secrets_env,
    slack_table,
    statuspage_table,
)


@pytest.fixture
def fakes() -> Iterator[tuple[FakeSlack, FakeStatuspage]]:
    slack, page = FakeSlack().start(), FakeStatuspage().start()
    yield slack, page  # type: ignore[misc]
    slack.stop()
    page.stop()


def doctor(tmp_path: Path, tables: dict[str, Any], **env: str) -> tuple[int, list[str]]:
    config = tmp_path / "config.toml"
    config.write_text(tomli_w.dumps(tables))
    config.chmod(0o600)
    environment = cli_env(tmp_path / "c.db", config, TERM="xterm-256color", **env)
    done = run_cli("doctor", env=environment)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout.splitlines()


def line(lines: list[str], name: str) -> str:
    (found,) = [text for text in lines if text[6:].startswith(f"{name} ")]
    return found


def wired(slack: FakeSlack, page: FakeStatuspage, mode: str = "bot") -> dict[str, Any]:
    # Team sync (on in bot mode) has its own doctor check, tested in test_team_cli.py.
    return {
        "slack": slack_table(slack, mode),
        "statuspage": statuspage_table(page),
        "sync": {"enabled": False},
    }


def test_good_tokens_pass(tmp_path, fakes):
    slack, page = fakes
    status, lines = doctor(tmp_path, wired(slack, page), **secrets_env(slack, page))
    assert status == 0, lines
    assert line(lines, "slack") == (
        "ok    slack          bot token accepted (auth.test: cockpit in Fake Team); "
        "posts to C0INCIDENT"
    )
    assert line(lines, "statuspage") == "ok    statuspage     API key reads the page “Fake Status”"
    assert lines[-1].endswith(" 0 failed")
    assert [name for name, _ in slack.requests] == ["auth.test"]
    assert [name for name, _ in page.requests] == ["page"]
    assert slack.messages["C0INCIDENT"] == [] and page.incidents == {}  # nothing posted


def test_wrong_tokens_fail_naming_the_variable(tmp_path, fakes):
    slack, page = fakes
    env = {SLACK_TOKEN_ENV: "xoxb-revoked-0000", STATUSPAGE_KEY_ENV: "wrong-key"}
    status, lines = doctor(tmp_path, wired(slack, page), **env)
    assert status == 1
    assert line(lines, "slack") == (
        "FAIL  slack          Slack auth.test: invalid_auth — check the variable "
        "slack.token_env names and the other [slack] settings"
    )
    assert line(lines, "statuspage") == (
        "FAIL  statuspage     Statuspage: HTTP 401 Could not authenticate — check the "
        "variable statuspage.api_key_env names and the other [statuspage] settings"
    )
    assert lines[-1].endswith(" 2 failed")


def test_unreachable_hosts_fail_as_unreachable(tmp_path, fakes):
    slack, page = fakes
    tables = wired(slack, page)
    tables["slack"]["api_url"] = refused_url() + "/api"
    tables["statuspage"]["api_url"] = refused_url() + "/v1"
    status, lines = doctor(tmp_path, tables, **secrets_env(slack, page))
    assert status == 1
    for name in ("slack", "statuspage"):
        shown = line(lines, name)
        assert shown.startswith(f"FAIL  {name:<14} unreachable: could not connect"), shown
        assert shown.endswith(f"— check the network and {name}.api_url")


def test_a_missing_variable_fails_naming_it(tmp_path, fakes):
    slack, page = fakes
    env = {k: v for k, v in secrets_env(slack, page).items() if k != SLACK_TOKEN_ENV}
    status, lines = doctor(tmp_path, wired(slack, page), **env)
    assert status == 1
    assert line(lines, "slack") == (
        "FAIL  slack          slack.token_env: the environment variable it names is not set "
        "— set it in the environment cockpit runs in"
    )
    assert line(lines, "statuspage").startswith("ok ")
    assert slack.requests == []


def test_webhook_mode_is_a_warning_and_never_posts(tmp_path, fakes):
    slack, page = fakes
    status, lines = doctor(tmp_path, wired(slack, page, "webhook"), **secrets_env(slack, page))
    assert status == 0, lines
    assert line(lines, "slack") == (
        "warn  slack          webhook mode: no harmless call to check it with, so not checked "
        "(nothing was sent) — its first delivery will tell: watch `cockpit outbox`"
    )
    assert slack.requests == [] and slack.webhook_messages == []


def test_no_services_configured(tmp_path):
    status, lines = doctor(tmp_path, {"user": {"name": "alice"}})
    assert status == 0
    assert line(lines, "services") == (
        "ok    services       none configured: updates stay on the timeline"
    )


def test_an_echoed_secret_is_redacted_and_a_rate_limit_only_warns(tmp_path, fakes):
    slack, page = fakes
    slack.script("auth.test", Reply(401, f"denied for Bearer {slack.token}"))
    page.script("page", Reply(429, {"message": "slow down"}, {"Retry-After": "60"}))
    status, lines = doctor(tmp_path, wired(slack, page), **secrets_env(slack, page))
    assert status == 1
    shown = "\n".join(lines)
    assert slack.token not in shown and page.api_key not in shown
    assert line(lines, "slack").startswith("FAIL  slack          Slack auth.test: HTTP 401 denied")
    assert line(lines, "statuspage").startswith("warn  statuspage     reachable but rate limited")


# ---- any target: the probe contract, in process ---------------------------------------------


class Scripted(Target):
    """A target whose probe does what the test says (like the ones issue 7 adds)."""

    can_check: ClassVar[bool] = False

    def __init__(
        self, name: str, result: Any, seconds: float = 0.0, events: list[str] | None = None
    ) -> None:
        super().__init__(timeout=10.0)
        self.name = name  # type: ignore[misc]
        self.result = result
        self.seconds = seconds
        self.events = events if events is not None else []

    def render(self, message: Any) -> dict[str, Any]:
        return {}

    def describe(self, payload: Mapping[str, Any], *, continuing: bool) -> Preview:
        return Preview(self.name, "", "")

    async def post(self, http: httpx.AsyncClient, attempt: Any) -> Outcome:
        raise AssertionError("a probe never posts")

    async def probe(self, http: httpx.AsyncClient) -> Outcome | None:
        import asyncio

        self.events.append(f"start {self.name}")
        try:
            await asyncio.sleep(self.seconds)
        except asyncio.CancelledError:
            self.events.append(f"cut {self.name}")
            raise
        if isinstance(self.result, Exception):
            raise self.result
        return self.result

    def secrets(self) -> list[str]:
        return ["hunter2-secret"]


def test_every_outcome_of_any_target_is_one_line():
    targets: dict[str, Target] = {
        t.name: t
        for t in (
            Scripted("instatus", Sent(note="key reads page\nacme")),
            Scripted("betterstack", Permanent("HTTP 401 bad token hunter2-secret")),
            Scripted("pagerduty", None),
            Scripted("webhook", Retry("could not connect: refused")),
            Scripted("buggy", KeyError("hunter2-secret")),
        )
    }
    checks = probe_services(Config(), targets=targets)
    lines = [c.line() for c in checks]
    assert [c.name for c in checks] == list(targets)
    assert all("\n" not in text and "hunter2" not in text for text in lines)
    assert [c.ok for c in checks] == [True, False, True, False, False]
    assert checks[0].detail == "key reads page ⏎ acme"
    assert checks[1].fix == "check the [betterstack] settings"
    assert checks[2].warning and "not checked" in checks[2].detail
    assert checks[3].detail == "unreachable: could not connect: refused"
    assert "this is a cockpit bug" in checks[4].detail


def test_probes_run_concurrently_within_the_deadline():
    events: list[str] = []
    targets: dict[str, Target] = {
        name: Scripted(name, Sent(note="fine"), seconds=30, events=events)
        for name in ("one", "two", "three")
    }
    checks = probe_services(Config(), targets=targets, deadline=0.3)
    assert [c.detail for c in checks] == ["unreachable: no answer within 0.3 s"] * 3
    # Together, not one after another: all three were waiting when the deadline cut them.
    assert sorted(events[:3]) == ["start one", "start three", "start two"]
    assert sorted(events[3:]) == ["cut one", "cut three", "cut two"]


def test_a_hanging_service_is_cut_short(fakes, monkeypatch):
    slack, page = fakes
    for name, value in secrets_env(slack, page).items():
        monkeypatch.setenv(name, value)
    slack.script("auth.test", Hang(30))
    from cockpit.config import config_from_dict

    config = config_from_dict(
        {"slack": slack_table(slack, "bot", timeout=5), "sync": {"enabled": False}}
    )
    (check,) = probe_services(config, deadline=0.5)
    assert check.line().startswith("FAIL  slack          unreachable: no answer within 0.5 s")
    assert slack.hanging.is_set() and not slack.hang_over.is_set()  # cut while it still hung


# ---- every target of issue 7, against its fake ------------------------------------------------


@pytest.fixture
def all_fakes() -> Iterator[dict[str, Any]]:
    from tests.fakes.betterstack import FakeBetterstack
    from tests.fakes.instatus import FakeInstatus
    from tests.fakes.pagerduty import FakePagerDuty
    from tests.fakes.webhook import FakeWebhookReceiver

    fakes = {
        "slack": FakeSlack(),
        "statuspage": FakeStatuspage(),
        "instatus": FakeInstatus(),
        "betterstack": FakeBetterstack(),
        "pagerduty": FakePagerDuty(),
        "webhook": FakeWebhookReceiver(),
    }
    for fake in fakes.values():
        fake.start()
    yield fakes
    for fake in fakes.values():
        fake.stop()


def every_target(fakes: dict[str, Any]) -> dict[str, Any]:
    from tests.fakes.wiring import betterstack_table, instatus_table, pagerduty_table, webhook_table

    return {
        **wired(fakes["slack"], fakes["statuspage"]),
        "instatus": instatus_table(fakes["instatus"]),
        "betterstack": betterstack_table(fakes["betterstack"]),
        "pagerduty": pagerduty_table(fakes["pagerduty"]),
        "webhook": webhook_table(fakes["webhook"]),
    }


def every_secret(fakes: dict[str, Any]) -> dict[str, str]:
    from tests.fakes.wiring import service_secrets_env

    return {
        **secrets_env(fakes["slack"], fakes["statuspage"]),
        **service_secrets_env(fakes["instatus"], fakes["betterstack"], fakes["pagerduty"]),
    }


def test_every_target_is_checked_without_sending_anything(tmp_path, all_fakes):
    status, lines = doctor(tmp_path, every_target(all_fakes), **every_secret(all_fakes))
    assert status == 0, lines
    marks = {name: line(lines, name)[:4] for name in all_fakes}
    assert marks == {
        "slack": "ok  ",
        "statuspage": "ok  ",
        "instatus": "ok  ",
        "betterstack": "ok  ",
        "pagerduty": "warn",  # the Events API is write-only: a test trigger would page someone
        "webhook": "warn",  # any event sent would be acted on
    }
    assert all_fakes["pagerduty"].requests == [] and all_fakes["webhook"].requests == []


def test_wrong_secrets_fail_for_every_target_naming_the_variable(tmp_path, all_fakes):
    wrong = {name: "wrong-" + value[6:] for name, value in every_secret(all_fakes).items()}
    wrong["TEST_PAGERDUTY_KEY"] = "not-32-chars"
    status, lines = doctor(tmp_path, every_target(all_fakes), **wrong)
    assert status == 1
    for name, key in [
        ("slack", "slack.token_env"),
        ("statuspage", "statuspage.api_key_env"),
        ("instatus", "instatus.api_key_env"),
        ("betterstack", "betterstack.api_key_env"),
        ("pagerduty", "pagerduty.routing_key_env"),
    ]:
        shown = line(lines, name)
        assert shown.startswith(f"FAIL  {name:<14}"), shown
        assert key in shown, shown
        assert "TEST_" not in shown, shown  # the key, never the value it holds
    assert not any(value in "\n".join(lines) for value in wrong.values() if len(value) > 8)
