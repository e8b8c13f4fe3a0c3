"""`cockpit doctor`: one line per check, a fix for each failure, non-zero exit on any failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cockpit.config import Config
from cockpit.doctor import Check, check_clipboard, run_doctor
from tests.conftest import ROOT, cli_env, run_cli


def test_healthy_defaults_pass(tmp_path: Path):
    run_cli("declare", "x", db=tmp_path / "c.db")
    done = run_cli("doctor", db=tmp_path / "c.db")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ok    config")
    assert any(line.startswith("ok    database") and "integrity ok" in line for line in lines)
    assert lines[-1].endswith(" 0 failed")


def test_broken_config_fails_with_its_line(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text("[user]\nname = 1\n")
    done = run_cli("doctor", db=tmp_path / "c.db", config=config)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == (
        f"FAIL  config         {config}: user.name: expected a string, got a number"
        " — fix the key named, or run `cockpit init`"
    )


def test_foreign_database_fails(tmp_path: Path):
    db = tmp_path / "c.db"
    db.write_text("hello")
    done = run_cli("doctor", db=db)
    assert done.returncode == 1
    assert "FAIL  database" in done.stdout and "not an SQLite file" in done.stdout
    assert db.read_text() == "hello"


def test_world_readable_config_is_flagged(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text("[user]\nname = 'alice'\n")
    config.chmod(0o644)
    done = run_cli("doctor", env=cli_env(tmp_path / "c.db", config))
    assert f"warn  config         {config} is readable by others (mode 644)" in done.stdout
    assert f"chmod 600 {config}" in done.stdout


def test_clipboard_advice():
    assert check_clipboard({"TERM": "dumb"}).ok is False
    inside_tmux = check_clipboard({"TMUX": "/tmp/tmux-0/default,1,0", "TERM": "screen"})
    assert inside_tmux.warning and "set-clipboard on" in inside_tmux.fix
    assert check_clipboard({"TERM_PROGRAM": "WezTerm"}).warning is False


# ---- the core doctor takes the service checks as input --------------------------------------


def test_the_service_checks_given_run_last_with_the_loaded_config(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text("[user]\nname = 'alice'\n")
    config.chmod(0o600)
    seen: list[Config] = []

    def services(loaded: Config) -> list[Check]:
        seen.append(loaded)
        return [Check("slack", True, "credentials accepted"), Check("pager", False, "no", "fix")]

    checks = run_doctor(str(config), str(tmp_path / "c.db"), services)
    assert [c.name for c in checks][-2:] == ["slack", "pager"]
    assert [c.name for c in checks].index("clipboard") == len(checks) - 3
    assert len(seen) == 1 and seen[0].author == "alice" and seen[0].source == config


def test_a_broken_config_skips_the_service_checks(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text("[user]\nname = 1\n")
    called: list[Config] = []
    checks = run_doctor(str(config), str(tmp_path / "c.db"), lambda c: called.append(c) or [])
    assert [c.name for c in checks] == ["config"] and not checks[0].ok
    assert called == []


def test_the_core_doctor_runs_without_the_comms_layer(tmp_path: Path):
    """Every check but the services', and nothing of `cockpit.comms` or httpx is loaded."""
    code = (
        "import sys\n"
        "from cockpit.doctor import run_doctor\n"
        f"checks = run_doctor(None, {str(tmp_path / 'c.db')!r})\n"
        "print(sorted({c.name for c in checks}))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('cockpit.comms', 'httpx'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=cli_env(tmp_path / "c.db"),
    )
    names, loaded = done.stdout.splitlines()
    assert names == "['clipboard', 'config', 'database', 'disk', 'runbooks']", done.stderr
    assert loaded == "[]"
