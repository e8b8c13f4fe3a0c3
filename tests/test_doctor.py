"""`cockpit doctor`: one line per check, a fix for each failure, non-zero exit on any failure."""

from __future__ import annotations

from pathlib import Path

from cockpit.doctor import check_clipboard
from tests.conftest import cli_env, run_cli


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
