"""Post-mortem metrics, computed from an incident and its timeline, never typed in.

Every figure comes from entries ordered by their claimed time (`at`), so a backdated entry
counts when it says it happened, not when it was written. Status and severity changes carry
meta `{"from", "to"}`, role changes `{"role", "from", "to"}`; the `declared` system entry
names the severity the incident started at. Pure: no I/O and no clock of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cockpit.domain import (
    Deadline,
    Entry,
    Incident,
    Kind,
    Severity,
    Status,
    find_severity,
    is_resolution_update,
    next_update_deadline,
    resolution_update_required,
    severity_rank,
)


@dataclass(frozen=True)
class Span:
    """A stretch of the incident's life at one value (a severity or a status)."""

    value: str
    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        return max(self.end - self.start, timedelta(0))


@dataclass(frozen=True)
class Tenure:
    """One person holding one role, from `start` until `end` (None: still holds it)."""

    role: str
    person: str
    start: datetime
    end: datetime | None

    def held_for(self, until: datetime) -> timedelta:
        """How long the role was held, counting an open tenure up to `until`."""
        return max((self.end or until) - self.start, timedelta(0))


@dataclass(frozen=True)
class MissedDeadline:
    """A status update the policy required that did not go out in time.

    `ended_by` says what closed the gap: "update" (a late update went out), "severity" (a
    change of severity lifted the obligation), "resolution" (resolved without one) or "open"
    (still owed at the moment the metrics were computed).
    """

    number: int
    due_at: datetime
    ended_at: datetime
    ended_by: str
    severity: str

    @property
    def late_by(self) -> timedelta:
        return self.ended_at - self.due_at


@dataclass(frozen=True)
class UpdateCompliance:
    """Status updates sent against what the severity policy required.

    `required` and `met` count the resolution update when the incident ended owing one
    (`domain.resolution_update_required`); `resolution_sent_at` is when it went out.
    """

    sent: int
    required: int
    met: int
    missed: tuple[MissedDeadline, ...]
    resolution_required: bool = False
    resolution_sent_at: datetime | None = None

    @property
    def resolution_owed(self) -> bool:
        """The incident ended owing a resolution update that was never published."""
        return self.resolution_required and self.resolution_sent_at is None


@dataclass(frozen=True)
class Metrics:
    """Everything the post-mortem reports as figures, as of `end` (resolution, else now)."""

    impact_started_at: datetime
    declared_at: datetime
    acknowledged_at: datetime | None  # first published status update
    mitigated_at: datetime | None  # first move to monitoring (see mitigation_inferred)
    mitigation_inferred: bool  # never reached monitoring: mitigation taken at resolution
    resolved_at: datetime | None  # final resolution, None while open
    end: datetime
    initial_severity: str
    peak_severity: str
    final_severity: str
    severities: tuple[Span, ...]
    statuses: tuple[Span, ...]
    roles: tuple[Tenure, ...]
    updates: UpdateCompliance

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def detection(self) -> timedelta:
        """Impact start to declaration."""
        return self.declared_at - self.impact_started_at

    @property
    def duration(self) -> timedelta:
        """Declaration to resolution (or to `end` while open)."""
        return self.end - self.declared_at

    @property
    def impact_duration(self) -> timedelta:
        """Impact start to resolution (or to `end` while open)."""
        return self.end - self.impact_started_at

    def since_impact(self, moment: datetime | None) -> timedelta | None:
        return None if moment is None else moment - self.impact_started_at

    def since_declared(self, moment: datetime | None) -> timedelta | None:
        return None if moment is None else moment - self.declared_at

    def time_at_severity(self) -> dict[str, timedelta]:
        return _totals(self.severities)

    def time_at_status(self) -> dict[str, timedelta]:
        totals = _totals(self.statuses)
        return {s.value: totals[s.value] for s in Status if s.value in totals}

    def holders(self, role: str) -> list[str]:
        """Everyone who held `role`, in order, without repeating consecutive holders."""
        people: list[str] = []
        for tenure in self.roles:
            if tenure.role == role and (not people or people[-1] != tenure.person):
                people.append(tenure.person)
        return people


def compute_metrics(
    incident: Incident,
    entries: Iterable[Entry],
    severities: Sequence[Severity],
    now: datetime,
    *,
    runbook_minutes: int | None = None,
) -> Metrics:
    """The post-mortem figures for `incident` from its timeline; `now` ends an open incident."""
    timeline = sorted(entries, key=lambda e: (e.at, e.id))
    statuses = _status_changes(timeline)
    resolved_at = _final_resolution(incident, statuses)
    end = resolved_at if resolved_at is not None else max(now, incident.declared_at)

    acknowledged_at = next((e.at for e in timeline if e.kind is Kind.UPDATE), None)
    mitigated_at = next((at for at, to in statuses if to is Status.MONITORING), None)
    inferred = False
    if mitigated_at is None and resolved_at is not None:
        mitigated_at = next((at for at, to in statuses if to is Status.RESOLVED), resolved_at)
        inferred = True

    initial_severity = _initial_severity(incident, timeline)
    severity_changes = [
        (e.at, str(e.meta["to"]))
        for e in timeline
        if e.kind is Kind.SEVERITY and isinstance(e.meta.get("to"), str)
    ]
    severity_spans = _spans(initial_severity, severity_changes, incident.declared_at, end)
    status_spans = _spans(
        Status.INVESTIGATING.value,
        [(at, to.value) for at, to in statuses],
        incident.declared_at,
        end,
    )
    seen = [initial_severity, *(to for _, to in severity_changes)]
    peak = min(seen, key=lambda name: severity_rank(severities, name))
    final = severity_changes[-1][1] if severity_changes else initial_severity

    published = [e for e in timeline if e.kind is Kind.UPDATE]
    updates = _update_compliance(
        incident,
        [e.at for e in published],
        _policy(severities, initial_severity),
        [(at, _policy(severities, name)) for at, name in severity_changes],
        end,
        resolved=resolved_at is not None,
        runbook_minutes=runbook_minutes,
    )
    if resolved_at is not None:
        updates = _resolution_update(updates, published, _policy(severities, final))
    return Metrics(
        impact_started_at=incident.impact_started_at,
        declared_at=incident.declared_at,
        acknowledged_at=acknowledged_at,
        mitigated_at=mitigated_at,
        mitigation_inferred=inferred,
        resolved_at=resolved_at,
        end=end,
        initial_severity=initial_severity,
        peak_severity=peak,
        final_severity=final,
        severities=tuple(severity_spans),
        statuses=tuple(status_spans),
        roles=tuple(_tenures(timeline)),
        updates=updates,
    )


# ---- the pieces -------------------------------------------------------------------------------


def _status_changes(timeline: Sequence[Entry]) -> list[tuple[datetime, Status]]:
    changes: list[tuple[datetime, Status]] = []
    for entry in timeline:
        if entry.kind is not Kind.STATUS:
            continue
        try:
            changes.append((entry.at, Status(str(entry.meta.get("to")))))
        except ValueError:
            continue  # a status entry without a usable `to` says nothing we can count
    return changes


def _final_resolution(
    incident: Incident, statuses: Sequence[tuple[datetime, Status]]
) -> datetime | None:
    """When the incident was last resolved, if the timeline ends resolved (reopens undo it)."""
    if statuses:
        at, last = statuses[-1]
        return at if last is Status.RESOLVED else None
    return incident.resolved_at  # no status entries at all: trust the incident row


def _initial_severity(incident: Incident, timeline: Sequence[Entry]) -> str:
    for entry in timeline:
        if entry.kind is Kind.SYSTEM and entry.meta.get("event") == "declared":
            declared = entry.meta.get("severity")
            if isinstance(declared, str) and declared:
                return declared
    for entry in timeline:
        if entry.kind is Kind.SEVERITY and isinstance(entry.meta.get("from"), str):
            return str(entry.meta["from"])
    return incident.severity


def _spans(
    initial: str, changes: Sequence[tuple[datetime, str]], start: datetime, end: datetime
) -> list[Span]:
    """Cut [start, end] at each change; changes before `start` set the opening value."""
    spans: list[Span] = []
    value, since = initial, start
    for at, to in changes:
        if at >= end:
            break
        at = max(at, start)
        if to == value:
            continue
        if at > since:
            spans.append(Span(value, since, at))
        value, since = to, at
    if end > since or not spans:
        spans.append(Span(value, since, max(end, since)))
    return spans


def _totals(spans: Iterable[Span]) -> dict[str, timedelta]:
    totals: dict[str, timedelta] = {}
    for span in spans:
        totals[span.value] = totals.get(span.value, timedelta(0)) + span.duration
    return totals


def _tenures(timeline: Sequence[Entry]) -> list[Tenure]:
    tenures: list[Tenure] = []
    holding: dict[str, int] = {}  # role -> index of the open tenure in `tenures`
    for entry in timeline:
        if entry.kind is not Kind.ROLE:
            continue
        role, person = entry.meta.get("role"), entry.meta.get("to")
        if not isinstance(role, str) or not isinstance(person, str):
            continue
        if role in holding:
            index = holding.pop(role)
            tenures[index] = dataclasses.replace(tenures[index], end=entry.at)
        if person:
            holding[role] = len(tenures)
            tenures.append(Tenure(role, person, entry.at, None))
    return tenures


def _policy(severities: Sequence[Severity], name: str) -> Severity:
    try:
        return find_severity(severities, name)
    except ValueError:
        return Severity(name)  # no longer in the taxonomy: no cadence to hold anyone to


def _update_compliance(
    incident: Incident,
    updates: Sequence[datetime],
    initial: Severity,
    severity_changes: Sequence[tuple[datetime, Severity]],
    end: datetime,
    *,
    resolved: bool,
    runbook_minutes: int | None,
) -> UpdateCompliance:
    """Replay the incident's life against the policy, the way the cockpit's countdown ran.

    The deadline in force is always `domain.next_update_deadline` for the severity of the
    moment. A severity change that brings a deadline already in the past makes the update owed
    from the change, not from before it; if one was already overdue and the new severity still
    wants an update by now, that same missed deadline keeps running.
    """
    probe = dataclasses.replace(incident, status=Status.INVESTIGATING, resolved_at=None)

    def policy(severity: Severity, last: datetime | None, sent: int) -> Deadline | None:
        return next_update_deadline(probe, severity, last, sent, runbook_minutes)

    events: list[tuple[datetime, int, Severity | None]] = [(at, 0, None) for at in updates]
    events += [(at, 1, severity) for at, severity in severity_changes]
    events.sort(key=lambda event: (event[0], event[1]))

    severity, last, sent = initial, None, 0
    current = policy(severity, None, 0)
    required = met = 0
    missed: list[MissedDeadline] = []
    for at, _, new_severity in events:
        if at > end:
            break
        if new_severity is None:  # an update went out
            if current is not None:
                required += 1
                if at <= current.due_at:
                    met += 1
                else:
                    missed.append(
                        MissedDeadline(current.number, current.due_at, at, "update", severity.name)
                    )
            sent += 1
            last = at
            current = policy(severity, last, sent)
            continue
        replacement = policy(new_severity, last, sent)
        if current is not None and current.due_at < at:
            if replacement is not None and replacement.due_at <= at:
                severity = new_severity  # still owed under the new severity: same gap runs on
                continue
            required += 1
            missed.append(
                MissedDeadline(current.number, current.due_at, at, "severity", severity.name)
            )
            current = replacement
        elif replacement is not None and replacement.due_at < at:
            current = dataclasses.replace(replacement, due_at=at)
        else:
            current = replacement
        severity = new_severity
    if current is not None and current.due_at < end:
        required += 1
        ended_by = "resolution" if resolved else "open"
        missed.append(MissedDeadline(current.number, current.due_at, end, ended_by, severity.name))
    return UpdateCompliance(sent, required, met, tuple(missed))


def _resolution_update(
    updates: UpdateCompliance, published: Sequence[Entry], final: Severity
) -> UpdateCompliance:
    """Count the resolution update the end of the incident called for (the same rule as the
    cockpit's next-update pane): required as one more update, met once it went out. Updates
    published after the resolution count as sent."""
    if not resolution_update_required(final, len(published)):
        return dataclasses.replace(updates, sent=len(published))
    last = published[-1] if published else None
    sent_at = last.at if last is not None and is_resolution_update(last) else None
    return dataclasses.replace(
        updates,
        sent=len(published),
        required=updates.required + 1,
        met=updates.met + (sent_at is not None),
        resolution_required=True,
        resolution_sent_at=sent_at,
    )
