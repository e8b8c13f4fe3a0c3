"""Where secrets are configured: never echoed, never in a repr or a crash report (11.9, 11.11).

A `*_env` key names a variable, and its value is never printed or stored: a token pasted
there by mistake is refused with one line naming the key, and a variable that is simply not
set is named by its key in `doctor`, delivery errors, the timeline and the export. URLs that
carry a user, password or query token are secrets: not echoed in configuration errors, and
only allowed in a file no one else can read. Configuration objects keep every secret-holding
field out of `repr` and `str`, and the app's crash report has no locals and no secrets.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from rich.console import Console

from cockpit.config import (
    SECRET,
    BetterstackConfig,
    Config,
    ConfigError,
    InstatusConfig,
    PagerdutyConfig,
    SlackConfig,
    StatuspageConfig,
    WebhookConfig,
    config_from_dict,
)
from cockpit.tui.app import crash_report
from tests.conftest import cli_env, run_cli

# Each `*_env` key, in a table that is otherwise complete.
ENV_KEYS: dict[str, dict[str, Any]] = {
    "slack.token_env": {"slack": {"channel": "C1"}},
    "slack.webhook_url_env": {"slack": {}},
    "statuspage.api_key_env": {"statuspage": {"page_id": "pg1"}},
    "instatus.api_key_env": {"instatus": {"page_id": "in1", "component_ids": ["c1"]}},
    "betterstack.api_key_env": {
        "betterstack": {"status_page_id": "1", "notify_subscribers": True, "resource_ids": ["9"]}
    },
    "webhook.url_env": {"webhook": {}},
    "webhook.secret_env": {"webhook": {"url": "http://127.0.0.1:9/hook"}},
    "pagerduty.routing_key_env": {"pagerduty": {}},
}
PASTED = [
    "e93f0b1c5d7a4e2f9b8c6d4a2e0f1c3b",  # a PagerDuty routing key: hex, a valid identifier
    "dVb2eXN0ZWFtdG9rZW4x",  # a Better Stack token
    "AKIAIOSFODNN7EXAMPLE",  # an access key id
    "xoxb-2718281828-3141592653-SeCrEtToKeN",  # not even an identifier
]


def tables_with(key: str, value: str) -> dict[str, Any]:
    table, name = key.split(".")
    tables = {t: dict(v) for t, v in ENV_KEYS[key].items()}
    tables[table][name] = value
    return tables


@pytest.mark.parametrize("key", list(ENV_KEYS))
@pytest.mark.parametrize("pasted", PASTED)
def test_a_secret_pasted_into_an_env_key_is_refused_without_echoing_it(key, pasted):
    with pytest.raises(ConfigError) as caught:
        config_from_dict(tables_with(key, pasted))
    message = str(caught.value)
    example = key.removesuffix("_env").replace(".", "_").upper()
    assert message == (
        f"<config>: {key}: expected the name of an environment variable (like {example}), "
        "not the secret itself; put the secret in that variable and name it here"
    )
    assert pasted not in message and pasted[:8] not in message


@pytest.mark.parametrize("name", ["SLACK_BOT_TOKEN", "pd_key", "Token2", "MY_TOKEN_2026"])
def test_ordinary_variable_names_are_accepted(name):
    for key in ENV_KEYS:
        config_from_dict(tables_with(key, name))


def test_an_unset_variable_is_named_by_its_key_never_by_what_the_key_holds(tmp_path):
    # Names a pasted secret could have and still pass: short, or looking like a name.
    values = {
        "pagerduty.routing_key_env": "e93f0b1c5d7a",
        "statuspage.api_key_env": "sk_live_51H8x",
        "webhook.url_env": "HOOK_URL_UNSET",
    }
    tables: dict[str, Any] = {
        "pagerduty": {"routing_key_env": values["pagerduty.routing_key_env"]},
        "statuspage": {
            "page_id": "pg1",
            "api_key_env": values["statuspage.api_key_env"],
            "api_url": "http://127.0.0.1:9",
        },
        "webhook": {"url_env": values["webhook.url_env"]},
    }
    config = tmp_path / "config.toml"
    config.write_text(tomli_w.dumps(tables))
    db = tmp_path / "cockpit.db"
    env = cli_env(db, config)
    outputs = []
    for args in (
        ("declare", "Checkout API errors", "-s", "SEV-1"),
        ("update", "-m", "Investigating."),
        ("deliver",),
        ("outbox",),
        ("show", "INC-1", "--json"),
        ("doctor",),
        ("export", "INC-1", "--output", "-"),
    ):
        done = run_cli(*args, env=env)
        outputs += [done.stdout, done.stderr]
    everything = "\n".join(outputs)
    for key, value in values.items():
        assert f"{key}: the environment variable it names is not set" in everything, key
        assert value not in everything, value
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("cockpit.db*"))
    assert not any(value.encode() in stored for value in values.values())


def test_a_url_with_credentials_is_never_echoed_in_a_configuration_error():
    bad = "htps://deploy:hunter2-password@status.example.com/v1?apitoken=0123456789abcdef"
    for table, key in [
        ({"statuspage": {"page_id": "pg1", "api_key_env": "SP_KEY"}}, "statuspage.api_url"),
        ({"pagerduty": {"routing_key_env": "PD_KEY"}}, "pagerduty.events_url"),
        ({"slack": {"token_env": "SLACK_TOKEN", "channel": "C1"}}, "slack.api_url"),
    ]:
        name, field = key.split(".")
        table[name][field] = bad
        with pytest.raises(ConfigError) as caught:
            config_from_dict(table)
        message = str(caught.value)
        assert message == (
            f"<config>: {key}: expected an http(s):// URL, got 'htps://…@status.example.com/v1'"
        )
        assert "hunter2" not in message and "0123456789" not in message


@pytest.mark.parametrize(
    ("key", "url"),
    [
        ("webhook.url", "https://ops:correct-horse-9@hooks.example.com/cockpit"),
        ("webhook.url", "https://hooks.example.com/cockpit?token=0123456789abcdef"),
        ("statuspage.api_url", "https://proxy-user:proxy-pass-42@proxy.example.com/v1"),
        ("pagerduty.events_url", "https://events.example.com/v2/enqueue?key=0123456789ab"),
    ],
)
def test_a_url_holding_credentials_needs_a_private_file(tmp_path, key, url):
    name, field = key.split(".")
    tables = {
        "webhook": {"url": "https://hooks.example.com/cockpit"},
        "statuspage": {"page_id": "pg1", "api_key_env": "SP_KEY"},
        "pagerduty": {"routing_key_env": "PD_KEY"},
    }
    tables[name][field] = url
    path = tmp_path / "config.toml"
    path.write_text(tomli_w.dumps(tables))
    path.chmod(0o644)
    done = run_cli("list", env=cli_env(tmp_path / "cockpit.db", path))
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"cockpit: {path}: {key}: holds a secret but the file can be read by others; run "
        f"`chmod 600 {path}` or name an environment variable with {key}_env instead"
    )
    secret_part = url.split("@")[0].split(":")[-1] if "@" in url else url.split("=")[-1]
    assert secret_part not in done.stdout + done.stderr
    path.chmod(0o600)
    env = cli_env(tmp_path / "cockpit.db", path)
    assert run_cli("declare", "Checkout errors", env=env).returncode == 0
    assert run_cli("list", env=env).returncode == 0


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("slack.token", "xoxb-1", "is 6 characters, too short for a credential (at least 8)"),
        ("statuspage.api_key", "key with spaces", "holds characters an HTTP header cannot"),
        ("pagerduty.routing_key", "abc\u200bdef0123", "holds spaces or control characters"),
        ("webhook.url", "https://u:pw@h.example.com/x", "its password is 2 characters, too"),
        ("webhook.url", "https://h.example.com/x?secret=abc", "its query parameter 'secret' is"),
        ("pagerduty.events_url", "https://tok@h.example.com/x", "its user name (a credential"),
    ],
)
def test_a_literal_credential_cockpit_could_not_mask_is_refused(key, value, problem):
    name, field = key.split(".")
    tables: dict[str, Any] = {
        "slack": {"channel": "C1"},
        "statuspage": {"page_id": "pg1"},
        "pagerduty": {"routing_key_env": "PD_KEY"},
        "webhook": {"url": "https://hooks.example.com/cockpit"},
    }
    for table, fld in [("slack", "token"), ("statuspage", "api_key")]:
        tables[table][fld] = "a-long-enough-literal-0123"
    if key == "pagerduty.routing_key":
        del tables["pagerduty"]["routing_key_env"]
    tables[name][field] = value
    with pytest.raises(ConfigError) as caught:
        config_from_dict(tables)
    assert str(caught.value).startswith(f"<config>: {key}: {problem}")
    assert value not in str(caught.value)


# ---- repr, str and the crash report ----------------------------------------------------------

LITERALS = {
    "token": "xoxb-repr-0123456789-SeCrEt",
    "webhook_url": "https://hooks.slack.com/services/T0REPR/B0REPR/ReprSecretKey0123",
    "api_key": "repr-api-key-0123456789abcdef",
    "url": "https://repr-user:repr-pass-0123@hooks.example.com/x?token=repr-token-0123",
    "secret": "repr-signing-secret-0123",
    "routing_key": "0123456789abcdef0123456789abcdef",
    "api_url": "https://api-user:api-pass-0123@api.example.com/?apitoken=api-token-0123",
    "events_url": "https://ev-user:ev-pass-0123@events.example.com/?key=ev-token-0123",
}
ENV_NAMES = "SECRET_VARIABLE_NAME_0123"


def every_secret_set() -> Config:
    """A configuration with every field that can hold a secret filled in."""
    tables = []
    for cls in (
        SlackConfig,
        StatuspageConfig,
        InstatusConfig,
        BetterstackConfig,
        WebhookConfig,
        PagerdutyConfig,
    ):
        values: dict[str, Any] = {}
        for fld in dataclasses.fields(cls):
            if SECRET not in fld.metadata:
                continue
            if fld.name.endswith("_env"):
                values[fld.name] = ENV_NAMES
            else:
                values[fld.name] = LITERALS[fld.name]
        required = {"page_id": "pg1", "status_page_id": "1"}
        for fld in dataclasses.fields(cls):
            if fld.name in required:
                values[fld.name] = required[fld.name]
        tables.append(cls(**values))
    slack, statuspage, instatus, betterstack, webhook, pagerduty = tables
    return Config(
        slack=slack,
        statuspage=statuspage,
        instatus=instatus,
        betterstack=betterstack,
        webhook=webhook,
        pagerduty=pagerduty,
    )


def pieces_of_every_secret() -> list[str]:
    found = [ENV_NAMES]
    for value in LITERALS.values():
        found += [part for part in value.replace("@", "/").replace("?", "/").split("/") if part]
    return [
        piece
        for piece in found
        if "0123" in piece or piece.startswith(("repr", "api-", "ev-", "Repr"))
    ]


def test_no_secret_field_is_in_repr_or_str():
    config = every_secret_set()
    shown = repr(config) + str(config)
    for table in (config.slack, config.webhook, config.pagerduty):
        shown += repr(table) + str(table) + f"{table}" + f"{table!r}"
    assert "SlackConfig(" in shown and "channel=" in shown  # the rest is still there
    leaked = [piece for piece in pieces_of_every_secret() if piece in shown]
    assert leaked == []
    marked = {
        f"{cls.__name__}.{f.name}"
        for cls in (SlackConfig, StatuspageConfig, WebhookConfig, PagerdutyConfig)
        for f in dataclasses.fields(cls)
        if SECRET in f.metadata
    }
    assert {"SlackConfig.token", "WebhookConfig.url", "PagerdutyConfig.events_url"} <= marked


def test_no_target_shows_a_secret_in_the_repr_of_its_credentials():
    from cockpit.comms.targets import configured_targets

    config = every_secret_set()
    config = dataclasses.replace(
        config,
        slack=SlackConfig(token=LITERALS["token"], channel="C1"),
        webhook=WebhookConfig(url=LITERALS["url"], secret=LITERALS["secret"]),
    )
    shown = ""
    for target in configured_targets(config).values():
        shown += repr(target.credentials()) + str(target.credentials())
    assert "Credential(key='slack.token', header=True, url=False)" in shown
    assert [piece for piece in pieces_of_every_secret() if piece in shown] == []


def test_the_crash_report_has_no_locals_and_masks_every_secret(monkeypatch):
    config = dataclasses.replace(
        every_secret_set(),
        slack=SlackConfig(token=LITERALS["token"], channel="C1"),
        pagerduty=PagerdutyConfig(routing_key=LITERALS["routing_key"]),
    )

    def deliver(settings: Config) -> None:
        token = settings.slack.token if settings.slack else ""
        raise ValueError(f"rejected {token} for {settings.pagerduty}")

    try:
        deliver(config)
    except ValueError:
        report = crash_report(config)
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(report)
    text = out.getvalue()
    assert "ValueError: rejected … for PagerdutyConfig(page_severities=['SEV-1']" in text
    assert "─ locals ─" not in text  # the source lines are there, not their values
    assert [piece for piece in pieces_of_every_secret() if piece in text] == []


def test_old_textual_locals_would_have_shown_the_token():
    """What the crash report replaces: Textual's default prints locals, secrets and all."""
    from rich.traceback import Traceback

    config = SlackConfig(token=LITERALS["token"], channel="C1")
    try:
        token = config.token
        raise RuntimeError("boom")
    except RuntimeError:
        out = io.StringIO()
        Console(file=out, width=200).print(Traceback(show_locals=True))
    assert "─ locals ─" in out.getvalue() and token in out.getvalue()


def test_a_file_secret_is_still_refused_for_other_readers(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text(tomli_w.dumps({"pagerduty": {"routing_key": LITERALS["routing_key"]}}))
    path.chmod(0o640)
    with pytest.raises(ConfigError, match=r"pagerduty\.routing_key: holds a secret"):
        from cockpit.config import load_config

        load_config(path)
