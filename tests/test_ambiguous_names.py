"""Names that a lookup cannot tell apart are refused (severities, roles) or reported (runbooks
of the same name in several folders: the first folder wins, and `cockpit runbooks` and
`cockpit doctor` say which file is hidden)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.config import PACKAGE_RUNBOOKS, ConfigError, load_config
from cockpit.domain import find_role, find_severity, name_key
from cockpit.store import Store
from tests.conftest import FakeClock


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def severities(*names: str) -> str:
    text = "".join(f"[[severity]]\nname = '{name}'\n" for name in names)
    return text + f"[declare]\ndefault_severity = '{names[0]}'\n"


@pytest.mark.parametrize(
    ("names", "first", "second"),
    [
        (("SEV-1", "SEV_1"), "SEV-1", "SEV_1"),
        (("SEV-1", "sev 1"), "SEV-1", "sev 1"),
        (("SEV-1", "SEV-2", "Sev1"), "SEV-1", "Sev1"),
        (("P1", "p-1"), "P1", "p-1"),
        (("major", "MAJOR"), "major", "MAJOR"),
    ],
)
def test_severities_equal_after_normalisation_are_refused(tmp_path, names, first, second):
    path = write(tmp_path, severities(*names))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert f"{second!r} and {first!r} are the same severity" in message
    assert message.startswith(f"{path}: severity[{names.index(second)}].name: ")
    assert "\n" not in message


def test_a_severity_defined_twice_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"severity\[1\]\.name: severity 'P1' is defined twice"):
        load_config(write(tmp_path, severities("P1", "P1")))


def test_distinct_severities_are_found_by_any_spelling():
    config = load_config(None)
    assert find_severity(config.severities, "sev 2").name == "SEV-2"
    assert name_key("SEV_1") == name_key("sev-1") == name_key(" Sev 1 ")


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["commander", "on-call", "on_call"], "'on_call' and 'on-call' are the same role"),
        (["commander", "scribe", "scribe"], "role 'scribe' is listed twice"),
        (["comm-lead", "commlead"], "'commlead' and 'comm-lead' are the same role"),
    ],
)
def test_roles_equal_after_normalisation_are_refused(tmp_path, names, message):
    path = write(tmp_path, f"[roles]\nnames = {names!r}\n".replace("'", '"'))
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: roles.names: ")


def test_assign_finds_a_role_by_any_spelling(tmp_path, capsys):
    config = write(tmp_path, '[roles]\nnames = ["commander", "on-call"]\n')
    db = tmp_path / "c.db"
    with Store.open(db, clock=FakeClock()) as store:
        store.declare("x", "SEV-2", "alice")
    base = ["--config", str(config), "--db", str(db)]
    assert main([*base, "assign", "On_Call", "bob"], clock=FakeClock()) == 0
    assert capsys.readouterr().out.strip() == "on-call → bob"
    assert main([*base, "assign", "scribe", "bob"], clock=FakeClock()) == 2
    assert "unknown role 'scribe' (expected one of commander, on-call)" in capsys.readouterr().err
    assert find_role(["commander", "on-call"], "ON CALL") == "on-call"


# ---- runbooks of the same name -------------------------------------------------------------------


@pytest.fixture
def two_folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    first, second = tmp_path / "team", tmp_path / "shared"
    first.mkdir()
    second.mkdir()
    (first / "db-failover.md").write_text("# Team failover\n")
    (second / "db-failover.md").write_text("# Shared failover\n")
    (second / "api-high-error-rate.md").write_text("# Our own API runbook\n")  # bundled name
    (first / "Loud.MD").write_text("# Shouting\n")
    config = write(tmp_path, f'[runbooks]\ndirs = ["{first}", "{second}"]\n')
    return first, second, config


def test_cockpit_runbooks_names_the_hidden_files(two_folders, tmp_path, capsys):
    first, second, config = two_folders
    base = ["--config", str(config), "--db", str(tmp_path / "c.db")]
    assert main([*base, "runbooks"], clock=FakeClock()) == 0
    out = capsys.readouterr().out
    assert "db-failover · Team failover" in out and "Shared failover" not in out
    assert f"hidden: {second / 'db-failover.md'} (same name as {first / 'db-failover.md'}" in out
    bundled = PACKAGE_RUNBOOKS / "api-high-error-rate.md"
    assert f"hidden: {bundled} (same name as {second / 'api-high-error-rate.md'}" in out
    assert f"  {first / 'Loud.MD'}: rename it to Loud.md (lower case)" in out
    assert main([*base, "declare", "x", "--runbook", "db-failover"], clock=FakeClock()) == 0
    with Store.open(tmp_path / "c.db") as store:
        assert store.incident(1).runbook == "db-failover"
    capsys.readouterr()
    assert main([*base, "show"], clock=FakeClock()) == 0
    assert "db-failover · Team failover" in capsys.readouterr().out


def test_doctor_warns_about_a_hidden_runbook_but_not_a_replaced_bundled_one(two_folders, tmp_path):
    from cockpit.doctor import run_doctor

    first, second, config = two_folders
    lines = [c.line() for c in run_doctor(str(config), str(tmp_path / "c.db"))]
    hidden = [line for line in lines if "is hidden by" in line]
    assert hidden == [
        f"warn  runbook        {second / 'db-failover.md'} is hidden by "
        f"{first / 'db-failover.md'} (the same name; the first folder wins) — rename one of them"
    ]
