"""The incident model: statuses, entry kinds, severities, incidents, entries and their ids."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class Status(StrEnum):
    """Incident status, in the vocabulary that status pages use, in order."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"

    @property
    def rank(self) -> int:
        return list(Status).index(self)


class Kind(StrEnum):
    """What a timeline entry records."""

    NOTE = "note"
    ACTION = "action"
    DECISION = "decision"
    UPDATE = "update"  # a published status update
    SEVERITY = "severity"
    STATUS = "status"
    ROLE = "role"
    STEP = "step"  # a runbook step ticked or unticked
    ESCALATION = "escalation"
    SYSTEM = "system"
    EXTERNAL = "external"


USER_KINDS = (Kind.NOTE, Kind.ACTION, Kind.DECISION)
"""The kinds a person types directly (`cockpit log --kind`, keys n/a/d)."""


@dataclass(frozen=True)
class Severity:
    """One level of the severity taxonomy, with its communication policy."""

    name: str
    label: str = ""
    description: str = ""
    first_update_minutes: int | None = None
    update_every_minutes: int | None = None
    required_roles: tuple[str, ...] = ()

    @property
    def has_cadence(self) -> bool:
        return self.first_update_minutes is not None or self.update_every_minutes is not None


DEFAULT_SEVERITIES: tuple[Severity, ...] = (
    Severity(
        "SEV-1",
        "Critical",
        "Outage, data loss or corruption, security breach, payments failing. All hands.",
        first_update_minutes=15,
        update_every_minutes=30,
        required_roles=("commander", "communicator"),
    ),
    Severity(
        "SEV-2",
        "Major",
        "Key user flows degraded or broken, workarounds exist.",
        first_update_minutes=30,
        update_every_minutes=30,
        required_roles=("commander",),
    ),
    Severity("SEV-3", "Minor", "Minor feature broken, cosmetic or single-user issue."),
)


MAX_CADENCE_MINUTES = 7 * 24 * 60
"""The longest update cadence or escalation delay (a week), in configuration and runbooks."""


@dataclass(frozen=True)
class Incident:
    """An incident as stored: identity, classification and the moments that matter."""

    id: int
    title: str
    severity: str
    status: Status
    declared_at: datetime
    impact_started_at: datetime
    service: str = ""
    runbook: str | None = None
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    declared_by: str = ""
    roles: Mapping[str, str] = field(default_factory=dict)
    unreadable: Mapping[str, str] = field(default_factory=dict)
    """Stored values that could not be read (column -> raw text); shown flagged, never fatal."""
    drill: bool = False
    """A rehearsal in the drills database (`DRILL-n`), never a real incident."""
    gid: str = ""
    """The id every laptop knows the incident by (`INC-n` is only this database's alias)."""

    @property
    def ref(self) -> str:
        return drill_ref(self.id) if self.drill else incident_ref(self.id)

    @property
    def is_open(self) -> bool:
        return self.status is not Status.RESOLVED


@dataclass(frozen=True)
class Entry:
    """One append-only timeline entry."""

    id: int
    incident_id: int
    at: datetime  # when it happened (claimed, for backdated entries)
    written_at: datetime  # when it was committed
    kind: Kind
    author: str
    text: str
    corrects: int | None = None
    reason: str | None = None
    meta: Mapping[str, object] = field(default_factory=dict)
    unreadable: Mapping[str, str] = field(default_factory=dict)
    """Stored values that could not be read (column -> raw text); shown flagged, never fatal."""
    uid: str = ""
    """The id every laptop knows the entry by (`id` is this database's arrival order)."""
    hlc: str = ""
    """The hybrid logical clock stamped when it was written (text form: sorts as the clock)."""
    origin: str = "local"
    """Where this database got it: `local`, `slack`, `file`, or `notice` (said to this laptop
    only: a conflict or late arrival it noticed)."""

    @property
    def backdated(self) -> bool:
        return self.at < self.written_at - timedelta(seconds=1)


# ---- ids -------------------------------------------------------------------------------------

MAX_ID = 2**63 - 1
"""The largest id SQLite can hold: incidents, entries, deliveries and action items."""

_REF = re.compile(r"^\s*(?:inc-?)?([0-9]+)\s*$", re.IGNORECASE)


def incident_ref(incident_id: int) -> str:
    """`7` -> `INC-7`."""
    return f"INC-{incident_id}"


_DRILL_REF = re.compile(r"^\s*drill-?([0-9]+)\s*$", re.IGNORECASE)


def drill_ref(drill_id: int) -> str:
    """`2` -> `DRILL-2`: a drill incident, in the drills database."""
    return f"DRILL-{drill_id}"


def parse_drill_ref(text: str) -> int | None:
    """`DRILL-2` or `drill2` -> 2; None when `text` does not name a drill (ValueError when it
    does, with an id out of range)."""
    match = _DRILL_REF.match(text)
    return parse_id(match.group(1), "a drill id") if match else None


def parse_incident_ref(text: str) -> int:
    """`INC-7`, `inc7` or `7` -> 7; anything else raises ValueError."""
    match = _REF.match(text)
    if not match:
        raise ValueError(f"not an incident id: {text!r} (expected INC-<n>)")
    return parse_id(match.group(1), "an incident id")


def parse_id(text: str, what: str) -> int:
    """A stored row's id from text: ASCII digits, 1 to `MAX_ID`; ValueError naming `what`
    ("an entry id")."""
    raw = text.strip()
    # int() alone would take "1_000", "+3" and other scripts' digits, and ids SQLite cannot hold.
    if not re.fullmatch(r"[0-9]{1,19}", raw) or not 1 <= int(raw) <= MAX_ID:
        raise ValueError(f"not {what}: {text!r} (expected a number from 1 to {MAX_ID:,})")
    return int(raw)


# ---- severities and statuses -------------------------------------------------------------


def find_severity(severities: Iterable[Severity], name: str) -> Severity:
    """The severity called `name` (case-insensitive, `sev1` accepted); ValueError if unknown."""
    wanted = name_key(name)
    options = list(severities)
    for severity in options:
        if name_key(severity.name) == wanted:
            return severity
    names = ", ".join(s.name for s in options)
    raise ValueError(f"unknown severity {name!r} (expected one of {names})")


def name_key(name: str) -> str:
    """What a configured name (severity, role) is looked up by: case, spaces, `-` and `_` do
    not count, so `SEV-1`, `sev_1` and `sev 1` are one name (the configuration must not define
    two that share a key)."""
    return re.sub(r"[\s_-]", "", name).lower()


DEFAULT_ROLES = ("commander", "communicator")
"""The roles an incident has unless the configuration names others (`[roles] names`)."""


def find_role(role_names: Iterable[str], text: str) -> str:
    """The configured role `text` means (`on_call` finds `on-call`); ValueError if none."""
    names = list(role_names)
    for role in names:
        if name_key(role) == name_key(text):
            return role
    raise ValueError(f"unknown role {text!r} (expected one of {', '.join(names)})")


def severity_rank(severities: Iterable[Severity], name: str) -> int:
    """0 for the most severe level; larger is milder. Unknown names rank last."""
    for index, severity in enumerate(severities):
        if severity.name == name:
            return index
    return 1_000


def parse_status(text: str) -> Status:
    """A status from its name (case-insensitive); ValueError listing the choices otherwise."""
    try:
        return Status(text.strip().lower())
    except ValueError:
        choices = ", ".join(s.value for s in Status)
        raise ValueError(f"unknown status {text!r} (expected one of {choices})") from None


def missing_roles(incident: Incident, severity: Severity) -> list[str]:
    """Roles this severity requires that nobody holds (a SEV-1 without a communicator)."""
    return [role for role in severity.required_roles if not incident.roles.get(role)]
