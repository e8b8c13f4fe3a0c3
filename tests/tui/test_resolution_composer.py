"""Pilot tests: resolving with `t` offers the resolution update; the next-update pane says when
one is owed, and stops saying so once it is published."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Label, Select, TextArea

from cockpit.config import Config
from cockpit.domain import Kind, Status
from cockpit.store import Store
from cockpit.tui.app import CockpitApp, make_app
from cockpit.tui.dialogs.composer import Composer
from cockpit.tui.dialogs.resolution import ResolutionComposer
from cockpit.tui.screens.cockpit import CockpitScreen
from cockpit.tui.widgets.panes import NextUpdatePane
from tests.conftest import FakeClock
from tests.tui.conftest import demo_app
from tests.tui.test_snapshots import settle

SIZE = (100, 30)


def pane_text(app: CockpitApp) -> str:
    return str(app.screen_stack[0].query_one(NextUpdatePane).render())


@pytest.fixture
def declared(store: Store) -> int:
    incident = store.declare(
        "Checkout API errors", "SEV-1", "alice", service="checkout", roles={"commander": "alice"}
    )
    return incident.id


@pytest.fixture
def app(config: Config, store: Store, clock: FakeClock, declared: int) -> CockpitApp:
    return make_app(config, store, clock)


async def test_resolving_opens_the_resolution_composer_and_publishing_resolves(
    app: CockpitApp, store: Store, declared: int
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("end", "enter")
        await pilot.pause()
        composer = app.screen
        assert isinstance(composer, ResolutionComposer)
        assert store.incident(declared).is_open  # nothing written until the composer decides
        assert composer.query_one("#status", Select).value is Status.RESOLVED
        assert "template: resolution" in str(composer.query_one("#template", Label).render())
        text = composer.query_one("#text", TextArea).text
        assert text.startswith("The issue affecting checkout has been resolved as of")
        hint = str(composer.query_one("#hint", Label).render())
        assert "Esc resolves without an update" in hint
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)
        assert store.incident(declared).status is Status.RESOLVED
        status, update = store.entries(declared)[-2:]
        assert status.kind is Kind.STATUS and status.text == "status investigating → resolved"
        assert update.kind is Kind.UPDATE
        assert update.meta["status"] == "resolved" and update.meta["template"] == "resolution"
        assert pane_text(app).startswith("Resolved: resolution update published")


async def test_escape_resolves_without_one_logs_it_and_the_pane_says_it_is_owed(
    app: CockpitApp, store: Store, declared: int
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("end", "enter")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)
        assert store.incident(declared).status is Status.RESOLVED
        last = store.entries(declared)[-1]
        assert last.text == "status investigating → resolved: without a resolution update"
        assert store.updates_sent(declared) == (0, None)
        pane = app.query_one(NextUpdatePane)
        assert pane_text(app).startswith("Resolution update owed  press u to publish it")
        assert pane.has_class("-warning") and not pane.has_class("-overdue")

        # `u` on the resolved incident starts from the resolution template; publishing it
        # settles what is owed.
        await pilot.press("u")
        await pilot.pause()
        assert type(app.screen) is Composer
        assert app.screen.draft.template == "resolution"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pane_text(app).startswith("Resolved: resolution update published")
        assert not pane.has_class("-warning")


async def test_reopening_and_a_sev3_resolve_straight_away(
    config: Config, store: Store, clock: FakeClock
) -> None:
    quiet = store.declare("Typo on the pricing page", "SEV-3", "alice").id
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("end", "enter")  # a SEV-3 nobody was told about owes no update
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)
        assert store.incident(quiet).status is Status.RESOLVED
        assert pane_text(app) == "Resolved: no updates are owed (SEV-3, none was published)."
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("home", "enter")  # reopening never asks for an update
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)
        assert store.incident(quiet).status is Status.INVESTIGATING


async def test_a_locked_database_keeps_the_resolution_composer_open(
    app: CockpitApp, store: Store, declared: int, db_path: Path
) -> None:
    import sqlite3

    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("end", "enter")
        await pilot.pause()
        await pilot.press(*"Payments work again. ")
        other = sqlite3.connect(db_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, ResolutionComposer)  # the text is still there
            assert app.screen.query_one("#text", TextArea).text.startswith("Payments work")
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert store.incident(declared).is_open


def test_resolution_composer_at_80x24(snap_compare: Any, tmp_path: Path) -> None:
    async def resolve(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)  # the list is highlighted on the current status once mounted
        await pilot.press("end", "enter")  # resolved is the last status
        await settle(pilot)
        pilot.app.screen.query_one("#text", TextArea).cursor_blink = False  # one frame, always
        await settle(pilot)

    assert snap_compare(demo_app(tmp_path), terminal_size=(80, 24), run_before=resolve)
