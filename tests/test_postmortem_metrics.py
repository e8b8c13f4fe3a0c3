"""Post-mortem metrics from hand-built timelines: every figure checked against arithmetic done
by hand, including backdated entries, incidents that never reached monitoring, multi-day
incidents, severity changes midway and missed update deadlines."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cockpit.board import build_board
from cockpit.config import Config
from cockpit.domain import DEFAULT_SEVERITIES, Entry, Incident, Kind, Status, format_duration
from cockpit.metrics import MissedDeadline, Span, Tenure, compute_metrics
from cockpit.store import Store
from tests.conftest import FakeClock

T0 = datetime(2026, 11, 27, 2, 14, 0, tzinfo=UTC)


def m(minutes: float) -> datetime:
    """T0 plus some minutes."""
    return T0 + timedelta(minutes=minutes)


def mins(value: float) -> timedelta:
    return timedelta(minutes=value)


@dataclass
class Timeline:
    """A hand-built timeline: entries get ids in the order they are written."""

    severity: str = "SEV-2"
    declared_at: datetime = T0
    impact_started_at: datetime | None = None
    entries: list[Entry] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.add(
            Kind.SYSTEM,
            self.declared_at,
            meta={"event": "declared", "severity": self.severity},
        )

    def add(
        self,
        kind: Kind,
        at: datetime,
        *,
        written_at: datetime | None = None,
        reason: str | None = None,
        meta: Mapping[str, object] | None = None,
        text: str = "",
    ) -> Entry:
        entry = Entry(
            id=len(self.entries) + 1,
            incident_id=1,
            at=at,
            written_at=written_at or at,
            kind=kind,
            author="alice",
            text=text or kind.value,
            reason=reason,
            meta=dict(meta or {}),
        )
        self.entries.append(entry)
        return entry

    def status(self, at: datetime, old: Status, new: Status, **kw: object) -> Entry:
        return self.add(Kind.STATUS, at, meta={"from": old.value, "to": new.value}, **kw)  # type: ignore[arg-type]

    def severity_change(self, at: datetime, old: str, new: str) -> Entry:
        return self.add(Kind.SEVERITY, at, meta={"from": old, "to": new})

    def role(self, at: datetime, role: str, old: str, new: str, **kw: object) -> Entry:
        meta = {"role": role, "from": old, "to": new}
        return self.add(Kind.ROLE, at, meta=meta, **kw)  # type: ignore[arg-type]

    def update(self, at: datetime, **kw: object) -> Entry:
        return self.add(Kind.UPDATE, at, **kw)  # type: ignore[arg-type]

    def resolution_update(self, at: datetime) -> Entry:
        """An update published with status resolved, as `publish` writes it."""
        return self.update(at, meta={"phase": "resolution", "status": "resolved"})

    def incident(self) -> Incident:
        return Incident(
            id=1,
            title="Checkout API errors",
            severity=self.severity,
            status=Status.INVESTIGATING,
            declared_at=self.declared_at,
            impact_started_at=self.impact_started_at or self.declared_at,
        )

    def metrics(self, now: datetime, **kw: int | None):  # type: ignore[no-untyped-def]
        return compute_metrics(self.incident(), self.entries, DEFAULT_SEVERITIES, now, **kw)


def test_a_whole_incident_every_milestone_and_update():
    # SEV-2: first update within 30 min of declaring, then every 30 min.
    t = Timeline("SEV-2", impact_started_at=m(-9))
    t.role(m(0), "commander", "", "alice")
    t.status(m(12), Status.INVESTIGATING, Status.IDENTIFIED)
    t.update(m(25))  # due +30: on time
    t.update(m(55))  # due +55: exactly on time
    t.status(m(70), Status.IDENTIFIED, Status.MONITORING)
    t.status(m(100), Status.MONITORING, Status.RESOLVED)
    t.resolution_update(m(100))  # due +85: 15 min late; published with the resolution

    got = t.metrics(now=m(500))

    assert got.detection == mins(9)
    assert got.acknowledged_at == m(25)
    assert got.since_declared(got.acknowledged_at) == mins(25)
    assert got.since_impact(got.acknowledged_at) == mins(34)
    assert got.mitigated_at == m(70) and not got.mitigation_inferred
    assert got.resolved_at == m(100) and got.end == m(100)  # `now` is ignored once resolved
    assert got.duration == mins(100) and got.impact_duration == mins(109)
    # Three cadence deadlines and the resolution update: the last message answered two.
    assert got.updates.sent == 3
    assert got.updates.required == 4
    assert got.updates.met == 3
    assert got.updates.resolution_required and got.updates.resolution_sent_at == m(100)
    assert got.updates.missed == (MissedDeadline(3, m(85), m(100), "update", "SEV-2"),)
    assert got.updates.missed[0].late_by == mins(15)
    assert got.time_at_status() == {
        "investigating": mins(12),
        "identified": mins(58),
        "monitoring": mins(30),
    }
    assert got.time_at_severity() == {"SEV-2": mins(100)}
    assert got.roles == (Tenure("commander", "alice", m(0), None),)


def test_backdated_entries_count_when_they_say_they_happened():
    # SEV-1: first update within 15 min, then every 30 min.
    t = Timeline("SEV-1")
    t.role(m(0), "commander", "", "alice")
    t.status(m(20), Status.INVESTIGATING, Status.IDENTIFIED)
    t.update(m(10), written_at=m(30), reason="posted on the status page by hand")
    t.role(m(5), "communicator", "", "bob", written_at=m(30), reason="logged late")
    t.update(m(45))  # due 10+30 = 40: five minutes late
    t.status(m(35), Status.IDENTIFIED, Status.MONITORING, written_at=m(60), reason="forgot")
    t.status(m(90), Status.MONITORING, Status.RESOLVED)  # due 45+30 = 75, nothing sent

    assert sum(e.backdated for e in t.entries) == 3
    got = t.metrics(now=m(90))

    assert got.acknowledged_at == m(10)
    assert got.mitigated_at == m(35)
    assert got.resolved_at == m(90)
    assert got.time_at_status() == {
        "investigating": mins(20),
        "identified": mins(15),
        "monitoring": mins(55),
    }
    # Deadlines 1-3 and the resolution update, which was never sent.
    assert got.updates.sent == 2 and got.updates.required == 4 and got.updates.met == 1
    assert got.updates.resolution_owed
    assert got.updates.missed == (
        MissedDeadline(2, m(40), m(45), "update", "SEV-1"),
        MissedDeadline(3, m(75), m(90), "resolution", "SEV-1"),
    )
    assert [d.late_by for d in got.updates.missed] == [mins(5), mins(15)]
    bob = next(r for r in got.roles if r.person == "bob")
    assert bob.start == m(5) and bob.held_for(got.end) == mins(85)
    assert got.roles == (
        Tenure("commander", "alice", m(0), None),
        Tenure("communicator", "bob", m(5), None),
    )


def test_resolved_without_ever_reaching_monitoring():
    t = Timeline("SEV-3")  # no update cadence
    t.status(m(30), Status.INVESTIGATING, Status.IDENTIFIED)
    t.status(m(45), Status.IDENTIFIED, Status.RESOLVED)

    got = t.metrics(now=m(1000))

    assert got.acknowledged_at is None
    assert got.mitigated_at == m(45) and got.mitigation_inferred
    assert got.resolved_at == m(45)
    assert got.time_at_status() == {"investigating": mins(30), "identified": mins(15)}
    assert got.updates.sent == got.updates.required == got.updates.met == 0
    assert got.updates.missed == ()
    assert not got.updates.resolution_required  # a SEV-3 nobody was told about owes none


def test_an_open_incident_that_never_reached_monitoring_runs_to_now():
    t = Timeline("SEV-1")
    t.status(m(20), Status.INVESTIGATING, Status.IDENTIFIED)

    got = t.metrics(now=m(50))

    assert got.acknowledged_at is None
    assert got.mitigated_at is None and not got.mitigation_inferred
    assert got.resolved_at is None and not got.is_resolved
    assert got.end == m(50) and got.duration == mins(50)
    assert got.time_at_status() == {"investigating": mins(20), "identified": mins(30)}
    # The first update was due at +15 and is still owed: 35 minutes late so far.
    assert got.updates.required == 1 and got.updates.met == 0
    assert got.updates.missed == (MissedDeadline(1, m(15), m(50), "open", "SEV-1"),)


def test_a_multi_day_incident_with_a_downgrade_that_lifts_an_overdue_update():
    declared = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
    t = Timeline("SEV-2", declared_at=declared, impact_started_at=declared - mins(30))
    t.update(declared + mins(20))  # due 22:30: on time
    t.update(declared + mins(50))  # due 22:50: exactly on time
    # Due 23:20; nothing sent overnight; downgraded to SEV-3 (no cadence) at 02:00.
    t.severity_change(declared + timedelta(hours=4), "SEV-2", "SEV-3")
    t.status(declared + timedelta(hours=14), Status.INVESTIGATING, Status.MONITORING)
    t.update(declared + timedelta(hours=14))  # no longer required
    t.status(declared + timedelta(hours=35), Status.MONITORING, Status.RESOLVED)

    got = t.metrics(now=declared + timedelta(days=9))

    assert got.duration == timedelta(hours=35)
    assert format_duration(got.duration) == "1d 11:00:00"
    assert got.impact_duration == timedelta(hours=35, minutes=30)
    assert got.mitigated_at == declared + timedelta(hours=14)
    assert got.time_at_severity() == {"SEV-2": timedelta(hours=4), "SEV-3": timedelta(hours=31)}
    assert got.time_at_status() == {
        "investigating": timedelta(hours=14),
        "monitoring": timedelta(hours=21),
    }
    assert got.initial_severity == "SEV-2" and got.peak_severity == "SEV-2"
    assert got.final_severity == "SEV-3"
    # Ended at SEV-3, but customers had heard of it: the resolution update is owed too.
    assert got.updates.sent == 3 and got.updates.required == 4 and got.updates.met == 2
    assert got.updates.resolution_owed
    (missed,) = got.updates.missed
    assert missed.number == 3 and missed.due_at == declared + mins(80)
    assert missed.ended_by == "severity" and missed.late_by == timedelta(hours=2, minutes=40)


def test_an_escalation_owes_the_update_from_the_moment_of_the_change():
    t = Timeline("SEV-3")
    # SEV-1's first update would have been due at +15; the escalation at +40 makes it owed now.
    t.severity_change(m(40), "SEV-3", "SEV-1")
    t.update(m(50))  # 10 minutes after it became owed
    t.severity_change(m(60), "SEV-1", "SEV-2")  # same 30-minute cadence: due +80 still
    t.update(m(80))
    t.status(m(90), Status.INVESTIGATING, Status.RESOLVED)
    t.resolution_update(m(90))

    got = t.metrics(now=m(90))

    assert got.peak_severity == "SEV-1" and got.final_severity == "SEV-2"
    assert got.time_at_severity() == {"SEV-3": mins(40), "SEV-1": mins(20), "SEV-2": mins(30)}
    assert got.updates.sent == 3 and got.updates.required == 4 and got.updates.met == 3
    assert got.updates.missed == (MissedDeadline(1, m(40), m(50), "update", "SEV-1"),)
    assert got.updates.resolution_sent_at == m(90)


def test_an_overdue_update_stays_one_missed_deadline_across_an_escalation():
    t = Timeline("SEV-2")  # first update due +30
    t.severity_change(m(40), "SEV-2", "SEV-1")  # SEV-1 wants it by +15: still owed
    t.update(m(55))

    got = t.metrics(now=m(60))

    assert got.updates.required == 1  # the late first one; the next (due +85) is not owed yet
    assert got.updates.missed == (MissedDeadline(1, m(30), m(55), "update", "SEV-1"),)
    assert got.updates.missed[0].late_by == mins(25)


def test_a_reopened_incident_is_resolved_when_it_was_last_resolved():
    t = Timeline("SEV-3")
    t.status(m(30), Status.INVESTIGATING, Status.RESOLVED)
    t.status(m(60), Status.RESOLVED, Status.INVESTIGATING)
    t.status(m(90), Status.INVESTIGATING, Status.RESOLVED)

    got = t.metrics(now=m(500))

    assert got.resolved_at == m(90)
    assert got.mitigated_at == m(30) and got.mitigation_inferred  # first resolution
    assert got.time_at_status() == {
        "investigating": mins(60),
        "resolved": mins(30),
    }
    t.status(m(120), Status.RESOLVED, Status.IDENTIFIED)
    assert t.metrics(now=m(150)).resolved_at is None


def test_who_held_each_role_when():
    t = Timeline("SEV-1")
    t.role(m(0), "commander", "", "alice")
    t.role(m(10), "communicator", "", "bob")
    t.role(m(30), "commander", "alice", "carol")
    t.role(m(40), "communicator", "bob", "")
    t.role(m(45), "scribe", "", "dave")
    t.status(m(60), Status.INVESTIGATING, Status.RESOLVED)

    got = t.metrics(now=m(60))

    assert got.roles == (
        Tenure("commander", "alice", m(0), m(30)),
        Tenure("communicator", "bob", m(10), m(40)),
        Tenure("commander", "carol", m(30), None),
        Tenure("scribe", "dave", m(45), None),
    )
    assert [r.held_for(got.end) for r in got.roles] == [mins(30), mins(30), mins(30), mins(15)]
    assert got.holders("commander") == ["alice", "carol"]
    assert got.holders("communicator") == ["bob"]


def test_a_runbook_cadence_override_changes_what_was_required():
    t = Timeline("SEV-2")
    t.update(m(20))
    t.update(m(35))  # every 10 min under the override: due +30, five minutes late

    got = t.metrics(now=m(40), runbook_minutes=10)
    assert got.updates.required == 2 and got.updates.met == 1
    assert got.updates.missed == (MissedDeadline(2, m(30), m(35), "update", "SEV-2"),)
    plain = t.metrics(now=m(40))  # every 30 min: both on time
    assert plain.updates.required == 2 and plain.updates.met == 2
    assert plain.updates.missed == ()


def test_store_written_timelines_agree_with_the_board(db_path):
    """The meta the store writes is the meta the metrics read, and the update the board shows
    as overdue is the one the metrics report as still owed, due at the same moment."""
    clock = FakeClock(T0)
    with Store.open(db_path, clock=clock) as store:
        incident = store.declare(
            "Checkout API errors",
            "SEV-2",
            "alice",
            impact_started_at=m(-5),
            roles={"commander": "alice"},
        )
        clock.set(m(10))
        store.set_severity(incident.id, "SEV-1", "alice")
        clock.set(m(14))
        store.publish(incident.id, "We are investigating", "bob")
        clock.set(m(20))
        store.assign(incident.id, "communicator", "bob", "alice")
        clock.set(m(30))
        store.append(incident.id, Kind.ACTION, "rolled back", "alice", at=m(22), reason="busy")
        clock.set(m(40))
        store.set_status(incident.id, Status.MONITORING, "alice")

        def at(now: datetime):  # type: ignore[no-untyped-def]
            current = store.incident(incident.id)
            metrics = compute_metrics(current, store.entries(incident.id), DEFAULT_SEVERITIES, now)
            return metrics, build_board(store, Config(), incident.id, now)

        metrics, board = at(m(40))
        assert metrics.detection == mins(5)
        assert metrics.acknowledged_at == m(14) and metrics.mitigated_at == m(40)
        assert metrics.initial_severity == "SEV-2" and metrics.final_severity == "SEV-1"
        assert metrics.time_at_severity() == {"SEV-2": mins(10), "SEV-1": mins(30)}
        assert metrics.holders("commander") == ["alice"]
        assert metrics.holders("communicator") == ["bob"]
        assert metrics.updates.met == 1 and metrics.updates.missed == ()
        assert not board.overdue

        metrics, board = at(m(100))
        assert board.overdue and board.deadline is not None
        (owed,) = metrics.updates.missed
        assert owed.due_at == board.deadline.due_at == m(44)
        assert owed.number == board.deadline.number == 2
        assert owed.ended_by == "open" and owed.late_by == mins(56)

        clock.set(m(110))
        store.publish(incident.id, "Resolved", "bob", status=Status.RESOLVED)
        metrics, board = at(m(999))
        assert board.deadline is None
        assert metrics.resolved_at == m(110) and metrics.end == m(110)
        assert metrics.updates.sent == 2 and metrics.updates.required == 3
        assert metrics.updates.resolution_sent_at == m(110) == board.resolution_update_at
        assert not board.resolution_update_owed
        assert metrics.updates.missed == (MissedDeadline(2, m(44), m(110), "update", "SEV-1"),)


def test_what_happens_after_resolution_and_odd_entries_do_not_count():
    t = Timeline("SEV-9")  # a severity the configuration no longer defines: no cadence
    t.add(Kind.STATUS, m(5), meta={"from": "investigating", "to": "bogus"})
    t.add(Kind.STATUS, m(6))  # no meta at all
    t.add(Kind.ROLE, m(7), meta={"role": "commander"})  # no `to`
    t.status(m(30), Status.INVESTIGATING, Status.RESOLVED)
    t.resolution_update(m(40))  # after the resolution, as `cockpit update` after `status`
    t.role(m(50), "commander", "", "zoe")

    got = t.metrics(now=m(99))

    assert got.resolved_at == m(30) and got.time_at_status() == {"investigating": mins(30)}
    assert got.acknowledged_at == m(40)  # first update, even if after resolution
    # No cadence, but an update went out: it counts, and it closed the incident's story.
    assert got.updates.sent == 1 and got.updates.required == got.updates.met == 1
    assert got.updates.missed == () and got.updates.resolution_sent_at == m(40)
    assert got.roles == (Tenure("commander", "zoe", m(50), None),)
    assert got.initial_severity == got.peak_severity == got.final_severity == "SEV-9"
    assert got.detection == timedelta(0)


def test_a_role_handed_back_is_listed_in_order_and_a_repeat_once():
    t = Timeline("SEV-1")
    t.role(m(0), "commander", "", "alice")
    t.role(m(10), "commander", "alice", "bob")
    t.role(m(20), "commander", "bob", "alice")  # handed back
    t.role(m(5), "communicator", "", "carol")
    t.role(m(15), "communicator", "carol", "carol")  # re-assigned to the same person

    got = t.metrics(now=m(30))

    assert got.holders("commander") == ["alice", "bob", "alice"]
    assert got.holders("communicator") == ["carol"]
    assert got.holders("scribe") == []
    assert [(r.person, r.start, r.end) for r in got.roles if r.role == "commander"] == [
        ("alice", m(0), m(10)),
        ("bob", m(10), m(20)),
        ("alice", m(20), None),
    ]


def test_a_severity_change_after_resolution_does_not_extend_time_at_severity():
    t = Timeline("SEV-2")
    t.status(m(30), Status.INVESTIGATING, Status.RESOLVED)
    t.severity_change(m(30), "SEV-2", "SEV-1")  # at the resolution itself
    t.severity_change(m(40), "SEV-1", "SEV-3")  # after it

    got = t.metrics(now=m(99))

    assert got.end == m(30)
    assert got.severities == (Span("SEV-2", m(0), m(30)),)
    assert got.time_at_severity() == {"SEV-2": mins(30)}
    assert sum(got.time_at_severity().values(), timedelta(0)) == got.duration


def test_a_history_mixing_known_and_unknown_severities():
    t = Timeline("SEV-9")  # no longer in the taxonomy: ranks last, holds nobody to a cadence
    t.severity_change(m(10), "SEV-9", "SEV-2")  # first update due at +30
    t.severity_change(m(40), "SEV-2", "SEV-7")  # overdue, then lifted by an unknown level
    t.status(m(50), Status.INVESTIGATING, Status.RESOLVED)

    got = t.metrics(now=m(50))

    assert (got.initial_severity, got.peak_severity, got.final_severity) == (
        "SEV-9",
        "SEV-2",
        "SEV-7",
    )
    assert got.time_at_severity() == {"SEV-9": mins(10), "SEV-2": mins(30), "SEV-7": mins(10)}
    assert got.updates.missed == (MissedDeadline(1, m(30), m(40), "severity", "SEV-2"),)
    assert got.updates.required == 1 and got.updates.met == 0
    assert not got.updates.resolution_required  # nobody was told, and SEV-7 has no cadence


def test_without_a_declared_entry_the_first_change_or_the_row_names_the_first_severity():
    t = Timeline("SEV-2")
    t.entries.clear()  # written before the declaration recorded its severity
    t.severity_change(m(10), "SEV-3", "SEV-1")
    t.severity_change(m(20), "SEV-1", "SEV-2")
    got = t.metrics(now=m(30))
    assert got.initial_severity == "SEV-3" and got.final_severity == "SEV-2"
    assert got.time_at_severity() == {"SEV-3": mins(10), "SEV-1": mins(10), "SEV-2": mins(10)}

    bare = Timeline("SEV-1")
    bare.entries.clear()
    bare.add(Kind.SEVERITY, m(5), meta={"to": "SEV-2"})  # no `from`: says nothing about before
    assert bare.metrics(now=m(10)).initial_severity == "SEV-1"  # the incident row's


def test_a_change_to_the_severity_already_in_force_does_not_split_its_span():
    t = Timeline("SEV-2")
    t.severity_change(m(10), "SEV-2", "SEV-2")
    got = t.metrics(now=m(30))
    assert got.severities == (Span("SEV-2", m(0), m(30)),)
