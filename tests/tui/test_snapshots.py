"""What a person sees: the demo incident, every dialog and every screen, with a frozen clock.

Each test drives the demo app (a SEV-1 in progress, frozen at `DEMO_NOW`) with the keys a
responder would press and compares the frame with its SVG. Nothing here depends on timing: the
clock is frozen, text cursors do not blink (`steady_cursor`), no target is configured so nothing
is delivered, and every write has finished before the frame is taken.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import TextArea

from cockpit.domain import ItemState, frozen_clock
from cockpit.store import Store
from cockpit.tui.app import CockpitApp
from tests.tui.conftest import DEMO_NOW, demo_app

SIZE = (80, 24)

RunBefore = Callable[[Pilot[Any]], Awaitable[None]]


async def settle(pilot: Pilot[Any]) -> None:
    """Let the runbook Markdown and the timeline's scroll-to-bottom finish."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def pressing(*keys: str) -> RunBefore:
    """Settle, then press `keys` one at a time as a person would, settling after each."""

    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run


def demo_with_postmortem(tmp_path: Path) -> CockpitApp:
    """The demo incident with a post-mortem half written and three action items."""
    app = demo_app(tmp_path)
    with Store.open(tmp_path / "demo.db", clock=frozen_clock(DEMO_NOW)) as store:
        (incident,) = store.incidents()
        store.set_postmortem(
            incident.id,
            "alice",
            {
                "summary": "Checkout failed for 7% of payments for 40 minutes: the nightly "
                "reporting job held most database connections idle in a transaction.",
                "impact": "About 1,900 failed checkouts; 214 replayed, 3 double charges refunded.",
                "root_cause": [
                    "Checkout requests waited for a database connection and timed out.",
                    "The pool was full: 96 of 100 connections busy.",
                ],
            },
        )
        items = (
            ("Limit connections per role", "carol", date(2026, 12, 4), ItemState.OPEN),
            ("Alert on connections per role > 50", "carol", date(2026, 11, 28), ItemState.DONE),
            ("Give the reporting job its own replica", "dave", None, ItemState.WONT_DO),
        )
        for title, owner, deadline, state in items:
            item = store.add_action_item(incident.id, title, owner=owner, deadline=deadline)
            if state is not ItemState.OPEN:
                store.update_action_item(item.id, state=state)
    return app


def demo_with_deliveries(tmp_path: Path) -> CockpitApp:
    """The demo incident with a second update delivered to three targets: one sent, one
    retrying, one failed. No target is configured, so nothing changes them while on screen."""
    app = demo_app(tmp_path)
    with Store.open(tmp_path / "demo.db", clock=frozen_clock(DEMO_NOW)) as store:
        (incident,) = store.incidents()
        store.clock = frozen_clock(DEMO_NOW - timedelta(minutes=4))
        payload = {"text": "Checkout is recovering."}
        store.publish(
            incident.id,
            "Checkout is recovering: error rates are back to normal. Next update in 30 minutes.",
            "bob",
            deliveries=[
                ("slack", "post", payload),
                ("statuspage", "update", payload),
                ("webhook", "post", payload),
            ],
        )
        slack, statuspage, webhook = store.deliveries(incident.id)
        store.clock = frozen_clock(DEMO_NOW - timedelta(minutes=3))
        store.update_delivery(
            slack.id, state="sent", attempts=1, sent_at=DEMO_NOW - timedelta(minutes=3)
        )
        store.update_delivery(
            statuspage.id,
            state="retrying",
            attempts=2,
            next_attempt_at=DEMO_NOW + timedelta(seconds=40),
            last_error="503 Service Unavailable",
        )
        store.update_delivery(
            webhook.id,
            state="failed",
            attempts=1,
            last_error="401 Unauthorized: check [webhook] secret_env in config.toml",
        )
    return app


def test_demo_at_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(demo_app(tmp_path), terminal_size=(80, 24), run_before=settle)


def test_demo_at_160x48(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(demo_app(tmp_path), terminal_size=(160, 48), run_before=settle)


class TestDialogs:
    """Each dialog a key opens on the cockpit, as it first appears (some with text typed)."""

    @pytest.mark.parametrize("key", ["n", "a", "d"])
    def test_entry(self, snap_compare: Any, tmp_path: Path, key: str) -> None:
        app = demo_app(tmp_path)
        keys = (key, *"pool at 31/100")
        assert snap_compare(app, terminal_size=SIZE, run_before=pressing(*keys))

    def test_severity_picker(self, snap_compare: Any, tmp_path: Path) -> None:
        assert snap_compare(demo_app(tmp_path), terminal_size=SIZE, run_before=pressing("s"))

    def test_status_picker(self, snap_compare: Any, tmp_path: Path) -> None:
        assert snap_compare(demo_app(tmp_path), terminal_size=SIZE, run_before=pressing("t"))

    def test_role(self, snap_compare: Any, tmp_path: Path) -> None:
        """The commander picked: the person field holds who has it now."""
        keys = pressing("r", "enter")
        assert snap_compare(demo_app(tmp_path), terminal_size=SIZE, run_before=keys)

    def test_incident_list(self, snap_compare: Any, tmp_path: Path) -> None:
        assert snap_compare(demo_app(tmp_path), terminal_size=SIZE, run_before=pressing("i"))

    def test_declare(self, snap_compare: Any, tmp_path: Path) -> None:
        keys = pressing("i", "home", "enter", *"Search returns nothing")
        assert snap_compare(demo_app(tmp_path), terminal_size=SIZE, run_before=keys)

    def test_filter(self, snap_compare: Any, tmp_path: Path) -> None:
        keys = pressing("slash", *"pool kind:note")
        assert snap_compare(demo_app(tmp_path), terminal_size=SIZE, run_before=keys)

    def test_filter_with_an_unknown_kind(self, snap_compare: Any, tmp_path: Path) -> None:
        keys = pressing("slash", *"kind:nope", "enter")
        assert snap_compare(demo_app(tmp_path), terminal_size=SIZE, run_before=keys)

    def test_runbook_picker(self, snap_compare: Any, tmp_path: Path) -> None:
        """The linked runbook is marked current, and unlinking is offered."""
        assert snap_compare(demo_app(tmp_path), terminal_size=SIZE, run_before=pressing("b"))

    def test_composer(self, snap_compare: Any, tmp_path: Path) -> None:
        assert snap_compare(demo_app(tmp_path), terminal_size=SIZE, run_before=pressing("u"))

    def test_composer_with_nothing_to_publish(self, snap_compare: Any, tmp_path: Path) -> None:
        """Publishing an empty update says what to do on the hint line."""

        async def emptied(pilot: Pilot[Any]) -> None:
            await pressing("u")(pilot)
            pilot.app.screen.query_one("#text", TextArea).clear()
            await pressing("ctrl+s")(pilot)

        assert snap_compare(demo_app(tmp_path), terminal_size=SIZE, run_before=emptied)

    def test_outbox(self, snap_compare: Any, tmp_path: Path) -> None:
        app = demo_with_deliveries(tmp_path)
        assert snap_compare(app, terminal_size=SIZE, run_before=pressing("o"))

    def test_quit_question(self, snap_compare: Any, tmp_path: Path) -> None:
        """A note typed and not saved: quitting asks what to do with it."""
        keys = pressing("n", *"pool at 31/100", "ctrl+q")
        assert snap_compare(demo_app(tmp_path), terminal_size=SIZE, run_before=keys)

    def test_action_item(self, snap_compare: Any, tmp_path: Path) -> None:
        """Enter on an item of the post-mortem edits it."""
        app = demo_with_postmortem(tmp_path)
        keys = pressing("p", *(["tab"] * 7), "enter")
        assert snap_compare(app, terminal_size=SIZE, run_before=keys)


class TestScreens:
    """The screens a responder reads whole: details, the post-mortem, the too-small notice."""

    def test_step_detail(self, snap_compare: Any, tmp_path: Path) -> None:
        """Step 4 of the demo runbook, not ticked yet."""
        keys = pressing("tab", "down", "down", "down", "enter")
        assert snap_compare(demo_app(tmp_path), terminal_size=SIZE, run_before=keys)

    def test_entry_detail_of_the_demo(self, snap_compare: Any, tmp_path: Path) -> None:
        """The newest entry of the demo timeline, read whole."""
        keys = pressing("enter")
        assert snap_compare(demo_app(tmp_path), terminal_size=SIZE, run_before=keys)

    def test_too_small(self, snap_compare: Any, tmp_path: Path) -> None:
        assert snap_compare(demo_app(tmp_path), terminal_size=(60, 16), run_before=settle)

    def test_postmortem_fields(self, snap_compare: Any, tmp_path: Path) -> None:
        app = demo_with_postmortem(tmp_path)
        assert snap_compare(app, terminal_size=SIZE, run_before=pressing("p"))

    def test_postmortem_action_items(self, snap_compare: Any, tmp_path: Path) -> None:
        """Tabbing through the fields to the action items brings the table into view."""
        app = demo_with_postmortem(tmp_path)
        keys = pressing("p", *(["tab"] * 7))
        assert snap_compare(app, terminal_size=SIZE, run_before=keys)
