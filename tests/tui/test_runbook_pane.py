"""Pilot tests of the runbook checklist, the runbook picker and the escalation countdown.

The clock is the test's: the escalation is driven by moving it and calling the screen's tick,
never by sleeping until a deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from textual.widgets import Input, OptionList, Static

from cockpit.config import Config
from cockpit.domain import Clock, Kind
from cockpit.runbooks import step_state
from cockpit.store import Store
from cockpit.tui.app import CockpitApp, make_app
from cockpit.tui.dialogs.runbook_picker import RunbookPicker
from cockpit.tui.screens.cockpit import CockpitScreen
from cockpit.tui.widgets.panes import NextUpdatePane
from cockpit.tui.widgets.runbook import RunbookPane
from cockpit.tui.widgets.timeline import Timeline
from tests.tui.conftest import settle

SIZE = (80, 24)
API = "api-high-error-rate"
POOL = "db-connection-pool-exhausted"


def cockpit(app: CockpitApp) -> CockpitScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, CockpitScreen)
    return screen


def step_prompts(app: CockpitApp) -> list[str]:
    options = app.query_one("#runbook-steps", OptionList)
    return [str(option.prompt) for option in options.options]


def next_update_text(app: CockpitApp) -> str:
    return str(app.query_one(NextUpdatePane).render())


def notifications(app: CockpitApp) -> list[tuple[str, str, str]]:
    return [(n.title, n.message, n.severity) for n in app._notifications]


def count_bells(app: CockpitApp) -> Callable[[], int]:
    rung: list[int] = []
    app.bell = lambda: rung.append(1)  # type: ignore[method-assign]
    return lambda: len(rung)


def declare(store: Store, runbook: str | None = API, severity: str = "SEV-2") -> int:
    return store.declare("Checkout API errors", severity, "alice", runbook=runbook).id


# ---- ticking --------------------------------------------------------------------------------


async def test_space_ticks_and_unticks_and_it_survives_a_restart(
    config: Config, db_path: Path, clock: Clock
) -> None:
    with Store.open(db_path, clock=clock) as store:
        incident = declare(store)
    app = make_app(config, db_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")  # from the timeline to the checklist
        assert app.focused is app.query_one("#runbook-steps")
        await pilot.press("down", "space")
        entries = app.store.entries(incident, kinds=[Kind.STEP])
        assert [(e.text, dict(e.meta)) for e in entries] == [
            (
                "runbook step 2 done: Check error distribution",
                {"runbook": API, "step": 2, "done": True},
            )
        ]
        assert step_prompts(app)[1] == "[x] 2 Check error distribution"
        await pilot.pause()
        assert app.query_one(Timeline).selected == entries[-1]  # shown in the timeline at once

        await pilot.press("space")  # untick
        last = app.store.entries(incident, kinds=[Kind.STEP])[-1]
        assert last.text == "runbook step 2 undone: Check error distribution"
        assert dict(last.meta) == {"runbook": API, "step": 2, "done": False}
        assert step_prompts(app)[1] == "[ ] 2 Check error distribution"

        await pilot.press("down", "space", "down", "down", "down", "space")
        assert app.query_one(RunbookPane).border_subtitle == "2/9 space tick · c copy"
    app.store.close()

    restarted = make_app(config, db_path, clock)
    async with restarted.run_test(size=SIZE) as pilot:
        await pilot.pause()
        prompts = step_prompts(restarted)
        assert [p[:3] for p in prompts] == ["[ ]", "[ ]", "[x]", "[ ]", "[ ]", "[x]"] + ["[ ]"] * 3
        assert step_state(restarted.store, incident, API) == {3, 6}  # what `cockpit show` reads
    restarted.store.close()


async def test_steps_ticked_elsewhere_appear(config: Config, store: Store, clock: Clock) -> None:
    incident = declare(store)
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # Another process (`cockpit` in a second terminal) ticks step 4.
        with Store.open(store.path, clock=clock) as other:
            runbook = app.query_one(RunbookPane).runbook
            assert runbook is not None
            from cockpit.runbooks import set_step

            set_step(other, incident, runbook, 4, True, "bob")
        cockpit(app).poll()  # what the screen does four times a second
        await pilot.pause()
        assert step_prompts(app)[3].startswith("[x] 4 Check external status pages")


async def test_copy_puts_the_command_on_the_clipboard_and_says_so(
    config: Config, store: Store, clock: Clock, tmp_path: Path
) -> None:
    directory = tmp_path / "runbooks"
    directory.mkdir()
    (directory / "disk-full.md").write_text(
        "# Disk full\n\n## Steps\n\n1. **Find big files.** `du -xh / | sort -h | tail`\n"
        "2. **Look around.** No command here.\n"
        "3. **Clean up.** `journalctl --vacuum-size=500M` or `docker system prune -f`\n"
    )
    config = replace(config, runbooks=replace(config.runbooks, dirs=[str(directory)]))
    declare(store, "disk-full")
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "c")
        assert app.clipboard == "du -xh / | sort -h | tail"
        assert ("Copied step 1's command", "du -xh / | sort -h | tail", "information") in (
            notifications(app)
        )
        await pilot.press("down", "c")
        assert ("", "Step 2 has no command to copy.", "warning") in notifications(app)
        assert app.clipboard == "du -xh / | sort -h | tail"  # unchanged
        await pilot.press("down", "c")
        assert app.clipboard == "journalctl --vacuum-size=500M"
        await pilot.press("c")  # again: the step's next command
        assert app.clipboard == "docker system prune -f"
        assert (
            "Copied step 3's command (2 of 2)",
            "docker system prune -f",
            "information",
        ) in notifications(app)


# ---- escalation ---------------------------------------------------------------------------


async def test_escalation_fires_once_at_the_deadline(
    config: Config, db_path: Path, clock: Clock
) -> None:
    with Store.open(db_path, clock=clock) as store:
        # SEV-3 has no update cadence (nor has this runbook), so the only bell is escalation's.
        incident = declare(store, POOL, severity="SEV-3")
        declared_at = store.incident(incident).declared_at
    app = make_app(config, db_path, clock)
    bells = count_bells(app)
    async with app.run_test(size=SIZE) as pilot:
        screen = cockpit(app)
        pane = app.query_one(NextUpdatePane)
        clock.advance(minutes=13, seconds=41)  # type: ignore[attr-defined]
        screen.tick()
        assert "escalate to Database on-call in 06:19" in next_update_text(app)

        clock.advance(minutes=6, seconds=18)  # type: ignore[attr-defined]
        screen.tick()
        assert "escalate to Database on-call in 00:01" in next_update_text(app)
        assert not pane.has_class("-escalate")
        assert app.store.entry_count(incident, kinds=[Kind.ESCALATION]) == 0

        clock.advance(seconds=1)  # type: ignore[attr-defined]
        screen.tick()
        await settle(pilot)  # the escalation is written on the app's writer
        escalations = app.store.entries(incident, kinds=[Kind.ESCALATION])
        assert len(escalations) == 1
        assert escalations[0].at == declared_at + timedelta(minutes=20)
        assert escalations[0].meta["to"] == "Database on-call"
        assert bells() == 1
        assert pane.has_class("-escalate")
        assert "ESCALATE to Database on-call now: due 00:00 ago" in next_update_text(app)
        await pilot.pause()
        assert app.query_one(Timeline).selected == escalations[0]

        for _ in range(5):  # every later tick, the timer's and ours
            clock.advance(seconds=1)  # type: ignore[attr-defined]
            screen.tick()
        await pilot.pause(1.2)
        await settle(pilot)
        assert app.store.entry_count(incident, kinds=[Kind.ESCALATION]) == 1
        assert bells() == 1

        clock.advance(minutes=5)  # type: ignore[attr-defined]
        screen.tick()
        assert not pane.has_class("-escalate")  # it fired a while ago: an overdue update shows
        assert "escalated to Database on-call at" in next_update_text(app)
    app.store.close()

    restarted = make_app(config, db_path, clock)
    bells_after = count_bells(restarted)
    async with restarted.run_test(size=SIZE) as pilot:
        cockpit(restarted).tick()
        await settle(pilot)
        assert restarted.store.entry_count(incident, kinds=[Kind.ESCALATION]) == 1
        assert bells_after() == 0
    restarted.store.close()


async def test_no_escalation_line_without_a_rule_or_after_resolution(
    config: Config, store: Store, clock: Clock
) -> None:
    incident = declare(store, None)
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "escalate" not in next_update_text(app)
        assert "No runbook linked. Press b to pick one." in str(
            app.query_one("#runbook-message", Static).render()
        )
        from cockpit.domain import Status

        store.link_runbook(incident, API, "alice")
        store.set_status(incident, Status.RESOLVED, "alice")
        cockpit(app).sync()
        clock.advance(hours=2)  # type: ignore[attr-defined]
        cockpit(app).tick()
        assert "escalate" not in next_update_text(app).lower()
        assert store.entry_count(incident, kinds=[Kind.ESCALATION]) == 0


# ---- linking a runbook ----------------------------------------------------------------------


async def test_b_links_a_runbook_found_by_search(
    config: Config, store: Store, clock: Clock
) -> None:
    incident = declare(store, None)
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        assert isinstance(app.screen, RunbookPicker)
        await pilot.press(*"stripe")  # a tag of third-party-dependency-down
        await pilot.pause()
        options = app.screen.query_one("#runbook-choices", OptionList).options
        assert [o.id for o in options] == ["third-party-dependency-down"]
        app.screen.query_one(Input).value = "connections pool"  # words of title and tags
        await pilot.pause()
        options = app.screen.query_one("#runbook-choices", OptionList).options
        assert [o.id for o in options] == ["db-connection-pool-exhausted"]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)
        assert store.incident(incident).runbook == "db-connection-pool-exhausted"
        assert store.entries(incident)[-1].text == "runbook linked: db-connection-pool-exhausted"
        pane = app.query_one(RunbookPane)
        assert pane.border_title == "Runbook · Database connection pool exhausted"
        assert len(step_prompts(app)) == 10
        assert "escalate to Database on-call in 20:00" in next_update_text(app)

        # Change it, then unlink it; Esc changes nothing.
        await pilot.press("b", *"error", "enter")  # the first match: API high error rate
        await pilot.pause()
        assert store.incident(incident).runbook == API
        assert "escalate to Engineering Lead in 30:00" in next_update_text(app)
        before = store.entry_count(incident)
        await pilot.press("b", "escape")
        await pilot.pause()
        assert store.entry_count(incident) == before
        await pilot.press("b", "down", "down", "down", "enter")  # the last option unlinks
        await pilot.pause()
        assert store.incident(incident).runbook is None
        assert "escalate" not in next_update_text(app)


async def test_a_malformed_linked_runbook_is_explained(
    config: Config, store: Store, clock: Clock, tmp_path: Path
) -> None:
    directory = tmp_path / "runbooks"
    directory.mkdir()
    (directory / f"{API}.md").write_text("+++\nescalate_after = 30\n+++\n# Broken\n")
    config = replace(config, runbooks=replace(config.runbooks, dirs=[str(directory)]))
    declare(store)
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        message = str(app.query_one("#runbook-message", Static).render())
        assert "cannot be used" in message
        assert "escalate_after: unknown key (did you mean escalate_after_minutes?)" in message
        await pilot.press("b")
        assert isinstance(app.screen, RunbookPicker)
        hint = [str(label.render()) for label in app.screen.query(".dialog-hint")]
        assert "1 file unusable: cockpit runbooks" in hint[0]


async def test_runbook_keys_are_in_the_command_palette(
    config: Config, store: Store, clock: Clock
) -> None:
    declare(store)
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")
        await pilot.pause()
        names = {command.title for command in app.get_system_commands(app.screen)}
        assert {
            "Link or change the runbook",
            "Tick or untick the selected runbook step",
            "Copy the selected runbook step's command",
        } <= names
        # Not in the footer (q must stay visible at 80 columns): the pane's border says them.
        footer = {key.key for key in app.query("FooterKey")}
        assert "q" in footer
        assert app.query_one(RunbookPane).border_subtitle.endswith("space tick · c copy")
        await pilot.press("shift+tab")
        await pilot.pause()
        assert app.query_one(RunbookPane).border_subtitle.endswith("done · b change")


async def test_moving_between_steps_scrolls_the_markdown(
    config: Config, store: Store, clock: Clock
) -> None:
    declare(store, POOL)
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "end")
        await pilot.pause()
        doc = app.query_one("#runbook-doc")
        assert doc.scroll_y > 0  # the last step is far below the top
        await pilot.press("home")
        await pilot.pause()
        first = doc.scroll_y
        await pilot.press("end")
        await pilot.pause()
        assert doc.scroll_y > first
