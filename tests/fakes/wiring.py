"""Configurations wired to the fakes, and a sleep that moves a fake clock instead of waiting."""

from __future__ import annotations

import asyncio
from typing import Any

from cockpit.config import Config, config_from_dict
from tests.fakes.slack import FakeSlack
from tests.fakes.statuspage import FakeStatuspage

SLACK_TOKEN_ENV = "TEST_SLACK_TOKEN"
SLACK_WEBHOOK_ENV = "TEST_SLACK_WEBHOOK_URL"
STATUSPAGE_KEY_ENV = "TEST_STATUSPAGE_KEY"


def slack_table(fake: FakeSlack, mode: str, timeout: float = 0.5) -> dict[str, Any]:
    if mode == "webhook":
        return {"webhook_url_env": SLACK_WEBHOOK_ENV, "timeout_seconds": timeout}
    return {
        "token_env": SLACK_TOKEN_ENV,
        "channel": "C0INCIDENT",
        "api_url": fake.api_url,
        "timeout_seconds": timeout,
    }


def statuspage_table(fake: FakeStatuspage, timeout: float = 0.5) -> dict[str, Any]:
    return {
        "page_id": fake.page_id,
        "api_key_env": STATUSPAGE_KEY_ENV,
        "api_url": fake.api_url,
        "component_ids": list(fake.components),
        "timeout_seconds": timeout,
    }


def secrets_env(
    slack: FakeSlack | None = None, statuspage: FakeStatuspage | None = None
) -> dict[str, str]:
    env = {}
    if slack is not None:
        env[SLACK_TOKEN_ENV] = slack.token
        env[SLACK_WEBHOOK_ENV] = slack.webhook_url
    if statuspage is not None:
        env[STATUSPAGE_KEY_ENV] = statuspage.api_key
    return env


def wired_config(
    slack: FakeSlack | None = None,
    statuspage: FakeStatuspage | None = None,
    *,
    mode: str = "bot",
    timeout: float = 0.5,
) -> Config:
    tables: dict[str, Any] = {}
    if slack is not None:
        tables["slack"] = slack_table(slack, mode, timeout)
        # These configurations test delivery; team sync (on in bot mode) has its own tests.
        tables["sync"] = {"enabled": False}
    if statuspage is not None:
        tables["statuspage"] = statuspage_table(statuspage, timeout)
    return config_from_dict(tables)


class FakeSleep:
    """`await sleep(s)` advances the fake clock by `s` at once and records it."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.advance(seconds=seconds)
        await asyncio.sleep(0)


# ---- issue 7: Instatus, Better Stack, a webhook receiver, PagerDuty -----------------------

INSTATUS_KEY_ENV = "TEST_INSTATUS_KEY"
BETTERSTACK_TOKEN_ENV = "TEST_BETTERSTACK_TOKEN"
WEBHOOK_SECRET_ENV = "TEST_WEBHOOK_SECRET"
PAGERDUTY_KEY_ENV = "TEST_PAGERDUTY_KEY"
WEBHOOK_SECRET = "whsec-fake-shared-secret-0123456789"


def instatus_table(fake: Any, timeout: float = 0.5) -> dict[str, Any]:
    return {
        "page_id": fake.page_id,
        "api_key_env": INSTATUS_KEY_ENV,
        "api_url": fake.url,
        "component_ids": list(fake.components),
        "timeout_seconds": timeout,
    }


def betterstack_table(fake: Any, timeout: float = 0.5, notify: bool = True) -> dict[str, Any]:
    return {
        "status_page_id": fake.status_page_id,
        "notify_subscribers": notify,
        "api_key_env": BETTERSTACK_TOKEN_ENV,
        "api_url": fake.url,
        "resource_ids": sorted(fake.resources),
        "timeout_seconds": timeout,
    }


def webhook_table(fake: Any, timeout: float = 0.5, signed: bool = True) -> dict[str, Any]:
    table: dict[str, Any] = {"url": fake.hook_url, "timeout_seconds": timeout}
    if signed:
        table["secret_env"] = WEBHOOK_SECRET_ENV
    return table


def pagerduty_table(
    fake: Any, timeout: float = 0.5, severities: tuple[str, ...] = ("SEV-1",)
) -> dict[str, Any]:
    return {
        "routing_key_env": PAGERDUTY_KEY_ENV,
        "events_url": fake.events_url,
        "page_severities": list(severities),
        "timeout_seconds": timeout,
    }


def service_secrets_env(
    instatus: Any = None, betterstack: Any = None, pagerduty: Any = None
) -> dict[str, str]:
    env = {WEBHOOK_SECRET_ENV: WEBHOOK_SECRET}
    if instatus is not None:
        env[INSTATUS_KEY_ENV] = instatus.api_key
    if betterstack is not None:
        env[BETTERSTACK_TOKEN_ENV] = betterstack.token
    if pagerduty is not None:
        env[PAGERDUTY_KEY_ENV] = pagerduty.routing_key
    return env
