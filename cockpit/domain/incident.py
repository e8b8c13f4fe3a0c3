"""The incident world in pure Python: incidents, entries, severities, policies and deadlines.

No I/O and no Textual here. Everything that needs "now" takes it as an argument (or a `Clock`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
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
    unreadable: Mapping[str, str] = field(default_factory=dict)
    """Stored values that could not be read (column -> raw text); shown flagged, never fatal."""

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

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""The times cockpit accepts and stores: from EARLIEST (included) to LATEST (excluded), UTC.

One rule for every time that comes in (typed, relative, configured, from the clock) and every
time read back from the database: anything outside it is refused, or flagged when already stored.
"""

_OUT_OF_RANGE = "out of range: cockpit accepts 2000-01-01 to 2099-12-31 (UTC)"


def check_moment(moment: datetime, what: str = "") -> datetime:
    """`moment` in UTC if it is inside the accepted range; ValueError naming `what` otherwise."""
    try:
        utc = moment.astimezone(UTC) if moment.tzinfo is not None else None
    except (OverflowError, ValueError):
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValueError(f"{what or 'time ' + moment.isoformat()} is {_OUT_OF_RANGE}")
    return utc


def check_day(day: date, what: str = "") -> date:
    """`day` if it falls inside the accepted range; ValueError naming `what` otherwise."""
    if not EARLIEST.date() <= day < LATEST.date():
        raise ValueError(f"{what or 'date ' + day.isoformat()} is {_OUT_OF_RANGE}")
    return day


def format_utc(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and `Z`, the stored form: `2026-11-27T02:14:05.123Z`.

    The year is always four digits, so `parse_utc` reads back whatever this writes; callers that
    store a time check it first with `check_moment`.
    """
    utc = moment.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


def parse_utc(text: str) -> datetime:
    """The stored form (or any ISO-8601 with an offset) back to an aware UTC datetime."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"not a time cockpit can read: {text!r}") from None


def unreadable_note(unreadable: Mapping[str, str]) -> str:
    """How a row with stored values cockpit cannot read is flagged wherever it is shown."""
    if not unreadable:
        return ""
    return "⚠ unreadable " + ", ".join(
        f"{name}={raw if len(raw) <= 40 else raw[:39] + '…'!r}" for name, raw in unreadable.items()
    )


def read_stored(raw: object) -> datetime:
    """A time read back from the database, if it is readable and in range; ValueError if not.

    Rows written by older versions, or edited by hand, may hold anything: the reader flags
    them instead of failing on them. (On every entry read: the stored `...Z` form takes the
    shortest path.)
    """
    if not isinstance(raw, str):
        raise ValueError(f"not a stored time: {raw!r}")
    value = datetime.fromisoformat(raw)
    if value.tzinfo is not UTC:
        try:
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
        except OverflowError:
            raise ValueError(f"not a stored time: {raw!r}") from None
    if not EARLIEST <= value < LATEST:
        raise ValueError(f"stored time {raw!r} is {_OUT_OF_RANGE}")
    return value


def read_stored_day(raw: object) -> date:
    """A date read back from the database (an action item's deadline); ValueError if unusable."""
    if not isinstance(raw, str):
        raise ValueError(f"not a stored date: {raw!r}")
    return check_day(date.fromisoformat(raw), f"stored date {raw!r}")


_RELATIVE = re.compile(r"^-?\s*(\d+)\s*(s|sec|m|min|h|hr|hours?|d|days?)\s*(?:ago)?$", re.I)


def parse_moment(text: str, now: datetime) -> datetime:
    """A user's time: ISO-8601 (local time if no offset), `HH:MM` today (local), or `15m ago`.

    Raises ValueError with the accepted forms when it is none of them, and when it falls
    outside the accepted range (`check_moment`).
    """
    try:
        moment = _parse_moment(text.strip(), text, now)
    except OverflowError:
        raise ValueError(f"time {text!r} is {_OUT_OF_RANGE}") from None
    return check_moment(moment, f"time {text!r}")


def _parse_moment(raw: str, text: str, now: datetime) -> datetime:
    match = _RELATIVE.match(raw)
    if match and (raw.startswith("-") or raw.lower().endswith("ago")):
        if len(match.group(1)) > 15:
            raise OverflowError(text)  # far beyond any range, and int() refuses huge digit runs
        amount, unit = int(match.group(1)), match.group(2).lower()[0]
        seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit] * amount
        return now - timedelta(seconds=seconds)
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
    if not EARLIEST.year - 1 <= value.year <= LATEST.year:
        # Before any conversion: local time and offsets near year 1 or 9999 overflow.
        raise OverflowError(text)
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


# Characters a terminal obeys rather than shows: C0 and C1 controls (U+009B is CSI, U+009D is
# OSC) except tab and newline, and the bidirectional marks, embeddings, overrides and isolates
# (with the deprecated format controls beside them) that make text display in another order
# than the one typed.
_UNSAFE = r"\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u206f"
_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI sequences (colours, cursor moves)
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC sequences (titles, hyperlinks)
    rf"|[{_UNSAFE}]"
)
_LINE_SEPARATORS = re.compile("[\u2028\u2029]")
UNSAFE_CHARACTER = re.compile(f"[{_UNSAFE}]")
"""One character `strip_control` removes: what must never reach a terminal raw."""


def strip_control(text: str) -> str:
    """Text made safe for a terminal: escape sequences, control characters and bidirectional
    controls removed; U+2028/U+2029 become newlines.

    Newlines and tabs are kept; callers that need one line replace them. Every path that
    writes text people or files provided to a terminal goes through this (or `one_line`).
    """
    return _LINE_SEPARATORS.sub("\n", _CONTROL.sub("", text))


def escape_unsafe(text: str) -> str:
    """`text` with each character `strip_control` would remove written as a `\\uXXXX` escape:
    for JSON (whose strings may hold C1 and bidi controls raw, which terminals obey) and any
    output whose reader must see exactly what was stored."""
    return UNSAFE_CHARACTER.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


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


# ---- limits on text people give -------------------------------------------------------------


@dataclass(frozen=True)
class TextLimit:
    """The most characters one kind of text may have. Longer text is refused whole, with one
    line that says so; it is never cut silently."""

    what: str  # "a timeline entry"
    chars: int

    def refusal(self, length: int | None = None, what: str | None = None) -> str:
        """The one line that refuses text of `length` characters (None: more than the limit)."""
        got = f"{length:,}" if length is not None else "more than that"
        return (
            f"{what or self.what} is limited to {self.chars:,} characters (got {got}); "
            "nothing was stored"
        )


ENTRY_TEXT = TextLimit("a timeline entry", 1_048_576)
"""Notes, actions, decisions and captured command output (`cockpit log -`)."""
UPDATE_TEXT = TextLimit("a status update", 25_000)
"""What customers read: Statuspage's limit, the largest any target accepts."""
POSTMORTEM_TEXT = TextLimit("a post-mortem field", 1_048_576)
"""Each post-mortem field (summary, impact, the whys together, …)."""
TITLE_TEXT = TextLimit("a title", 500)
"""Incident and action-item titles."""
NAME_TEXT = TextLimit("a name", 200)
"""People (role holders, owners, the author), services."""
REASON_TEXT = TextLimit("a reason", 2_000)
"""Why an entry is backdated."""
