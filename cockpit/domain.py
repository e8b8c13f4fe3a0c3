"""The incident world in pure Python: incidents, entries, severities, policies and deadlines.

No I/O and no Textual here. Everything that needs "now" takes it as an argument (or a `Clock`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

Clock = Callable[[], datetime]
"""A function that returns the current moment as an aware UTC datetime."""


def system_clock() -> datetime:
    """The real clock: now, in UTC."""
    return datetime.now(UTC)


def frozen_clock(at: datetime) -> Clock:
    """A clock stopped at `at` (for tests, snapshots and drills)."""
    moment = at.astimezone(UTC)
    return lambda: moment


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

    @property
    def ref(self) -> str:
        return incident_ref(self.id)

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

    @property
    def backdated(self) -> bool:
        return self.at < self.written_at - timedelta(seconds=1)


# ---- ids -------------------------------------------------------------------------------------

_REF = re.compile(r"^\s*(?:inc-?)?(\d+)\s*$", re.IGNORECASE)


def incident_ref(incident_id: int) -> str:
    """`7` -> `INC-7`."""
    return f"INC-{incident_id}"


def parse_incident_ref(text: str) -> int:
    """`INC-7`, `inc7` or `7` -> 7; anything else raises ValueError."""
    match = _REF.match(text)
    if not match:
        raise ValueError(f"not an incident id: {text!r} (expected INC-<n>)")
    return int(match.group(1))


# ---- severities and statuses -------------------------------------------------------------


def find_severity(severities: Iterable[Severity], name: str) -> Severity:
    """The severity called `name` (case-insensitive, `sev1` accepted); ValueError if unknown."""
    wanted = _norm_severity(name)
    options = list(severities)
    for severity in options:
        if _norm_severity(severity.name) == wanted:
            return severity
    names = ", ".join(s.name for s in options)
    raise ValueError(f"unknown severity {name!r} (expected one of {names})")


def _norm_severity(name: str) -> str:
    return re.sub(r"[\s_-]", "", name).lower()


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


# ---- deadlines ------------------------------------------------------------------------------


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


def next_update_deadline(
    incident: Incident,
    severity: Severity,
    last_update_at: datetime | None,
    updates_sent: int = 0,
    every_minutes_override: int | None = None,
) -> Deadline | None:
    """The next required status update, from the severity policy; None when nothing is owed.

    The first update is due `first_update_minutes` after declaration; each later one
    `update_every_minutes` after the last published update. A runbook may override the cadence.
    """
    if not incident.is_open:
        return None
    every = (
        every_minutes_override
        if every_minutes_override is not None
        else severity.update_every_minutes
    )
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


# ---- time text ----------------------------------------------------------------------------


def format_utc(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and `Z`, the stored form: `2026-11-27T02:14:05.123Z`."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_utc(text: str) -> datetime:
    """The stored form (or any ISO-8601 with an offset) back to an aware UTC datetime."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_RELATIVE = re.compile(r"^-?\s*(\d+)\s*(s|sec|m|min|h|hr|hours?|d|days?)\s*(?:ago)?$", re.I)


def parse_moment(text: str, now: datetime) -> datetime:
    """A user's time: ISO-8601 (local time if no offset), `HH:MM` today (local), or `15m ago`.

    Raises ValueError with the accepted forms when it is none of them.
    """
    raw = text.strip()
    match = _RELATIVE.match(raw)
    if match and (raw.startswith("-") or raw.lower().endswith("ago")):
        amount, unit = int(match.group(1)), match.group(2).lower()[0]
        seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit] * amount
        try:
            return now - timedelta(seconds=seconds)
        except OverflowError:
            raise ValueError(f"too far in the past: {text!r}") from None
    clock = re.match(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$", raw)
    if clock:
        hour, minute, second = int(clock.group(1)), int(clock.group(2)), int(clock.group(3) or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise ValueError(f"not a time of day: {text!r}")
        local_now = now.astimezone()
        local = local_now.replace(hour=hour, minute=minute, second=second, microsecond=0)
        if local > local_now:
            local -= timedelta(days=1)  # "02:10" typed at 00:05 means yesterday
        return local.astimezone(UTC)
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"not a time: {text!r} (use 2026-11-27T02:14, 02:14 or '15m ago')"
        ) from None
    if value.tzinfo is None:
        value = value.astimezone()  # naive means local time
    return value.astimezone(UTC)


def format_local(moment: datetime, now: datetime, seconds: bool = False) -> str:
    """Local time for the screen; the date is added when it differs from today's."""
    local = moment.astimezone()
    text = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    if local.date() != now.astimezone().date():
        text = local.strftime("%Y-%m-%d ") + text
    return text


def format_duration(delta: timedelta) -> str:
    """`01:02:03` for positive spans; days are added beyond 24 hours (`2d 03:00:00`)."""
    total = int(abs(delta).total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    if days:
        text = f"{days}d {text}"
    return ("-" if delta < timedelta(0) else "") + text


def format_countdown(delta: timedelta) -> str:
    """`04:12` (minutes:seconds) for a countdown; hours shown when needed."""
    total = int(abs(delta).total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"
    return ("-" if delta < timedelta(0) else "") + text


_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI sequences (colours, cursor moves)
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC sequences (titles, hyperlinks)
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"  # other C0/C1 controls, keeping \t and \n
)


def strip_control(text: str) -> str:
    """Text made safe for a terminal: escape sequences and control characters removed.

    Newlines and tabs are kept; callers that need one line replace them.
    """
    return _CONTROL.sub("", text)


def storable(text: str) -> str:
    """Text that can be stored as UTF-8: lone surrogates (from undecodable input) become U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def one_line(text: str) -> str:
    """Terminal-safe single line: control characters removed, line breaks shown as ' ⏎ '."""
    return strip_control(text).replace("\r\n", "\n").replace("\n", " ⏎ ").replace("\t", " ")
