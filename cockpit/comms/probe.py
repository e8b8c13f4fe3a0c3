"""Service checks for `cockpit doctor`: one harmless authenticated call per configured target.

Every target's `probe()` runs at once, each within a short deadline, through the same bounded
client as deliveries. Nothing is ever posted. The outcome becomes one `Check` line: ok, a
failure with the service's own words and a fix naming the setting or variable to look at, or a
warning when the service has no harmless call.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping

import httpx

from cockpit.comms import transport
from cockpit.comms.scrubber import Scrubber
from cockpit.comms.slack_thread import SYNC_SCOPES, SlackFailure, SlackThreadApi
from cockpit.comms.target import (
    MissingSecret,
    Outcome,
    Permanent,
    Retry,
    Sent,
    Target,
    scrubber_for,
    transport_outcome,
)
from cockpit.comms.targets import configured_targets
from cockpit.config import Config, SlackConfig
from cockpit.doctor import Check
from cockpit.domain import one_line, system_clock

PROBE_SECONDS = 5.0
"""Longest any one service check may take (they run concurrently)."""


def probe_services(
    config: Config,
    *,
    deadline: float = PROBE_SECONDS,
    targets: Mapping[str, Target] | None = None,
) -> list[Check]:
    """One check per configured target, in the configured order."""
    chosen = dict(targets if targets is not None else configured_targets(config))
    if not chosen:
        return [Check("services", True, "none configured: updates stay on the timeline")]
    return asyncio.run(_probe_all(config, chosen, deadline))


async def _probe_all(config: Config, targets: dict[str, Target], deadline: float) -> list[Check]:
    scrubber = scrubber_for(targets.values())
    async with transport.client() as http:
        checks = await asyncio.gather(
            *(_probe_one(config, target, http, deadline) for target in targets.values())
        )
        if config.sync_enabled and config.slack is not None:
            checks.append(await _probe_sync(config.slack, http, deadline))
    # Every line passes through one scrubber fed by every target's secrets.
    return [
        dataclasses.replace(
            check, detail=_shown(scrubber, check.detail), fix=_shown(scrubber, check.fix)
        )
        for check in checks
    ]


async def _probe_sync(slack: SlackConfig, http: httpx.AsyncClient, deadline: float) -> Check:
    """Team sync: the token's scopes, and whether Slack throttles this app's reads to one a
    minute (an app that is not internal), which would make sharing impossible."""
    api = SlackThreadApi(slack, http, system_clock)
    query = {"channel": slack.channel.strip(), "limit": "1"}
    try:
        async with asyncio.timeout(min(deadline, slack.timeout_seconds) * 2):
            identity = await api.identity()
            missing = identity.missing_scopes()
            if missing:
                return Check(
                    "sync",
                    False,
                    f"the bot token lacks the scopes {', '.join(missing)}",
                    "add them to the Slack app (`cockpit slack-manifest` lists them) and "
                    "reinstall it",
                )
            for _ in range(2):  # a second read in a row shows a one-a-minute limit
                await api.call("conversations.history", query, read=True)
    except TimeoutError:
        return Check("sync", False, "Slack did not answer in time", "check the network")
    except MissingSecret as exc:
        return Check("sync", False, str(exc), _secret_fix(exc))
    except SlackFailure as exc:
        if exc.throttled:
            return Check(
                "sync",
                True,
                f"Slack allows this app one read a minute ({exc.reason}): sharing cannot keep up",
                "create an internal app from `cockpit slack-manifest` and use its token",
                warning=True,
            )
        return Check(
            "sync", False, one_line(exc.reason), "check slack.channel and the bot's scopes"
        )
    return Check("sync", True, f"thread reads allowed; scopes {', '.join(SYNC_SCOPES)} granted")


def _shown(scrubber: Scrubber, text: str) -> str:
    return scrubber.scrub(one_line(text))


async def _probe_one(
    config: Config, target: Target, http: httpx.AsyncClient, deadline: float
) -> Check:
    # Short: never longer than the deadline, nor than the target's own timeout.
    seconds = min(deadline, target.timeout)
    outcome: Outcome | None
    try:
        async with asyncio.timeout(seconds):
            outcome = await target.probe(http)
    except TimeoutError:
        outcome = Retry(f"no answer within {seconds:g} s")
    except MissingSecret as exc:
        return Check(target.name, False, str(exc), _secret_fix(exc))
    except httpx.TransportError as exc:
        outcome = transport_outcome(exc, target.timeout)
    except Exception as exc:  # a bug in one target must not hide the other checks
        detail = one_line(f"{type(exc).__name__}: {exc}")
        return Check(target.name, False, f"unexpected error ({detail}); this is a cockpit bug")
    return _check(config, target, outcome)


def _check(config: Config, target: Target, outcome: Outcome | None) -> Check:
    name = target.name
    settings = _settings(target)
    if outcome is None:
        mode = settings.get("mode")
        lead = f"{mode} mode: " if isinstance(mode, str) and mode else ""
        return Check(
            name,
            True,
            f"{lead}no harmless call to check it with, so not checked (nothing was sent)",
            "its first delivery will tell: watch `cockpit outbox`",
            warning=True,
        )
    if isinstance(outcome, Sent):
        return Check(name, True, outcome.note or "credentials accepted")
    if isinstance(outcome, Permanent):
        return Check(name, False, outcome.error, _credential_fix(config, target))
    reason = outcome.reason
    if outcome.after is not None:  # answered, but rate limited: reachable, not verified
        return Check(
            name, True, f"reachable but rate limited ({reason}); not verified", warning=True
        )
    where = f"{name}.api_url" if "api_url" in settings else f"the [{name}] table"
    return Check(name, False, f"unreachable: {reason}", f"check the network and {where}")


def _settings(target: Target) -> dict[str, object]:
    """The target's configuration table as a dict (targets keep it as `config`), if any."""
    table = getattr(target, "config", None)
    if table is None or not dataclasses.is_dataclass(table) or isinstance(table, type):
        return {}
    found: dict[str, object] = {f.name: getattr(table, f.name) for f in dataclasses.fields(table)}
    mode = getattr(table, "mode", None)
    if isinstance(mode, str):
        found["mode"] = mode
    return found


def _secret_fix(missing: MissingSecret) -> str:
    if missing.env:
        return "set it in the environment cockpit runs in"
    return "fix the key named"


def _credential_fix(config: Config, target: Target) -> str:
    """Where the secret comes from: the variable a `*_env` key names (never its value: a
    secret pasted there by mistake would be shown), or the file's key."""
    settings = _settings(target)
    name = target.name
    for key, value in settings.items():
        if key.endswith("_env") and isinstance(value, str) and value:
            return f"check the variable {name}.{key} names and the other [{name}] settings"
    literal = [k for k, v in settings.items() if f"{k}_env" in settings and v]
    if literal:
        where = f" in {config.source}" if config.source else ""
        return f"check {name}.{literal[0]}{where} and the other [{name}] settings"
    return f"check the [{name}] settings"
