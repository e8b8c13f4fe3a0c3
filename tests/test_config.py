"""Configuration: defaults, the starter file round trip, and one clear line per mistake."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cockpit.config import (
    Config,
    ConfigError,
    config_from_dict,
    database_path,
    find_config,
    load_config,
    starter_config,
    write_starter,
)
from cockpit.domain import DEFAULT_SEVERITIES

EXAMPLE = Path(__file__).resolve().parent.parent / "config.toml.example"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_built_in_defaults():
    config = load_config(None)
    assert config.severities == DEFAULT_SEVERITIES
    assert [s.first_update_minutes for s in config.severities] == [15, 30, None]
    assert [s.update_every_minutes for s in config.severities] == [30, 30, None]
    assert config.role_names == ["commander", "communicator"]
    assert config.author  # the login name
    assert config.runbook_dirs[-1].name == "bundled_runbooks"


def test_starter_file_loads_back_to_the_same_configuration(tmp_path: Path):
    path = write_starter(tmp_path / "c" / "config.toml", author="alice")
    text = path.read_text()
    assert "# The severity taxonomy" in text and "[[severity]]" in text
    loaded = load_config(path)
    assert dataclasses.replace(loaded, source=None) == starter_config("alice")
    assert loaded.severities == DEFAULT_SEVERITIES
    assert path.stat().st_mode & 0o077 == 0


def test_starter_refuses_to_overwrite(tmp_path: Path):
    path = write(tmp_path, "# mine\n")
    with pytest.raises(ConfigError, match=r"already exists.*--force"):
        write_starter(path)
    assert path.read_text() == "# mine\n"
    write_starter(path, force=True)
    assert "[[severity]]" in path.read_text()


def test_example_file_documents_a_valid_configuration():
    config = load_config(EXAMPLE)
    assert config.source == EXAMPLE
    assert [
        (s.name, s.first_update_minutes, s.update_every_minutes) for s in config.severities
    ] == [
        ("SEV-1", 15, 30),
        ("SEV-2", 30, 30),
        ("SEV-3", None, None),
    ]
    assert config.roles.names == ["commander", "communicator"]
    assert config.declare.default_severity == "SEV-2"
    assert config.postmortem.due_hours == 48
    assert "{next_update_minutes}" in config.templates.acknowledge
    # Every delivery target is shown commented out: the example sends nothing anywhere.
    assert config.slack is config.statuspage is config.webhook is config.pagerduty is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[user\nname = 'x'", r"config\.toml: TOML syntax error"),
        ("[user]\nname = 3", r"config\.toml: user\.name: expected a string, got a number"),
        ("[user]\nnickname = 'x'", r"config\.toml: user\.nickname: unknown key"),
        ("colour = 'red'", r"config\.toml: colour: unknown key \(expected one of user, "),
        (
            "[declare]\ndefault_severity = 'SEV-9'",
            r"declare\.default_severity: unknown severity 'SEV-9' \(expected one of SEV-1",
        ),
        (
            "[[severity]]\nname = 'SEV-1'\nfirst_update_minutes = -5",
            r"severity\[0\]\.first_update_minutes: expected minutes from 0 to 10,080, got -5",
        ),
        (
            "[[severity]]\nname = 'SEV-1'\nupdate_every_minutes = '30'",
            r"severity\[0\]\.update_every_minutes: expected a whole number, got a string",
        ),
        ("[[severity]]\nlabel = 'x'", r"severity\[0\]\.name: missing \(required\)"),
        (
            "[[severity]]\nname = 'P1'\n[[severity]]\nname = 'P1'",
            r"severity\[1\]\.name: severity 'P1' is defined twice",
        ),
        (
            "[[severity]]\nname = 'P1'\nrequired_roles = ['scribe']",
            r"severity\[0\]\.required_roles: unknown role 'scribe'",
        ),
        ("[roles]\nnames = 'commander'", r"roles\.names: expected a list, got a string"),
        ("[runbooks]\ninclude_bundled = 'yes'", r"include_bundled: expected true or false"),
        ("[templates]\nupdate = 'Fixed {oops}'", r"update: unknown placeholder \{oops\}"),
        ("[templates]\nupdate = 'Fixed {'", r"templates\.update: bad braces"),
        ("[postmortem]\ndue_hours = 1e400", r"postmortem\.due_hours: expected a whole number"),
        (
            "[postmortem]\ndue_hours = 99999999999",
            r"postmortem\.due_hours: expected hours from 0 to 8,784, got 99999999999",
        ),
        ("user = 'alice'", r"config\.toml: user: expected a table"),
    ],
)
def test_each_mistake_is_one_line_naming_file_and_key(tmp_path: Path, text: str, message: str):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(path)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith(str(path))


def test_custom_taxonomy(tmp_path: Path):
    path = write(
        tmp_path,
        """
        [roles]
        names = ["commander", "communicator", "scribe"]
        [declare]
        default_severity = "P2"
        [[severity]]
        name = "P1"
        first_update_minutes = 10
        update_every_minutes = 20
        required_roles = ["commander", "scribe"]
        [[severity]]
        name = "P2"
        """,
    )
    config = load_config(path)
    assert [s.name for s in config.severities] == ["P1", "P2"]
    assert config.severities[0].required_roles == ("commander", "scribe")
    assert not config.severities[1].has_cadence


def test_lookup_order(tmp_path: Path):
    explicit = write(tmp_path, "")
    assert find_config(str(explicit), env={"COCKPIT_CONFIG": "/elsewhere"}) == explicit
    assert find_config(None, env={"COCKPIT_CONFIG": "/elsewhere.toml"}) == Path("/elsewhere.toml")
    config = load_config(explicit)
    assert database_path(config, "/a.db", env={"COCKPIT_DB": "/b.db"}) == Path("/a.db")
    assert database_path(config, None, env={"COCKPIT_DB": "/b.db"}) == Path("/b.db")
    relative = load_config(write(tmp_path, "[database]\npath = 'data/c.db'"))
    assert database_path(relative, None, env={}) == tmp_path / "data" / "c.db"


def test_missing_and_unreadable_files(tmp_path: Path):
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "absent.toml")
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(binary)


def _keys(cls: type, prefix: str = "") -> list[str]:
    import typing

    keys = []
    hints = typing.get_type_hints(cls)
    for fld in dataclasses.fields(cls):
        if fld.name in ("source", "keys"):  # [keys] holds binding ids: see its own test
            continue
        hint = hints[fld.name]
        inner = [a for a in typing.get_args(hint) if dataclasses.is_dataclass(a)]
        target = hint if dataclasses.is_dataclass(hint) else (inner[0] if inner else None)
        if target is not None:
            keys += _keys(target, f"{fld.name}.")
        else:
            keys.append(f"{prefix}{fld.name}")
    return keys


def test_example_documents_every_key():
    text = EXAMPLE.read_text()
    keys = _keys(Config)
    # The walk reaches nested tables and optional ones, so the loop below checks something.
    assert {"user.name", "severity.first_update_minutes", "statuspage.page_id"} <= set(keys)
    assert "webhook.secret_env" in keys and "pagerduty.routing_key_env" in keys
    for key in keys:
        table, _, name = key.rpartition(".")
        if table:
            assert f"[{table}]" in text or f"[[{table}]]" in text, f"table [{table}] undocumented"
        assert f"\n{name} =" in text or f"\n# {name} =" in text, f"{key} undocumented"


SP = {"page_id": "p1", "api_key_env": "SP_KEY"}
IN = {"page_id": "p1", "api_key_env": "IN_KEY", "component_ids": ["c1"]}
BS = {"status_page_id": "1", "notify_subscribers": True, "api_key_env": "BS", "resource_ids": ["r"]}
SEVERITIES = "(expected one of SEV-1, SEV-2, SEV-3)"
SP_STATUSES = "operational, under_maintenance, degraded_performance, partial_outage, major_outage"
IN_STATUSES = "OPERATIONAL, UNDERMAINTENANCE, DEGRADEDPERFORMANCE, PARTIALOUTAGE, MAJOROUTAGE"


# The service checks share one rule for "a secret, literal or by its variable" and one for a
# severity -> service value table; every service keeps its own message and order of checks.
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"statuspage": {"page_id": "p1"}},
            "statuspage.api_key_env: missing (the API key's variable)",
        ),
        (
            {"statuspage": {**SP, "api_key": "k" * 20}},
            "statuspage: set api_key or api_key_env, not both",
        ),
        (
            {"statuspage": {**SP, "impact": {"SEV-9": "major"}}},
            f"statuspage.impact.SEV-9: unknown severity {SEVERITIES}",
        ),
        (
            {"statuspage": {**SP, "impact": {"SEV-1": "huge"}}},
            "statuspage.impact.SEV-1: expected one of none, maintenance, minor, major, critical, "
            "got 'huge'",
        ),
        (
            {"statuspage": {**SP, "component_status": {"SEV-2": "down"}}},
            f"statuspage.component_status.SEV-2: expected one of {SP_STATUSES}, got 'down'",
        ),
        (  # the URL is checked before the variable's name, as before
            {"statuspage": {**SP, "api_key_env": "bad name", "api_url": "ftp://x"}},
            "statuspage.api_url: expected an http(s):// URL, got 'ftp://x'",
        ),
        ({"instatus": {**IN, "api_key_env": ""}}, "instatus.api_key_env: missing (the API key)"),
        (
            {"instatus": {**IN, "api_key": "k" * 20}},
            "instatus: set api_key or api_key_env, not both",
        ),
        (
            {"instatus": {**IN, "component_status": {"SEV-1": "DOWN"}}},
            f"instatus.component_status.SEV-1: expected one of {IN_STATUSES}, got 'DOWN'",
        ),
        (  # here the variable's name comes first, as before
            {"instatus": {**IN, "api_key_env": "bad name", "api_url": "ftp://x"}},
            "instatus.api_key_env: expected the name of an environment variable (like "
            "INSTATUS_API_KEY), not the secret itself; put the secret in that variable and name "
            "it here",
        ),
        (
            {"betterstack": {**BS, "resource_status": {"SEV-7": "degraded"}}},
            f"betterstack.resource_status.SEV-7: unknown severity {SEVERITIES}",
        ),
        (
            {"betterstack": {**BS, "resource_status": {"SEV-1": "resolved"}}},
            "betterstack.resource_status.SEV-1: expected one of degraded, downtime, got 'resolved'",
        ),
        ({"pagerduty": {}}, "pagerduty.routing_key_env: missing (the integration's routing key)"),
    ],
)
def test_service_tables_name_the_key_in_one_line(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_dict(data)
    assert str(caught.value) == f"<config>: {message}"
