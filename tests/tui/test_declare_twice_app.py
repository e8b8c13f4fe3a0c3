"""Pilot tests: declaring in the app with team sync on looks in the Slack channel first (off
the event loop). An open incident there is offered: `j` joins it, `n` declares anyway, Esc
goes back. Slack down declares all the same and says so."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.widgets import Input, Static

from cockpit.comms.transport import client
from cockpit.config import Config, config_from_dict
from cockpit.domain import system_clock
from cockpit.store import Store
from cockpit.tui.app import CockpitApp, make_app
from cockpit.tui.dialogs.declare import DeclareDialog
from cockpit.tui.dialogs.incidents import IncidentList
from cockpit.tui.dialogs.open_incident import OpenIncidentOffer
from tests.fakes.slack import FakeSlack
from tests.fakes.wiring import SLACK_TOKEN_ENV, slack_table
from tests.sync.test_thread_sync import syncer

WAIT = 60.0
SIZE = (120, 36)


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.start()
    monkeypatch.setenv(SLACK_TOKEN_ENV, fake.token)
    yield fake
    fake.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with client() as opened:
        yield opened


@pytest.fixture
async def alice_declared(tmp_path: Path, slack: FakeSlack, http: httpx.AsyncClient) -> str:
    """Alice declared on her laptop and her sync posted the root; the incident's gid."""
    with Store.open(tmp_path / "alice.db") as alice:
        incident = alice.declare("Checkout API errors", "SEV-1", "alice")
        assert (await syncer(slack, http, alice).round(incident.id)).failure is None
        return incident.gid


@pytest.fixture
def bob(tmp_path: Path, slack: FakeSlack) -> Config:
    return config_from_dict(
        {
            "user": {"name": "bob"},
            "slack": slack_table(slack, "bot", timeout=5),
            "sync": {"poll_seconds": 0.5, "idle_poll_seconds": 0.5},
        }
    )


async def until(pilot: Any, condition: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {WAIT:g} s: {what}")
        await pilot.pause(0.05)


def offered(app: CockpitApp) -> bool:
    """The offer is on screen, drawn (a loaded machine composes it after pushing it)."""
    return isinstance(app.screen, OpenIncidentOffer) and bool(app.screen.query("#hint"))


async def declare(app: CockpitApp, pilot: Any, title: str) -> None:
    """Declare from the incident list (the app opens it on an empty database): type a title
    and press Enter."""
    await until(
        pilot,
        lambda: isinstance(app.screen, IncidentList) and bool(app.screen.query("#incidents")),
        "the incident list",
    )
    await pilot.press("home", "enter")
    await until(
        pilot,
        lambda: isinstance(app.screen, DeclareDialog) and bool(app.screen.query("#title")),
        "the declare dialog",
    )
    app.screen.query_one("#title", Input).value = title
    app.screen.query_one("#title", Input).focus()
    await pilot.press("enter")


async def test_an_open_incident_is_offered_and_j_joins_it(
    tmp_path: Path, bob: Config, alice_declared: str
) -> None:
    db = tmp_path / "bob.db"
    Store.open(db, create=True).close()
    app = make_app(bob, db, system_clock)
    async with app.run_test(size=SIZE) as pilot:
        await declare(app, pilot, "Checkout is down")
        await until(pilot, lambda: offered(app), "the offer")
        found = str(app.screen.query_one("#found", Static).render())
        assert "SEV-1 · Checkout API errors · declared" in found and "by alice" in found
        assert "j joins it · n declares a new incident all the same" in str(
            app.screen.query_one("#hint").render()
        )
        await pilot.press("j")
        await until(pilot, lambda: len(app.screen_stack) == 1, "back on the cockpit")
        with Store.open(db) as store:
            (incident,) = store.incidents()
            assert incident.gid == alice_declared and incident.title == "Checkout API errors"


async def test_n_declares_anyway_and_escape_goes_back_first(
    tmp_path: Path, bob: Config, alice_declared: str
) -> None:
    db = tmp_path / "bob.db"
    Store.open(db, create=True).close()
    app = make_app(bob, db, system_clock)
    async with app.run_test(size=SIZE) as pilot:
        await declare(app, pilot, "Something else")
        await until(pilot, lambda: offered(app), "the offer")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DeclareDialog), "back to the dialog")
        with Store.open(db) as store:
            assert store.incidents() == []  # nothing declared yet
        await pilot.press("enter")  # the offer was seen: Enter declares now
        await until(pilot, lambda: len(app.screen_stack) == 1, "declared")
        with Store.open(db) as store:
            (incident,) = store.incidents()
            assert incident.title == "Something else" and incident.gid != alice_declared


async def test_slack_down_declares_all_the_same_and_says_so(
    tmp_path: Path, bob: Config, slack: FakeSlack, alice_declared: str
) -> None:
    slack.outage(600)
    db = tmp_path / "bob.db"
    Store.open(db, create=True).close()
    app = make_app(bob, db, system_clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await declare(app, pilot, "Checkout is down")
        await until(pilot, lambda: len(app.screen_stack) == 1, "declared")
        with Store.open(db) as store:
            (incident,) = store.incidents()
            assert incident.title == "Checkout is down"
        notes = [n.message for n in app._notifications]
        assert any(m.startswith("Could not look in Slack for an open incident (") for m in notes)
