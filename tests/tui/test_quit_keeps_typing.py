"""Quitting never loses typing: every place people type is saved on quit, or the quit asks.

The places: the entry dialog (n, a, d), the composer (u), the role dialog (r), the declare
dialog (i), the post-mortem's fields and its action-item dialog. The filter, the runbook search
and the command palette hold queries, not records: they quit without asking.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.pilot import Pilot
from textual.widgets import Input, Label, OptionList, Static, TextArea

from cockpit.config import Config, DatabaseConfig, PostmortemConfig
from cockpit.domain import Kind
from cockpit.store import Store, StoreError
from cockpit.tui.app import CockpitApp, make_app
from cockpit.tui.dialogs.composer import Composer
from cockpit.tui.dialogs.declare import DeclareDialog
from cockpit.tui.dialogs.entry import EntryDialog
from cockpit.tui.dialogs.role import RoleDialog
from cockpit.tui.screens import postmortem as postmortem_screen
from cockpit.tui.screens.postmortem import ActionItemsTable, PostmortemScreen
from cockpit.tui.unsaved import QuitDialog
from tests.conftest import FakeClock
from tests.tui.conftest import settle

SIZE = (100, 34)


@pytest.fixture
def declared(store: Store) -> int:
    return store.declare(
        "Checkout API errors", "SEV-1", "alice", service="checkout", roles={"commander": "alice"}
    ).id


@pytest.fixture
def app(
    config: Config, store: Store, clock: FakeClock, declared: int, tmp_path: Path
) -> CockpitApp:
    config = replace(config, postmortem=PostmortemConfig(dir=str(tmp_path / "pm")))
    return make_app(config, store, clock)


@pytest.fixture
def other(db_path: Path, declared: int) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(db_path, isolation_level=None)
    yield conn
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.close()


def text_of(widget: object) -> str:
    return str(widget.render())  # type: ignore[attr-defined]


async def type_into_focus(pilot: Pilot[int], text: str) -> None:
    await pilot.pause()
    focused = pilot.app.focused
    if isinstance(focused, TextArea):
        focused.insert(text)
    else:
        assert isinstance(focused, Input), f"cannot type into {focused!r}"
        focused.insert_text_at_cursor(text)
    await pilot.pause()


async def quit_with(pilot: Pilot[int], how: str) -> None:
    """Quit the way a person would: ctrl+q, or the command palette's Quit."""
    if how == "ctrl+q":
        await pilot.press("ctrl+q")
    else:
        await pilot.press("ctrl+p")
        await type_into_focus(pilot, "Quit")
        palette = pilot.app.screen
        for _ in range(100):  # the palette searches in a worker: wait for its first hit, bounded
            if palette.query_one(OptionList).option_count:
                break
            await pilot.pause(0.05)
        await pilot.press("enter")
    await pilot.pause()


def question(app: CockpitApp) -> str:
    screen = app.screen
    assert isinstance(screen, QuitDialog), f"no question asked: {screen!r}"
    return text_of(screen.query_one("#question", Static))


# ---- the entry dialog ------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["ctrl+q", "palette"])
@pytest.mark.parametrize(
    ("key", "kind", "what"), [("n", Kind.NOTE, "note"), ("d", Kind.DECISION, "decision")]
)
async def test_quit_with_a_note_open_asks_and_s_saves_it(
    app: CockpitApp, store: Store, declared: int, how: str, key: str, kind: Kind, what: str
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(key)
        await type_into_focus(pilot, "half a thought")
        await quit_with(pilot, how)
        assert f"Unsaved text in the {what} on INC-1: “half a thought”" in question(app)
        assert app.is_running
        await pilot.press("s")
        await settle(pilot)
    assert not app.is_running
    last = store.entries(declared)[-1]
    assert (last.kind, last.text) == (kind, "half a thought")


async def test_d_discards_and_esc_keeps_editing(
    app: CockpitApp, store: Store, declared: int
) -> None:
    before = store.entry_count(declared)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await type_into_focus(pilot, "draft")
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("escape")  # keep editing: back in the note, text intact
        await pilot.pause()
        assert isinstance(app.screen, EntryDialog)
        assert app.screen.query_one(Input).value == "draft"
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("d")
        await settle(pilot)
    assert not app.is_running
    assert store.entry_count(declared) == before


async def test_q_on_the_too_small_notice_asks_too(
    app: CockpitApp, store: Store, declared: int
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        await type_into_focus(pilot, "scaled up")
        await pilot.resize_terminal(40, 12)
        await pilot.pause()
        await pilot.press("q")  # the notice's own quit key
        await pilot.pause()
        assert "Unsaved text in the action on INC-1" in question(app)
        await pilot.press("s")
        await settle(pilot)
    assert store.entries(declared)[-1].text == "scaled up"


async def test_nothing_typed_quits_at_once(app: CockpitApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("ctrl+q")  # an empty note holds nothing
        await pilot.pause()
    assert not app.is_running


# ---- the composer, roles, declaring ----------------------------------------------------------


async def test_an_edited_status_update_is_kept_as_a_note_never_published(
    app: CockpitApp, store: Store, declared: int
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("u")
        await pilot.pause()
        composer = app.screen
        assert isinstance(composer, Composer)
        composer.query_one(TextArea).text = "Payments are back. Watching."
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert "Unsaved text in the status update for INC-1" in question(app)
        assert "as a note on the timeline, not published" in question(app)
        await pilot.press("s")
        await settle(pilot)
    assert not app.is_running
    assert store.updates_sent(declared)[0] == 0
    assert store.deliveries(declared) == []
    last = store.entries(declared)[-1]
    assert last.kind is Kind.NOTE
    assert last.text.endswith("\nPayments are back. Watching.")


async def test_an_untouched_template_is_not_typing(app: CockpitApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("u")
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert not app.is_running


async def test_a_person_typed_for_a_role_is_assigned_on_save(
    app: CockpitApp, store: Store, declared: int
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("down", "enter")  # communicator
        await pilot.pause()
        assert isinstance(app.screen, RoleDialog)
        await type_into_focus(pilot, "carol")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert "Unsaved text in the communicator on INC-1: “carol”" in question(app)
        await pilot.press("s")
        await settle(pilot)
    assert store.incident(declared).roles["communicator"] == "carol"


async def test_declaring_is_never_done_by_a_quit(app: CockpitApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i")
        await pilot.pause()
        await pilot.press("home", "enter")
        await pilot.pause()
        assert isinstance(app.screen, DeclareDialog)
        await type_into_focus(pilot, "Search is down")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert "Unsaved text in the new incident: “title: Search is down”" in question(app)
        assert "(cannot be saved from here)" in question(app)
        await pilot.press("s")  # not offered: declaring pages people
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, QuitDialog)
        await pilot.press("d")
        await settle(pilot)
    assert not app.is_running
    assert len(store.incidents()) == 1


# ---- the post-mortem -------------------------------------------------------------------------


async def test_the_post_mortem_is_saved_on_quit_without_asking(
    app: CockpitApp, store: Store, declared: int
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PostmortemScreen)
        await type_into_focus(pilot, "pool exhausted")  # before the autosave fires
        await pilot.press("ctrl+q")
        await settle(pilot)
    assert not app.is_running
    assert store.postmortem(declared).summary == "pool exhausted"


async def test_an_action_item_and_the_post_mortem_are_both_saved(
    app: CockpitApp, store: Store, declared: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postmortem_screen, "SAVE_AFTER_SECONDS", 60)  # no autosave meanwhile
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await type_into_focus(pilot, "what broke")
        screen = app.screen
        screen.query_one(ActionItemsTable).focus()
        await pilot.press("a")
        await type_into_focus(pilot, "Alert on pool waits")
        await pilot.press("ctrl+q")
        await pilot.pause()
        asked = question(app)
        assert "Unsaved text in the new action item: “title: Alert on pool waits”" in asked
        assert "Saving the post-mortem first." in asked
        await pilot.press("s")
        await settle(pilot)
    assert not app.is_running
    assert [item.title for item in store.action_items(declared)] == ["Alert on pool waits"]
    assert store.postmortem(declared).summary == "what broke"


# ---- when the database will not take it -------------------------------------------------------


async def test_a_locked_database_on_quit_keeps_the_app_open_and_says_so(
    app: CockpitApp, store: Store, declared: int, other: sqlite3.Connection
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await type_into_focus(pilot, "only copy of this text")
        other.execute("BEGIN IMMEDIATE")
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert app.is_running  # not exit 0 with the text gone
        dialog = app.screen
        assert isinstance(dialog, QuitDialog)
        status = text_of(dialog.query_one("#status", Label))
        assert status.startswith("Not saved: ") and "locked by another process" in status
        assert "s tries again" in text_of(dialog.query_one("#hint", Label))
        await pilot.press("escape")  # keep editing: the text is still there
        await pilot.pause()
        assert app.screen.query_one("#field-summary", TextArea).text == "only copy of this text"
        other.execute("ROLLBACK")
        await pilot.press("ctrl+q")
        await settle(pilot)
    assert not app.is_running
    assert store.postmortem(declared).summary == "only copy of this text"


async def test_f_keeps_the_text_in_a_file_when_the_database_never_frees_up(
    app: CockpitApp, store: Store, declared: int, other: sqlite3.Connection, db_path: Path
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await type_into_focus(pilot, "payments [/eu] back")
        other.execute("BEGIN IMMEDIATE")
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("s")
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, QuitDialog)
        await pilot.press("f")
        await settle(pilot)
    assert not app.is_running
    (kept,) = app.kept
    assert kept.parent == db_path.parent and kept.stat().st_mode & 0o077 == 0
    text = kept.read_text()
    assert "== the note on INC-1\npayments [/eu] back\n" in text
    assert "payments" not in " ".join(e.text for e in store.entries(declared))


async def test_a_full_disk_on_quit_keeps_the_app_open_too(
    app: CockpitApp, store: Store, declared: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise StoreError("cockpit.db: disk full or failing; nothing was written, free space")

    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await type_into_focus(pilot, "impact: EU cards")
        monkeypatch.setattr(Store, "set_postmortem", full)  # on the writer's connection too
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert app.is_running
        dialog = app.screen
        assert isinstance(dialog, QuitDialog)
        assert "disk full" in text_of(dialog.query_one("#status", Label))
        await pilot.press("f")
        await settle(pilot)
    assert not app.is_running
    (kept,) = app.kept
    assert "impact: EU cards" in kept.read_text()


async def test_quit_while_a_save_waits_quits_once_it_lands(
    config: Config, store: Store, clock: FakeClock, declared: int, other: sqlite3.Connection
) -> None:
    app = make_app(replace(config, database=DatabaseConfig(busy_timeout_ms=60_000)), store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await type_into_focus(pilot, "landing")
        other.execute("BEGIN IMMEDIATE")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, EntryDialog)
        other.execute("ROLLBACK")
        await settle(pilot)
        await app.workers.wait_for_complete()
    assert not app.is_running
    assert store.entries(declared)[-1].text == "landing"


# ---- signals ------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
async def test_sigterm_and_sighup_keep_typing_in_a_file(
    app: CockpitApp, db_path: Path, number: signal.Signals
) -> None:
    before = signal.getsignal(number)
    caught: list[int] = []
    signal.signal(number, lambda *_: caught.append(1))  # if the app's handler were missing
    app.handle_signals = True
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("p")
            await type_into_focus(pilot, "root cause: pool")
            await pilot.press("escape")  # saved: the post-mortem is not what is at stake here
            await settle(pilot)
            await pilot.press("n")
            await type_into_focus(pilot, "typed when the laptop died")
            os.kill(os.getpid(), number)
            await settle(pilot)
    finally:
        signal.signal(number, before)
    assert caught == []
    assert not app.is_running and app.return_code == 128 + number
    (kept,) = app.kept
    assert f"because the cockpit got {number.name}" in kept.read_text()
    assert "== the note on INC-1\ntyped when the laptop died\n" in kept.read_text()


# ---- generated: typing, another process's lock and quitting, interleaved ------------------------

STEPS = st.lists(
    st.sampled_from(["type", "type", "lock", "unlock", "pause", "ctrl+s"]), min_size=1, max_size=6
)


@settings(
    max_examples=int(8 * float(os.environ.get("COCKPIT_FUZZ", "1"))),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.slow
@given(steps=STEPS, patient=st.booleans())
def test_the_last_text_typed_survives_any_quit(
    config: Config, tmp_path_factory: pytest.TempPathFactory, steps: list[str], patient: bool
) -> None:
    """Whatever the autosave, the lock and the quit were doing, the text typed last is in the
    database, or in the file the quit wrote (when the lock never went)."""
    folder = tmp_path_factory.mktemp("quit")
    with Store.open(folder / "cockpit.db") as store:
        incident = store.declare("Checkout API errors", "SEV-1", "alice").id
    timeout = DatabaseConfig(busy_timeout_ms=2000 if patient else 150)
    app = make_app(replace(config, database=timeout), folder / "cockpit.db", FakeClock())
    final = asyncio.run(_type_lock_and_quit(app, folder / "cockpit.db", steps))
    assert not app.is_running
    with Store.open(folder / "cockpit.db") as store:
        saved = store.postmortem(incident).summary
    assert saved == final or any(final in path.read_text() for path in app.kept), (saved, final)


async def _type_lock_and_quit(app: CockpitApp, db_path: Path, steps: list[str]) -> str:
    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("p")
            await pilot.pause()
            area = app.focused
            assert isinstance(area, TextArea)
            for number, step in enumerate(steps):
                if step == "type":
                    area.insert(f"w{number} ")
                elif step == "lock" and not other.in_transaction:
                    other.execute("BEGIN IMMEDIATE")
                elif step == "unlock" and other.in_transaction:
                    other.execute("ROLLBACK")
                elif step == "ctrl+s":
                    await pilot.press("ctrl+s")
                await pilot.pause(0.3 if step == "pause" else None)
            final = area.text
            await pilot.press("ctrl+q")
            for _ in range(200):  # bounded: each save waits at most the busy timeout
                if not app.is_running:
                    break
                screen = app.screen
                if isinstance(screen, QuitDialog) and screen.failed:
                    await pilot.press("f")  # the lock never went: keep it in a file
                await pilot.pause(0.05)
            else:
                raise AssertionError("the app did not quit")
    finally:
        other.close()
    return final
