"""Pilot tests: the selected timeline entry and runbook step can be read whole at 80×24."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from textual.widgets import OptionList

from cockpit.config import Config
from cockpit.domain import Kind, frozen_clock
from cockpit.store import Store
from cockpit.tui.app import CockpitApp, make_app
from cockpit.tui.screens.cockpit import CockpitScreen
from cockpit.tui.screens.entry_detail import EntryDetail
from cockpit.tui.screens.step_detail import StepDetail
from cockpit.tui.widgets.detail_lines import TEXT_LIMIT, DetailLines, readable, wrap
from cockpit.tui.widgets.timeline import PAGE_SIZE, Timeline, parse_filter
from tests.conftest import T0, FakeClock
from tests.tui.test_timeline import bulk_incident

SIZE = (80, 24)
LONG = (
    "Rolled back api to v141 after the deploy of v142 doubled the error rate; see "
    "https://grafana.example.com/d/api_errors?orgId=1&var-env=prod&from=now-1h#panel-2 "
    "and the Stripe status page, which says nothing yet. Next: watch the pool."
)


async def press(pilot: Any, *keys: str) -> None:
    """Press keys, then let the screens they open or change finish mounting."""
    await pilot.press(*keys)
    await pilot.pause()
    await pilot.pause()


def shown(app: CockpitApp) -> list[str]:
    """Every line of the open detail view (label and text), as plain strings."""
    lines = app.screen.query_one(DetailLines)
    return [f"{label}{text}".rstrip() for label, text, _ in lines.lines(lines.size.width - 1)]


def field(app: CockpitApp, label: str) -> str:
    """The value on the line labelled `label` (continuation lines joined)."""
    lines = app.screen.query_one(DetailLines)
    values: list[str] = []
    for name, text, _ in lines.lines(lines.size.width - 1):
        if name.strip() == label:
            values = [text]
        elif values and not name.strip():
            values.append(text)
        elif values:
            break
    return " ".join(values)


@pytest.fixture
def incident(store: Store) -> int:
    return store.declare("Checkout API errors", "SEV-1", "alice", service="checkout").id


async def test_enter_opens_the_selected_entry_whole_and_esc_or_enter_closes(
    config: Config, store: Store, clock: FakeClock, incident: int
) -> None:
    clock.advance(minutes=1)
    store.append(incident, Kind.ACTION, LONG, "carol")
    clock.advance(minutes=1)
    store.append(incident, Kind.NOTE, "watching the pool", "dave")
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        timeline = app.query_one(Timeline)
        assert timeline.border_subtitle == "Enter read · 3 entries"
        await press(pilot, "up")  # the long action
        await press(pilot, "enter")
        await pilot.pause()
        assert isinstance(app.screen, EntryDetail)
        box = app.screen.query_one("#detail")
        assert box.border_title == f"Entry #{timeline.selected.id} · action"  # type: ignore[union-attr]
        assert box.border_subtitle == "2 of 3"
        lines = shown(app)
        width = app.screen.query_one(DetailLines).size.width - 1
        assert all(cell_len(line) <= width for line in lines)
        # The whole text, wrapped: every character is there (the long URL cut, not dropped).
        text = lines[: lines.index("")]
        assert len(text) > 1 and "".join(text).replace(" ", "") == LONG.replace(" ", "")
        assert field(app, "kind") == "action" and field(app, "author") == "carol"
        assert field(app, "at") == "02:15:00" and field(app, "written") == "02:15:00"
        assert field(app, "star") == "no"
        await press(pilot, "escape")
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)
        assert timeline.cursor == 1
        await press(pilot, "enter", "enter")  # Enter opens, Enter closes
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)


async def test_up_and_down_read_on_and_the_timeline_follows(
    config: Config, store: Store, clock: FakeClock, incident: int
) -> None:
    for n in range(1, 5):
        clock.advance(minutes=1)
        store.append(incident, Kind.NOTE, f"note {n}", "dave")
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "enter")  # the newest: note 4
        assert shown(app)[0] == "note 4"
        await press(pilot, "down")  # already the last: stays
        assert shown(app)[0] == "note 4"
        await press(pilot, "up", "k")
        assert shown(app)[0] == "note 2"
        assert app.screen.query_one("#detail").border_subtitle == "3 of 5"
        await press(pilot, "j")
        assert shown(app)[0] == "note 3"
        await press(pilot, "escape")
        await pilot.pause()
        timeline = app.query_one(Timeline)
        assert timeline.selected is not None and timeline.selected.text == "note 3"
        assert not timeline.following  # reading back stops following new entries


async def test_entries_arriving_while_reading_do_not_move_what_is_read(
    config: Config, store: Store, clock: FakeClock, incident: int
) -> None:
    store.append(incident, Kind.NOTE, "older", "dave")
    store.append(incident, Kind.NOTE, "being read", "dave")
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "enter")
        assert shown(app)[0] == "being read"
        clock.advance(minutes=1)
        store.append(incident, Kind.NOTE, "arrived meanwhile", "bot")  # as another process
        app.screen_stack[0].sync()  # type: ignore[attr-defined]
        await press(pilot, "up")
        assert shown(app)[0] == "older"  # from the entry read, not from the new one
        await press(pilot, "escape", "end")
        timeline = app.query_one(Timeline)
        assert timeline.following and timeline.selected.text == "arrived meanwhile"  # type: ignore[union-attr]


async def test_a_correction_shows_on_both_entries(
    config: Config, store: Store, clock: FakeClock, incident: int
) -> None:
    clock.advance(minutes=1)
    wrong = store.append(incident, Kind.ACTION, "rolled back api to v140", "carol")
    clock.advance(minutes=2)
    fix = store.append(incident, Kind.NOTE, "it was v141, not v140", "carol", corrects=wrong.id)
    store.star(wrong.id, "alice")
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "enter")  # the correction
        assert field(app, "corrects") == f"#{wrong.id} 02:15 action carol: rolled back api to v140"
        await press(pilot, "up")  # the corrected entry
        assert field(app, "corrected by") == (f"#{fix.id} 02:17 note carol: it was v141, not v140")
        assert field(app, "star") == "★ key moment for the post-mortem"


async def test_a_backdated_entry_shows_both_times_and_its_reason(
    config: Config, store: Store, clock: FakeClock, incident: int
) -> None:
    clock.advance(minutes=20)
    store.append(
        incident,
        Kind.NOTE,
        "first alert fired",
        "bob",
        at=T0 + timedelta(minutes=2),
        reason="was paged on the phone and logged it after the call",
    )
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "home", "down", "enter")
        assert shown(app)[0] == "first alert fired"
        assert field(app, "at") == "02:16:00"
        assert field(app, "written") == "02:34:00, 00:18:00 later (backdated)"
        assert field(app, "reason") == "was paged on the phone and logged it after the call"


async def test_long_and_hostile_text_is_all_there_as_typed(
    config: Config, store: Store, clock: FakeClock, incident: int
) -> None:
    rng = random.Random(7)
    words = ["kubectl", "rollout", "undo", "deploy/api", "-n", "production", "日本語", "🔥"]
    body = "\n".join(
        "  " * rng.randint(0, 2) + " ".join(rng.choice(words) for _ in range(rng.randint(1, 30)))
        for _ in range(300)
    )
    token = "x" * 200  # longer than any line: cut, never lost
    hostile = "[bold]not markup[/bold] \x1b[31mno colour\x1b[0m\ttab\r\n" + token + "\n" + body
    store.append(incident, Kind.NOTE, hostile, "bob", meta={"captured": True})
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "enter")
        lines = shown(app)
        assert lines[0] == "[bold]not markup[/bold] no colour   tab"
        assert "".join(lines[1:4]).startswith(token)
        text_lines = lines[: lines.index("")]
        assert "".join(text_lines).replace(" ", "") == readable(hostile).replace(" ", "").replace(
            "\n", ""
        )
        assert field(app, "source") == "piped in (`cockpit log -`)"
        view = app.screen.query_one(DetailLines)
        assert view.scroll_offset.y == 0
        await press(pilot, "pagedown")
        await pilot.pause()
        assert view.scroll_offset.y > 0  # the rest is a key away, not off the screen
        assert view.size.height <= 18  # within 75% of the terminal: the dialog fits at 80×24


def test_wrap_keeps_every_character_and_each_line_fits() -> None:
    rng = random.Random(3)
    alphabet = ["a", "b", " ", "  ", "\n", "日", "🔥", "-", "/", "xxxxxxxxxxxxxxx"]
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        width = rng.randint(1, 30)
        lines = wrap(text, width)
        assert all(cell_len(line) <= max(width, 2) for line in lines), (text, width)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "").replace("\n", "")
    assert wrap("    indented code line", 12) == ["    indented", "code line"]
    assert len(readable("y" * (TEXT_LIMIT + 10))) < TEXT_LIMIT + 100


async def test_an_update_shows_its_template_and_each_delivery(
    config: Config, store: Store, clock: FakeClock, incident: int
) -> None:
    clock.advance(minutes=5)
    store.publish(
        incident,
        "We are aware of an issue affecting checkout.",
        "bob",
        deliveries=[("slack", "acknowledge", {"text": "…"}), ("statuspage", "acknowledge", {})],
        meta={"phase": "acknowledge", "template": "acknowledge"},
    )
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "enter")
        assert field(app, "update") == "phase acknowledge, template acknowledge"
        assert field(app, "→ slack") == "queued"
        assert field(app, "→ statuspage") == "queued"


@pytest.mark.slow
async def test_fifty_thousand_entries_open_without_reading_more(
    config: Config, store: Store, clock: FakeClock
) -> None:
    incident = bulk_incident(store, clock, 50_000)
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        reads: list[tuple[int, bool]] = []
        entries = store.entries

        def counting(*args: object, **kwargs: object) -> object:
            reads.append((int(kwargs.get("offset", 0)), bool(kwargs.get("from_newest"))))  # type: ignore[call-overload]
            return entries(*args, **kwargs)  # type: ignore[arg-type]

        store.entries = counting  # type: ignore[method-assign]
        await press(pilot, "enter", "up", "up")
        assert shown(app)[0] == "entry 49997"
        assert reads == []  # the page on screen is cached: no timeline page read again
        await press(pilot, *["up"] * PAGE_SIZE)
        assert shown(app)[0] == f"entry {49997 - PAGE_SIZE}"
        page = (49_999 - 2 - PAGE_SIZE) // PAGE_SIZE
        assert reads == [(50_000 - (page + 1) * PAGE_SIZE, True)]  # one page back, from the end
    assert store.entry_count(incident) == 50_000


async def test_enter_on_a_runbook_step_reads_it_whole_with_its_command(
    config: Config, store: Store, clock: FakeClock
) -> None:
    incident = store.declare("Checkout", "SEV-2", "alice", runbook="api-high-error-rate").id
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "tab", "enter")
        await pilot.pause()
        assert isinstance(app.screen, StepDetail)
        assert app.screen.query_one("#detail").border_title == "Step 1 · Check recent deployments"
        first = shown(app)
        assert "Check recent deployments" in first[0]  # the Markdown as the runbook has it
        assert field(app, "done") == "not yet"
        command = field(app, "command")
        assert command and command in " ".join(first)
        await press(pilot, "space")  # ticks step 1 from the detail
        await pilot.pause()
        assert field(app, "done") == "✓ ticked"
        (ticked,) = store.entries(incident, kinds=[Kind.STEP])
        assert ticked.meta["step"] == 1 and ticked.meta["done"] is True
        await press(pilot, "c")
        assert app.clipboard == command
        await press(pilot, "down")
        assert app.screen.query_one("#detail").border_subtitle.startswith("2 of ")  # type: ignore[union-attr]
        await press(pilot, "escape")
        await pilot.pause()
        assert isinstance(app.screen, CockpitScreen)
        assert app.query_one("#runbook-steps", OptionList).highlighted == 1


def test_entry_detail_at_80x24(snap_compare: Any, tmp_path: Path) -> None:
    """A backdated action, starred, with its correction: the view a responder gets on Enter."""
    clock = frozen_clock(T0 + timedelta(minutes=40))
    store = Store.open(tmp_path / "detail.db", clock=FakeClock(T0))
    incident = store.declare("Checkout API errors", "SEV-1", "alice", service="checkout").id
    store.clock = FakeClock(T0 + timedelta(minutes=30))
    action = store.append(
        incident,
        Kind.ACTION,
        LONG,
        "carol",
        at=T0 + timedelta(minutes=12),
        reason="was on the bridge call; logged after",
    )
    store.star(action.id, "alice")
    store.clock = FakeClock(T0 + timedelta(minutes=35))
    store.append(incident, Kind.NOTE, "it was v141, the one before", "carol", corrects=action.id)
    app = make_app(Config(), store, clock)

    async def open_it(pilot: Any) -> None:
        await pilot.pause()
        await press(pilot, "up", "enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_it)


async def test_read_keys_are_in_the_palette_and_run_from_it(
    config: Config, store: Store, clock: FakeClock, incident: int
) -> None:
    store.append(incident, Kind.NOTE, "watching the pool", "dave")
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert "Read the selected timeline entry whole" in commands
        await commands["Read the selected timeline entry whole"].callback()  # type: ignore[misc]
        await pilot.pause()
        assert isinstance(app.screen, EntryDetail)
        assert shown(app)[0] == "watching the pool"


async def test_nothing_to_read_in_an_empty_timeline(
    config: Config, store: Store, clock: FakeClock, incident: int
) -> None:
    app = make_app(config, store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.query_one(Timeline).set_filter(parse_filter("nothing matches this"))
        await pilot.pause()
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert "Read the selected timeline entry whole" not in titles
        await press(pilot, "enter")
        assert isinstance(app.screen, CockpitScreen)
