"""Pilot tests: the composer asks before publishing when a teammate's update arrived while it
was open, or when someone else is communicator; the next publish sends, and nothing is queued
until then."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Label, Static, TextArea

from cockpit.config import Config, UserConfig
from cockpit.domain import Kind
from cockpit.store import Store
from cockpit.tui.app import CockpitApp, make_app
from cockpit.tui.dialogs.composer import Composer
from cockpit.tui.screens.cockpit import CockpitScreen
from tests.conftest import FakeClock
from tests.tui.conftest import settle

SIZE = (110, 36)


@pytest.fixture
def declared(store: Store) -> int:
    return store.declare("Checkout API errors", "SEV-1", "tester", service="checkout").id


@pytest.fixture
def bob(tmp_path: Path, clock: FakeClock, store: Store, declared: int) -> Iterator[Store]:
    """A teammate's laptop holding the same incident (imported from this one)."""
    with Store.open(tmp_path / "bob.db", clock=clock) as other:
        other.import_entries(store.incident(declared).gid, store.sync_entries(declared), "file")
        yield other


def teammate_publishes(store: Store, declared: int, bob: Store, text: str) -> None:
    """Bob publishes an update on his laptop; this laptop imports it (as the sync would)."""
    gid = store.incident(declared).gid
    theirs = bob.incident_by_gid(gid).id
    bob.publish(theirs, text, "bob", status=None, deliveries=[], meta={"phase": "update"})
    store.import_entries(gid, bob.sync_entries(theirs), "slack")


def updates(store: Store, declared: int) -> list[str]:
    return [e.text for e in store.entries(declared) if e.kind is Kind.UPDATE]


def shown(composer: Composer, selector: str) -> str:
    return str(composer.query_one(selector, Static if selector == "#checks" else Label).render())


async def open_composer(app: CockpitApp, pilot: object, text: str) -> Composer:
    await pilot.press("u")  # type: ignore[attr-defined]
    for _ in range(200):  # a loaded machine composes the dialog a little after pushing it
        if isinstance(app.screen, Composer) and app.screen.query("#checks"):
            break
        await pilot.pause(0.05)  # type: ignore[attr-defined]
    composer = app.screen
    assert isinstance(composer, Composer)
    composer.query_one("#text", TextArea).text = text
    return composer


async def test_an_update_imported_while_the_composer_is_open_is_shown_and_asked_about(
    config: Config, store: Store, clock: FakeClock, declared: int, bob: Store
) -> None:
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        composer = await open_composer(app, pilot, "We are rolling back the release.")
        teammate_publishes(store, declared, bob, "Payments fail for 5% of customers.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is composer  # asked, not published
        assert updates(store, declared) == ["Payments fail for 5% of customers."]
        checks = shown(composer, "#checks")
        assert "bob published an update at" in checks
        assert "Payments fail for 5% of customers." in checks
        assert "again publishes yours" in shown(composer, "#hint")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CockpitScreen)
        assert updates(store, declared) == [
            "Payments fail for 5% of customers.",
            "We are rolling back the release.",
        ]


async def test_a_second_update_arriving_after_the_question_is_asked_about_too(
    config: Config, store: Store, clock: FakeClock, declared: int, bob: Store
) -> None:
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        composer = await open_composer(app, pilot, "Ours.")
        teammate_publishes(store, declared, bob, "First from bob.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        teammate_publishes(store, declared, bob, "Second from bob.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is composer
        assert "Second from bob." in shown(composer, "#checks")
        assert "Ours." not in updates(store, declared)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert updates(store, declared)[-1] == "Ours."


async def test_an_update_published_here_before_the_composer_opened_is_not_asked_about(
    config: Config, store: Store, clock: FakeClock, declared: int, bob: Store
) -> None:
    teammate_publishes(store, declared, bob, "Already seen.")
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_composer(app, pilot, "Ours.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CockpitScreen)
        assert updates(store, declared)[-1] == "Ours."


async def test_publishing_while_someone_else_is_communicator_asks_naming_them(
    config: Config, store: Store, clock: FakeClock, declared: int
) -> None:
    store.assign(declared, "communicator", "bob", "bob")
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        composer = await open_composer(app, pilot, "Ours.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is composer
        assert "bob is communicator, not you (tester)" in shown(composer, "#checks")
        assert updates(store, declared) == []
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert updates(store, declared) == ["Ours."]


async def test_the_communicator_publishes_without_a_question(
    config: Config, store: Store, clock: FakeClock, declared: int
) -> None:
    store.assign(declared, "communicator", "Tester ", "bob")  # case and spaces do not matter
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_composer(app, pilot, "Ours.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CockpitScreen)
        assert updates(store, declared) == ["Ours."]


async def test_a_laptop_without_a_name_says_so_instead_of_guessing(
    config: Config, store: Store, clock: FakeClock, declared: int
) -> None:
    store.assign(declared, "communicator", "bob", "bob")
    config = replace(config, user=UserConfig(name=""))
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        composer = await open_composer(app, pilot, "Ours.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is composer
        checks = shown(composer, "#checks")
        assert "this laptop has no [user] name to tell whether that is you" in checks
