"""A runbook's escalation rule on an incident: a deadline (declared + N minutes while open)
recorded once by an `escalation` entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cockpit.domain import Entry, Incident, Kind, format_countdown, format_utc
from cockpit.runbooks.model import Runbook
from cockpit.store import Store


@dataclass(frozen=True)
class Escalation:
    """A runbook's escalation rule applied to an incident: due `after_minutes` after declaring."""

    runbook: str
    to: str
    after_minutes: int
    due_at: datetime
    recorded_at: datetime | None = None  # when its `escalation` entry was written, if it was

    def remaining(self, now: datetime) -> timedelta:
        return self.due_at - now

    def due(self, now: datetime) -> bool:
        return now >= self.due_at

    def label(self, now: datetime) -> str:
        """ "escalate to Engineering Lead in 06:19"; "… now: due 02:10 ago" once due."""
        if self.due(now):
            return f"escalate to {self.to} now: due {format_countdown(now - self.due_at)} ago"
        return f"escalate to {self.to} in {format_countdown(self.remaining(now))}"


def escalation_for(
    incident: Incident, runbook: Runbook | None, recorded_at: datetime | None = None
) -> Escalation | None:
    """The escalation deadline while the incident is open, if the runbook has a rule."""
    if runbook is None or runbook.escalate_after_minutes is None or not incident.is_open:
        return None
    minutes = runbook.escalate_after_minutes
    return Escalation(
        runbook=runbook.name,
        to=runbook.escalate_to,
        after_minutes=minutes,
        due_at=incident.declared_at + timedelta(minutes=minutes),
        recorded_at=recorded_at,
    )


def escalation_recorded(store: Store, incident_id: int, runbook: str) -> datetime | None:
    """When the escalation for `runbook` was recorded on this incident, if it was."""
    entry = store.find_entry(incident_id, Kind.ESCALATION, {"runbook": runbook})
    return entry.at if entry else None


def record_escalation(
    store: Store, incident_id: int, runbook: Runbook, author: str = "cockpit"
) -> Entry | None:
    """Write the `escalation` entry if it is due and not yet written; None otherwise.

    The "not yet written" check runs inside the write transaction, so two processes (or a
    restarted app) that both see the deadline pass record it once.
    """
    incident = store.incident(incident_id)
    escalation = escalation_for(incident, runbook)
    now = store.now()
    if escalation is None or not escalation.due(now):
        return None
    text = (
        f"escalate to {escalation.to}: not resolved {escalation.after_minutes} min after "
        f"declaring (runbook {runbook.name})"
    )
    meta = {
        "runbook": runbook.name,
        "to": escalation.to,
        "after_minutes": escalation.after_minutes,
        "due_at": format_utc(escalation.due_at),
    }
    return store.append_once(
        incident_id, Kind.ESCALATION, text, author, meta=meta, key=("runbook",)
    )
