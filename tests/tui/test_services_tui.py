"""The app and issue 7: the person on call suggested as commander and shown in the roles pane,
and the same event hook as the CLI, so declaring in the app queues the page atomically."""

from __future__ import annotations

from dataclasses import replace

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from cockpit.config import Config, config_from_dict
from cockpit.domain import Kind
from cockpit.store import Store
from cockpit.tui.app import CockpitApp, make_app
from cockpit.tui.dialogs.declare import DeclareDialog
from cockpit.tui.widgets.panes import RolesPane
from tests.conftest import FakeClock as MutableClock

from .test_keys import SIZE, cockpit, type_text

# Weekly from Monday 2026-11-02 09:00 UTC: alice, bob, carol, then dave from Monday 23 Nov.
# The app's clock stands at Friday 2026-11-27 02:30 UTC.
ROTATION = {"people": ["alice", "bob", "carol", "dave"], "start": "2026-11-02"}


def with_tables(config: Config, **tables: object) -> Config:
    parsed = config_from_dict(dict(tables))
    return replace(config, **{name: getattr(parsed, name) for name in tables})


@pytest.fixture
def app(config: Config, store: Store, clock: MutableClock) -> CockpitApp:
    config = with_tables(
        config,
        oncall=ROTATION,
        webhook={"url": "http://127.0.0.1:9/hook"},
        pagerduty={"routing_key_env": "UNUSED_IN_THIS_TEST"},
    )
    return make_app(config, store, clock)


async def open_declare(app: CockpitApp, pilot: Pilot[int]) -> DeclareDialog:
    await pilot.press("home", "enter")  # "+ Declare a new incident"
    assert isinstance(app.screen, DeclareDialog)
    return app.screen


async def test_declare_suggests_the_person_on_call_as_commander(
    app: CockpitApp, store: Store
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()  # no incident: the list comes up by itself
        dialog = await open_declare(app, pilot)
        assert dialog.query_one("#commander", Input).value == "dave"
        await type_text(pilot, "Checkout API errors")
        await pilot.press("enter")
        await pilot.pause()
        (incident,) = store.incidents()
        assert incident.roles == {"commander": "dave"}
        (role,) = store.entries(incident.id, kinds=[Kind.ROLE])
        assert role.text == "commander → dave"
        assert cockpit(app).incident_id == incident.id


async def test_the_suggestion_can_be_replaced(app: CockpitApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        dialog = await open_declare(app, pilot)
        await type_text(pilot, "Search down")
        dialog.query_one("#commander", Input).value = "erin"
        await pilot.press("enter")
        await pilot.pause()
        assert store.incidents()[0].roles == {"commander": "erin"}


async def test_roles_pane_shows_who_is_on_call(app: CockpitApp, store: Store) -> None:
    store.declare("Checkout API errors", "SEV-2", "alice", roles={"commander": "alice"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        roles = app.query_one(RolesPane)
        assert roles.border_subtitle == "on call: dave"
        app.clock.advance(days=3, hours=7)  # Monday 30 Nov 09:30: alice's week again
        cockpit(app).refresh_board()
        assert roles.border_subtitle == "on call: alice"


async def test_no_rotation_no_suggestion(config: Config, store: Store, clock: MutableClock) -> None:
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        dialog = await open_declare(app, pilot)
        assert dialog.query_one("#commander", Input).value == ""
        await pilot.press("escape", "escape")
        assert app.query_one(RolesPane).border_subtitle == ""


async def test_declaring_in_the_app_queues_the_page_and_the_webhook_event(
    app: CockpitApp, store: Store
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await open_declare(app, pilot)
        await type_text(pilot, "Payments failing")
        await pilot.press("tab", "enter", "up", "enter")  # severity: SEV-2 (default) → SEV-1
        await pilot.press("shift+tab", "enter")
        await pilot.pause()
        (incident,) = store.incidents()
        assert incident.severity == "SEV-1"
        # The app's delivery worker may already be trying them: where they stand varies.
        queued = [(d.target, d.action) for d in store.deliveries(incident.id)]
        assert queued == [("webhook", "declared"), ("pagerduty", "trigger")]
        trigger = store.deliveries(incident.id)[1]
        assert trigger.payload["payload"]["custom_details"]["commander"] == "dave"
