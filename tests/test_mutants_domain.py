"""Behaviour of the domain that a full mutation run (`make mutate`, issue 14) found unpinned:
the words stored in databases and synced between laptops, the defaults and limits the
documentation promises, the edges of the accepted time range, and the small rules (backdated,
drill ids, file stems, refusals) whose boundaries nothing asserted."""

from __future__ import annotations

import time
import tomllib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.config import ConfigError, config_from_dict
from cockpit.domain import (
    DEFAULT_SEVERITIES,
    ENTRY_TEXT,
    FIELD_LABELS,
    FIELDS,
    MAX_CADENCE_MINUTES,
    NAME_TEXT,
    POSTMORTEM_TEXT,
    REASON_TEXT,
    TITLE_TEXT,
    UPDATE_TEXT,
    Entry,
    Kind,
    Severity,
    Status,
    check_day,
    drill_ref,
    format_countdown,
    format_duration,
    is_file_stem,
    needs_resolution_update,
    normalize_field_name,
    parse_drill_ref,
    parse_id,
    parse_moment,
    parse_utc,
    read_stored,
)
from cockpit.postmortem.render import SECTIONS
from cockpit.store import Store
from cockpit.store.errors import IncidentResolved

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 27, 4, 30, tzinfo=UTC)


@pytest.fixture
def india_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A zone five and a half hours ahead of UTC (a POSIX string: no zone files needed)."""
    monkeypatch.setenv("TZ", "IST-5:30")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


# ---- words and defaults other copies and documents rely on ---------------------------------


def test_kinds_and_statuses_read_back_from_the_words_databases_and_peers_stored() -> None:
    # Rows written by earlier versions and entries synced from other laptops hold these words.
    stored = {
        "note": Kind.NOTE,
        "action": Kind.ACTION,
        "decision": Kind.DECISION,
        "update": Kind.UPDATE,
        "severity": Kind.SEVERITY,
        "status": Kind.STATUS,
        "role": Kind.ROLE,
        "step": Kind.STEP,
        "escalation": Kind.ESCALATION,
        "system": Kind.SYSTEM,
        "external": Kind.EXTERNAL,
    }
    for word, kind in stored.items():
        assert Kind(word) is kind
    assert len(Kind) == len(stored)
    # Statuses too, in the order status pages use.
    in_order = sorted(Status, key=lambda status: status.rank)
    assert [status.value for status in in_order] == [
        "investigating",
        "identified",
        "monitoring",
        "resolved",
    ]


def test_the_built_in_severities_are_the_ones_the_example_configuration_shows() -> None:
    """The example says "Without any [[severity]] table, these three defaults apply"."""
    example = tomllib.loads((ROOT / "config.toml.example").read_text())["severity"]
    shown = [
        (
            table["name"],
            table["label"],
            table.get("first_update_minutes"),
            table.get("update_every_minutes"),
            tuple(table.get("required_roles", ())),
        )
        for table in example
    ]
    built_in = [
        (s.name, s.label, s.first_update_minutes, s.update_every_minutes, s.required_roles)
        for s in DEFAULT_SEVERITIES
    ]
    assert built_in == shown


def test_the_text_limits_are_the_ones_the_readme_promises() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("| text | at most (characters) |", 1)[1].split("\n\n", 1)[0]
    promised = [int(row.rsplit("|", 2)[1].replace(",", "")) for row in table.splitlines()[2:]]
    limits = [ENTRY_TEXT, UPDATE_TEXT, POSTMORTEM_TEXT, TITLE_TEXT, NAME_TEXT, REASON_TEXT]
    assert (
        [limit.chars for limit in limits]
        == promised
        == [1_048_576, 25_000, 1_048_576, 500, 200, 2_000]
    )


def test_ids_and_cadences_end_where_the_readme_says() -> None:
    # "runbook minutes are 1 to 10,080 (a week) … ids are 1 to 2^63−1"
    assert parse_id("9223372036854775807", "an entry id") == 2**63 - 1
    with pytest.raises(ValueError, match="from 1 to 9,223,372,036,854,775,807"):
        parse_id("9223372036854775808", "an entry id")
    assert MAX_CADENCE_MINUTES == 10_080

    def severity(minutes: int) -> dict[str, object]:
        return {
            "severity": [{"name": "SEV-1", "update_every_minutes": minutes}],
            "declare": {"default_severity": "SEV-1"},
        }

    assert config_from_dict(severity(10_080)).severities[0].update_every_minutes == 10_080
    with pytest.raises(ConfigError, match="update_every_minutes"):
        config_from_dict(severity(10_081))


def test_every_post_mortem_field_is_labelled_as_the_export_names_its_section() -> None:
    assert set(FIELD_LABELS) == set(FIELDS)
    for name in FIELDS:
        label = FIELD_LABELS[name]
        assert label in SECTIONS or label.startswith("Root cause"), name
    assert FIELD_LABELS["summary"] == "Summary"
    assert FIELD_LABELS["impact"] == "Customer impact"


@pytest.mark.parametrize(
    ("typed", "field"),
    [
        ("customer impact", "impact"),
        ("Customer-Impact", "impact"),
        ("whys", "root_cause"),
        ("factors", "contributing_factors"),
        ("went well", "went_well"),
    ],
)
def test_post_mortem_field_aliases(typed: str, field: str) -> None:
    assert normalize_field_name(typed) == field


# ---- small rules at their edges ---------------------------------------------------------------


def test_a_severity_with_only_one_policy_key_has_a_cadence() -> None:
    first_only = Severity("SEV-X", first_update_minutes=5)
    every_only = Severity("SEV-Y", update_every_minutes=5)
    assert first_only.has_cadence and every_only.has_cadence
    assert not Severity("SEV-Z").has_cadence
    # So ending an incident at either, with nothing published, owes the resolution update.
    assert needs_resolution_update(every_only, 0, None)
    assert needs_resolution_update(first_only, 0, None)
    assert not needs_resolution_update(Severity("SEV-Z"), 0, None)


def _entry(at: datetime, written_at: datetime) -> Entry:
    return Entry(1, 1, at, written_at, Kind.NOTE, "alice", "text")


def test_an_entry_is_backdated_only_when_claimed_more_than_a_second_before_it_was_written() -> None:
    written = NOW
    assert not _entry(written, written).backdated
    assert not _entry(written - timedelta(seconds=1), written).backdated
    assert _entry(written - timedelta(seconds=1, microseconds=1), written).backdated
    assert _entry(written - timedelta(seconds=1.5), written).backdated
    assert not _entry(written + timedelta(seconds=5), written).backdated


def test_drill_ids() -> None:
    assert drill_ref(2) == "DRILL-2"
    assert parse_drill_ref("DRILL-2") == 2
    assert parse_drill_ref(" drill7 ") == 7
    assert parse_drill_ref("Drill-12") == 12
    assert parse_drill_ref("INC-2") is None
    assert parse_drill_ref("2") is None
    with pytest.raises(ValueError, match="not a drill id"):
        parse_drill_ref("DRILL-0")


@pytest.mark.parametrize("name", ["", "  ", ".", "..", " .. ", "a/b", "a\\b", "a\0b", "/etc"])
def test_names_that_could_leave_their_folder_are_not_file_stems(name: str) -> None:
    assert not is_file_stem(name)


def test_plain_names_are_file_stems() -> None:
    assert is_file_stem("checkout-latency")
    assert is_file_stem("db.failover")


def test_a_refusal_says_how_long_the_text_was_when_it_knows() -> None:
    assert "(got 501)" in TITLE_TEXT.refusal(501)
    assert "(got 1,048,577)" in ENTRY_TEXT.refusal(1_048_577)
    assert "(got more than that)" in TITLE_TEXT.refusal()


def test_a_resolved_incident_refuses_a_change_with_how_to_make_it(store: Store) -> None:
    incident = store.declare("Checkout down", "SEV-1", "alice")
    store.set_status(incident.id, Status.RESOLVED, "alice")
    with pytest.raises(IncidentResolved) as refused:
        store.set_severity(incident.id, "SEV-2", "alice")
    assert str(refused.value) == (
        f"INC-{incident.id} is resolved: reopen it first (status investigating) to change its "
        "severity; nothing was changed"
    )


# ---- the accepted range and the forms of time, at their edges ------------------------------------


def test_the_first_accepted_day_is_accepted() -> None:
    assert check_day(date(2000, 1, 1)) == date(2000, 1, 1)
    with pytest.raises(ValueError, match="out of range"):
        check_day(date(1999, 12, 31))


def test_a_stored_time_at_the_end_of_the_range_is_flagged() -> None:
    assert read_stored("2099-12-31T23:59:59.999Z") == datetime(
        2099, 12, 31, 23, 59, 59, 999000, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="out of range"):
        read_stored("2100-01-01T00:00:00.000Z")


def test_a_stored_time_without_an_offset_is_utc_whatever_the_local_zone(india_time: None) -> None:
    assert parse_utc("2026-11-27T02:14:05") == datetime(2026, 11, 27, 2, 14, 5, tzinfo=UTC)
    assert parse_utc("2026-11-27T02:14:05+01:00") == datetime(2026, 11, 27, 1, 14, 5, tzinfo=UTC)


def test_typed_times_in_another_year_that_fall_inside_the_range_in_utc(india_time: None) -> None:
    # The year check before converting must not refuse what is in range once converted.
    assert parse_moment("1999-12-31T23:00:00-05:00", NOW) == datetime(2000, 1, 1, 4, tzinfo=UTC)
    assert parse_moment("2100-01-01T00:30:00+01:00", NOW) == datetime(
        2099, 12, 31, 23, 30, tzinfo=UTC
    )
    # Naive means local time (+05:30 here).
    assert parse_moment("2100-01-01T05:00", NOW) == datetime(2099, 12, 31, 23, 30, tzinfo=UTC)
    assert parse_moment("2026-11-27T02:14", NOW) == datetime(2026, 11, 26, 20, 44, tzinfo=UTC)
    for outside in ("1999-12-31T23:00:00Z", "2100-01-01T00:00:00Z"):
        with pytest.raises(ValueError, match="out of range"):
            parse_moment(outside, NOW)


def test_zero_is_shown_without_a_sign() -> None:
    assert format_duration(timedelta(0)) == "00:00:00"
    assert format_countdown(timedelta(0)) == "00:00"
    assert format_duration(timedelta(seconds=-1)) == "-00:00:01"
    assert format_countdown(timedelta(seconds=-1)) == "-00:01"


def test_a_relative_time_padded_with_zeros_is_the_number_it_spells() -> None:
    # The guard on long digit runs (int() refuses huge ones) counts significant digits.
    for padded in ("000000000000005 min ago", "0000000000000000000005 min ago", "-0005m"):
        assert parse_moment(padded, NOW) == NOW - timedelta(minutes=5)
    for huge in ("999999999999999 s ago", "9999999999999999 d ago", "9" * 5000 + " s ago"):
        with pytest.raises(ValueError, match="out of range"):
            parse_moment(huge, NOW)
