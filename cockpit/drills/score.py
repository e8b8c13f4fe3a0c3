"""Scoring a drill: where the team met its own policy, the runbook and the scenario.

Computed from the drill incident, its entries, the configured severities, the runbook and the
scenario, as of the drill's end (its resolution, or the moment it was abandoned). What the
post-mortem already computes (update compliance and missed deadlines, severity spans, role
tenures, mitigation and resolution) comes from `cockpit.metrics.compute_metrics`. Times are drill
minutes after the page (drill time zero). In a drill abandoned before it was resolved, what had
not happened yet is not met: "not reached before the drill ended". How the checks add up to a
score is `cockpit.drills.scorecard`'s business.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta

from cockpit.domain import (
    Entry,
    Incident,
    Kind,
    Severity,
    Status,
    name_key,
    next_update_deadline,
)
from cockpit.drills.inject import is_injected
from cockpit.drills.scenario import InjectKind, Scenario
from cockpit.drills.scorecard import Check, NotScored, Scorecard, minute, minutes, minutes_between
from cockpit.metrics import Metrics, MissedDeadline, Span, _policy, compute_metrics
from cockpit.runbook_policy import runbook_minutes
from cockpit.runbooks import Runbook, ticked_steps

GRACE_MINUTES = 5
"""How long a required role may stay empty, an escalation go unrecorded once due, and a
resolution update lag the resolution, before the check is missed."""
NOT_REACHED = "not reached before the drill ended"


def score_drill(
    scenario: Scenario,
    incident: Incident,
    entries: Sequence[Entry],
    severities: Sequence[Severity],
    runbook: Runbook | None,
    *,
    now: datetime,
    speed: float,
    played_at: datetime,
    drill: str | None = None,
) -> Scorecard:
    """Score the drill `incident` (declared at drill time zero) as of the drill moment `now`.

    `runbook` is the scenario's runbook (None when it cannot be read: the runbook area is then
    not scored). Its update cadence applies while the incident links it, as on the countdown.
    """
    override = runbook_minutes(incident, runbook)
    metrics = compute_metrics(incident, entries, severities, now, runbook_minutes=override)
    timeline = sorted(entries, key=lambda e: (e.at, e.id))
    judge = _Judge(scenario, incident, timeline, severities, runbook, metrics, override)
    checks, skipped = judge.run()
    return Scorecard(
        drill=drill or f"DRILL-{incident.id}",
        scenario=scenario.name,
        title=scenario.title,
        speed=speed,
        played_at=played_at,
        started_at=incident.declared_at,
        ended_at=metrics.end,
        resolved=metrics.is_resolved,
        checks=tuple(checks),
        not_scored=tuple(skipped),
        acknowledge_minutes=judge.since_page(metrics.acknowledged_at),
        deadlines_missed=len(metrics.updates.missed),
        mitigate_minutes=judge.since_page(metrics.mitigated_at),
        resolve_minutes=judge.since_page(metrics.resolved_at),
    )


@dataclasses.dataclass
class _Judge:
    """The checks of one drill; each method adds the checks of one area, or says why not."""

    scenario: Scenario
    incident: dataclasses.InitVar[Incident]
    timeline: Sequence[Entry]
    severities: Sequence[Severity]
    runbook: Runbook | None
    metrics: Metrics
    override: int | None

    def __post_init__(self, incident: Incident) -> None:
        self.zero = incident.declared_at
        alerts = [
            entry.at
            for entry in self.timeline
            if is_injected(entry) and entry.meta.get("drill_kind") == InjectKind.ALERT.value
        ]
        self.page = min(alerts, default=self.zero)
        # Deadlines are asked of the incident as the countdown saw it: open.
        self.probe = dataclasses.replace(incident, status=Status.INVESTIGATING, resolved_at=None)
        self.checks: list[Check] = []
        self.skipped: list[NotScored] = []

    def run(self) -> tuple[list[Check], list[NotScored]]:
        self.acknowledge()
        self.updates()
        self.roles()
        self.steps()
        self.escalation()
        self.resolution_update()
        self.mitigate()
        self.resolve()
        self.severity()
        return self.checks, self.skipped

    # -- helpers

    def minute_of(self, moment: datetime) -> str:
        return minute(minutes_between(self.zero, moment))

    def since_page(self, moment: datetime | None) -> float | None:
        return None if moment is None else minutes_between(self.page, moment)

    def add(
        self,
        check_id: str,
        area: str,
        name: str,
        expected: str,
        actual: str,
        passed: bool,
        detail: str = "",
    ) -> None:
        """Record a check; a missed one in an abandoned drill says the drill ended first."""
        if not passed and not self.metrics.is_resolved and NOT_REACHED not in detail:
            detail = f"{detail}; {NOT_REACHED}" if detail else NOT_REACHED
        self.checks.append(Check(check_id, area, name, expected, actual, passed, detail))

    def skip(self, area: str, reason: str) -> None:
        self.skipped.append(NotScored(area, reason))

    def ending(self) -> str:
        """How the drill ended: "resolved at minute 41", "ended at minute 12"."""
        word = "resolved" if self.metrics.is_resolved else "ended"
        return f"{word} at {self.minute_of(self.metrics.end)}"

    def severity_at(self, moment: datetime) -> str:
        """The severity in force for something that happened at `moment`: a change at that
        same moment comes after it, as the metrics replay counts it."""
        spans = self.metrics.severities
        for span in spans:
            if span.start < moment <= span.end:
                return span.value
        return spans[0].value if moment <= spans[0].start else spans[-1].value

    def due_after(self, severity: str, last: datetime | None, sent: int) -> datetime | None:
        """When update `sent + 1` was owed under `severity`, the last one out at `last`."""
        policy = _policy(self.severities, severity)
        deadline = next_update_deadline(self.probe, policy, last, sent, self.override)
        return deadline.due_at if deadline is not None else None

    # -- the areas

    def acknowledge(self) -> None:
        """The first status update, against the first-update deadline in force."""
        ack = self.metrics.acknowledged_at
        missed = next((m for m in self.metrics.updates.missed if m.number == 1), None)
        if missed is not None:
            due: datetime | None = missed.due_at
            severity = missed.severity
        else:
            severity = self.severity_at(ack or self.metrics.end)
            due = self.due_after(severity, None, 0)
        if due is None and ack is None:
            self.skip("acknowledge", f"{severity} asks for no status update")
            return
        if due is None:
            expected = f"no deadline under {severity}"
        else:
            allowed = minutes(minutes_between(self.page, due))
            expected = f"first update within {allowed} of the page ({severity})"
        if ack is None:
            detail = f"drill {self.ending()} without one"
            self.add(
                "acknowledge",
                "acknowledge",
                "Acknowledged",
                expected,
                "no status update",
                False,
                detail,
            )
            return
        actual = f"{minutes(minutes_between(self.page, ack))} after the page"
        detail = _lateness(missed) if missed is not None else ""
        passed = missed is None
        self.add("acknowledge", "acknowledge", "Acknowledged", expected, actual, passed, detail)

    def updates(self) -> None:
        """Every update deadline after the first: met, or missed and by how much."""
        end = self.metrics.end
        sent = [
            entry.at for entry in self.timeline if entry.kind is Kind.UPDATE and entry.at <= end
        ]
        missed = self.metrics.updates.missed
        for number, moment in enumerate(sent[1:], start=2):
            gaps = [
                m for m in missed if m.number == number and m.ended_by in ("update", "severity")
            ]
            check_id, name, actual = (
                f"update-{number}",
                f"Update #{number}",
                f"at {self.minute_of(moment)}",
            )
            if gaps:
                gap = next((m for m in gaps if m.ended_by == "update"), gaps[0])
                expected = f"by {self.minute_of(gap.due_at)}"
                self.add(check_id, "updates", name, expected, actual, False, _lateness(gap))
                continue
            due = self.due_after(self.severity_at(moment), sent[number - 2], number - 1)
            if due is None:
                continue  # nothing was owed then: an extra update is not scored
            spare = f"{minutes(minutes_between(moment, due))} to spare"
            expected = f"by {self.minute_of(due)}"
            self.add(check_id, "updates", name, expected, actual, True, spare)
        for gap in missed:
            if gap.number < 2 or gap.number <= len(sent):
                continue  # the first is the acknowledgement; sent ones are checked above
            if gap.ended_by == "severity":
                actual, detail = "not sent before the severity changed", _lateness(gap)
            else:
                actual = "not sent"
                late = minutes(minutes_between(gap.due_at, gap.ended_at))
                detail = f"{late} overdue when the drill {self.ending()}"
            expected = f"by {self.minute_of(gap.due_at)}"
            self.add(
                f"update-{gap.number}",
                "updates",
                f"Update #{gap.number}",
                expected,
                actual,
                False,
                detail,
            )
        if not any(check.area == "updates" for check in self.checks):
            why = "" if sent else " (the first never went out)"
            self.skip("updates", f"no update fell due after the first{why}")

    def roles(self) -> None:
        """Each role a severity the drill held requires: filled in time, and kept filled."""
        required: dict[str, list[Span]] = {}
        for span in self.metrics.severities:
            for role in _policy(self.severities, span.value).required_roles:
                required.setdefault(role, []).append(span)
        if not required:
            self.skip("roles", "no severity the drill held requires a role")
            return
        for role, spans in required.items():
            tenures = [t for t in self.metrics.roles if t.role == role]
            held = [(t.start, t.end or self.metrics.end) for t in tenures]
            empty = sum((_uncovered(s.start, s.end, held) for s in spans), timedelta(0))
            since = spans[0].start
            when = f"{spans[0].value} ({self.minute_of(since)})"
            expected = f"held within {minutes(GRACE_MINUTES)} of {when}"
            holder = next((t for t in tenures if (t.end or self.metrics.end) > since), None)
            actual = "nobody"
            if holder is not None:
                start = max(holder.start, since)
                actual = f"{holder.person} from {self.minute_of(start)}"
                if start > since:
                    actual += f", {minutes(minutes_between(since, start))} after it was required"
            empty_minutes = empty / timedelta(minutes=1)
            detail = f"empty for {minutes(empty_minutes)} while required" if empty else ""
            passed = empty_minutes <= GRACE_MINUTES
            self.add(f"role-{role}", "roles", f"Role: {role}", expected, actual, passed, detail)

    def steps(self) -> None:
        """The runbook steps the scenario expects: all ticked, and in order."""
        runbook = self.runbook
        if runbook is None:
            self.skip("runbook", f"runbook {self.scenario.runbook!r} could not be read")
            return
        expected = self.scenario.steps_for(runbook)
        entries = [entry for entry in self.timeline if entry.at <= self.metrics.end]
        done = ticked_steps(entries, runbook.name)
        first: dict[int, datetime] = {}
        for entry in entries:
            step = entry.meta.get("step")
            ticks = entry.kind is Kind.STEP and entry.meta.get("done") is True
            if ticks and entry.meta.get("runbook") == runbook.name and isinstance(step, int):
                first.setdefault(step, entry.at)
        missing = [step for step in expected if step not in done]
        extra = sorted(done - set(expected))
        details = [f"not ticked: {_numbers(missing)}"] if missing else []
        details += [f"also ticked: {_numbers(extra)}"] if extra else []
        actual = f"{len(expected) - len(missing)} of {len(expected)}"
        self.add(
            "steps",
            "runbook",
            "Runbook steps ticked",
            f"steps {_numbers(expected)}",
            actual,
            not missing,
            "; ".join(details),
        )
        order = sorted((step for step in expected if step in first), key=lambda s: (first[s], s))
        if len(order) < 2:
            self.skip("runbook", "step order: fewer than two of the expected steps were ticked")
            return
        rank = {step: index for index, step in enumerate(expected)}
        wrong = next(((a, b) for a, b in itertools.pairwise(order) if rank[b] < rank[a]), None)
        detail = f"{wrong[0]} ticked before {wrong[1]}" if wrong else ""
        self.add(
            "step-order",
            "runbook",
            "Runbook steps in order",
            _arrows(expected),
            _arrows(order),
            wrong is None,
            detail,
        )

    def escalation(self) -> None:
        """The runbook's escalation, recorded once it was due."""
        runbook = self.runbook
        if runbook is None:
            self.skip("escalation", f"runbook {self.scenario.runbook!r} could not be read")
            return
        if runbook.escalate_after_minutes is None:
            self.skip("escalation", f"runbook {runbook.name!r} has no escalation rule")
            return
        due = self.zero + timedelta(minutes=runbook.escalate_after_minutes)
        if self.metrics.is_resolved and self.metrics.end <= due:
            self.skip("escalation", f"{self.ending()}, before it was due ({self.minute_of(due)})")
            return
        recorded = next(
            (
                entry.at
                for entry in self.timeline
                if entry.kind is Kind.ESCALATION and entry.meta.get("runbook") == runbook.name
            ),
            None,
        )
        expected = f"to {runbook.escalate_to} by {self.minute_of(due)} if still open"
        if recorded is None:
            self.add("escalation", "escalation", "Escalation", expected, "not recorded", False)
            return
        late = minutes_between(due, recorded)
        detail = f"{minutes(late)} after it was due" if late > 0 else "when it was due"
        self.add(
            "escalation",
            "escalation",
            "Escalation",
            expected,
            f"at {self.minute_of(recorded)}",
            late <= GRACE_MINUTES,
            detail,
        )

    def resolution_update(self) -> None:
        """A status update that tells customers it is over, sent when it is."""
        name, expected = "Resolution update", "published on resolving"
        finals = [e.at for e in self.timeline if e.kind is Kind.UPDATE and _is_resolution(e)]
        resolved = self.metrics.resolved_at
        if resolved is None:
            actual = f"{len(finals)} sent but the drill is not resolved" if finals else "none"
            self.add("resolution-update", "resolution", name, expected, actual, False)
            return
        if not finals:
            detail = f"{self.ending()} without one"
            self.add("resolution-update", "resolution", name, expected, "none", False, detail)
            return
        closest = min(finals, key=lambda at: abs(at - resolved))
        gap = minutes_between(resolved, closest)
        if abs(gap) < 0.05:
            detail = "with the resolution"
        else:
            detail = f"{minutes(abs(gap))} {'after' if gap > 0 else 'before'} resolving"
        passed = abs(gap) <= GRACE_MINUTES
        self.add(
            "resolution-update",
            "resolution",
            name,
            expected,
            f"at {self.minute_of(closest)}",
            passed,
            detail,
        )

    def mitigate(self) -> None:
        """Time from the page to mitigation (the first move to monitoring)."""
        limit = self.scenario.mitigate_minutes(self.runbook)
        expected = f"within {minutes(limit)} of the page"
        mitigated = self.metrics.mitigated_at
        if mitigated is None:
            self.add("mitigate", "mitigate", "Time to mitigate", expected, "not mitigated", False)
            return
        taken = minutes_between(self.page, mitigated)
        inferred = self.metrics.mitigation_inferred
        detail = "never set to monitoring: counted at resolution" if inferred else ""
        self.add(
            "mitigate",
            "mitigate",
            "Time to mitigate",
            expected,
            minutes(taken),
            taken <= limit,
            detail,
        )

    def resolve(self) -> None:
        """Time from the page to resolution."""
        limit = self.scenario.resolve_within
        expected = f"within {minutes(limit)} of the page" if limit is not None else "resolved"
        resolved = self.metrics.resolved_at
        if resolved is None:
            self.add("resolve", "resolve", "Time to resolve", expected, "not resolved", False)
            return
        taken = minutes_between(self.page, resolved)
        passed = limit is None or taken <= limit
        self.add("resolve", "resolve", "Time to resolve", expected, minutes(taken), passed)

    def severity(self) -> None:
        """Whether the severity the scenario expects was reached, and when."""
        wanted = self.scenario.expected_severity
        reached = next(
            (s for s in self.metrics.severities if name_key(s.value) == name_key(wanted)),
            None,
        )
        if reached is None:
            detail = f"highest was {self.metrics.peak_severity}"
            self.add(
                "severity",
                "severity",
                "Severity reached",
                wanted,
                self.metrics.final_severity,
                False,
                detail,
            )
            return
        detail = "from the page" if reached.start <= self.zero else ""
        actual = f"{reached.value} at {self.minute_of(reached.start)}"
        self.add("severity", "severity", "Severity reached", wanted, actual, True, detail)


def _lateness(gap: MissedDeadline) -> str:
    """ "7 min late (SEV-1)", or how long an update was owed before a severity change lifted it."""
    late = minutes(minutes_between(gap.due_at, gap.ended_at))
    if gap.ended_by == "severity":
        return f"{late} late under {gap.severity}, until the severity changed"
    return f"{late} late ({gap.severity})"


def _arrows(steps: Sequence[int]) -> str:
    return " → ".join(str(step) for step in steps)


def _uncovered(
    start: datetime, end: datetime, held: Sequence[tuple[datetime, datetime]]
) -> timedelta:
    """How much of [start, end] none of the `held` intervals covers."""
    gap = timedelta(0)
    cursor = start
    for begin, finish in sorted(held):
        if finish <= cursor:
            continue
        if begin >= end:
            break
        if begin > cursor:
            gap += begin - cursor
        cursor = max(cursor, finish)
        if cursor >= end:
            return gap
    return gap + max(end - cursor, timedelta(0))


def _is_resolution(entry: Entry) -> bool:
    """An update published with the resolution template, or with the status set to resolved."""
    meta = entry.meta
    return (
        meta.get("phase") == "resolution"
        or meta.get("template") == "resolution"
        or meta.get("status") == Status.RESOLVED.value
    )


def _numbers(steps: Sequence[int]) -> str:
    return ", ".join(str(step) for step in steps)
