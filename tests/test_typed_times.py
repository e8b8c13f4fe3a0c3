"""Times responders type (`--at`, the app's time fields) and how times are shown back, in a
local zone that is not UTC: a clock time today, a clock time later than now (yesterday), every
spelling of the relative units, and the date shown only for another day. Also the first
deadline of a severity whose policy names only a cadence."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from cockpit.domain import Incident, Severity, Status, format_local, next_update_deadline
from cockpit.domain import parse_moment as parse

# Local time 10:00 on 2026-11-27 in a zone five and a half hours ahead of UTC.
NOW = datetime(2026, 11, 27, 4, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def india_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A POSIX zone string: needs no zone files, and has a half-hour offset."""
    monkeypatch.setenv("TZ", "IST-5:30")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def local(day: int, hour: int, minute: int, second: int = 0) -> datetime:
    """A local wall-clock time in November 2026, as UTC."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC) - timedelta(hours=5.5)


def test_a_clock_time_earlier_today_is_today_in_local_time() -> None:
    assert parse("02:10", NOW) == local(27, 2, 10)
    assert parse("9:59", NOW) == local(27, 9, 59)
    assert parse("09:59:30", NOW) == local(27, 9, 59, 30)
    assert parse(" 00:00 ", NOW) == local(27, 0, 0)


def test_a_clock_time_later_than_now_is_yesterday() -> None:
    five_past_midnight = local(27, 0, 5)
    assert parse("02:10", five_past_midnight) == local(26, 2, 10)
    assert parse("23:59:59", five_past_midnight) == local(26, 23, 59, 59)
    assert parse("10:00:01", NOW) == local(26, 10, 0, 1)
    # Exactly now is now, not a day ago.
    assert parse("10:00", NOW) == NOW
    assert parse("00:05", five_past_midnight) == five_past_midnight


@pytest.mark.parametrize("text", ["24:00", "25:00", "12:60", "12:00:60", "99:99"])
def test_a_clock_time_out_of_its_range_is_refused_by_name(text: str) -> None:
    with pytest.raises(ValueError, match=f"not a time of day: '{text}'"):
        parse(text, NOW)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("45s ago", 45),
        ("45 sec ago", 45),
        ("15m ago", 15 * 60),
        ("15 min ago", 15 * 60),
        ("-15min", 15 * 60),
        ("1h ago", 3600),
        ("5 hr ago", 5 * 3600),
        ("1 hour ago", 3600),
        ("2 hours ago", 2 * 3600),
        ("-2 HOURS", 2 * 3600),
        ("1d ago", 86400),
        ("1 day ago", 86400),
        ("3 days ago", 3 * 86400),
        ("0 min ago", 0),
    ],
)
def test_every_spelling_of_a_relative_unit(text: str, seconds: int) -> None:
    assert parse(text, NOW) == NOW - timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["15 min", "15 weeks ago", "ago", "15 mins ago"])
def test_a_relative_time_needs_a_known_unit_and_a_direction(text: str) -> None:
    with pytest.raises(ValueError, match="not a time"):
        parse(text, NOW)


def test_a_naive_iso_time_is_local() -> None:
    assert parse("2026-11-26T23:50", NOW) == local(26, 23, 50)
    assert parse("2026-11-26T23:50Z", NOW) == datetime(2026, 11, 26, 23, 50, tzinfo=UTC)


def test_the_date_is_shown_only_for_another_local_day() -> None:
    assert format_local(local(27, 0, 1), NOW) == "00:01"
    assert format_local(local(27, 9, 58, 7), NOW, seconds=True) == "09:58:07"
    assert format_local(local(26, 23, 59), NOW) == "2026-11-26 23:59"
    assert format_local(local(28, 0, 0, 1), NOW, seconds=True) == "2026-11-28 00:00:01"
    # 20:00 UTC on the 26th is already the 27th here: no date, though UTC's day differs.
    assert format_local(datetime(2026, 11, 26, 20, 0, tzinfo=UTC), NOW) == "01:30"
    # 19:00 UTC on the 27th (now's UTC day) is the 28th here: the date is shown.
    assert format_local(datetime(2026, 11, 27, 19, 0, tzinfo=UTC), NOW) == "2026-11-28 00:30"


def _incident() -> Incident:
    return Incident(1, "x", "SEV-X", Status.INVESTIGATING, NOW, NOW)


def test_a_severity_with_only_a_cadence_owes_its_first_update_after_one_cadence() -> None:
    every_20 = Severity("SEV-X", update_every_minutes=20)
    first = next_update_deadline(_incident(), every_20, None)
    assert first is not None
    assert (first.due_at, first.number, first.every_minutes) == (NOW + timedelta(minutes=20), 1, 20)
    later = next_update_deadline(_incident(), every_20, NOW + timedelta(minutes=5), 1)
    assert later is not None and later.due_at == NOW + timedelta(minutes=25) and later.number == 2


def test_a_severity_with_only_a_first_update_owes_nothing_after_it() -> None:
    first_only = Severity("SEV-X", first_update_minutes=10)
    first = next_update_deadline(_incident(), first_only, None)
    assert first is not None and first.due_at == NOW + timedelta(minutes=10)
    assert first.every_minutes is None
    assert next_update_deadline(_incident(), first_only, NOW + timedelta(minutes=3), 1) is None
    # A runbook cadence gives it one.
    later = next_update_deadline(_incident(), first_only, NOW, 1, runbook_minutes=15)
    assert later is not None and later.due_at == NOW + timedelta(minutes=15)
