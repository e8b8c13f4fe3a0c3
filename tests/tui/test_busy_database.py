"""Another process holds the database while the app writes: the screen stays live, says the
database is busy, keeps what was typed, and shows an entry only once it is committed."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Label, Static, TextArea

from cockpit.config import Config, DatabaseConfig
from cockpit.domain import Kind
from cockpit.store import Store
from cockpit.tui.app import CockpitApp, make_app
from cockpit.tui.dialogs.choice import ChoiceDialog
from cockpit.tui.dialogs.composer import Composer
from cockpit.tui.dialogs.entry import EntryDialog
from cockpit.tui.screens.cockpit import CockpitScreen
from cockpit.tui.screens.postmortem import PostmortemScreen
from cockpit.tui.widgets.panes import DatabaseLine, IncidentHeader
from cockpit.tui.widgets.timeline import Timeline
from cockpit.tui.writer import BUSY
from tests.conftest import FakeClock
from tests.tui.conftest import settle

SIZE = (100, 30)


@pytest.fixture
def patient(config: Config) -> Config:
    """The app waits a minute for the lock: long enough that only releasing it ends the wait."""
    return replace(config, database=DatabaseConfig(busy_timeout_ms=60_000))


@pytest.fixture
def declared(store: Store) -> int:
    return store.declare(
        "Checkout API errors", "SEV-1", "alice", service="checkout", roles={"commander": "alice"}
    ).id


@pytest.fixture
def other(db_path: Path, declared: int) -> Iterator[sqlite3.Connection]:
    """Another process's connection, to hold the write lock with."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    yield conn
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.close()


def cockpit(app: CockpitApp) -> CockpitScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, CockpitScreen)
    return screen


def text_of(widget: object) -> str:
    return str(widget.render())  # type: ignore[attr-defined]


async def write(pilot: Pilot[int], key: str, text: str) -> None:
    """Open the dialog behind `key`, type `text` and press Enter."""
    await pilot.press(key)
    await pilot.pause()
    focused = pilot.app.focused
    assert isinstance(focused, Input), "the dialog has not taken the focus"
    focused.insert_text_at_cursor(text)
    await pilot.press("enter")
    await pilot.pause()


async def wait_until(pilot: Pilot[int], condition: Callable[[], bool]) -> None:
    """Let the app run (its timers are real time) until `condition` holds; bounded."""
    for _ in range(200):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the app did not get there within 10 s")


def header(app: CockpitApp) -> str:
    return text_of(cockpit(app).query_one(IncidentHeader).query_one("#summary", Static))


async def test_a_note_saved_while_another_process_holds_the_lock(
    patient: Config,
    store: Store,
    clock: FakeClock,
    declared: int,
    other: sqlite3.Connection,
    db_path: Path,
) -> None:
    app = make_app(patient, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        timeline = cockpit(app).query_one(Timeline)
        before = store.entry_count(declared)
        other.execute("BEGIN IMMEDIATE")  # `cockpit log` in another terminal, mid-write
        await write(pilot, "n", "rolled back")

        dialog = app.screen
        assert isinstance(dialog, EntryDialog)
        assert text_of(dialog.query_one("#hint", Label)) == BUSY
        assert dialog.query_one(Input).value == "rolled back"
        # Not committed, so not shown: the first promise holds while waiting.
        assert store.entry_count(declared) == before and timeline.count == before

        # The screen is live: the 1 s tick redraws the clock from the injected clock...
        clock.advance(minutes=7)
        await wait_until(pilot, lambda: "00:07:00 since declared" in header(app))
        # ...the poll says the database is busy...
        line = cockpit(app).query_one(DatabaseLine)
        await wait_until(pilot, lambda: line.display)
        assert "Database busy (held by another process)" in text_of(line)
        # ...and keys are handled: Esc does not close a dialog whose save is under way, typing
        # cannot change the text being saved.
        await pilot.press("escape", "x")
        await pilot.pause()
        assert app.screen is dialog and dialog.query_one(Input).value == "rolled back"
        assert store.entry_count(declared) == before

        other.execute("ROLLBACK")  # the other process is done
        await settle(pilot)
        assert isinstance(app.screen, CockpitScreen)
        last = store.entries(declared)[-1]
        assert (last.kind, last.text) == (Kind.NOTE, "rolled back")
        assert store.entry_count(declared) == before + 1
        assert timeline.selected == last  # on screen once committed
        await wait_until(pilot, lambda: not line.display)
    # In the file for every other connection too.
    fresh = sqlite3.connect(db_path)
    try:
        assert ("rolled back",) in fresh.execute("SELECT text FROM entries").fetchall()
    finally:
        fresh.close()


async def test_enter_again_while_waiting_writes_once(
    patient: Config, store: Store, clock: FakeClock, declared: int, other: sqlite3.Connection
) -> None:
    app = make_app(patient, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        before = store.entry_count(declared)
        other.execute("BEGIN IMMEDIATE")
        await write(pilot, "d", "fail over")
        dialog = app.screen
        assert isinstance(dialog, EntryDialog)
        await pilot.press("enter", "enter")  # impatient
        await pilot.pause()
        other.execute("ROLLBACK")
        await settle(pilot)
    assert [e.text for e in store.entries(declared)[before:]] == ["fail over"]


async def test_a_save_the_lock_outlasts_says_so_in_one_line_and_keeps_the_text(
    config: Config, store: Store, clock: FakeClock, declared: int, other: sqlite3.Connection
) -> None:
    app = make_app(config, store, clock)  # busy timeout 200 ms
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        before = store.entry_count(declared)
        other.execute("BEGIN IMMEDIATE")
        await write(pilot, "a", "restarted api")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, EntryDialog)
        hint = text_of(dialog.query_one("#hint", Label))
        assert hint.startswith("Not saved: ") and "locked by another process" in hint
        assert "\n" not in hint
        assert dialog.query_one(Input).value == "restarted api"
        assert not dialog.query_one(Input).disabled and app.focused is dialog.query_one(Input)
        other.execute("ROLLBACK")
        await pilot.press("enter")  # another try
        await settle(pilot)
        assert isinstance(app.screen, CockpitScreen)
    assert [e.text for e in store.entries(declared)[before:]] == ["restarted api"]


async def test_other_writes_wait_off_the_screen_too(
    patient: Config, store: Store, clock: FakeClock, declared: int, other: sqlite3.Connection
) -> None:
    """A severity change, a status update and a star, each while the lock is held."""
    app = make_app(patient, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        other.execute("BEGIN IMMEDIATE")

        await pilot.press("s", "down", "enter")  # SEV-1 -> SEV-2
        await pilot.pause()
        assert isinstance(app.screen, ChoiceDialog)
        assert text_of(app.screen.query_one("#hint", Label)) == BUSY
        assert store.incident(declared).severity == "SEV-1"
        clock.advance(minutes=3)
        await wait_until(pilot, lambda: "00:03:00 since declared" in header(app))
        other.execute("ROLLBACK")
        await settle(pilot)
        assert isinstance(app.screen, CockpitScreen)
        assert store.incident(declared).severity == "SEV-2"

        other.execute("BEGIN IMMEDIATE")
        await pilot.press("u")
        await pilot.pause()
        composer = app.screen
        assert isinstance(composer, Composer)
        composer.query_one(TextArea).text = "We are rolling back."
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert text_of(composer.query_one("#hint", Label)) == BUSY
        assert composer.query_one(TextArea).disabled  # what is being published cannot change
        assert store.updates_sent(declared)[0] == 0
        other.execute("ROLLBACK")
        await settle(pilot)
        assert isinstance(app.screen, CockpitScreen)
        assert store.updates_sent(declared)[0] == 1

        timeline = cockpit(app).query_one(Timeline)
        other.execute("BEGIN IMMEDIATE")
        await pilot.press("asterisk")
        await pilot.pause()
        assert timeline.starred == set()
        clock.advance(minutes=1)
        await wait_until(pilot, lambda: "00:04:00 since declared" in header(app))
        other.execute("ROLLBACK")
        await settle(pilot)
        assert timeline.starred == {timeline.selected.id}  # type: ignore[union-attr]


async def test_the_post_mortem_keeps_typing_while_its_save_waits(
    patient: Config, store: Store, clock: FakeClock, declared: int, other: sqlite3.Connection
) -> None:
    app = make_app(patient, store, clock)
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.press("p")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PostmortemScreen)
        summary = screen.query_one("#field-summary", TextArea)
        other.execute("BEGIN IMMEDIATE")
        await pilot.press(*"pool")
        await pilot.press("ctrl+s")
        await pilot.pause()
        line = screen.query_one(DatabaseLine)
        await wait_until(pilot, lambda: line.display)
        await pilot.press(*" exhausted")  # typing goes on while the save waits
        assert summary.text == "pool exhausted"
        assert store.postmortem(declared).summary == ""
        other.execute("ROLLBACK")
        await settle(pilot)
        assert store.postmortem(declared).summary == "pool"
        await pilot.press("ctrl+s")  # what was typed since is saved next
        await settle(pilot)
        assert store.postmortem(declared).summary == "pool exhausted"


async def test_a_poll_that_finds_the_database_locked_skips_and_says_so(
    config: Config,
    store: Store,
    clock: FakeClock,
    declared: int,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In WAL mode reads do not wait for writers, but SQLite may still answer a read with
    SQLITE_BUSY (a WAL restart or recovery in another process): the poll skips, says so, and the
    next one shows everything."""
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        screen = cockpit(app)
        line = screen.query_one(DatabaseLine)
        with Store.open(db_path, clock=clock) as cli:
            cli.append(declared, Kind.NOTE, "from another terminal", "bob")

        def locked(*args: object, **kwargs: object) -> object:
            error = sqlite3.OperationalError("database is locked")
            error.sqlite_errorcode = sqlite3.SQLITE_BUSY
            raise error

        with monkeypatch.context() as patch:
            patch.setattr(store, "entries_after", locked)
            patch.setattr(store, "deliveries", locked)
            for _ in range(3):
                screen.poll()
                screen.tick()
            await pilot.pause()
            assert line.display
            assert "the screen shows what was read last" in text_of(line)
            # Not an error: no toast, only the line.
            assert all("locked" not in n.message for n in app._notifications)
        screen.poll()
        await pilot.pause()
        assert not line.display
        assert screen.query_one(Timeline).selected.text == "from another terminal"  # type: ignore[union-attr]


async def test_leaving_the_post_mortem_while_its_save_waits_leaves_once_it_lands(
    patient: Config, store: Store, clock: FakeClock, declared: int, other: sqlite3.Connection
) -> None:
    app = make_app(patient, store, clock)
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PostmortemScreen)
        await pilot.press(*"pool")
        other.execute("BEGIN IMMEDIATE")
        await pilot.press("ctrl+s")  # under way, waiting for the lock
        await pilot.pause()
        await pilot.press(*" sizing", "escape")  # more text, then leave
        await pilot.pause()
        assert isinstance(app.screen, PostmortemScreen)  # not before it is saved
        other.execute("ROLLBACK")
        await settle(pilot)
        await wait_until(pilot, lambda: isinstance(app.screen, CockpitScreen))
    assert store.postmortem(declared).summary == "pool sizing"
