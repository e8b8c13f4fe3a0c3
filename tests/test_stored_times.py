"""Times the store cannot read back (issue 11.1): refused on the way in, flagged on the way out.

Every time the cockpit accepts (typed, relative, configured, from the clock, through the store's
API) must lie in 2000-01-01 .. 2099-12-31 UTC, and a row already on disk that holds anything else
(written by an older cockpit, edited by hand) is shown flagged by every read path, never fatal.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from cockpit.domain import (
    EARLIEST,
    LATEST,
    Kind,
    check_moment,
    format_utc,
    parse_deadline,
    parse_moment,
    parse_utc,
    read_stored,
)
from cockpit.store import Store, StoreError
from tests.conftest import T0, FakeClock, run_cli

OUT_OF_RANGE = "out of range: cockpit accepts 2000-01-01 to 2099-12-31 (UTC)"

TYPED_OUT_OF_RANGE = [
    "0226-11-28T02:10",  # the mistyped year of the report
    "700000d ago",
    "99999999999999999999d ago",
    "9" * 5000 + "s ago",  # longer than int() converts
    "9999-12-31T23:59:59-05:00",  # past datetime.max once in UTC
    "0001-01-01T00:00:00+01:00",  # before datetime.min once in UTC
    "0001-01-01T00:00",  # naive: local time, year 1
    "1999-12-31T23:59:59Z",
    "2100-01-01T00:00Z",
    "1970-01-01T00:00:00Z",
]


@pytest.mark.parametrize("raw", TYPED_OUT_OF_RANGE)
def test_typed_times_outside_the_range_are_refused_in_one_line(raw: str):
    with pytest.raises(ValueError) as caught:
        parse_moment(raw, T0)
    assert str(caught.value).endswith(OUT_OF_RANGE)
    assert "\n" not in str(caught.value)


def test_the_edges_of_the_range():
    assert parse_moment("2000-01-01T00:00Z", T0) == EARLIEST
    assert parse_moment("2099-12-31T23:59:59.999Z", T0) == LATEST - timedelta(milliseconds=1)
    with pytest.raises(ValueError):
        check_moment(LATEST)
    with pytest.raises(ValueError):
        check_moment(EARLIEST - timedelta(microseconds=1))


@pytest.mark.parametrize(
    "moment",
    [
        datetime.min.replace(tzinfo=UTC),
        datetime.max.replace(tzinfo=UTC),
        datetime(226, 11, 28, 2, 10, tzinfo=UTC),
        datetime(999, 1, 1, tzinfo=UTC),
        datetime(1000, 1, 1, tzinfo=timezone(timedelta(hours=14))),
    ],
)
def test_format_utc_always_writes_what_parse_utc_reads(moment: datetime):
    text = format_utc(moment)
    assert len(text) == len("2026-11-27T02:14:05.123Z")
    assert parse_utc(text) == moment.astimezone(UTC).replace(
        microsecond=moment.microsecond // 1000 * 1000
    )


def test_stored_times_outside_the_range_do_not_read():
    for raw in ("226-11-28T02:10:00.000Z", "0226-11-28T02:10:00.000Z", "2026-02-30T00:00:00Z", ""):
        with pytest.raises(ValueError):
            read_stored(raw)
    assert read_stored("2026-11-27T02:14:05.123Z") == datetime(2026, 11, 27, 2, 14, 5, 123000, UTC)


@pytest.mark.parametrize("raw", ["0226-01-01", "2100-01-01", "1999-12-31", "+9999w"])
def test_deadlines_outside_the_range_are_refused(raw: str):
    with pytest.raises(ValueError, match="out of range"):
        parse_deadline(raw, T0)


# ---- the store refuses what the front ends might let through -----------------------------------


def test_the_store_refuses_times_outside_the_range_whoever_passes_them(store: Store):
    incident = store.declare("x", "SEV-2", "alice")
    bad = datetime(226, 11, 28, 2, 10, tzinfo=UTC)
    with pytest.raises(StoreError, match="out of range"):
        store.append(incident.id, Kind.NOTE, "typo", "alice", at=bad, reason="late")
    with pytest.raises(StoreError, match="out of range"):
        store.declare("y", "SEV-2", "alice", impact_started_at=datetime(1999, 1, 1, tzinfo=UTC))
    with pytest.raises(StoreError, match="out of range"):
        store.add_action_item(incident.id, "fix", deadline=date(226, 1, 1))
    item = store.add_action_item(incident.id, "fix", deadline=date(2026, 12, 1))
    with pytest.raises(StoreError, match="out of range"):
        store.update_action_item(item.id, deadline=date(2100, 1, 1))
    delivery = store.enqueue(incident.id, "webhook", "event", {})
    with pytest.raises(StoreError, match="out of range"):
        store.update_delivery(delivery, next_attempt_at=datetime(9999, 1, 1, tzinfo=UTC))
    assert [i.title for i in store.incidents()] == ["x"]
    assert [e.text for e in store.entries(incident.id)] == ["declared SEV-2: x"]
    assert store.action_item(item.id).deadline == date(2026, 12, 1)


def test_a_clock_outside_the_range_refuses_writes_in_one_line(db_path: Path):
    clock = FakeClock(datetime(1970, 1, 1, tzinfo=UTC))  # a laptop whose RTC battery died
    with Store.open(db_path, clock=clock) as store, pytest.raises(StoreError) as caught:
        store.declare("x", "SEV-2", "alice")
    assert "the system clock's time 1970-01-01" in str(caught.value)
    assert "set the clock" in str(caught.value)


@pytest.mark.parametrize(
    "args",
    [
        ["log", "--at", "0226-11-28T02:10", "--reason", "typo", "x"],
        ["log", "--at", "700000d ago", "--reason", "typo", "x"],
        ["log", "--at", "9999-12-31T23:59:59-05:00", "--reason", "typo", "x"],
        ["declare", "late", "--at", "0226-11-28T02:10"],
        ["postmortem", "item", "add", "fix", "--deadline", "0226-01-01", "-i", "1"],
    ],
)
def test_the_command_line_refuses_them_and_stores_nothing(tmp_path: Path, args: list[str]):
    db = tmp_path / "c.db"
    run_cli("declare", "x", "-s", "SEV-2", db=db)
    done = run_cli(*args, db=db)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().endswith(OUT_OF_RANGE)
    assert len(done.stderr.strip().splitlines()) == 1
    shown = run_cli("show", "--json", db=db)
    assert shown.returncode == 0, shown.stderr
    assert len(json.loads(shown.stdout)["entries"]) == 1


@pytest.mark.parametrize("start", ["0226-01-01", "9999-12-31", "1999-12-31"])
def test_configured_dates_outside_the_range_are_refused(tmp_path: Path, start: str):
    config = tmp_path / "config.toml"
    config.write_text(f'[oncall]\npeople = ["alice", "bob"]\nstart = {start}\n')
    done = run_cli("oncall", config=config, db=tmp_path / "c.db")
    assert done.returncode == 1
    assert done.stderr == f"cockpit: {config}: oncall.start: date {start} is {OUT_OF_RANGE}\n"


def test_oncall_at_outside_the_range_is_refused(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text('[oncall]\npeople = ["alice", "bob"]\nstart = 2026-11-02\n')
    done = run_cli("oncall", "--at", "0226-11-28T02:10", config=config, db=tmp_path / "c.db")
    assert done.returncode == 2
    assert OUT_OF_RANGE in done.stderr


# ---- rows already on disk ----------------------------------------------------------------------


def plant_bad_rows(db: Path) -> None:
    """A database as today's buggy code (or a hand edit) left it: one bad value in every table."""
    store = Store.open(db, clock=FakeClock())
    incident = store.declare("Checkout down", "SEV-2", "alice")
    store.append(incident.id, Kind.NOTE, "good note", "alice")
    typo = store.append(incident.id, Kind.NOTE, "typo year", "alice")
    odd = store.append(incident.id, Kind.NOTE, "odd values", "alice")
    store.enqueue(incident.id, "webhook", "event", {"a": 1})
    store.add_action_item(incident.id, "Add an alert", deadline=date(2026, 12, 4))
    store.set_postmortem(incident.id, "alice", {"summary": "s"}, completed=True)
    store.close()
    with sqlite3.connect(db) as conn:
        conn.executescript(
            f"""
            DROP TRIGGER entries_no_update;
            UPDATE entries SET at = '226-11-28T02:10:00.000Z' WHERE id = {typo.id};
            UPDATE entries SET written_at = '2026-02-30T00:00:00.000Z', kind = 'bogus',
                meta = '[1' WHERE id = {odd.id};
            UPDATE incidents SET declared_at = 'garbage', acknowledged_at = '10000-01-01',
                status = 'exploded';
            UPDATE deliveries SET created_at = '0001-01-01T00:00:00.000+01:00', payload = '[]';
            UPDATE action_items SET deadline = '226-01-01', state = 'maybe';
            UPDATE postmortems SET completed_at = 'soon', root_cause = '{{';
            """
        )


def test_every_read_path_shows_a_bad_row_flagged(tmp_path: Path):
    db = tmp_path / "c.db"
    plant_bad_rows(db)
    for args in (
        ["show", "INC-1"],
        ["list", "--all"],
        ["outbox"],
        ["postmortem", "show", "INC-1", "--timeline"],
        ["export", "INC-1", "-o", "-"],
    ):
        done = run_cli(*args, db=db)
        assert done.returncode == 0, (args, done.stderr)
        assert "Traceback" not in done.stderr
        assert "unreadable" in done.stdout, args
    shown = run_cli("show", "INC-1", db=db).stdout
    assert "??:??" in shown  # the claimed time that cannot be read is not guessed
    assert "⚠ unreadable at='226-11-28T02:10:00.000Z': typo year" in shown
    assert "good note" in shown
    exported = run_cli("export", "INC-1", "-o", "-", db=db).stdout
    assert "| ? | ? | note | alice | typo year |" in exported
    data = json.loads(run_cli("show", "INC-1", "--json", db=db).stdout)
    assert data["unreadable"] == {
        "declared_at": "garbage",
        "acknowledged_at": "10000-01-01",
        "status": "exploded",
    }
    flagged = {e["text"]: e.get("unreadable") for e in data["entries"]}
    assert flagged["typo year"] == {"at": "226-11-28T02:10:00.000Z"}
    assert flagged["odd values"] == {
        "written_at": "2026-02-30T00:00:00.000Z",
        "kind": "bogus",
        "meta": "[1",
    }
    assert flagged["good note"] is None


def test_doctor_names_each_bad_row(tmp_path: Path):
    db = tmp_path / "c.db"
    plant_bad_rows(db)
    done = run_cli("doctor", db=db)
    lines = [line for line in done.stdout.splitlines() if "stored value" in line]
    assert [line.split(":")[0].split("value")[1].strip() for line in lines] == [
        "INC-1",
        "INC-1 entry #3",
        "INC-1 entry #4",
        "INC-1 delivery #1",
        "INC-1 action item #1",
        "INC-1 post-mortem",
    ]
    assert all(line.startswith("warn") for line in lines)
    assert "entry #3: ⚠ unreadable at='226-11-28T02:10:00.000Z'" in done.stdout


def test_the_store_reads_bad_rows_with_stand_ins(tmp_path: Path):
    db = tmp_path / "c.db"
    plant_bad_rows(db)
    with Store.open(db, read_only=True) as store:
        incident = store.incident(1)
        assert incident.declared_at == incident.impact_started_at  # the readable one stands in
        assert incident.acknowledged_at is None
        entries = {e.text: e for e in store.entries(1)}
        assert entries["typo year"].at == entries["typo year"].written_at
        assert entries["odd values"].kind is Kind.NOTE and entries["odd values"].meta == {}
        (item,) = store.action_items(1)
        assert item.deadline is None and item.unreadable["deadline"] == "226-01-01"
        pm = store.postmortem(1)
        assert pm.completed_at is not None  # stored as completed: stays completed, flagged
        assert pm.root_cause == () and set(pm.unreadable) == {"completed_at", "root_cause"}
        assert store.updates_sent(1) == (0, None)
