"""Post-mortem storage: migration v3, fields, action items, stars, due dates and the small
parsers the CLI and the screen share."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.config import Config, PostmortemConfig
from cockpit.domain import (
    ActionItem,
    ItemState,
    Kind,
    Postmortem,
    Status,
    field_value,
    normalize_field_name,
    parse_deadline,
    parse_item_state,
    whys_from_text,
)
from cockpit.postmortem.due import pending, postmortem_due_at
from cockpit.postmortem.export import export_filename, export_path, slug
from cockpit.store import MIGRATIONS, SCHEMA_VERSION, Store, StoreError
from tests.conftest import T0, FakeClock


def test_migration_v3_upgrades_an_existing_database_and_keeps_its_data(tmp_path: Path):
    path = tmp_path / "old.db"
    import sqlite_utils

    conn = sqlite3.connect(path)
    db = sqlite_utils.Database(conn)
    for migration in MIGRATIONS[:2]:
        migration(db)
    conn.execute("PRAGMA user_version = 2")
    conn.execute(
        "INSERT INTO incidents (title, severity, status, declared_at, impact_started_at) "
        "VALUES ('old one', 'SEV-2', 'resolved', '2026-01-01T00:00:00.000Z', "
        "'2026-01-01T00:00:00.000Z')"
    )
    conn.commit()
    conn.close()

    with Store.open(path, clock=FakeClock()) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.incident(1).title == "old one"
        assert store.postmortem(1) == Postmortem(1)
        assert store.starred(1) == set()
        tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master")}
        assert {"postmortems", "stars"} <= tables


def test_fields_are_set_one_at_a_time_and_kept(store: Store, clock: FakeClock):
    incident = store.declare("DB down", "SEV-1", "alice")
    assert store.postmortem(incident.id) == Postmortem(incident.id)
    clock.advance(minutes=5)
    store.set_postmortem(incident.id, "alice", {"summary": "Line one\nline two"})
    store.set_postmortem(incident.id, "bob", {"root_cause": ["errors", " ", "pool exhausted "]})
    pm = store.postmortem(incident.id)
    assert pm.summary == "Line one\nline two"
    assert pm.root_cause == ("errors", "pool exhausted")
    assert pm.updated_by == "bob" and pm.updated_at == clock.now
    assert pm.text_of("root_cause") == "errors\npool exhausted"
    for name in ("impact", "contributing_factors", "went_well", "went_poorly", "lessons"):
        store.set_postmortem(incident.id, "alice", {name: f"{name} | text"})
        assert store.postmortem(incident.id).text_of(name) == f"{name} | text"
    assert store.postmortem(incident.id).summary == "Line one\nline two"
    with pytest.raises(StoreError, match="unknown post-mortem field"):
        store.set_postmortem(incident.id, "alice", {"title": "nope"})
    with pytest.raises(TypeError):
        store.set_postmortem(incident.id, "alice", {"root_cause": "one string"})


def test_completing_a_postmortem_and_reopening_it(store: Store, clock: FakeClock):
    incident = store.declare("DB down", "SEV-1", "alice")
    store.set_status(incident.id, Status.RESOLVED, "alice")
    clock.advance(hours=2)
    done = store.set_postmortem(incident.id, "alice", completed=True)
    assert done.completed_at == clock.now
    assert store.set_postmortem(incident.id, "alice", completed=False).completed_at is None


def test_action_items_are_added_edited_and_removed(store: Store):
    incident = store.declare("DB down", "SEV-1", "alice")
    other = store.declare("Other", "SEV-3", "alice")
    first = store.add_action_item(
        incident.id, " Alert on pool usage ", owner="carol", deadline=date(2026, 12, 4)
    )
    second = store.add_action_item(incident.id, "Runbook for DB failover")
    store.add_action_item(other.id, "Unrelated")
    assert first.title == "Alert on pool usage" and first.state is ItemState.OPEN
    assert [i.id for i in store.action_items(incident.id)] == [first.id, second.id]

    edited = store.update_action_item(
        first.id, title="Alert at 80% pool usage", owner="dave", state=ItemState.DONE
    )
    assert (edited.title, edited.owner, edited.state) == (
        "Alert at 80% pool usage",
        "dave",
        ItemState.DONE,
    )
    assert edited.deadline == date(2026, 12, 4)
    assert store.update_action_item(first.id, deadline=None).deadline is None
    assert store.update_action_item(second.id, state="wont_do").state is ItemState.WONT_DO
    assert store.action_items(states=(ItemState.OPEN,))[0].title == "Unrelated"

    with pytest.raises(StoreError, match="needs a title"):
        store.update_action_item(first.id, title="  ")
    with pytest.raises(StoreError, match="needs a title"):
        store.add_action_item(incident.id, "")
    with pytest.raises(StoreError, match="unknown action item field"):
        store.update_action_item(first.id, incident_id=other.id)
    with pytest.raises(StoreError, match="no action item 999"):
        store.update_action_item(999, title="x")
    store.remove_action_item(second.id)
    assert [i.id for i in store.action_items(incident.id)] == [first.id]


def test_stars_mark_entries_without_touching_the_append_only_timeline(store: Store):
    incident = store.declare("DB down", "SEV-1", "alice")
    other = store.declare("Other", "SEV-3", "alice")
    note = store.append(incident.id, Kind.NOTE, "pool at 100%", "alice")
    assert store.star(note.id, "alice") is True
    assert store.star(note.id, "bob") is False  # already starred
    assert store.starred(incident.id) == {note.id}
    assert store.starred(other.id) == set()
    assert store.unstar(note.id) is True and store.unstar(note.id) is False
    assert store.starred(incident.id) == set()
    with pytest.raises(StoreError, match="no timeline entry 999"):
        store.star(999, "alice")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.conn.execute("UPDATE entries SET text = 'changed' WHERE id = ?", (note.id,))
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.conn.execute("DELETE FROM entries WHERE id = ?", (note.id,))
    assert store.entry(note.id).text == "pool at 100%"


def test_what_is_due_after_resolution(store: Store, clock: FakeClock):
    open_one = store.declare("Still burning", "SEV-1", "alice")
    early = store.declare("Resolved first", "SEV-2", "alice")
    clock.advance(hours=1)
    store.set_status(early.id, Status.RESOLVED, "alice")
    clock.advance(hours=1)
    late = store.declare("Resolved later", "SEV-2", "alice")
    store.set_status(late.id, Status.RESOLVED, "alice")
    resolved_at = clock.now
    assert postmortem_due_at(store.incident(late.id), 48) == resolved_at + timedelta(hours=48)
    assert postmortem_due_at(store.incident(open_one.id), 48) is None

    found = pending(store, 48, clock.now + timedelta(hours=47, minutes=30))
    assert [p.incident.id for p in found.postmortems] == [early.id, late.id]
    now = clock.now + timedelta(hours=47, minutes=30)
    assert [p.overdue(now) for p in found.postmortems] == [True, False]

    store.set_postmortem(early.id, "alice", completed=True)
    assert [p.incident.id for p in pending(store, 48, now).postmortems] == [late.id]

    store.add_action_item(late.id, "On time", deadline=date(2026, 12, 31))
    past = store.add_action_item(late.id, "Late", deadline=date(2026, 11, 28))
    finished = store.add_action_item(late.id, "Late but done", deadline=date(2026, 11, 1))
    store.update_action_item(finished.id, state=ItemState.DONE)
    at_end_of_day = datetime(2026, 11, 28, 23, 59, tzinfo=UTC)
    assert pending(store, 48, at_end_of_day).items == ()
    next_day = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
    assert [item.id for _, item in pending(store, 48, next_day).items] == [past.id]


def test_an_item_is_past_its_deadline_only_when_open_and_the_day_is_over():
    item = ActionItem(1, 1, "x", deadline=date(2026, 11, 27))
    assert not item.past_deadline(datetime(2026, 11, 27, 23, 0, tzinfo=UTC))
    assert item.past_deadline(datetime(2026, 11, 28, 0, 1, tzinfo=UTC))
    no_deadline = ActionItem(1, 1, "x")
    assert not no_deadline.past_deadline(datetime(2030, 1, 1, tzinfo=UTC))
    done = ActionItem(1, 1, "x", deadline=date(2026, 11, 1), state=ItemState.DONE)
    assert not done.past_deadline(datetime(2030, 1, 1, tzinfo=UTC))


def test_parsers_shared_by_the_cli_and_the_screen():
    assert parse_item_state("won't do") is ItemState.WONT_DO
    assert parse_item_state("Wont-Do") is ItemState.WONT_DO
    assert parse_item_state(" DONE ") is ItemState.DONE
    with pytest.raises(ValueError, match="open, done or won't do"):
        parse_item_state("later")
    assert ItemState.WONT_DO.label == "won't do"

    assert parse_deadline("2026-12-04", T0) == date(2026, 12, 4)
    today = T0.astimezone().date()
    assert parse_deadline("+7d", T0) == today + timedelta(days=7)
    assert parse_deadline("2w", T0) == today + timedelta(days=14)
    assert parse_deadline("", T0) is None
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_deadline("next friday", T0)

    assert normalize_field_name("root-cause") == "root_cause"
    assert normalize_field_name("Went well") == "went_well"
    assert normalize_field_name("factors") == "contributing_factors"
    with pytest.raises(ValueError, match="summary, impact, root-cause"):
        normalize_field_name("title")

    assert whys_from_text("1. errors\n\n2) pool\n- limits\n  plain  ") == (
        "errors",
        "pool",
        "limits",
        "plain",
    )
    assert field_value("root_cause", "a\nb") == ("a", "b")
    assert field_value("summary", "a\nb") == "a\nb"


def test_export_file_names():
    assert (
        slug("Checkout API errors (EU) — 50% of requests!")
        == "checkout-api-errors-eu-50-of-requests"
    )
    assert slug("???") == "incident"
    assert len(slug("word " * 40)) <= 48 and not slug("word " * 40).endswith("-")
    from cockpit.domain import Incident

    incident = Incident(7, "DB | down", "SEV-1", Status.RESOLVED, T0, T0)
    assert export_filename(incident) == "postmortem-INC-7-db-down.md"
    config = Config(postmortem=PostmortemConfig(dir="docs/postmortems"))
    assert export_path(config, incident) == Path("docs/postmortems/postmortem-INC-7-db-down.md")
