"""Every number is checked where it comes in, against a range that makes sense for it: in the
configuration (declared beside each field), in runbook front matter and on the command line.
Accepted in range or refused in one line naming the key; never a traceback, and nothing in
range can overflow what is computed from it (`show`, `list`, `export`, the app).
"""

from __future__ import annotations

import dataclasses
import math
import os
import typing
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cockpit.board import build_board
from cockpit.cli import main
from cockpit.config import Bounds, Config, ConfigError, config_from_dict, load_config
from cockpit.domain import MAX_CADENCE_MINUTES, MAX_ID, Kind, Status, parse_incident_ref
from cockpit.postmortem.export import export_markdown
from cockpit.runbooks import RunbookError, parse_runbook
from cockpit.store import Store
from tests.conftest import FakeClock

FUZZ = float(os.environ.get("COCKPIT_FUZZ", "1"))
SETTINGS = settings(
    max_examples=int(60 * FUZZ),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

ENV = "COCKPIT_TEST_SECRET"
BASE: dict[str, Any] = {
    "severity": [
        {"name": "SEV-1", "first_update_minutes": 15, "update_every_minutes": 30},
        {"name": "SEV-2"},
        {"name": "SEV-3"},
    ],
    "declare": {"default_severity": "SEV-1"},
    "slack": {"webhook_url_env": ENV},
    "statuspage": {"page_id": "pg1", "api_key_env": ENV},
    "instatus": {"page_id": "in1", "api_key_env": ENV, "component_ids": ["c1"]},
    "betterstack": {
        "status_page_id": "1",
        "api_key_env": ENV,
        "resource_ids": ["2"],
        "notify_subscribers": True,
    },
    "webhook": {"url": "https://hooks.example/x"},
    "pagerduty": {"routing_key_env": ENV},
}
"""A configuration with every table, so that every numeric key can be set."""


def numeric_keys(cls: type[Any] = Config, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted key, dataclass field) for every int or float in the configuration."""
    found: list[tuple[str, Any]] = []
    hints = typing.get_type_hints(cls)
    for fld in dataclasses.fields(cls):
        hint = hints[fld.name]
        args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
        inner = typing.get_args(args[0]) or args
        kind = inner[0]
        if dataclasses.is_dataclass(kind):
            found += numeric_keys(kind, f"{prefix}{fld.name}.")  # type: ignore[arg-type]
        elif kind in (int, float):
            found.append((f"{prefix}{fld.name}", fld))
    return found


NUMERIC = numeric_keys()


def test_every_numeric_key_declares_its_range():
    keys = [key for key, _ in NUMERIC]
    assert "database.busy_timeout_ms" in keys and "postmortem.due_hours" in keys
    assert "severity.update_every_minutes" in keys and "webhook.timeout_seconds" in keys
    missing = [key for key, fld in NUMERIC if not isinstance(fld.metadata.get("bounds"), Bounds)]
    assert missing == []


def with_value(key: str, value: object) -> dict[str, Any]:
    data = {k: (list(v) if isinstance(v, list) else dict(v)) for k, v in BASE.items()}
    table, name = key.split(".")
    if table == "severity":
        data["severity"] = [{**BASE["severity"][0], name: value}, *BASE["severity"][1:]]
    else:
        data[table] = {**data.get(table, {}), name: value}
    return data


NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-5, max_value=400_000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1, max_value=1e6),
    st.sampled_from([0, 1, 4_000_000_000, 10**9, 2**63, 1e308, 0.05, 300.0, 300.5]),
)


@SETTINGS
@given(key_field=st.sampled_from(NUMERIC), value=NUMBERS)
def test_any_number_for_any_numeric_key_is_in_range_or_refused_naming_it(
    tmp_path_factory, key_field, value
):
    key, fld = key_field
    bounds: Bounds = fld.metadata["bounds"]
    whole = "float" not in str(fld.type)
    right_type = not isinstance(value, bool) and isinstance(value, int if whole else int | float)
    expected = right_type and bounds.low <= value <= bounds.high
    path = tmp_path_factory.mktemp("cfg") / "config.toml"
    path.write_text(tomli_w.dumps(with_value(key, value)))
    try:
        config = load_config(path)
    except ConfigError as exc:
        message = str(exc)
        assert not expected, message
        assert "\n" not in message
        assert message.startswith(f"{path}: ")
        assert key.split(".")[1] in message
    else:
        assert expected
        table, name = key.split(".")
        section = getattr(config, table)
        assert getattr(section[0] if table == "severity" else section, name) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[database]\nbusy_timeout_ms = 1000000000", "database.busy_timeout_ms: expected"),
        ("[postmortem]\ndue_hours = 1000000000", "postmortem.due_hours: expected hours from 0"),
        ("[postmortem]\ndue_hours = -1", "postmortem.due_hours: expected hours"),
        (
            "[[severity]]\nname = 'P1'\nupdate_every_minutes = 4000000000\n"
            "[declare]\ndefault_severity = 'P1'",
            "severity[0].update_every_minutes: expected minutes from 1 to 10,080",
        ),
        (
            "[[severity]]\nname = 'P1'\nupdate_every_minutes = 0\n"
            "[declare]\ndefault_severity = 'P1'",
            "severity[0].update_every_minutes: expected minutes from 1",
        ),
        ("[slack]\nwebhook_url_env = 'X'\ntimeout_seconds = nan", "slack.timeout_seconds"),
        ("[slack]\nwebhook_url_env = 'X'\ntimeout_seconds = inf", "slack.timeout_seconds"),
        ("[webhook]\nurl = 'https://h.example'\ntimeout_seconds = 0", "webhook.timeout_seconds"),
        (
            "[slack]\nwebhook_url_env = 'X'\ntimeout_seconds = 99999999999999999999999999",
            "slack.timeout_seconds",
        ),
        ("[webhook]\nurl = 'https://h.example:99999/x'", "webhook.url: the URL's port"),
        ("[webhook]\nurl = 'https://h.example:0/x'", "webhook.url: the URL's port"),
        (
            "[pagerduty]\nrouting_key_env = 'K'\nevents_url = 'https://e.example:70000/'",
            "pagerduty.events_url: the URL's port",
        ),
        (
            "[slack]\nwebhook_url = 'https://hooks.example:123456/s3cret'",
            "slack.webhook_url: the URL's port",
        ),
    ],
)
def test_numbers_out_of_range_are_refused_naming_the_key(tmp_path: Path, text, message):
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert "s3cret" not in str(caught.value)


# ---- runbook front matter --------------------------------------------------------------------


@pytest.mark.parametrize("value", [4_000_000_000, 10**30, 0, -3, MAX_CADENCE_MINUTES + 1])
@pytest.mark.parametrize("key", ["update_every_minutes", "escalate_after_minutes"])
def test_runbook_minutes_out_of_range_are_refused(key: str, value: int):
    text = f'+++\n{key} = {value}\nescalate_to = "Lead"\n+++\n# R\n'
    if key == "update_every_minutes":
        text = f"+++\n{key} = {value}\n+++\n# R\n"
    with pytest.raises(RunbookError, match=f"{key}: expected minutes from 1 to 10,080"):
        parse_runbook(text, Path("r.md"))


# ---- the largest numbers accepted break nothing computed from them ----------------------------


def test_the_largest_accepted_numbers_break_no_command(tmp_path: Path, capsys):
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    (runbooks / "slow.md").write_text(
        f"+++\nupdate_every_minutes = {MAX_CADENCE_MINUTES}\n"
        f'escalate_after_minutes = {MAX_CADENCE_MINUTES}\nescalate_to = "Lead"\n+++\n'
        "# Slow\n\n## Do\n\n1. **Wait.**\n"
    )
    data = {
        "database": {"busy_timeout_ms": 60_000},
        "severity": [
            {
                "name": "SEV-1",
                "first_update_minutes": MAX_CADENCE_MINUTES,
                "update_every_minutes": MAX_CADENCE_MINUTES,
            }
        ],
        "declare": {"default_severity": "SEV-1"},
        "postmortem": {"due_hours": 24 * 366, "dir": str(tmp_path)},
        "runbooks": {"dirs": [str(runbooks)], "include_bundled": False},
    }
    config_path = tmp_path / "config.toml"
    config_path.write_text(tomli_w.dumps(data))
    config = load_config(config_path)
    db = tmp_path / "c.db"
    clock = FakeClock()
    with Store.open(db, clock=clock) as store:
        open_one = store.declare("open", "SEV-1", "alice", runbook="slow").id
        done = store.declare("done", "SEV-1", "alice").id
        store.publish(done, "resolved", "alice", status=Status.RESOLVED)
        store.append(open_one, Kind.NOTE, "x", "alice")
        build_board(store, config, open_one, clock())
        export_markdown(store, config, done, clock())
    base = ["--config", str(config_path), "--db", str(db)]
    for args in (["show", "1"], ["show", "1", "--json"], ["list", "--all"], ["export", "2"]):
        assert main([*base, *args], clock=clock) == 0, capsys.readouterr().err
    assert "Traceback" not in capsys.readouterr().err


def test_config_built_in_code_with_a_huge_due_hours_does_not_crash_the_list(store, capsys):
    from cockpit.postmortem.due import pending

    incident = store.declare("x", "SEV-2", "alice").id
    store.set_status(incident, Status.RESOLVED, "alice")
    assert pending(store, 10**9, store.now()).postmortems == ()  # never due, not OverflowError


# ---- the command line ------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "c.db"
    with Store.open(path, clock=FakeClock()) as store:
        incident = store.declare("x", "SEV-2", "alice").id
        store.add_action_item(incident, "item")
    return path


BAD_NUMBERS = [
    "nan",
    "inf",
    "-inf",
    "1e308",
    "-1",
    "99999999999999999999999",
    str(MAX_ID + 1),
    "0x10",
    "1_000",
    "٣",
    "",
    " ",
    "1e3",
]


@pytest.mark.parametrize("raw", BAD_NUMBERS)
@pytest.mark.parametrize(
    "args",
    [
        ["deliver", "--wait", "{}"],
        ["outbox", "--retry", "{}"],
        ["postmortem", "item", "edit", "{}", "--title", "t"],
        ["postmortem", "item", "done", "{}"],
        ["postmortem", "item", "rm", "{}"],
        ["postmortem", "star", "{}"],
        ["postmortem", "unstar", "1", "{}"],
        ["show", "{}"],
        ["export", "{}"],
        ["log", "--incident", "{}", "x"],
        ["postmortem", "show", "{}"],
    ],
)
def test_numbers_on_the_command_line_are_checked(db, capsys, args, raw):
    argv = ["--db", str(db), *(raw if a == "{}" else a for a in args)]
    try:
        status = main(argv, clock=FakeClock())
    except SystemExit as exit_:
        status = exit_.code
    err = capsys.readouterr().err
    if args[0] == "deliver" and raw in ("-1",):
        assert status == 2
    if raw in ("nan", "inf", "1e308", "99999999999999999999999", str(MAX_ID + 1)):
        assert status == 2, err
    assert "Traceback" not in err and "bug" not in err
    if status:
        assert err.strip().splitlines()[-1].startswith("cockpit")


def test_the_largest_id_is_accepted_and_simply_not_found(db, capsys):
    assert parse_incident_ref(f"INC-{MAX_ID}") == MAX_ID
    for args in (["show", str(MAX_ID)], ["outbox", "--retry", str(MAX_ID)]):
        assert main(["--db", str(db), *args], clock=FakeClock()) == 1
        assert capsys.readouterr().err.startswith("cockpit: no ")


@SETTINGS
@given(
    raw=st.text(alphabet="0123456789.-+eEinfaxX_ ٣", max_size=30)
    | st.floats(allow_nan=True).map(str)
    | st.integers().map(str)
)
def test_any_wait_is_accepted_in_range_or_refused_in_one_line(tmp_path_factory, capsys, raw):
    db = tmp_path_factory.mktemp("db") / "c.db"
    try:
        status = main(["--db", str(db), "deliver", f"--wait={raw}"], clock=FakeClock())
    except SystemExit as exit_:
        status = exit_.code
    err = capsys.readouterr().err
    assert status in (0, 1, 2)
    assert "Traceback" not in err
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 86_400:
        assert status == 2 and "--wait: expected seconds from 0 to 86,400" in err


def test_config_from_dict_refuses_what_load_config_refuses():
    with pytest.raises(ConfigError, match="busy_timeout_ms"):
        config_from_dict({"database": {"busy_timeout_ms": 10**9}})
