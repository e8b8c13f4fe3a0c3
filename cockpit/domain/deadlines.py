"""When the next status update is owed, and whether the resolution update still is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cockpit.domain.incident import Entry, Incident, Kind, Severity, Status


@dataclass(frozen=True)
class Deadline:
    """When the next status update is owed, and how it stands at a moment."""

    due_at: datetime
    number: int  # 1 for the first update, 2 for the second, ...
    every_minutes: int | None

    def remaining(self, now: datetime) -> timedelta:
        return self.due_at - now

    def overdue(self, now: datetime) -> bool:
        return now > self.due_at


def update_every_minutes(severity: Severity, runbook_minutes: int | None) -> int | None:
    """Minutes between updates: the linked runbook's cadence (`runbook_minutes`, see
    `cockpit.runbook_policy`) overrides the severity's."""
    return runbook_minutes if runbook_minutes is not None else severity.update_every_minutes


def next_update_deadline(
    incident: Incident,
    severity: Severity,
    last_update_at: datetime | None,
    updates_sent: int = 0,
    runbook_minutes: int | None = None,
) -> Deadline | None:
    """The next required status update, from the severity policy; None when nothing is owed.

    The first update is due `first_update_minutes` after declaration; each later one
    `update_every_minutes` after the last published update, unless the linked runbook sets its
    own cadence (`runbook_minutes`).
    """
    if not incident.is_open:
        return None
    every = update_every_minutes(severity, runbook_minutes)
    if last_update_at is None:
        first = severity.first_update_minutes
        if first is None:
            first = every
        if first is None:
            return None
        return Deadline(incident.declared_at + timedelta(minutes=first), 1, every)
    if every is None:
        return None
    return Deadline(last_update_at + timedelta(minutes=every), updates_sent + 1, every)


RESOLUTION_TEMPLATE = "resolution"
"""The template (and update phase) that tells readers the incident is over."""


def is_resolution_update(entry: Entry) -> bool:
    """A published update that tells its readers the incident is over: published with status
    resolved (or while resolved: phase `resolution`) or from the resolution template."""
    if entry.kind is not Kind.UPDATE:
        return False
    meta = entry.meta
    return (
        meta.get("status") == Status.RESOLVED.value
        or meta.get("phase") == RESOLUTION_TEMPLATE
        or meta.get("template") == RESOLUTION_TEMPLATE
    )


def needs_resolution_update(
    severity: Severity, updates_sent: int, last_update: Entry | None
) -> bool:
    """Whether ending the incident now leaves a resolution update owed.

    The practice asks for "a resolution update when the incident ends" as the close of the
    communication cadence: owed when the severity's policy asks for updates, or when any update
    was published (whoever heard it started must hear it ended). A severity with no cadence
    that nobody was told about (the default SEV-3, a ticket) owes none. The last word published
    decides: once it is a resolution update, nothing more is owed.
    """
    if not resolution_update_required(severity, updates_sent):
        return False
    return last_update is None or not is_resolution_update(last_update)


def resolution_update_required(severity: Severity, updates_sent: int) -> bool:
    """Whether the end of an incident at `severity` with `updates_sent` updates calls for a
    resolution update at all (sent or not): see `needs_resolution_update`."""
    return severity.has_cadence or updates_sent > 0


def resolution_update_owed(
    incident: Incident, severity: Severity, updates_sent: int, last_update: Entry | None
) -> bool:
    """The incident is resolved and its resolution update has not been published."""
    return not incident.is_open and needs_resolution_update(severity, updates_sent, last_update)


def since_declared(incident: Incident, now: datetime) -> timedelta:
    """How long the incident has been declared (frozen at resolution)."""
    end = incident.resolved_at if incident.resolved_at else now
    return max(end - incident.declared_at, timedelta(0))
