"""The board: everything the cockpit shows about one incident at one moment.

A read model built from the store, the configuration and a clock. The TUI's header and
next-update pane and `cockpit show` all read it, so they always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cockpit.config import Config
from cockpit.domain import (
    Deadline,
    Incident,
    Severity,
    find_severity,
    format_utc,
    missing_roles,
    next_update_deadline,
    since_declared,
)
from cockpit.store import Store


@dataclass(frozen=True)
class Board:
    """One incident as it stands at `now`."""

    incident: Incident
    severity: Severity
    now: datetime
    updates_sent: int
    last_update_at: datetime | None
    deadline: Deadline | None
    missing_roles: tuple[str, ...]
    every_minutes_override: int | None = None

    @property
    def since_declared(self) -> timedelta:
        return since_declared(self.incident, self.now)

    @property
    def overdue(self) -> bool:
        return self.deadline is not None and self.deadline.overdue(self.now)


def unknown_severity(name: str) -> Severity:
    """A stand-in for a severity the configuration no longer defines: no cadence."""
    return Severity(name, "unknown", "not in the configured taxonomy")


def build_board(
    store: Store,
    config: Config,
    incident_id: int,
    now: datetime,
    *,
    every_minutes_override: int | None = None,
) -> Board:
    """Read the incident and compute its deadline and flags at `now`."""
    incident = store.incident(incident_id)
    try:
        severity = find_severity(config.severities, incident.severity)
    except ValueError:
        severity = unknown_severity(incident.severity)
    count, last = store.updates_sent(incident_id)
    deadline = next_update_deadline(incident, severity, last, count, every_minutes_override)
    return Board(
        incident=incident,
        severity=severity,
        now=now,
        updates_sent=count,
        last_update_at=last,
        deadline=deadline,
        missing_roles=tuple(missing_roles(incident, severity)),
        every_minutes_override=every_minutes_override,
    )


def _stamp(moment: datetime | None) -> str | None:
    return format_utc(moment) if moment else None


def incident_json(store: Store, board: Board) -> dict[str, Any]:
    """The stable JSON shape of `cockpit show --json` (documented in the README)."""
    incident = board.incident
    entries = store.entries(incident.id)
    return {
        "id": incident.ref,
        "title": incident.title,
        "service": incident.service,
        "severity": incident.severity,
        "status": incident.status.value,
        "impact_started_at": _stamp(incident.impact_started_at),
        "declared_at": _stamp(incident.declared_at),
        "acknowledged_at": _stamp(incident.acknowledged_at),
        "mitigated_at": _stamp(incident.mitigated_at),
        "resolved_at": _stamp(incident.resolved_at),
        "roles": dict(incident.roles),
        "runbook": incident.runbook,
        "next_update_due": _stamp(board.deadline.due_at) if board.deadline else None,
        "update_overdue": board.overdue,
        "missing_roles": list(board.missing_roles),
        "entries": [
            {
                "id": e.id,
                "at": format_utc(e.at),
                "written_at": format_utc(e.written_at),
                "kind": e.kind.value,
                "author": e.author,
                "text": e.text,
                **({"reason": e.reason} if e.reason else {}),
                **({"corrects": e.corrects} if e.corrects else {}),
            }
            for e in entries
        ],
        "deliveries": [
            {
                "id": d.id,
                "target": d.target,
                "action": d.action,
                "state": d.state,
                "attempts": d.attempts,
                "last_error": d.last_error,
            }
            for d in store.deliveries(incident.id)
        ],
    }
