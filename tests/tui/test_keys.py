"""Pilot tests: every key writes through the store, the panes show it, Esc leaves nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input

from cockpit.config import Config
from cockpit.domain import Kind, Status
from cockpit.store import Store
from cockpit.tui.app import CockpitApp, make_app
from cockpit.tui.dialogs.choice import ChoiceDialog
from cockpit.tui.dialogs.declare import DeclareDialog
from cockpit.tui.dialogs.entry import EntryDialog
from cockpit.tui.dialogs.filter import FilterDialog
from cockpit.tui.dialogs.incidents import IncidentList
from cockpit.tui.dialogs.role import RoleDialog
from cockpit.tui.screens.cockpit import CockpitScreen
from cockpit.tui.widgets.panes import IncidentHeader, NextUpdatePane, RolesPane
from cockpit.tui.widgets.timeline import Timeline
from tests.conftest import FakeClock
from tests.tui.conftest import AUTHOR, settle

SIZE = (100, 30)


def cockpit(app: CockpitApp) -> CockpitScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, CockpitScreen)
    return screen


def text_of(widget: object) -> str:
    """What a Static-like pane shows, as plain text."""
    return str(widget.render())  # type: ignore[attr-defined]


async def type_text(pilot: Pilot[int], text: str) -> None:
    """Type into the focused input, as a paste (one event, so the suite stays fast)."""
    focused = pilot.app.focused
    assert focused is not None, "nothing has focus to type into"
    focused.post_message(events.Paste(text))
    await pilot.pause()


@pytest.fixture
def declared(store: Store) -> int:
    incident = store.declare(
        "Checkout API errors", "SEV-1", "alice", service="checkout", roles={"commander": "alice"}
    )
    return incident.id


@pytest.fixture
def app(config: Config, store: Store, clock: FakeClock, declared: int) -> CockpitApp:
    return make_app(config, store, clock)


@pytest.mark.parametrize(
    ("key", "kind"), [("n", Kind.NOTE), ("a", Kind.ACTION), ("d", Kind.DECISION)]
)
async def test_entry_keys_commit_then_show(
    app: CockpitApp, store: Store, declared: int, key: str, kind: Kind
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        timeline = app.query_one(Timeline)
        before = store.entry_count(declared)
        await pilot.press(key)
        assert isinstance(app.screen, EntryDialog)
        await pilot.press(*"rolled back api v142")  # key by key, as a person types
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)
        last = store.entries(declared)[-1]
        assert (last.kind, last.author, last.text) == (kind, AUTHOR, "rolled back api v142")
        assert store.entry_count(declared) == before + 1
        assert timeline.count == before + 1
        assert timeline.selected == last  # followed to the new bottom line


@pytest.mark.parametrize("key", ["n", "a", "d"])
async def test_escape_leaves_nothing(
    app: CockpitApp, store: Store, declared: int, key: str
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        before = store.entry_count(declared)
        await pilot.press(key)
        await type_text(pilot, "half typed")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)
        assert store.entry_count(declared) == before
        assert app.query_one(Timeline).count == before


async def test_blank_entry_is_not_saved(app: CockpitApp, store: Store, declared: int) -> None:
    async with app.run_test(size=SIZE) as pilot:
        before = store.entry_count(declared)
        await pilot.press("n", "space", "enter")
        assert isinstance(app.screen, EntryDialog)  # still open, says why
        assert store.entry_count(declared) == before


async def test_severity_picker(app: CockpitApp, store: Store, declared: int) -> None:
    async with app.run_test(size=SIZE) as pilot:
        header = app.query_one(IncidentHeader)
        assert header.has_class("-sev1")
        await pilot.press("s")
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)
        assert store.incident(declared).severity == "SEV-2"
        last = store.entries(declared)[-1]
        assert (last.kind, last.author) == (Kind.SEVERITY, AUTHOR)
        assert header.has_class("-sev2") and not header.has_class("-sev1")
        # Esc changes nothing.
        count = store.entry_count(declared)
        await pilot.press("s", "down", "escape")
        await pilot.pause()
        assert store.incident(declared).severity == "SEV-2"
        assert store.entry_count(declared) == count


async def test_status_picker(app: CockpitApp, store: Store, declared: int) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t", "down", "enter")
        await pilot.pause()
        assert store.incident(declared).status is Status.IDENTIFIED
        last = store.entries(declared)[-1]
        assert (last.kind, last.author) == (Kind.STATUS, AUTHOR)
        assert "identified" in text_of(app.query_one("#summary"))
        assert app.query_one(Timeline).selected == last
        count = store.entry_count(declared)
        await pilot.press("t", "down", "escape")
        await pilot.pause()
        assert store.incident(declared).status is Status.IDENTIFIED
        assert store.entry_count(declared) == count


async def test_resolved_incident_hides_severity(
    app: CockpitApp, store: Store, declared: int
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t", "end", "enter")
        await pilot.pause()
        await pilot.press("escape")  # the resolution composer: Esc resolves without an update
        await pilot.pause()
        assert store.incident(declared).status is Status.RESOLVED
        screen = cockpit(app)
        assert screen.check_action("severity", ()) is False
        await pilot.press("s")
        assert isinstance(app.screen, CockpitScreen)  # nothing opened
        assert "lasted" in text_of(app.query_one("#summary"))


async def test_assign_role(app: CockpitApp, store: Store, declared: int) -> None:
    async with app.run_test(size=SIZE) as pilot:
        roles = app.query_one(RolesPane)
        assert "⚠ required" in text_of(roles)  # nobody is communicator yet
        assert roles.border_subtitle == "SEV-1 needs communicator"
        await pilot.press("r")
        assert isinstance(app.screen, RoleDialog)
        await pilot.press("down", "enter")  # communicator
        assert isinstance(app.focused, Input)
        await type_text(pilot, "zoe")
        await pilot.press("enter")
        await pilot.pause()
        assert store.incident(declared).roles["communicator"] == "zoe"
        last = store.entries(declared)[-1]
        assert (last.kind, last.author) == (Kind.ROLE, AUTHOR)
        assert "zoe" in text_of(roles)
        assert "required" not in text_of(roles)
        assert not roles.border_subtitle
        assert not roles.has_class("-missing")
        count = store.entry_count(declared)
        await pilot.press("r", "enter")
        await type_text(pilot, "nobody")
        await pilot.press("escape")
        await pilot.pause()
        assert store.entry_count(declared) == count
        assert store.incident(declared).roles["commander"] == "alice"


async def test_filter_by_kind_and_text(app: CockpitApp, store: Store, declared: int) -> None:
    store.append(declared, Kind.DECISION, "roll back first", "alice")
    store.append(declared, Kind.NOTE, "db pool at 96/100", "carol")
    store.append(declared, Kind.DECISION, "page the db team", "alice")
    async with app.run_test(size=SIZE) as pilot:
        timeline = app.query_one(Timeline)
        await pilot.press("slash")
        assert isinstance(app.screen, FilterDialog)
        await type_text(pilot, "kind:decision")
        await pilot.press("enter")
        await pilot.pause()
        assert timeline.count == 2
        assert all(timeline.entry_at(i).kind is Kind.DECISION for i in range(2))  # type: ignore[union-attr]
        await pilot.press("slash", "ctrl+u")
        await type_text(pilot, "db kind:decision")
        await pilot.press("enter")
        await pilot.pause()
        assert timeline.count == 1
        assert timeline.selected is not None and timeline.selected.text == "page the db team"
        assert "1 shown" in str(timeline.border_subtitle)
        await pilot.press("slash", "ctrl+u", "enter")  # empty shows all again
        await pilot.pause()
        assert timeline.count == store.entry_count(declared)


async def test_filter_rejects_unknown_kind(app: CockpitApp, declared: int) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        await type_text(pilot, "kind:nonsense")
        await pilot.press("enter")
        assert isinstance(app.screen, FilterDialog)
        await pilot.press("escape")
        assert app.query_one(Timeline).filter.active is False


async def test_incident_list_declares_a_new_incident(
    app: CockpitApp, store: Store, declared: int
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i")
        assert isinstance(app.screen, IncidentList)
        await pilot.press("home", "enter")  # "+ Declare a new incident"
        assert isinstance(app.screen, DeclareDialog)
        await type_text(pilot, "Login page slow")
        await pilot.press("tab", "enter", "down", "enter")  # severity: SEV-2 (default) → SEV-3
        await pilot.press("tab")
        await type_text(pilot, "auth")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)
        newest = store.incidents()[0]
        assert newest.id != declared
        assert (newest.title, newest.severity, newest.service, newest.declared_by) == (
            "Login page slow",
            "SEV-3",
            "auth",
            AUTHOR,
        )
        assert cockpit(app).incident_id == newest.id
        assert "Login page slow" in text_of(app.query_one("#summary"))
        assert "no update cadence applies" in text_of(app.query_one(NextUpdatePane))


async def test_incident_list_switches_and_escape_keeps_current(
    app: CockpitApp, store: Store, declared: int
) -> None:
    other = store.declare("Search is down", "SEV-2", "bob").id
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # Two open incidents: the list comes up by itself.
        assert isinstance(app.screen, IncidentList)
        await pilot.press("escape")
        assert cockpit(app).incident_id == other  # the newest stays on screen
        await pilot.press("i", "down", "enter")  # newest first: the second open one
        await pilot.pause()
        assert cockpit(app).incident_id == declared
        assert "Checkout API errors" in text_of(app.query_one("#summary"))
        count = len(store.incidents())
        await pilot.press("i", "home", "enter", "escape", "escape")
        assert len(store.incidents()) == count
        assert cockpit(app).incident_id == declared


async def test_no_incident_opens_the_list_and_hides_incident_keys(
    config: Config, store: Store, clock: FakeClock
) -> None:
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, IncidentList)
        assert "No open incident" in text_of(app.screen.query_one("#prompt"))
        await pilot.press("escape")
        screen = cockpit(app)
        for action in ("note", "action", "decision", "severity", "status", "assign_role"):
            assert screen.check_action(action, ()) is False
        await pilot.press("n")
        assert isinstance(app.screen, CockpitScreen)
        assert store.incidents() == []


async def test_q_quits(app: CockpitApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_every_key_is_in_the_footer_and_the_palette(app: CockpitApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        footer_keys = {key.key for key in app.query("FooterKey")}
        assert {"n", "a", "d", "s", "t", "r", "i", "slash", "q"} <= footer_keys
        names = {command.title for command in app.get_system_commands(app.screen)}
        for name in (
            "Log a note",
            "Log an action taken",
            "Log a decision",
            "Change the severity",
            "Change the status",
            "Assign a role",
            "Switch incident or declare a new one",
            "Filter the timeline",
            "Quit the cockpit",
        ):
            assert name in names


async def test_palette_runs_the_action(app: CockpitApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await type_text(pilot, "Log a decision")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EntryDialog)
        assert app.screen.title_text == "Decision"


async def test_locked_database_is_one_notification_and_keeps_the_text(
    app: CockpitApp, store: Store, declared: int, db_path: Path
) -> None:
    import sqlite3

    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            before = store.entry_count(declared)
            other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
            await pilot.press("n")
            await type_text(pilot, "keep me")
            await pilot.press("enter")
            await settle(pilot)  # the write waited out the busy timeout on the writer's thread
            assert isinstance(app.screen, EntryDialog)
            assert app.screen.query_one(Input).value == "keep me"
            messages = [n.message for n in app._notifications]
            assert any("locked" in m for m in messages)
            other.execute("ROLLBACK")
            await pilot.press("enter")  # retry once the lock is gone
            await pilot.pause()
            assert isinstance(app.screen, CockpitScreen)
            assert store.entry_count(declared) == before + 1
    finally:
        other.close()


async def test_control_characters_never_reach_the_screen(
    app: CockpitApp, store: Store, declared: int
) -> None:
    store.append(
        declared, Kind.NOTE, "red \x1b[31malert\x1b[0m\x07 line\nbreak", "evil\x1b]0;x\x07"
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        timeline = app.query_one(Timeline)
        strip = timeline.render_line(timeline.cursor - timeline.scroll_offset.y)
        text = "".join(segment.text for segment in strip)
        assert "\x1b" not in text and "\x07" not in text
        assert "red alert line ⏎ break" in text


async def test_declare_dialog_starts_from_the_configured_defaults(
    config: Config, store: Store, clock: FakeClock
) -> None:
    from dataclasses import replace

    from textual.widgets import Select

    from cockpit.config import DeclareConfig

    config = replace(config, declare=DeclareConfig("SEV-3", "checkout"))
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()  # no incident: the list comes up by itself
        await pilot.press("home", "enter")
        dialog = app.screen
        assert isinstance(dialog, DeclareDialog)
        assert dialog.query_one("#severity", Select).value == "SEV-3"
        assert dialog.query_one("#service", Input).value == "checkout"
        await type_text(pilot, "Search is slow")
        await pilot.press("enter")
        await pilot.pause()
        (incident,) = store.incidents()
        assert (incident.severity, incident.service) == ("SEV-3", "checkout")
