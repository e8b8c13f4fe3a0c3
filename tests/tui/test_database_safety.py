"""The app on a database that is not as it should be (issue 11.1, 11.3, 11.4): a row it cannot
read, a corrupt page, the file deleted or replaced while it runs. It shows the problem in one
line and keeps running; it never confirms a write that did not happen."""

from __future__ import annotations

import os
from pathlib import Path

from cockpit.config import Config
from cockpit.domain import Kind
from cockpit.store import Store
from cockpit.tui.app import make_app
from cockpit.tui.dialogs.entry import EntryDialog
from cockpit.tui.dialogs.incidents import IncidentList
from cockpit.tui.screens.cockpit import CockpitScreen
from cockpit.tui.widgets.timeline import Timeline
from tests.conftest import FakeClock
from tests.test_database_files import corrupt_database
from tests.test_stored_times import plant_bad_rows

SIZE = (100, 30)


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


def timeline_text(app) -> str:
    timeline = app.screen_stack[0].query_one(Timeline)
    lines = [timeline.render_line(y).text for y in range(timeline.size.height)]
    return "\n".join(lines)


async def test_a_row_it_cannot_read_is_shown_flagged(config: Config, tmp_path: Path):
    db = tmp_path / "c.db"
    plant_bad_rows(db)
    app = make_app(config, db, FakeClock())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)
        shown = timeline_text(app)
        assert "??:??" in shown
        assert "??:?? note     alice    ⚠ typo year  (unreadable at='226-11-28T" in shown
        assert "02:14 note     alice    ⚠ odd values  (unreadable written_at=" in shown
        assert "good note" in shown
        assert any("INC-1: ⚠ unreadable declared_at='garbage'" in n for n in notes(app))
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, IncidentList)


async def test_a_corrupt_page_is_one_line_and_the_app_keeps_running(config: Config, tmp_path: Path):
    db = tmp_path / "c.db"
    corrupt_database(db)
    app = make_app(config, db, FakeClock())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        timeline = app.screen.query_one(Timeline)
        for index in range(0, timeline.count, 100):  # over the damaged page and past it
            timeline._move_cursor(index)
            await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.press("n", *"a note", "enter")
        await pilot.pause()
        assert isinstance(app.screen, EntryDialog)  # not saved: the dialog keeps the text
        damaged = [n for n in notes(app) if "the database is damaged" in n]
        assert all(".recover" in n for n in damaged)
        assert len(damaged) == 2  # drawing the timeline met the bad page; the note was refused
        assert app.is_running
    with Store.open(db, read_only=True) as store:
        assert "a note" not in {e.text for e in store.entries_after(1, 1990)}


async def test_a_database_deleted_under_the_app_is_said_and_never_written(
    config: Config, tmp_path: Path
):
    db = tmp_path / "c.db"
    with Store.open(db, clock=FakeClock()) as store:
        store.declare("Checkout down", "SEV-2", "alice")
    app = make_app(config, db, FakeClock())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        db.unlink()
        app.screen.poll()  # the once-a-second look at the database
        await pilot.press("n", *"typed after the delete", "enter")
        await pilot.pause()
        assert isinstance(app.screen, EntryDialog)
        said = [n for n in notes(app) if "was deleted or replaced" in n]
        assert said and all("restart cockpit" in n for n in said)
        assert len(said) >= 2  # the poll said it, and the refused note said it again
    assert not db.exists()


async def test_a_database_renamed_over_under_the_app(config: Config, tmp_path: Path):
    db = tmp_path / "c.db"
    with Store.open(db, clock=FakeClock()) as store:
        store.declare("Checkout down", "SEV-2", "alice")
    other = tmp_path / "other.db"
    with Store.open(other, clock=FakeClock()) as store:
        incident = store.declare("Someone else's", "SEV-3", "bob")
        store.append(incident.id, Kind.NOTE, "theirs", "bob")
    app = make_app(config, db, FakeClock())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        os.replace(other, db)
        await pilot.press("n", *"mine", "enter")
        await pilot.pause()
        assert isinstance(app.screen, EntryDialog)
        assert any("was deleted or replaced" in n for n in notes(app))
