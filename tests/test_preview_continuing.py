"""The preview of a teammate's incident: an update continues the Slack thread and the status-page
incident the team already has, and the preview must say so (not "new incident"), on the laptop
that never sent anything there itself."""

from __future__ import annotations

from pathlib import Path

import tomli_w

from cockpit.store import Store
from tests.conftest import cli_env, run_cli

CLOSED = "http://127.0.0.1:9"  # nothing is sent: the previews are dry runs


def laptop(tmp_path: Path, name: str) -> dict[str, str]:
    """One laptop's environment: its database, a config with a Slack bot and Statuspage."""
    folder = tmp_path / name
    folder.mkdir()
    config = folder / "config.toml"
    tables = {
        "user": {"name": name},
        "slack": {"token_env": "X_SLACK", "channel": "C0INCIDENT", "api_url": CLOSED},
        "statuspage": {"page_id": "p1", "api_key_env": "X_PAGE", "api_url": CLOSED},
    }
    config.write_text(tomli_w.dumps(tables))
    return cli_env(folder / "cockpit.db", config, X_SLACK="xoxb-1", X_PAGE="k")


def preview(env: dict[str, str]) -> str:
    done = run_cli("update", "--dry-run", "--message", "Still rolling back.", env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_teammates_thread_and_status_page_incident_are_continued_in_the_preview(tmp_path):
    alice, bob = laptop(tmp_path, "alice"), laptop(tmp_path, "bob")
    assert run_cli("declare", "Checkout API errors", "-s", "SEV-1", env=alice).returncode == 0
    # What alice's first delivery records: the status-page incident, shared with the team.
    with Store.open(Path(alice["COCKPIT_DB"])) as store:
        store.share_remote_ref(1, "statuspage", "incident", "sp-team-1")
    shared = tmp_path / "inc.jsonl"
    assert run_cli("sync", "export", "-o", str(shared), env=alice).returncode == 0
    assert run_cli("sync", "import", str(shared), env=bob).returncode == 0

    before = preview(bob)  # bob has the team's status-page incident, not yet the thread
    assert "Statuspage · new incident" not in before
    assert "Statuspage · update the incident (status investigating)" in before
    assert "Slack #C0INCIDENT · new headline message" in before

    with Store.open(Path(bob["COCKPIT_DB"])) as store:  # what `cockpit join` records
        store.set_remote_ref(1, "slack", "root_ts:C0INCIDENT", "1795944688.613000")
    after = preview(bob)
    assert "Slack #C0INCIDENT · reply in the incident thread, headline refreshed" in after
    assert "new headline message" not in after


def test_a_new_incident_is_previewed_as_new_everywhere(tmp_path):
    alice = laptop(tmp_path, "alice")
    assert run_cli("declare", "Checkout API errors", "-s", "SEV-1", env=alice).returncode == 0
    shown = preview(alice)
    assert "Statuspage · new incident “Checkout API errors”" in shown
    assert "Slack #C0INCIDENT · new headline message, this update in its thread" in shown
