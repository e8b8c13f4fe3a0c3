"""Hand-built drill timelines: entries with the meta the store, the runbooks and the injector
write, at drill minutes after time zero."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cockpit.domain import Entry, Incident, Kind, Status
from cockpit.drills.inject import INJECT_EVENT

ZERO = datetime(2026, 11, 27, 2, 14, 0, tzinfo=UTC)
"""Drill time zero in every test: the page."""


def m(minutes: float) -> datetime:
    """The drill moment `minutes` after time zero."""
    return ZERO + timedelta(minutes=minutes)


@dataclass
class Drill:
    """A drill incident and its timeline, built entry by entry in write order."""

    severity: str = "SEV-2"
    runbook: str | None = "api-high-error-rate"
    entries: list[Entry] = field(default_factory=list)
    status: Status = Status.INVESTIGATING
    current: str = ""
    resolved_at: datetime | None = None

    def __post_init__(self) -> None:
        self.current = self.severity
        self.add(Kind.SYSTEM, 0, "declared", meta={"event": "declared", "severity": self.severity})

    def add(
        self,
        kind: Kind,
        minute: float,
        text: str = "",
        *,
        author: str = "alice",
        meta: Mapping[str, object] | None = None,
        written: float | None = None,
    ) -> Entry:
        entry = Entry(
            id=len(self.entries) + 1,
            incident_id=1,
            at=m(minute),
            written_at=m(written if written is not None else minute),
            kind=kind,
            author=author,
            text=text or kind.value,
            meta=dict(meta or {}),
        )
        self.entries.append(entry)
        return entry

    # -- what the drill injects

    def alert(self, minute: float, key: str = "s/page", text: str = "alert") -> Entry:
        meta = {"event": INJECT_EVENT, "inject": key, "drill_kind": "alert"}
        return self.add(Kind.EXTERNAL, minute, text, author="grafana", meta=meta)

    def injected(self, minute: float, key: str, kind: str = "message") -> Entry:
        meta = {"event": INJECT_EVENT, "inject": key, "drill_kind": kind}
        entry_kind = Kind.NOTE if kind == "message" else Kind.EXTERNAL
        return self.add(entry_kind, minute, f"injected {key}", author="drill", meta=meta)

    # -- what the players do

    def note(
        self, minute: float, text: str, kind: Kind = Kind.NOTE, written: float | None = None
    ) -> Entry:
        return self.add(kind, minute, text, written=written)

    def update(self, minute: float, phase: str = "update", status: Status | None = None) -> Entry:
        if status is not None:
            self.set_status(minute, status)
        meta: dict[str, object] = {"phase": phase, "targets": []}
        if status is not None:
            meta["status"] = status.value
        return self.add(Kind.UPDATE, minute, f"{phase} update", meta=meta)

    def set_status(self, minute: float, status: Status) -> Entry:
        meta = {"from": self.status.value, "to": status.value}
        self.status = status
        self.resolved_at = m(minute) if status is Status.RESOLVED else None
        return self.add(Kind.STATUS, minute, f"status → {status.value}", meta=meta)

    def set_severity(self, minute: float, severity: str) -> Entry:
        meta = {"from": self.current, "to": severity}
        self.current = severity
        return self.add(Kind.SEVERITY, minute, f"severity → {severity}", meta=meta)

    def assign(self, minute: float, role: str, person: str) -> Entry:
        meta = {"role": role, "from": "", "to": person}
        return self.add(Kind.ROLE, minute, f"{role} → {person}", meta=meta)

    def tick(
        self, minute: float, step: int, done: bool = True, runbook: str | None = None
    ) -> Entry:
        meta = {"runbook": runbook or self.runbook, "step": step, "done": done}
        return self.add(Kind.STEP, minute, f"runbook step {step}", meta=meta)

    def escalate(self, minute: float, runbook: str | None = None) -> Entry:
        meta = {"runbook": runbook or self.runbook, "to": "Engineering Lead", "after_minutes": 30}
        return self.add(Kind.ESCALATION, minute, "escalate", author="cockpit", meta=meta)

    # -- the incident as the store would return it

    def incident(self) -> Incident:
        mitigated = next(
            (e.at for e in self.entries if e.kind is Kind.STATUS and e.meta["to"] == "monitoring"),
            self.resolved_at,
        )
        return dataclasses.replace(
            Incident(
                id=1,
                title="drill",
                severity=self.current,
                status=self.status,
                declared_at=ZERO,
                impact_started_at=ZERO,
                service="api",
                runbook=self.runbook,
            ),
            mitigated_at=mitigated,
            resolved_at=self.resolved_at,
        )
