"""The next-update countdown under an injected clock: due, amber, overdue (bell once), reset."""

from __future__ import annotations

from pathlib import Path

from cockpit.config import Config
from cockpit.store import Store
from cockpit.tui.app import make_app
from cockpit.tui.screens.cockpit import CockpitScreen
from cockpit.tui.widgets.panes import IncidentHeader, NextUpdatePane
from tests.conftest import FakeClock

SIZE = (100, 30)


def text_of(widget: object) -> str:
    return str(widget.render())  # type: ignore[attr-defined]


async def test_countdown_warns_rings_once_and_resets_after_publishing(
    config: Config, store: Store, clock: FakeClock, db_path: Path
) -> None:
    incident = store.declare("Checkout API errors", "SEV-1", "alice")  # first update due +15 min
    app = make_app(config, store, clock)
    bells: list[object] = []
    app.bell = lambda: bells.append(clock.now)  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen_stack[0]
        assert isinstance(screen, CockpitScreen)
        pane = app.query_one(NextUpdatePane)
        header = app.query_one(IncidentHeader)

        clock.advance(minutes=1)
        screen.tick()
        assert text_of(pane).startswith("14:00  update #1 due 02:29")
        assert not pane.has_class("-warning") and not pane.has_class("-overdue")
        assert "00:01:00 since declared" in text_of(header.query_one("#summary"))

        clock.advance(minutes=9, seconds=1)  # 4:59 left
        screen.tick()
        assert text_of(pane).startswith("04:59")
        assert pane.has_class("-warning") and not pane.has_class("-overdue")
        assert bells == []

        clock.advance(minutes=5)  # 1 s late
        screen.tick()
        assert text_of(pane).startswith("OVERDUE 00:01")
        assert pane.has_class("-overdue") and not pane.has_class("-warning")
        assert len(bells) == 1

        clock.advance(seconds=30)
        screen.tick()
        screen.tick()
        assert text_of(pane).startswith("OVERDUE 00:31")
        assert len(bells) == 1  # once, not on every tick

        # Another process (the update composer, a script) publishes: the countdown restarts.
        with Store.open(db_path, clock=clock) as other:
            other.publish(incident.id, "We are investigating checkout errors.", "bob")
        for _ in range(20):
            await pilot.pause(0.05)
            if not pane.has_class("-overdue"):
                break
        assert text_of(pane).startswith("30:00  update #2 due 02:59 · every 30 min")
        assert not pane.has_class("-overdue") and not pane.has_class("-warning")
        assert "1 published" in text_of(pane)

        clock.advance(minutes=30, seconds=1)
        screen.tick()
        assert pane.has_class("-overdue")
        assert len(bells) == 2  # a new deadline missed: one more bell


async def test_sev3_has_no_cadence(config: Config, store: Store, clock: FakeClock) -> None:
    store.declare("Typo on the pricing page", "SEV-3", "alice")
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE):
        pane = app.query_one(NextUpdatePane)
        assert text_of(pane) == "SEV-3: no update cadence applies."
        assert pane.has_class("-none")
        assert app.query_one(IncidentHeader).has_class("-sev3")
