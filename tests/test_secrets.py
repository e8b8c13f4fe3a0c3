"""Secrets: a whole incident with tokens set leaves no trace of them anywhere people look.

Declare, log, publish, deliver against the fakes (including failures whose error pages echo
the token, whole and cut in half), `cockpit doctor`, export the post-mortem, open the app
headless on the same configuration; then the database file (and its -wal), the export, the
logs, every command's output and the screen are searched for the tokens: zero hits. A
configuration file holding a literal secret that others can read is refused with the fix.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from cockpit.config import load_config
from cockpit.tui.app import make_app
from tests.conftest import cli_env, run_cli
from tests.fakes import FakeSlack, FakeStatuspage, Reply
from tests.fakes.wiring import secrets_env, slack_table, statuspage_table

TOKEN = "xoxb-2718281828-3141592653-SeCrEtToKeNvAlUe"
API_KEY = "sp-0123456789abcdef-SECRETKEY-fedcba9876543210"


def traces(secret: str) -> list[str]:
    """What would give the secret away: itself, and any 12-character piece of it."""
    return [secret] + [secret[i : i + 12] for i in range(0, len(secret) - 11, 4)]


@pytest.fixture
def fakes() -> Iterator[tuple[FakeSlack, FakeStatuspage]]:
    slack = FakeSlack(token=TOKEN).start()
    page = FakeStatuspage(api_key=API_KEY).start()
    yield slack, page  # type: ignore[misc]
    slack.stop()
    page.stop()


def write_config(path: Path, tables: dict[str, Any], mode: int = 0o600) -> Path:
    path.write_text(tomli_w.dumps(tables))
    path.chmod(mode)
    return path


async def test_a_whole_incident_leaves_no_token_anywhere(tmp_path, fakes, caplog, monkeypatch):
    slack, page = fakes
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "cockpit.db"
    config = write_config(
        tmp_path / "config.toml",
        {
            "user": {"name": "alice"},
            "slack": slack_table(slack, "bot", timeout=5),
            "statuspage": statuspage_table(page, timeout=5),
            "postmortem": {"dir": str(tmp_path / "exports")},
        },
    )
    env = cli_env(db, config, TERM="xterm-256color", **secrets_env(slack, page))
    shown: list[str] = []

    def cli(*args: str, status: int | None = 0) -> str:
        done = run_cli(*args, env=env)
        shown.extend((done.stdout, done.stderr))
        if status is not None:
            assert done.returncode == status, done.stdout + done.stderr
        return done.stdout + done.stderr

    cli("declare", "Checkout API errors", "-s", "SEV-1", "--service", "checkout")
    cli("log", "rolled back api v142")
    cli("log", "--kind", "action", f"someone pasted the token {TOKEN[:8]}… by mistake? no")
    cli("update", "--message", "We are investigating elevated checkout errors.")

    # Services that echo what they were sent: whole, and cut off in the middle of the token
    # (a 200-character error line ends inside it).
    cut = "x" * (200 - len("HTTP 400 ") - 20)
    slack.script("chat.postMessage", Reply(400, f"bad request: Bearer {TOKEN}"))
    page.script("create", Reply(422, {"message": f"{cut}OAuth {API_KEY} refused"}))
    failed = cli("deliver", "--wait", "0", status=1)
    assert "bad request: Bearer" in failed and "refused" not in failed  # cut, yet no key
    listing = cli("outbox")
    for line in listing.splitlines():
        if "failed" in line:
            cli("outbox", "--retry", line.split()[0].lstrip("#"))
    cli("deliver")
    cli("update", "--status", "resolved", "--message", "Fixed: we rolled back the deploy.")
    cli("deliver")
    slack.script("auth.test", Reply(401, f"invalid token {TOKEN}"))
    page.script("page", Reply(403, {"message": f"{cut}key {API_KEY}"}))
    doctor = cli("doctor", status=1)
    assert "FAIL  slack" in doctor and "FAIL  statuspage" in doctor
    cli("show", "INC-1")
    cli("show", "INC-1", "--json")
    cli("list")
    cli("export", "INC-1", "--output", str(tmp_path / "postmortem.md"))
    cli("export", "INC-1", "--output", "-")

    # The app, headless, on the same configuration and database.
    for name, value in secrets_env(slack, page).items():
        monkeypatch.setenv(name, value)
    app = make_app(load_config(config), db)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = html.unescape(app.export_screenshot()).replace("\xa0", " ")
    app.store.close()
    assert "Checkout API errors" in screen

    files = [db, *db.parent.glob("cockpit.db-*"), tmp_path / "postmortem.md"]
    stored = b"".join(path.read_bytes() for path in files if path.exists())
    assert b"rolled back api v142" in stored  # the search does look at the real bytes
    everything = "\n".join([*shown, screen, caplog.text])
    assert "bad request: Bearer" in everything
    for secret in (TOKEN, API_KEY):
        for piece in traces(secret):
            assert piece.encode() not in stored, piece
            assert piece not in everything, piece
    assert len(page.incidents) == 1 and len(slack.roots()) == 1  # it all really went out


def test_a_literal_secret_in_a_file_others_can_read_is_refused(tmp_path, fakes):
    slack, _ = fakes
    db = tmp_path / "cockpit.db"
    table = {**slack_table(slack, "bot")}
    table.pop("token_env")
    table["token"] = TOKEN
    config = write_config(tmp_path / "config.toml", {"slack": table}, mode=0o644)
    env = cli_env(db, config, TERM="xterm-256color")
    for args in (("declare", "x", "-s", "SEV-2"), ("deliver",), ("show",)):
        done = run_cli(*args, env=env)
        assert done.returncode == 1
        assert done.stderr.strip() == (
            f"cockpit: {config}: slack.token: holds a secret but the file can be read by "
            f"others; run `chmod 600 {config}` or name an environment variable with "
            "slack.token_env instead"
        )
        assert TOKEN not in done.stdout + done.stderr
    doctor = run_cli("doctor", env=env)
    assert doctor.returncode == 1
    assert doctor.stdout.startswith(f"FAIL  config         {config}: slack.token: holds a secret")
    assert f"chmod 600 {config}" in doctor.stdout and TOKEN not in doctor.stdout

    for mode in (0o640, 0o604, 0o660):  # group or others: each refused
        config.chmod(mode)
        assert run_cli("show", env=env).returncode == 1
    config.chmod(0o600)  # the fix it gave
    assert run_cli("declare", "x", "-s", "SEV-2", env=env).returncode == 0
    assert run_cli("update", "--message", "Investigating.", env=env).returncode == 0
    delivered = run_cli("deliver", env=env)
    assert delivered.returncode == 0, delivered.stderr
    assert len(slack.roots()) == 1
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("cockpit.db*"))
    assert TOKEN.encode() not in stored


def test_redaction_hides_a_secret_cut_short():
    from cockpit.comms.statuspage import Statuspage
    from cockpit.config import StatuspageConfig

    target = Statuspage(StatuspageConfig(page_id="pg", api_key=API_KEY))
    for size in range(8, len(API_KEY) + 1):
        for text in (f"HTTP 422 key {API_KEY[:size]}…", f"key {API_KEY[:size]}"):
            shown = target.redact(text)
            assert API_KEY[:8] not in shown and shown.startswith(text[:4]), shown
    assert target.redact(f"a {API_KEY}, asked to wait") == "a …, asked to wait"
    kept = f"{API_KEY[:7]} is too short to give anything away"
    assert target.redact(kept) == kept
