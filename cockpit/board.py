"""The board: everything the cockpit shows about one incident at one moment.

A read model built from the store, the configuration and a clock. The TUI's header and
next-update pane and `cockpit show` all read it, so they always agree.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cockpit.config import Config
from cockpit.domain import (
    Deadline,
    Entry,
    Incident,
    Kind,
    Severity,
    find_severity,
    format_utc,
    is_resolution_update,
    missing_roles,
    needs_resolution_update,
    next_update_deadline,
    resolution_update_owed,
    since_declared,
    update_every_minutes,
)
from cockpit.runbook_policy import runbook_minutes
from cockpit.store import Store, SyncThread

if TYPE_CHECKING:  # the parser loads with the first incident, not before the first frame
    from cockpit.runbooks import Escalation, Runbook


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
    runbook_minutes: int | None = None  # the linked runbook's update cadence, if it sets one
    runbook: Runbook | None = None  # the linked runbook, when it can be read
    runbook_problem: str | None = None  # why the linked runbook cannot be used
    escalation: Escalation | None = None
    last_update: Entry | None = None  # the latest published status update

    @property
    def needs_resolution_update(self) -> bool:
        """Ending the incident now would leave a resolution update owed (see the domain rule)."""
        return needs_resolution_update(self.severity, self.updates_sent, self.last_update)

    @property
    def resolution_update_owed(self) -> bool:
        """Resolved, and the resolution update has not been published."""
        return resolution_update_owed(
            self.incident, self.severity, self.updates_sent, self.last_update
        )

    @property
    def resolution_update_at(self) -> datetime | None:
        """When the resolution update went out, if the latest update is one."""
        last = self.last_update
        return last.at if last is not None and is_resolution_update(last) else None

    @property
    def every_minutes(self) -> int | None:
        """Minutes between updates now: the linked runbook's cadence, else the severity's."""
        return update_every_minutes(self.severity, self.runbook_minutes)

    @property
    def since_declared(self) -> timedelta:
        return since_declared(self.incident, self.now)

    @property
    def overdue(self) -> bool:
        return self.deadline is not None and self.deadline.overdue(self.now)

    @property
    def escalation_due(self) -> bool:
        """The runbook's escalation deadline has passed (recorded or not)."""
        return self.escalation is not None and self.escalation.due(self.now)


def unknown_severity(name: str) -> Severity:
    """A stand-in for a severity the configuration no longer defines: no cadence."""
    return Severity(name, "unknown", "not in the configured taxonomy")


def build_board(store: Store, config: Config, incident_id: int, now: datetime) -> Board:
    """Read the incident and compute its deadline and flags at `now`.

    A linked runbook's `update_every_minutes` overrides the cadence; its escalation rule
    becomes `escalation`.
    """
    from cockpit.runbooks import (
        Runbook,
        RunbookError,
        escalation_for,
        escalation_recorded,
        linked_runbook,
    )

    incident = store.incident(incident_id)
    try:
        severity = find_severity(config.severities, incident.severity)
    except ValueError:
        severity = unknown_severity(incident.severity)
    linked = linked_runbook(config.runbook_dirs, incident.runbook)
    runbook = linked if isinstance(linked, Runbook) else None
    problem = linked.problem if isinstance(linked, RunbookError) else None
    minutes = runbook_minutes(incident, runbook)
    escalation = escalation_for(incident, runbook)
    if escalation is not None:
        recorded = escalation_recorded(store, incident_id, escalation.runbook)
        escalation = dataclasses.replace(escalation, recorded_at=recorded)
    count, last = store.updates_sent(incident_id)
    deadline = next_update_deadline(incident, severity, last, count, minutes)
    return Board(
        incident=incident,
        severity=severity,
        now=now,
        updates_sent=count,
        last_update_at=last,
        deadline=deadline,
        missing_roles=tuple(missing_roles(incident, severity)),
        runbook_minutes=minutes,
        runbook=runbook,
        runbook_problem=problem,
        escalation=escalation,
        last_update=store.last_entry(incident_id, Kind.UPDATE) if count else None,
    )


def _stamp(moment: datetime | None) -> str | None:
    return format_utc(moment) if moment else None


def incident_json(store: Store, board: Board) -> dict[str, Any]:
    """The stable JSON shape of `cockpit show --json` (documented in the README)."""
    incident = board.incident
    entries = store.entries(incident.id)
    shared = [e for e in entries if e.origin != "notice"]
    thread = store.thread_for(incident.id)
    return {
        "id": incident.ref,
        "gid": incident.gid,
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
        "resolution_update_owed": board.resolution_update_owed,
        "missing_roles": list(board.missing_roles),
        "entries": [
            {
                "id": e.id,
                "at": format_utc(e.at),
                "written_at": format_utc(e.written_at),
                "kind": e.kind.value,
                "author": e.author,
                "text": e.text,
                "uid": e.uid,
                "origin": e.origin,
                **({"reason": e.reason} if e.reason else {}),
                **({"corrects": e.corrects} if e.corrects else {}),
                **({"unreadable": dict(e.unreadable)} if e.unreadable else {}),
            }
            for e in shared
        ],
        "notices": [
            {"id": e.id, "at": format_utc(e.at), "text": e.text, "meta": dict(e.meta)}
            for e in entries
            if e.origin == "notice"
        ],
        "conflicts": _conflicts_json(store, incident.id),
        "thread": _thread_json(thread),
        "sync": {
            "pending": store.sync_pending(incident.id),
            "last_read_at": _stamp(thread.last_read_at) if thread else None,
            **_skew_json(store.clock_skew()),
            "peers": [
                {
                    "node": peer.node,
                    "names": list(peer.authors),
                    "last_heard_at": format_utc(peer.last_written_at),
                }
                for peer in store.peers(incident.id)
            ],
        },
        "deliveries": [
            {
                "id": d.id,
                "target": d.target,
                "action": d.action,
                "state": d.state,
                "attempts": d.attempts,
                "last_error": d.last_error,
                **({"unreadable": dict(d.unreadable)} if d.unreadable else {}),
            }
            for d in store.deliveries(incident.id)
        ],
        "checklist": _checklist_json(store, board),
        "escalation": _escalation_json(board.escalation),
        **({"unreadable": dict(incident.unreadable)} if incident.unreadable else {}),
    }


def _thread_json(thread: SyncThread | None) -> dict[str, Any] | None:
    if thread is None:
        return None
    return {"channel": thread.channel, "ts": thread.root_ts, "permalink": thread.permalink}


def _skew_json(measured: tuple[int, datetime] | None) -> dict[str, Any]:
    """This laptop's clock against Slack's at its latest post, and the line shown when it is
    off by more than 2 s (None otherwise)."""
    from cockpit.sync.hlc import describe_skew, skew_shown

    if measured is None:
        return {"clock_skew_ms": None, "clock_skew_measured_at": None, "clock_skew": None}
    skew, at = measured
    return {
        "clock_skew_ms": skew,
        "clock_skew_measured_at": format_utc(at),
        "clock_skew": describe_skew(skew) if skew_shown(skew) else None,
    }


def _conflicts_json(store: Store, incident_id: int) -> list[dict[str, Any]]:
    """Changes made on different laptops without seeing each other (the same on every one)."""
    from cockpit.sync.fold import describe_conflict

    return [
        {
            "text": describe_conflict(conflict),
            "winner": conflict.winner_uid,
            "losers": list(conflict.loser_uids),
        }
        for conflict in store.conflicts(incident_id)
    ]


def _checklist_json(store: Store, board: Board) -> list[dict[str, Any]]:
    if board.runbook is None:
        return []
    from cockpit.runbooks import step_state

    done = step_state(store, board.incident.id, board.runbook.name)
    return [
        {"step": s.number, "title": s.title, "done": s.number in done, "command": s.command}
        for s in board.runbook.steps
    ]


def _escalation_json(escalation: Escalation | None) -> dict[str, Any] | None:
    if escalation is None:
        return None
    return {
        "runbook": escalation.runbook,
        "to": escalation.to,
        "due_at": format_utc(escalation.due_at),
        "recorded_at": _stamp(escalation.recorded_at),
    }
