"""Post-mortem metrics at the edges a full mutation run (`make mutate`, issue 14) found
unpinned: a deadline met or lifted at its very moment, changes at the same instant, an
incident resolved the moment it was declared, entries of other kinds (or malformed ones) that
look like a change, and the declared severity against a stale `from`."""

from __future__ import annotations

import dataclasses

from cockpit.domain import DEFAULT_SEVERITIES, Entry, Kind, Status
from cockpit.metrics import MissedDeadline, Span, Tenure, UpdateCompliance, compute_metrics
from tests.test_postmortem_metrics import T0, Timeline, m, mins


def test_an_update_owed_exactly_when_the_severity_changes_was_not_yet_late() -> None:
    # SEV-1: first update due +15. Lowered to SEV-3 (no cadence) at that very moment.
    t = Timeline("SEV-1")
    t.severity_change(m(15), "SEV-1", "SEV-3")
    got = t.metrics(now=m(60))
    assert got.updates.missed == ()
    assert got.updates.required == 0


def test_a_deadline_overdue_at_a_change_to_one_due_that_moment_keeps_running() -> None:
    # SEV-1 due +15, missed; at +30 raised to SEV-2, whose first update is due +30: the same
    # gap runs on under SEV-2 until the resolution, one missed deadline, not two.
    t = Timeline("SEV-1")
    t.severity_change(m(30), "SEV-1", "SEV-2")
    t.status(m(60), Status.INVESTIGATING, Status.RESOLVED)
    got = t.metrics(now=m(90))
    assert got.updates.missed == (MissedDeadline(1, m(15), m(60), "resolution", "SEV-2"),)


def test_resolved_exactly_at_the_deadline_missed_nothing_but_owes_the_resolution_update() -> None:
    t = Timeline("SEV-1")
    t.status(m(15), Status.INVESTIGATING, Status.RESOLVED)
    got = t.metrics(now=m(90))
    assert got.updates.missed == ()
    assert got.updates.resolution_required and got.updates.resolution_owed
    assert got.updates.required == 1 and got.updates.met == 0


def test_an_update_and_a_severity_change_at_the_same_moment() -> None:
    # The update answers the deadline in force before the change (SEV-2, due +30).
    t = Timeline("SEV-2")
    t.update(m(20))
    t.severity_change(m(20), "SEV-2", "SEV-1")
    t.severity_change(m(20), "SEV-1", "SEV-1")
    got = t.metrics(now=m(40))
    assert got.updates.met == 1 and got.updates.missed == ()
    assert got.final_severity == "SEV-1"


def test_an_incident_resolved_the_moment_it_was_declared_has_one_empty_span_each() -> None:
    t = Timeline("SEV-2")
    t.severity_change(T0, "SEV-2", "SEV-1")  # at the end: counts for nothing
    t.status(T0, Status.INVESTIGATING, Status.RESOLVED)
    got = t.metrics(now=m(30))
    assert got.severities == (Span("SEV-2", T0, T0),)
    assert got.statuses == (Span("investigating", T0, T0),)
    assert got.duration == mins(0)


def test_a_change_at_the_moment_of_declaration_leaves_no_empty_span_before_it() -> None:
    t = Timeline("SEV-3")
    t.severity_change(T0, "SEV-3", "SEV-1")
    t.severity_change(m(10), "SEV-1", "SEV-2")
    t.severity_change(m(10), "SEV-2", "SEV-3")
    got = t.metrics(now=m(30))
    assert got.severities == (Span("SEV-1", T0, m(10)), Span("SEV-3", m(10), m(30)))
    assert got.time_at_severity() == {"SEV-1": mins(10), "SEV-3": mins(20)}


def test_an_incident_without_status_entries_is_resolved_when_its_row_says_so() -> None:
    t = Timeline("SEV-3")
    resolved = dataclasses.replace(t.incident(), status=Status.RESOLVED, resolved_at=m(45))
    got = compute_metrics(resolved, t.entries, DEFAULT_SEVERITIES, m(500))
    assert got.resolved_at == m(45) and got.end == m(45)
    assert got.mitigated_at == m(45) and got.mitigation_inferred


def test_entries_of_other_kinds_that_look_like_a_change_change_nothing() -> None:
    # A role handed to someone called "resolved", a peer's note carrying role meta.
    t = Timeline("SEV-2")
    t.role(m(1), "commander", "", "resolved")
    t.add(Kind.NOTE, m(2), meta={"role": "commander", "to": "mallory", "from": "resolved"})
    t.add(Kind.SEVERITY, m(3), meta={"from": "SEV-2", "to": "monitoring"})
    got = t.metrics(now=m(30))
    assert got.resolved_at is None and got.mitigated_at is None
    assert got.statuses == (Span("investigating", T0, m(30)),)
    assert got.roles == (Tenure("commander", "resolved", m(1), None),)


def test_malformed_role_entries_are_ignored() -> None:
    t = Timeline("SEV-2")
    t.role(m(1), "commander", "", "alice")
    t.add(Kind.ROLE, m(2), meta={"role": "commander", "from": "alice", "to": None})
    t.add(Kind.ROLE, m(3), meta={"role": None, "from": "", "to": "bob"})
    t.add(Kind.ROLE, m(4), meta={"role": 7, "to": 8})
    got = t.metrics(now=m(30))
    assert got.roles == (Tenure("commander", "alice", m(1), None),)


def test_the_declared_severity_wins_over_a_stale_from() -> None:
    # Bob's laptop still showed SEV-3 when he raised it: his entry says from SEV-3.
    t = Timeline("SEV-2")
    t.severity_change(m(10), "SEV-3", "SEV-1")
    got = t.metrics(now=m(30))
    assert got.initial_severity == "SEV-2"
    assert got.severities == (Span("SEV-2", T0, m(10)), Span("SEV-1", m(10), m(30)))


def test_a_declared_entry_without_a_usable_severity_falls_back() -> None:
    for bad in ("", None, 3):
        t = Timeline("SEV-2")
        t.entries[0] = dataclasses.replace(
            t.entries[0], meta={"event": "declared", "severity": bad}
        )
        t.severity_change(m(10), "SEV-3", "SEV-1")
        assert t.metrics(now=m(30)).initial_severity == "SEV-3", bad


def test_other_system_entries_do_not_name_the_initial_severity() -> None:
    t = Timeline("SEV-2")
    early = Entry(
        0, 1, T0 - mins(1), T0, Kind.SYSTEM, "cockpit", "hook", meta={"severity": "SEV-9"}
    )
    t.entries.insert(0, early)
    t.add(Kind.NOTE, m(1), meta={"event": "declared", "severity": "SEV-7"})
    assert t.metrics(now=m(30)).initial_severity == "SEV-2"


def test_the_resolution_update_is_owed_only_when_required_and_not_sent() -> None:
    base = UpdateCompliance(sent=0, required=0, met=0, missed=())
    assert not base.resolution_owed
    assert dataclasses.replace(base, resolution_required=True).resolution_owed
    sent = dataclasses.replace(base, resolution_required=True, resolution_sent_at=T0)
    assert not sent.resolution_owed
    # A SEV-3 nobody was told about owes none.
    t = Timeline("SEV-3")
    t.status(m(10), Status.INVESTIGATING, Status.RESOLVED)
    assert not t.metrics(now=m(30)).updates.resolution_owed
