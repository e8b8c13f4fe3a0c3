"""Domain rules: deadlines under every severity, overdue, status order, ids and time text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cockpit.domain import (
    DEFAULT_SEVERITIES,
    Incident,
    Status,
    find_severity,
    format_countdown,
    format_duration,
    format_utc,
    missing_roles,
    next_update_deadline,
    one_line,
    parse_incident_ref,
    parse_moment,
    parse_status,
    parse_utc,
    since_declared,
    strip_control,
)

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
SEV1, SEV2, SEV3 = DEFAULT_SEVERITIES


def incident(**changes: object) -> Incident:
    base: dict[str, object] = {
        "id": 7,
        "title": "Checkout API errors",
        "severity": "SEV-1",
        "status": Status.INVESTIGATING,
        "declared_at": T0,
        "impact_started_at": T0 - timedelta(minutes=4),
    }
    base.update(changes)
    return Incident(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("severity", "first", "every"),
    [(SEV1, 15, 30), (SEV2, 30, 30)],
)
def test_first_then_cadence(severity, first, every):
    inc = incident(severity=severity.name)
    first_deadline = next_update_deadline(inc, severity, None)
    assert first_deadline is not None
    assert first_deadline.due_at == T0 + timedelta(minutes=first)
    assert first_deadline.number == 1
    sent = T0 + timedelta(minutes=9)
    later = next_update_deadline(inc, severity, sent, updates_sent=1)
    assert later is not None
    assert later.due_at == sent + timedelta(minutes=every)
    assert later.number == 2


def test_sev3_owes_nothing():
    assert next_update_deadline(incident(severity="SEV-3"), SEV3, None) is None
    assert next_update_deadline(incident(severity="SEV-3"), SEV3, T0, 1) is None


def test_resolved_owes_nothing():
    done = incident(status=Status.RESOLVED, resolved_at=T0 + timedelta(hours=1))
    assert next_update_deadline(done, SEV1, None) is None


def test_runbook_cadence_overrides_severity():
    deadline = next_update_deadline(incident(), SEV1, T0, 1, runbook_minutes=15)
    assert deadline is not None
    assert deadline.due_at == T0 + timedelta(minutes=15)


def test_overdue_is_strictly_after_due():
    deadline = next_update_deadline(incident(), SEV1, None)
    assert deadline is not None
    due = deadline.due_at
    assert not deadline.overdue(due)
    assert deadline.overdue(due + timedelta(milliseconds=1))
    assert deadline.remaining(due - timedelta(minutes=4)) == timedelta(minutes=4)


def test_status_order():
    assert [s.value for s in Status] == ["investigating", "identified", "monitoring", "resolved"]
    assert Status.INVESTIGATING.rank < Status.MONITORING.rank < Status.RESOLVED.rank
    assert parse_status(" Monitoring ") is Status.MONITORING
    with pytest.raises(ValueError, match="expected one of investigating"):
        parse_status("fixed")


def test_since_declared_stops_at_resolution():
    open_one = incident()
    assert since_declared(open_one, T0 + timedelta(minutes=23)) == timedelta(minutes=23)
    closed = incident(status=Status.RESOLVED, resolved_at=T0 + timedelta(hours=2))
    assert since_declared(closed, T0 + timedelta(days=3)) == timedelta(hours=2)


def test_roles_required_by_severity():
    assert missing_roles(incident(roles={"commander": "alice"}), SEV1) == ["communicator"]
    assert missing_roles(incident(roles={"commander": "alice"}), SEV2) == []
    assert missing_roles(incident(roles={}), SEV3) == []


def test_find_severity_is_forgiving_about_spelling():
    assert find_severity(DEFAULT_SEVERITIES, "sev1").name == "SEV-1"
    assert find_severity(DEFAULT_SEVERITIES, "SEV 2").name == "SEV-2"
    with pytest.raises(ValueError, match="expected one of SEV-1, SEV-2, SEV-3"):
        find_severity(DEFAULT_SEVERITIES, "SEV-9")


def test_incident_refs():
    assert parse_incident_ref("INC-7") == 7
    assert parse_incident_ref("inc7") == 7
    assert parse_incident_ref("12") == 12
    with pytest.raises(ValueError):
        parse_incident_ref("INC-")


def test_utc_round_trip_keeps_milliseconds():
    moment = datetime(2026, 11, 27, 2, 14, 5, 123456, tzinfo=UTC)
    text = format_utc(moment)
    assert text == "2026-11-27T02:14:05.123Z"
    assert parse_utc(text) == moment.replace(microsecond=123000)


def test_parse_moment_forms():
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert parse_moment("15m ago", now) == now - timedelta(minutes=15)
    assert parse_moment("-2h", now) == now - timedelta(hours=2)
    assert parse_moment("2026-11-27T10:00:00Z", now) == datetime(2026, 11, 27, 10, tzinfo=UTC)
    assert parse_moment("2026-11-27T10:00+01:00", now) == datetime(2026, 11, 27, 9, tzinfo=UTC)
    with pytest.raises(ValueError, match="use 2026-11-27T02:14"):
        parse_moment("yesterday-ish", now)
    with pytest.raises(ValueError):
        parse_moment("25:00", now)


def test_durations_and_countdowns():
    assert format_duration(timedelta(hours=1, minutes=2, seconds=3)) == "01:02:03"
    assert format_duration(timedelta(days=2, hours=3)) == "2d 03:00:00"
    assert format_countdown(timedelta(minutes=4, seconds=12)) == "04:12"
    assert format_countdown(-timedelta(seconds=75)) == "-01:15"
    assert format_countdown(timedelta(hours=1, minutes=5)) == "1:05:00"


def test_control_sequences_are_neutralised():
    hostile = "ok\x1b[31mred\x1b[0m \x1b]0;title\x07bell\x07 \x9b2J\r\nnext"
    cleaned = strip_control(hostile)
    assert "\x1b" not in cleaned and "\x07" not in cleaned and "\x9b" not in cleaned
    assert "red" in cleaned and "next" in cleaned
    assert one_line("a\nb\tc") == "a ⏎ b c"
