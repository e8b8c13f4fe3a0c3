"""The core's rules as the app meets them (`tests/test_core_rules.py` has the core and the CLI):
a resolved incident's refusal in the dialog's error line, the configured roles, and escalations
recorded for every open incident, not only the one on screen."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual.widgets import Label

from cockpit.config import Config, RolesConfig
from cockpit.domain import Kind, Status
from cockpit.store import Store
from cockpit.tui.app import CockpitApp, make_app
from cockpit.tui.dialogs.choice import ChoiceDialog
from cockpit.tui.dialogs.role import RoleDialog
from cockpit.tui.screens.cockpit import CockpitScreen
from tests.conftest import FakeClock
from tests.tui.conftest import settle
from tests.tui.test_keys import type_text
from tests.tui.test_runbook_pane import count_bells, notifications

SIZE = (80, 24)
POOL = "db-connection-pool-exhausted"
REFUSED = "Not saved: INC-1 is resolved: reopen it first (status investigating) to "


def cockpit(app: CockpitApp) -> CockpitScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, CockpitScreen)
    return screen


def hint(app: CockpitApp) -> str:
    return str(app.screen.query_one("#hint", Label).render())


async def test_a_severity_change_on_an_incident_resolved_meanwhile_is_refused_in_the_dialog(
    config: Config, store: Store, db_path: Path, clock: FakeClock
) -> None:
    incident = store.declare("Checkout API errors", "SEV-2", "alice").id
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        assert isinstance(app.screen, ChoiceDialog)
        with Store.open(db_path, clock=clock) as other:  # another terminal resolves it
            other.set_status(incident, Status.RESOLVED, "bob")
        await pilot.press("up", "enter")  # SEV-1
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog)  # still open, saying why
        assert hint(app) == REFUSED + "change its severity; nothing was changed"
        assert store.incident(incident).severity == "SEV-2"
        assert store.entry_count(incident, kinds=[Kind.SEVERITY]) == 0


async def test_a_role_change_on_a_resolved_incident_is_refused_in_the_dialog(
    config: Config, store: Store, clock: FakeClock
) -> None:
    incident = store.declare("Checkout API errors", "SEV-2", "alice").id
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        store.set_status(incident, Status.RESOLVED, "alice")
        cockpit(app).sync()
        await pilot.press("r")
        assert isinstance(app.screen, RoleDialog)
        await pilot.press("enter")  # commander
        await type_text(pilot, "zoe")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RoleDialog)
        assert hint(app) == REFUSED + "change its roles; nothing was changed"
        assert store.incident(incident).roles == {}


async def test_a_step_tick_on_a_resolved_incident_says_why_it_was_not_saved(
    config: Config, store: Store, clock: FakeClock
) -> None:
    incident = store.declare("Pool exhausted", "SEV-3", "alice", runbook=POOL).id
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        store.set_status(incident, Status.RESOLVED, "alice")
        cockpit(app).sync()
        await pilot.press("tab", "space")  # the checklist, step 1
        await settle(pilot)
        assert (
            "",
            REFUSED + "tick or untick its runbook steps; nothing was changed",
            "error",
        ) in notifications(app)
        assert store.entry_count(incident, kinds=[Kind.STEP]) == 0


async def test_the_app_gives_the_store_the_configured_roles(
    config: Config, store: Store, clock: FakeClock
) -> None:
    config = replace(config, roles=RolesConfig(names=["commander", "scribe"]))
    incident = store.declare("Checkout API errors", "SEV-2", "alice").id
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        assert app.store.role_names == ("commander", "scribe")
        await pilot.press("r", "down", "enter")  # scribe
        await type_text(pilot, "carol")
        await pilot.press("enter")
        await settle(pilot)
        assert store.incident(incident).roles == {"scribe": "carol"}


async def test_escalations_of_incidents_not_on_screen_are_recorded_once(
    config: Config, store: Store, db_path: Path, clock: FakeClock
) -> None:
    first = store.declare("Pool exhausted", "SEV-3", "alice", runbook=POOL).id
    clock.advance(minutes=2)
    on_screen = store.declare("Pool exhausted again", "SEV-3", "alice", runbook=POOL).id
    app = make_app(config, store, clock)
    bells = count_bells(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")  # several open: the list opened over the newest one
        assert cockpit(app).incident_id == on_screen
        clock.advance(minutes=18)  # INC-1 is due, the one on screen is not yet
        cockpit(app).tick()
        await settle(pilot)
        assert store.entry_count(first, kinds=[Kind.ESCALATION]) == 1
        assert store.entry_count(on_screen, kinds=[Kind.ESCALATION]) == 0
        assert bells() == 1
        assert (
            "Escalation",
            f"INC-1: escalate to Database on-call: not resolved 20 min after declaring "
            f"(runbook {POOL})",
            "warning",
        ) in notifications(app)
        clock.advance(minutes=2)
        cockpit(app).tick()
        await settle(pilot)
        assert store.entry_count(on_screen, kinds=[Kind.ESCALATION]) == 1
        for _ in range(3):
            clock.advance(seconds=1)
            cockpit(app).tick()
            await settle(pilot)
        assert [store.entry_count(i, kinds=[Kind.ESCALATION]) for i in (first, on_screen)] == [
            1,
            1,
        ]
        assert bells() == 2


async def test_an_escalation_is_recorded_with_no_incident_on_screen(
    config: Config, store: Store, clock: FakeClock
) -> None:
    first = store.declare("Pool exhausted", "SEV-3", "alice", runbook=POOL).id
    store.declare("Another", "SEV-3", "alice")
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = cockpit(app)
        screen.show_incident(None)
        clock.advance(minutes=25)
        screen.tick()
        await settle(pilot)
        assert store.entry_count(first, kinds=[Kind.ESCALATION]) == 1


def test_the_escalation_check_loads_no_runbook_parser_when_nothing_links_a_runbook(
    tmp_path: Path,
) -> None:
    """The app checks escalations on its first tick, before its first frame: on an empty
    database (no incident, so no runbook either) it must not import the runbook library."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from cockpit.config import Config\n"
        "from cockpit.store import Store\n"
        "from cockpit.tui.app import CockpitApp\n"
        f"store = Store.open(Path({str(tmp_path / 'c.db')!r}))\n"
        "async def run():\n"
        "    async with CockpitApp(Config(), store).run_test() as pilot:\n"
        "        await pilot.pause()\n"
        "asyncio.run(run())\n"
        "print('cockpit.runbooks' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "False", done.stderr
