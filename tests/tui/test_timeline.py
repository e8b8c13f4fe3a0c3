"""The timeline widget: pages from SQLite on demand, renders only what changed, keeps a cursor."""

from __future__ import annotations

from datetime import timedelta

from cockpit.config import Config
from cockpit.domain import Kind, format_utc
from cockpit.store import Store
from cockpit.tui.app import make_app
from cockpit.tui.widgets.timeline import PAGE_SIZE, Timeline, parse_filter
from tests.conftest import FakeClock

ENTRIES = 5_000


def bulk_incident(store: Store, clock: FakeClock, count: int) -> int:
    """An incident with `count` entries, inserted in one transaction (a fixture, not the app)."""
    incident = store.declare("Big incident", "SEV-2", "alice").id
    start = clock.now
    rows = [
        (incident, format_utc(start + timedelta(seconds=n)), "note", "bot", f"entry {n:05d}")
        for n in range(1, count)
    ]
    node = store.node
    store.conn.execute("BEGIN IMMEDIATE")
    store.conn.executemany(
        "INSERT INTO entries (incident_id, at, written_at, kind, author, text, uid, node, hlc) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (i, at, at, kind, author, text, f"{n:032x}", node, f"{n:013d}-0000-{node}")
            for n, (i, at, kind, author, text) in enumerate(rows, start=1)
        ],
    )
    store.conn.execute("COMMIT")
    clock.advance(seconds=count + 1)
    return incident


async def test_large_incident_reads_one_page_and_renders_only_visible_lines(
    config: Config, store: Store, clock: FakeClock
) -> None:
    incident = bulk_incident(store, clock, ENTRIES)
    reads: list[tuple[int, bool]] = []
    entries = store.entries

    def counting(*args: object, **kwargs: object) -> object:
        reads.append((int(kwargs.get("offset", 0)), bool(kwargs.get("from_newest"))))  # type: ignore[call-overload]
        return entries(*args, **kwargs)  # type: ignore[arg-type]

    store.entries = counting  # type: ignore[method-assign]
    app = make_app(config, store, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        timeline = app.query_one(Timeline)
        assert timeline.count == ENTRIES
        assert (
            timeline.selected is not None and timeline.selected.text == f"entry {ENTRIES - 1:05d}"
        )
        assert reads == [(0, True)]  # the last page only, read from the newest end
        assert len(timeline._lines) <= timeline.size.height  # only visible lines were rendered

        # One new entry: one count, the pages drawn read again from the end, a few lines drawn.
        rendered: list[int] = []
        render = timeline._render_entry

        def spy(entry, width, is_cursor):  # type: ignore[no-untyped-def]
            rendered.append(entry.id)
            return render(entry, width, is_cursor)

        timeline._render_entry = spy  # type: ignore[method-assign]
        reads.clear()
        await pilot.press("n", *"one more", "enter")
        await pilot.pause()
        assert timeline.count == ENTRIES + 1
        assert timeline.selected is not None and timeline.selected.text == "one more"
        assert len(reads) <= 2 and all(newest for _, newest in reads)  # the pages drawn, cheaply
        assert len(rendered) <= 3  # the new line, and the old and new cursor lines at most

        # Jumping to the top loads the first page on demand.
        reads.clear()
        await pilot.press("home")
        await pilot.pause()
        assert reads == [(0, False)]
        assert timeline.cursor == 0 and timeline.scroll_offset.y == 0
        assert timeline.following is False
    assert incident


async def test_every_page_read_from_its_nearer_end_is_the_timeline_in_order(
    config: Config, store: Store, clock: FakeClock
) -> None:
    """Pages near the newest entry are read counting back from it: every index still shows
    the entry the timeline has there, filtered or not, at a size that is no multiple of a page."""
    incident = bulk_incident(store, clock, 5 * PAGE_SIZE + 37)
    for n in range(0, 5 * PAGE_SIZE, 3):
        store.append(incident, Kind.ACTION, f"action {n:05d}", "carol")
    app = make_app(config, store, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        timeline = app.query_one(Timeline)
        for timeline_filter, kinds in (
            (parse_filter(""), None),
            (parse_filter("kind:action"), [Kind.ACTION]),
        ):
            timeline.set_filter(timeline_filter)
            expected = [e.uid for e in store.entries(incident, kinds=kinds)]
            assert timeline.count == len(expected) > PAGE_SIZE
            shown = [timeline.entry_at(i) for i in range(timeline.count)]
            assert [e.uid for e in shown if e is not None] == expected


async def test_cursor_keys_and_following(config: Config, store: Store, clock: FakeClock) -> None:
    incident = bulk_incident(store, clock, 300)
    app = make_app(config, store, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        timeline = app.query_one(Timeline)
        await pilot.pause()
        last = timeline.count - 1
        assert timeline.cursor == last and timeline.following
        await pilot.press("up", "up")
        assert timeline.cursor == last - 2 and not timeline.following
        # Not following: a new entry does not move the cursor.
        store.append(incident, Kind.NOTE, "while reading", "bob")
        app.screen_stack[0].sync()  # type: ignore[attr-defined]
        await pilot.pause()
        assert timeline.cursor == last - 2
        assert timeline.count == last + 2
        await pilot.press("pageup")
        assert timeline.cursor < last - 2
        top = timeline.scroll_offset.y
        assert top <= timeline.cursor < top + timeline.scrollable_content_region.height
        await pilot.press("end")  # back to the bottom: follows again
        assert timeline.following and timeline.cursor == timeline.count - 1
        store.append(incident, Kind.NOTE, "live again", "bob")
        app.screen_stack[0].sync()  # type: ignore[attr-defined]
        await pilot.pause()
        assert timeline.selected is not None and timeline.selected.text == "live again"


async def test_backdated_entry_lands_in_order(
    config: Config, store: Store, clock: FakeClock
) -> None:
    incident = bulk_incident(store, clock, 450)
    app = make_app(config, store, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        timeline = app.query_one(Timeline)
        store.append(
            incident,
            Kind.NOTE,
            "first alert fired",
            "carol",
            at=clock.now - timedelta(seconds=400),
            reason="paged late",
        )
        app.screen_stack[0].sync()  # type: ignore[attr-defined]
        await pilot.pause()
        texts = [timeline.entry_at(i).text for i in range(timeline.count)]  # type: ignore[union-attr]
        assert texts.index("first alert fired") < texts.index("entry 00449")
        assert texts[-1] == "entry 00449"


def test_parse_filter() -> None:
    assert parse_filter("") == parse_filter("   ")
    parsed = parse_filter("db pool kind:action k:decision")
    assert parsed.text == "db pool"
    assert parsed.kinds == (Kind.ACTION, Kind.DECISION)
    assert parse_filter("kind:NOTE").kinds == (Kind.NOTE,)
    try:
        parse_filter("kind:bogus")
    except ValueError as exc:
        assert "bogus" in str(exc)
    else:
        raise AssertionError("an unknown kind must be refused")


async def test_click_selects_the_line(config: Config, store: Store, clock: FakeClock) -> None:
    bulk_incident(store, clock, 100)
    app = make_app(config, store, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        timeline = app.query_one(Timeline)
        top = timeline.scroll_offset.y
        # The first content line sits below the border (row 1 of the widget).
        await pilot.click(Timeline, offset=(10, 3))
        assert timeline.cursor == top + 2
        assert not timeline.following
