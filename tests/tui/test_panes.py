"""The panes: opening on the right incident, the runbook pane, NO_COLOR."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Static

from cockpit.config import Config, RunbooksConfig
from cockpit.domain import Status
from cockpit.store import Store
from cockpit.tui.app import make_app
from cockpit.tui.screens.cockpit import CockpitScreen
from cockpit.tui.widgets.panes import NextUpdatePane, RolesPane
from cockpit.tui.widgets.runbook import RunbookPane
from tests.conftest import FakeClock

SIZE = (100, 30)


async def test_one_open_incident_opens_straight_on_it(
    config: Config, store: Store, clock: FakeClock
) -> None:
    store.declare("Old one", "SEV-3", "alice")
    store.set_status(1, Status.RESOLVED, "alice")
    current = store.declare("Checkout API errors", "SEV-1", "alice").id
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)
        assert app.screen.incident_id == current


async def test_runbook_pane_renders_markdown_or_says_why_not(
    config: Config, store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    books = tmp_path / "runbooks"
    books.mkdir()
    (books / "db-pool.md").write_text(
        '+++\ntitle = "DB pool exhausted"\n+++\n1. Check `pg_stat_activity`\n\x1b[31m'
    )
    config = replace(config, runbooks=RunbooksConfig(dirs=[str(books)], include_bundled=False))
    incident = store.declare("DB trouble", "SEV-2", "alice").id
    store.link_runbook(incident, "db-pool", "alice")
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane = app.query_one(RunbookPane)
        assert pane.border_title == "Runbook · DB pool exhausted"
        from textual.widgets import Markdown

        markdown = pane.query_one(Markdown)
        assert "\x1b" not in markdown.source
        # Another process links a runbook that does not exist: a clear placeholder.
        with Store.open(store.path, clock=clock) as other:
            other.link_runbook(incident, "no-such-book", "bob")
        message = pane.query_one("#runbook-message", Static)
        for _ in range(40):
            await pilot.pause(0.05)
            if "not found" in str(message.render()):
                break
        text = str(message.render())
        assert "Runbook 'no-such-book' not found" in text and "Press b" in text
        assert f"Looked in: {books}" in text  # where to put the file


async def test_no_color_is_respected_and_states_stay_readable(
    config: Config, store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    store.declare("Checkout API errors", "SEV-1", "alice")
    clock.advance(minutes=16)
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.no_color
        # Without colour, the words carry the state.
        assert "SEV-1" in str(app.query_one("#severity", Static).render())
        assert str(app.query_one(NextUpdatePane).render()).startswith("OVERDUE 01:00")
        roles = app.query_one(RolesPane)
        assert "⚠ required" in str(roles.render())
        assert roles.border_subtitle == "SEV-1 needs commander, communicator"


def test_app_import_stays_light() -> None:
    """Opening the cockpit loads neither the HTTP client, nor Markdown, nor sqlite-utils."""
    import subprocess
    import sys

    code = (
        "import sys, cockpit.tui.app\n"
        "heavy = [m for m in ('httpx', 'markdown_it', 'sqlite_utils') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""
