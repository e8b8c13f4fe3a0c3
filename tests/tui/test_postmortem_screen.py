"""Pilot tests of the post-mortem in the app: `p` edits every field and the action items, `*`
stars timeline entries, `e` exports, and the incident list says what is due."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList, Select, TextArea

from cockpit.config import Config, PostmortemConfig
from cockpit.domain import FIELDS, ItemState, Kind, Status
from cockpit.store import Store
from cockpit.tui.app import CockpitApp, make_app
from cockpit.tui.dialogs.action_item import ActionItemDialog
from cockpit.tui.dialogs.incidents import IncidentList
from cockpit.tui.screens import postmortem as postmortem_screen
from cockpit.tui.screens.cockpit import CockpitScreen
from cockpit.tui.screens.postmortem import ActionItemsTable, PostmortemScreen
from cockpit.tui.widgets.timeline import Timeline
from tests.conftest import FakeClock as MutableClock

from .conftest import AUTHOR

SIZE = (100, 34)


@pytest.fixture
def pm_config(config: Config, tmp_path: Path) -> Config:
    return replace(config, postmortem=PostmortemConfig(dir=str(tmp_path / "pm"), due_hours=48))


@pytest.fixture
def incident(store: Store, clock: MutableClock) -> int:
    declared = store.declare(
        "Checkout API errors", "SEV-2", "alice", service="checkout", roles={"commander": "alice"}
    )
    clock.advance(minutes=5)
    store.append(declared.id, Kind.NOTE, "error rate 12% on /pay", "alice")
    clock.advance(minutes=5)
    store.append(declared.id, Kind.ACTION, "rolled back api v142", "dave")
    return declared.id


@pytest.fixture
def app(pm_config: Config, store: Store, clock: MutableClock, incident: int) -> CockpitApp:
    return make_app(pm_config, store, clock)


async def open_postmortem(pilot: Pilot[int]) -> PostmortemScreen:
    await pilot.press("p")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, PostmortemScreen)
    return screen


async def type_into(pilot: Pilot[int], widget: TextArea | Input, text: str) -> None:
    widget.focus()
    await pilot.pause()
    await pilot.press(*("enter" if char == "\n" else char for char in text))


TYPED = {  # short: every key is a round trip through the app
    "summary": "down 20m\nEU",
    "impact": "3% | EU",
    "root_cause": "api\n1. pool",
    "contributing_factors": "no alert",
    "went_well": "rollback",
    "went_poorly": "paging",
    "lessons": "limits",
}


async def test_every_field_is_a_multi_line_editor_that_saves(
    app: CockpitApp, store: Store, incident: int
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_postmortem(pilot)
        areas = [screen.query_one(f"#field-{name}", TextArea) for name in FIELDS]
        assert [a.id for a in areas] == [f"field-{name}" for name in FIELDS]
        assert app.focused is areas[0]
        for name in FIELDS:
            await type_into(pilot, screen.query_one(f"#field-{name}", TextArea), TYPED[name])
        await pilot.press("ctrl+s")
        await pilot.pause()
        pm = store.postmortem(incident)
        assert pm.summary == TYPED["summary"]
        assert pm.impact == TYPED["impact"]
        assert pm.root_cause == ("api", "pool")
        assert pm.contributing_factors == TYPED["contributing_factors"]
        assert pm.went_well == TYPED["went_well"]
        assert pm.went_poorly == TYPED["went_poorly"]
        assert pm.lessons == TYPED["lessons"]
        assert pm.updated_by == AUTHOR


async def test_leaving_the_screen_saves_what_was_typed(
    app: CockpitApp, store: Store, incident: int
) -> None:
    store.set_postmortem(incident, "alice", {"lessons": "already there"})
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_postmortem(pilot)
        lessons = screen.query_one("#field-lessons", TextArea)
        assert lessons.text == "already there"
        await type_into(pilot, screen.query_one("#field-summary", TextArea), "typed")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)
        assert store.postmortem(incident).summary == "typed"
        assert store.postmortem(incident).lessons == "already there"
        # Reopening shows what the store holds.
        screen = await open_postmortem(pilot)
        assert screen.query_one("#field-summary", TextArea).text == "typed"


async def test_typing_is_saved_once_it_pauses(
    app: CockpitApp, store: Store, incident: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postmortem_screen, "SAVE_AFTER_SECONDS", 0.05)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_postmortem(pilot)
        await type_into(pilot, screen.query_one("#field-impact", TextArea), "EU cards")
        for _ in range(100):  # the debounce timer is real time: wait for it, bounded
            await pilot.pause(0.05)
            if store.postmortem(incident).impact:
                break
        assert store.postmortem(incident).impact == "EU cards"


async def test_changes_from_another_process_show_unless_being_edited(
    app: CockpitApp, store: Store, incident: int, db_path: Path, clock: MutableClock
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_postmortem(pilot)
        await type_into(pilot, screen.query_one("#field-summary", TextArea), "mine")
        with Store.open(db_path, clock=clock) as other:
            other.set_postmortem(incident, "bob", {"summary": "theirs", "lessons": "from the CLI"})
            other.add_action_item(incident, "Added elsewhere")
        screen.poll()
        await pilot.pause()
        assert screen.query_one("#field-lessons", TextArea).text == "from the CLI"
        assert screen.query_one("#field-summary", TextArea).text == "mine"  # not clobbered
        assert screen.query_one(ActionItemsTable).row_count == 1
        await pilot.press("ctrl+s")
        assert store.postmortem(incident).summary == "mine"
        assert store.postmortem(incident).lessons == "from the CLI"


async def test_action_items_are_added_edited_and_change_state(
    app: CockpitApp, store: Store, incident: int
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_postmortem(pilot)
        table = screen.query_one(ActionItemsTable)
        table.focus()
        await pilot.press("a")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionItemDialog)
        await type_into(pilot, dialog.query_one("#title", Input), "Pool alert")
        await type_into(pilot, dialog.query_one("#owner", Input), "carol")
        await type_into(pilot, dialog.query_one("#deadline", Input), "soon")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog and store.action_items(incident) == []  # bad deadline kept
        deadline = dialog.query_one("#deadline", Input)
        deadline.value = ""
        await type_into(pilot, deadline, "2026-12-04")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        (item,) = store.action_items(incident)
        assert (item.title, item.owner, item.deadline, item.state) == (
            "Pool alert",
            "carol",
            date(2026, 12, 4),
            ItemState.OPEN,
        )
        assert table.row_count == 1
        assert [str(c) for c in table.get_row_at(0)] == [
            str(item.id),
            "Pool alert",
            "carol",
            "2026-12-04",
            "open",
        ]

        # Enter edits the selected row, prefilled.
        assert app.focused is table
        await pilot.press("enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionItemDialog)
        owner = dialog.query_one("#owner", Input)
        assert owner.value == "carol"
        owner.value = ""
        await type_into(pilot, owner, "dave")
        dialog.query_one("#state", Select).value = ItemState.DONE.value
        await pilot.press("enter")
        await pilot.pause()
        item = store.action_item(item.id)
        assert (item.owner, item.state) == ("dave", ItemState.DONE)

        # x cycles the state: done -> won't do -> open.
        table.focus()
        await pilot.press("x")
        assert store.action_item(item.id).state is ItemState.WONT_DO
        assert str(table.get_row_at(0)[4]) == "won't do"
        await pilot.press("x")
        assert store.action_item(item.id).state is ItemState.OPEN

        # Esc in the dialog changes nothing.
        await pilot.press("a")
        await pilot.pause()
        await type_into(pilot, app.screen.query_one("#title", Input), "x")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and len(store.action_items(incident)) == 1


async def test_star_key_marks_the_selected_entry(
    app: CockpitApp, store: Store, incident: int
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        timeline = app.query_one(Timeline)
        assert app.focused is timeline
        await pilot.press("up")
        selected = timeline.selected
        assert selected is not None and selected.text == "error rate 12% on /pay"
        await pilot.press("asterisk")
        await pilot.pause()
        assert store.starred(incident) == {selected.id}
        row = timeline.cursor - timeline.scroll_offset.y
        assert "★ error rate 12% on /pay" in timeline.render_line(row).text
        other = timeline.render_line(row + 1).text
        assert "rolled back" in other and "★" not in other
        await pilot.press("asterisk")
        await pilot.pause()
        assert store.starred(incident) == set()
        assert "★" not in timeline.render_line(row).text


async def test_stars_from_another_process_show(
    app: CockpitApp, store: Store, incident: int, db_path: Path, clock: MutableClock
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        timeline = app.query_one(Timeline)
        last = store.entries(incident)[-1]
        with Store.open(db_path, clock=clock) as other:
            other.star(last.id, "bob")
        app.screen.poll()  # type: ignore[attr-defined]
        await pilot.pause()
        assert timeline.starred == {last.id}
        row = timeline.cursor - timeline.scroll_offset.y
        assert "★ rolled back api v142" in timeline.render_line(row).text


async def test_e_exports_and_says_where(
    app: CockpitApp, store: Store, incident: int, pm_config: Config
) -> None:
    store.star(store.entries(incident)[1].id, "alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await pilot.pause()
        name = "postmortem-INC-1-checkout-api-errors.md"
        path = (Path(pm_config.postmortem.dir) / name).resolve()
        assert path.is_file()
        text = path.read_text()
        assert text.startswith("# INC-1 post-mortem: Checkout API errors\n")
        assert "| error rate 12% on /pay |" in text
        assert any(str(path) in n.message for n in app._notifications)

        # From the post-mortem screen, `e` exports what was just typed, saved first.
        screen = await open_postmortem(pilot)
        await type_into(pilot, screen.query_one("#field-summary", TextArea), "Just now")
        screen.query_one(ActionItemsTable).focus()
        await pilot.press("e")
        await pilot.pause()
        assert "\n## Summary\n\nJust now\n" in path.read_text()
        assert store.postmortem(incident).summary == "Just now"


async def test_c_completes_and_the_incident_list_shows_what_is_due(
    app: CockpitApp, store: Store, incident: int, clock: MutableClock
) -> None:
    store.set_status(incident, Status.RESOLVED, "alice")
    store.add_action_item(incident, "Late one", deadline=(clock.now - timedelta(days=3)).date())

    def listed() -> str:
        assert isinstance(app.screen, IncidentList)
        return str(app.screen.query_one(OptionList).get_option_at_index(1).prompt)

    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()  # nothing open: the list comes up by itself
        line = listed()
        assert line.startswith("INC-1")
        assert line.endswith("post-mortem due in 2d 00:00:00 · 1 action item past deadline")
        await pilot.press("down", "enter")  # open the resolved incident
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen) and app.screen.incident_id == incident

        clock.advance(hours=49)
        await pilot.press("i")
        await pilot.pause()
        assert "post-mortem OVERDUE by 01:00:00" in listed()
        await pilot.press("escape")
        await pilot.pause()

        screen = await open_postmortem(pilot)
        assert "OVERDUE by 01:00:00" in str(screen.query_one("#pm-metrics").render())
        assert screen.check_action("complete", ()) is None  # a field has focus: c is text
        screen.query_one(DataTable).focus()
        await pilot.press("c")
        await pilot.pause()
        assert store.postmortem(incident).completed_at == clock.now
        assert "complete" in str(screen.query_one("#pm-metrics").render())
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        line = listed()
        assert "post-mortem" not in line and line.endswith("1 action item past deadline")
