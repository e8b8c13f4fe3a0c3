"""The checks of the service tables and of every key that may hold a secret: modes, ids, URLs
and ports, variable names, severity mappings, and files that must be private. A message never
echoes a value that may be a secret."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from cockpit.config.fields import SECRET, ConfigError
from cockpit.config.services import (
    BETTERSTACK_RESOURCE_STATUSES,
    INSTATUS_COMPONENT_STATUSES,
    STATUSPAGE_COMPONENT_STATUSES,
    STATUSPAGE_IMPACTS,
)
from cockpit.config.tables import Config
from cockpit.secrets import credential_problem, has_credentials, url_problem, without_credentials

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_targets(config: Config, where: str, path: Path | None) -> None:
    """Validate `[slack]` and `[statuspage]`. Never echo a value: it may be a secret."""
    literal_secrets: list[str] = []
    slack = config.slack
    if slack is not None:
        webhook = bool(slack.webhook_url or slack.webhook_url_env)
        bot = bool(slack.token or slack.token_env or slack.channel)
        if webhook and bot:
            raise ConfigError(
                f"{where}: slack: choose webhook mode (webhook_url_env) or bot mode "
                "(token_env and channel), not both"
            )
        if not webhook and not bot:
            raise ConfigError(
                f"{where}: slack: set webhook_url_env (webhook mode) or token_env and channel "
                "(bot mode)"
            )
        if slack.webhook_url and slack.webhook_url_env:
            raise ConfigError(f"{where}: slack: set webhook_url or webhook_url_env, not both")
        if slack.token and slack.token_env:
            raise ConfigError(f"{where}: slack: set token or token_env, not both")
        if bot and not (slack.token or slack.token_env):
            raise ConfigError(f"{where}: slack.token_env: missing (bot mode needs a token)")
        if bot and not slack.channel.strip():
            raise ConfigError(f"{where}: slack.channel: missing (the channel id, like C0123ABC)")
        _check_secret_url(
            slack.webhook_url, slack.webhook_url_env, "slack.webhook_url", "https://", where
        )
        _check_url(slack.api_url, "slack.api_url", where)
        _check_env_name(slack.token_env, "slack.token_env", where)
        literal_secrets += [f"slack.{k}" for k in ("webhook_url", "token") if getattr(slack, k)]
    page = config.statuspage
    if page is not None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", page.page_id):
            raise ConfigError(
                f"{where}: statuspage.page_id: expected the page id, like gytm4qzbx9t6"
            )
        _check_pair(
            "statuspage", "api_key", page.api_key, page.api_key_env, "the API key's variable", where
        )
        _check_url(page.api_url, "statuspage.api_url", where)
        _check_env_name(page.api_key_env, "statuspage.api_key_env", where)
        severities = [s.name for s in config.severities]
        _check_mapping("statuspage.impact", page.impact, STATUSPAGE_IMPACTS, severities, where)
        statuses = STATUSPAGE_COMPONENT_STATUSES
        _check_mapping(
            "statuspage.component_status", page.component_status, statuses, severities, where
        )
        if page.api_key:
            literal_secrets.append("statuspage.api_key")
    if literal_secrets and path is not None:
        _check_private(path, literal_secrets[0], where)


def check_services(config: Config, where: str, path: Path | None) -> None:
    """Validate `[instatus]`, `[betterstack]`, `[webhook]` and `[pagerduty]`; never echo a
    value that may be a secret."""
    literal_secrets: list[str] = []
    severities = [s.name for s in config.severities]

    def secret_pair(table: str, key: str, literal: str, env_name: str, what: str) -> None:
        _check_pair(table, key, literal, env_name, what, where)
        _check_env_name(env_name, f"{table}.{key}_env", where)
        if literal:
            literal_secrets.append(f"{table}.{key}")

    def mapping(table: str, key: str, values: dict[str, str], allowed: tuple[str, ...]) -> None:
        _check_mapping(f"{table}.{key}", values, allowed, severities, where)

    def ids(table: str, key: str, values: list[str], why: str) -> None:
        if not values:
            raise ConfigError(f"{where}: {table}.{key}: missing ({why})")
        for index, value in enumerate(values):
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
                raise ConfigError(f"{where}: {table}.{key}[{index}]: expected an id, got {value!r}")

    instatus = config.instatus
    if instatus is not None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", instatus.page_id):
            raise ConfigError(f"{where}: instatus.page_id: expected the page id")
        secret_pair("instatus", "api_key", instatus.api_key, instatus.api_key_env, "the API key")
        _check_url(instatus.api_url, "instatus.api_url", where)
        ids(
            "instatus",
            "component_ids",
            instatus.component_ids,
            "Instatus requires the affected components on every incident update",
        )
        mapping(
            "instatus", "component_status", instatus.component_status, INSTATUS_COMPONENT_STATUSES
        )
    better = config.betterstack
    if better is not None:
        if not re.fullmatch(r"[0-9A-Za-z_-]{1,64}", better.status_page_id):
            raise ConfigError(f"{where}: betterstack.status_page_id: expected the status page id")
        if better.notify_subscribers is None:
            raise ConfigError(
                f"{where}: betterstack.notify_subscribers: missing; choose true or false "
                "(Better Stack's own defaults differ: true for a new report, false for updates)"
            )
        secret_pair("betterstack", "api_key", better.api_key, better.api_key_env, "the API token")
        _check_url(better.api_url, "betterstack.api_url", where)
        ids(
            "betterstack",
            "resource_ids",
            better.resource_ids,
            "Better Stack requires the affected resources on every status update",
        )
        mapping(
            "betterstack",
            "resource_status",
            better.resource_status,
            BETTERSTACK_RESOURCE_STATUSES[1:],
        )
    hook = config.webhook
    if hook is not None:
        if not (hook.url or hook.url_env):
            raise ConfigError(f"{where}: webhook.url: missing (where to POST events)")
        if hook.url and hook.url_env:
            raise ConfigError(f"{where}: webhook: set url or url_env, not both")
        _check_secret_url(hook.url, hook.url_env, "webhook.url", "http(s)://", where)
        if hook.secret and hook.secret_env:
            raise ConfigError(f"{where}: webhook: set secret or secret_env, not both")
        _check_env_name(hook.secret_env, "webhook.secret_env", where)
        if hook.secret:
            literal_secrets.append("webhook.secret")
    pager = config.pagerduty
    if pager is not None:
        secret_pair(
            "pagerduty",
            "routing_key",
            pager.routing_key,
            pager.routing_key_env,
            "the integration's routing key",
        )
        _check_url(pager.events_url, "pagerduty.events_url", where)
        if not pager.page_severities:
            raise ConfigError(
                f"{where}: pagerduty.page_severities: empty; name the severities that page "
                '(like ["SEV-1"]) or remove the [pagerduty] table'
            )
        for index, sev in enumerate(pager.page_severities):
            if sev not in severities:
                raise ConfigError(
                    f"{where}: pagerduty.page_severities[{index}]: unknown severity {sev!r} "
                    f"(expected one of {', '.join(severities)})"
                )
        if not pager.source.strip():
            raise ConfigError(f"{where}: pagerduty.source: empty (the name PagerDuty shows)")
    if literal_secrets and path is not None:
        _check_private(path, literal_secrets[0], where)


def check_secrets(config: Config, where: str, path: Path | None) -> None:
    """Every field that may hold a secret (`SECRET` metadata), whatever its table: a literal
    credential cockpit could not keep out of what it stores and shows is refused, and a URL
    carrying a user, password or query makes the file one that must be private."""
    tables = [(f.name, getattr(config, f.name)) for f in dataclasses.fields(config)]
    found = [(name, table) for name, table in tables if dataclasses.is_dataclass(table)]
    private: list[str] = []
    for name, table in found:
        for fld in dataclasses.fields(table):
            kind = fld.metadata.get(SECRET)
            value = getattr(table, fld.name)
            if kind not in ("header", "text", "url", "endpoint") or not value:
                continue
            key = f"{name}.{fld.name}"
            if kind in ("url", "endpoint"):
                problem = url_problem(value)
                if has_credentials(value):
                    private.append(key)
            else:
                problem = credential_problem(value, header=kind == "header")
            if problem:
                raise ConfigError(f"{where}: {key}: {problem}")
    if private and path is not None:
        _check_private(path, private[0], where)


def _check_pair(table: str, key: str, literal: str, env_name: str, what: str, where: str) -> None:
    """A secret given either literally (`key`) or by its variable's name (`key_env`): one."""
    if not (literal or env_name):
        raise ConfigError(f"{where}: {table}.{key}_env: missing ({what})")
    if literal and env_name:
        raise ConfigError(f"{where}: {table}: set {key} or {key}_env, not both")


def _check_mapping(
    key: str, values: dict[str, str], allowed: tuple[str, ...], severities: list[str], where: str
) -> None:
    """A severity -> service value table: known severities, values the service takes."""
    for sev, value in values.items():
        if sev not in severities:
            raise ConfigError(
                f"{where}: {key}.{sev}: unknown severity (expected one of {', '.join(severities)})"
            )
        if value not in allowed:
            raise ConfigError(
                f"{where}: {key}.{sev}: expected one of {', '.join(allowed)}, got {value!r}"
            )


def _is_http_url(value: str) -> bool:
    return re.match(r"https?://[^\s/]+", value) is not None


def _check_url(value: str, key: str, where: str) -> None:
    if not _is_http_url(value):
        shown = without_credentials(value)  # the rest may be a password or a token
        raise ConfigError(f"{where}: {key}: expected an http(s):// URL, got {shown!r}")
    _check_port(value, key, where)


def _check_secret_url(url: str, env_name: str, key: str, scheme: str, where: str) -> None:
    """A URL that is itself a secret, given literally (`key`) or by its variable's name
    (`key_env`): neither is echoed."""
    if url and not _is_http_url(url):
        raise ConfigError(f"{where}: {key}: expected an {scheme} URL")
    if url:
        _check_port(url, key, where)
    _check_env_name(env_name, f"{key}_env", where)


def _check_port(url: str, key: str, where: str) -> None:
    """A port out of 1-65535 would fail every delivery; the URL is not echoed (it may hold a
    token)."""
    from urllib.parse import urlsplit

    try:
        port = urlsplit(url).port
    except ValueError:
        port = 0
    if port == 0:
        raise ConfigError(f"{where}: {key}: the URL's port must be a number from 1 to 65535")


def _check_env_name(value: str, key: str, where: str) -> None:
    if value and (not _ENV_NAME.fullmatch(value) or _looks_like_a_secret(value)):
        # Never echo it: people paste the secret itself here by mistake.
        example = key.removesuffix("_env").replace(".", "_").upper()
        raise ConfigError(
            f"{where}: {key}: expected the name of an environment variable (like {example}), "
            "not the secret itself; put the secret in that variable and name it here"
        )


def _looks_like_a_secret(name: str) -> bool:
    """A valid variable name that is more likely a pasted credential (a hex routing key, an
    API token): long, no underscore between words, digits among the letters."""
    return len(name) >= 16 and "_" not in name and any(ch.isdigit() for ch in name)


def _check_private(path: Path, key: str, where: str) -> None:
    """A literal secret is allowed only in a file that no one but its owner can read."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & 0o077:
        raise ConfigError(
            f"{where}: {key}: holds a secret but the file can be read by others; run "
            f"`chmod 600 {path}` or name an environment variable with {key}_env instead"
        )
