"""Domain edges no other test reached: the stored vocabularies (a renamed value would strand
every existing database), stored times in forms cockpit did not write, fields that do not
exist, the flag on unreadable rows and the frozen clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from cockpit.domain import (
    DELIVERY_STATES,
    Kind,
    Status,
    check_moment,
    field_value,
    frozen_clock,
    parse_utc,
    read_stored,
    read_stored_day,
    unreadable_note,
)
from cockpit.domain.postmortem import ItemState, Postmortem

T0 = datetime(2026, 11, 27, 2, 14, tzinfo=UTC)


def test_the_stored_vocabularies_keep_their_names():
    assert [s.value for s in Status] == ["investigating", "identified", "monitoring", "resolved"]
    assert [k.value for k in Kind] == [
        "note",
        "action",
        "decision",
        "update",
        "severity",
        "status",
        "role",
        "step",
        "escalation",
        "system",
        "external",
    ]
    assert DELIVERY_STATES == ("queued", "sending", "retrying", "sent", "failed", "superseded")
    assert [s.value for s in ItemState] == ["open", "done", "wont_do"]


def test_a_moment_without_a_zone_or_beyond_any_zone_is_refused():
    with pytest.raises(ValueError, match=r"^the lease is out of range"):
        check_moment(T0.replace(tzinfo=None), "the lease")
    west = timezone(timedelta(hours=-1))
    with pytest.raises(ValueError, match="out of range"):
        check_moment(datetime.max.replace(tzinfo=west), "the lease")
    assert check_moment(T0.astimezone(west)) == T0


def test_stored_times_in_forms_cockpit_did_not_write():
    assert parse_utc("2026-11-27T02:14:00") == T0  # no offset: UTC
    assert parse_utc("2026-11-27T03:14:00+01:00") == T0
    with pytest.raises(ValueError, match="not a time cockpit can read"):
        parse_utc("9999-12-31T23:59:59-01:00")
    assert read_stored("2026-11-27T02:14:00") == T0
    assert read_stored("2026-11-27T03:14:00+01:00") == T0
    assert read_stored("2026-11-27T02:14:00.000Z") == T0
    with pytest.raises(ValueError, match="not a stored time: 1764209640"):
        read_stored(1764209640)
    with pytest.raises(ValueError, match="not a stored time"):
        read_stored("9999-12-31T23:59:59-01:00")
    assert read_stored_day("2026-12-01") == date(2026, 12, 1)
    with pytest.raises(ValueError, match="not a stored date: None"):
        read_stored_day(None)


def test_a_field_that_does_not_exist_is_a_key_error():
    with pytest.raises(KeyError):
        field_value("title", "x")
    with pytest.raises(KeyError):
        Postmortem(incident_id=1).text_of("title")
    assert field_value("summary", "x") == "x"
    assert field_value("root_cause", "1. a\n2) b") == ("a", "b")


def test_unreadable_values_are_flagged_and_cut():
    assert unreadable_note({}) == ""
    assert unreadable_note({"declared_at": "garbage"}) == "⚠ unreadable declared_at='garbage'"
    long = "x" * 41
    assert unreadable_note({"a": "1", "b": long}) == f"⚠ unreadable a='1', b='{'x' * 39}…'"


def test_a_frozen_clock_always_says_the_same_moment():
    clock = frozen_clock(T0)
    assert clock() == T0 and clock() == T0
