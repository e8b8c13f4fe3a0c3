"""A hostile terminal: too small for the panes, and a clock that jumps while the app runs."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from textual.widgets import Static

from cockpit.config import Config
from cockpit.domain import Kind
from cockpit.store import Store
from cockpit.tui.app import CockpitApp, make_app
from cockpit.tui.dialogs.entry import EntryDialog
from cockpit.tui.screens.cockpit import CockpitScreen
from cockpit.tui.screens.too_small import MIN_SIZE, TooSmall
from cockpit.tui.widgets.panes import IncidentHeader, NextUpdatePane
from tests.conftest import FakeClock


@pytest.fixture
def app(config: Config, store: Store, clock: FakeClock) -> CockpitApp:
    store.declare(
        "Checkout API errors", "SEV-1", "alice", service="checkout", roles={"commander": "alice"}
    )
    return make_app(config, store, clock)


def shown(app: CockpitApp) -> str:
    return str(app.screen.query_one("#too-small", Static).render())


def cockpit(app: CockpitApp) -> CockpitScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, CockpitScreen)
    return screen


# ---- too small --------------------------------------------------------------------------------


async def test_a_40x12_terminal_shows_a_clear_too_small_message(app, store):
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TooSmall)
        assert shown(app).splitlines() == [
            "Terminal too small (40×12)",
            f"cockpit needs at least {MIN_SIZE.width}×{MIN_SIZE.height}:",
            "enlarge the window or shrink the font.",
            "Nothing is lost; q quits.",
        ]
        await pilot.press("n", "x", "enter")  # the panes' keys do nothing behind the message
        await pilot.pause()
        assert isinstance(app.screen, TooSmall)
        assert [e.kind for e in store.entries(1)] == [Kind.SYSTEM, Kind.ROLE]

        await pilot.resize_terminal(80, 24)  # grown: the cockpit is back, whole
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)
        header = app.screen.query_one(IncidentHeader)
        assert "Checkout API errors" in str(header.query_one("#summary", Static).render())

        await pilot.resize_terminal(MIN_SIZE.width - 1, 30)  # one column short is too small
        await pilot.pause()
        assert isinstance(app.screen, TooSmall)
        assert shown(app).startswith(f"Terminal too small ({MIN_SIZE.width - 1}×30)")
        await pilot.resize_terminal(50, 14)  # the message follows the size
        await pilot.pause()
        assert shown(app).startswith("Terminal too small (50×14)")
        assert sum(isinstance(s, TooSmall) for s in app.screen_stack) == 1

        await pilot.resize_terminal(MIN_SIZE.width, MIN_SIZE.height)  # just enough
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)
        await pilot.resize_terminal(30, 8)
        await pilot.pause()
        await pilot.press("q")
    assert app.return_code == 0


async def test_shrinking_with_a_dialog_open_keeps_what_was_typed(app, store):
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n", *"half a note")
        await pilot.pause()
        assert isinstance(app.screen, EntryDialog)
        await pilot.resize_terminal(40, 12)
        await pilot.pause()
        assert isinstance(app.screen, TooSmall)
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert isinstance(app.screen, EntryDialog)  # the dialog, with its text, is still there
        await pilot.press("enter")
        await pilot.pause()
    assert store.entries(1)[-1].text == "half a note"


# ---- a clock that jumps -----------------------------------------------------------------------


async def test_countdowns_recompute_when_the_clock_jumps(app, store, clock, monkeypatch):
    bells: list[None] = []
    monkeypatch.setattr(app, "bell", lambda: bells.append(None))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = cockpit(app)
        pane = screen.query_one(NextUpdatePane)
        due = screen.board.deadline.due_at  # type: ignore[union-attr]

        def countdown() -> str:
            return str(pane.render()).splitlines()[0].split("  ")[0]

        assert countdown() == "15:00" and not pane.has_class("-overdue")

        clock.advance(hours=2)  # a laptop lid opened, NTP caught up
        screen.tick()
        await pilot.pause()
        assert countdown() == "OVERDUE 1:45:00" and pane.has_class("-overdue")
        assert len(bells) == 1

        clock.advance(hours=-5)  # and back, before the incident was even declared
        screen.tick()
        screen.refresh_board()
        await pilot.pause()
        assert countdown() == "3:15:00" and not pane.has_class("-overdue")
        assert screen.board.deadline.due_at == due  # type: ignore[union-attr]

        await pilot.press("n", *"written while the clock was behind", "enter")
        await pilot.pause()
        clock.advance(days=400)  # far ahead: still one line, still counting
        screen.refresh_board()
        screen.tick()
        await pilot.pause()
        assert re.fullmatch(r"OVERDUE 95\d\d:\d\d:\d\d", countdown()), countdown()
        assert isinstance(app.screen, CockpitScreen)
    texts = [e.text for e in store.entries(1)]
    assert "written while the clock was behind" in texts
    assert store.integrity_check() == "ok"


async def test_the_running_clock_ticks_from_the_injected_clock(app, clock):
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        pane = cockpit(app).query_one(NextUpdatePane)
        clock.advance(minutes=14, seconds=30)
        cockpit(app).tick()  # what the 1 s interval calls; no test waits for it
        await pilot.pause()
        assert str(pane.render()).startswith("00:30") and pane.has_class("-warning")
        assert timedelta(0) < cockpit(app).board.deadline.remaining(clock())  # type: ignore[union-attr]
