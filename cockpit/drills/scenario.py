"""The drill scenario: what the page looks like, what arrives during the drill and when, and
what the players should reach. A scenario is a Markdown file with TOML front matter between
`+++` lines, like a runbook; the body is the briefing the players read before they start.
`cockpit.drills.parse` reads the files; the full reference, with examples, is `docs/drills.md`.

    title = "API errors after a deploy"          # required
    service = "api"                              # required
    starts_at_severity = "SEV-2"                 # required: the severity the page arrives at
    expected_severity = "SEV-1"                  # required: what responders should reach
    runbook = "api-high-error-rate"              # required: the runbook it exercises
    description = "..."                          # optional, one line for `cockpit drill --list`
    expected_steps = [1, 2, 6, 9]                # optional: steps to tick, in order (default all)
    mitigate_within = 20                         # optional: minutes (default: the runbook's
    resolve_within = 45                          #   escalation time, else 30; resolve: none)

    [[inject]]                                   # at least one: an alert at minute 0 (the page)
    kind = "alert"                               # alert, message, metric, status_page
    source = "grafana"                           # alert, metric, status_page: where it comes from
    author = "Maya (support)"                    # message: who writes it
    state = "recovers"                           # metric: recovers/relapses; status_page: red/green
    text = "..."
    id = "relapse"                               # optional; other injections may refer to it

When an injection arrives (minutes are drill minutes, 0 to 1440):

    at = 12                                      # at minute 12
    after = { ... }  [delay = 3]                 # 3 minutes after the event (default 0)
    unless = { ... }  within = 10                # at minute 10, unless the event happened by then
    after = { ... }  unless = { ... }  within = 5   # 5 minutes after one event, unless the other

An event is a table with one of these keys (each is true from the moment it first happens,
and stays true):

    logged = "rollback"  or  ["rollback", "rolled back"]   a note, action or decision whose text
        [kind = "action"  or  ["action", "update"]]        contains a phrase (any case); `kind`
                                                           narrows or widens the kinds searched
    status = "monitoring"     the status reached monitoring or a later one
    severity = "SEV-1"        the severity was set to SEV-1
    step = 6                  runbook step 6 was ticked
    update = 1                the first status update was published (2: the second, ...)
    role = "communicator"     someone was given the role
    escalated = true          the runbook's escalation was recorded
    injected = "relapse"      the injection with that id arrived
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cockpit.domain import Kind
from cockpit.runbooks import Runbook

SUFFIX = ".md"
MAX_MINUTES = 24 * 60
"""No drill moment lies beyond a day of drill time."""
MAX_COUNT = 1000
"""Step and update numbers stop here: a larger one is a typo."""
MAX_INJECTS = 100
"""A scenario has a few dozen injections; more is a mistake (and chains stay shallow)."""
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
"""What an injection's `id` looks like."""
DEFAULT_MITIGATE_MINUTES = 30
"""How long mitigation may take when neither the scenario nor the runbook says."""


class ScenarioError(Exception):
    """A scenario file that cannot be used: names the file and the problem, in one line."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class InjectKind(StrEnum):
    """What arrives during a drill."""

    ALERT = "alert"  # a monitoring alert or a page
    MESSAGE = "message"  # a person writes: support, a teammate, a customer
    METRIC = "metric"  # a metric recovers or relapses
    STATUS_PAGE = "status_page"  # a third-party status page goes red or green

    @property
    def entry_kind(self) -> Kind:
        """The timeline kind it is written as: people's messages are notes."""
        return Kind.NOTE if self is InjectKind.MESSAGE else Kind.EXTERNAL

    @property
    def who_key(self) -> str:
        """The front-matter key that names who it comes from."""
        return "author" if self is InjectKind.MESSAGE else "source"

    @property
    def states(self) -> tuple[str, ...]:
        """The values `state` takes for this kind (none: it has no state)."""
        if self is InjectKind.METRIC:
            return ("recovers", "relapses")
        if self is InjectKind.STATUS_PAGE:
            return ("red", "green")
        return ()


class Event(StrEnum):
    """What a condition waits for."""

    LOGGED = "logged"
    STATUS = "status"
    SEVERITY = "severity"
    STEP = "step"
    UPDATE = "update"
    ROLE = "role"
    ESCALATED = "escalated"
    INJECTED = "injected"


LOGGED_KINDS = (Kind.NOTE, Kind.ACTION, Kind.DECISION)
"""What `logged` searches by default: what people type."""
LOGGABLE_KINDS = (*LOGGED_KINDS, Kind.UPDATE)


@dataclass(frozen=True)
class Condition:
    """One event on the timeline; `name`, `number` or `phrases` holds what it waits for."""

    event: Event
    name: str = ""  # status, severity, role, injection id
    number: int = 0  # step, update
    phrases: tuple[str, ...] = ()  # logged: lower-case, spaces collapsed
    kinds: tuple[Kind, ...] = ()  # logged: the entry kinds searched

    def describe(self) -> str:
        """The condition in words: "runbook step 6 ticked"."""
        if self.event is Event.LOGGED:
            kinds = [kind.value for kind in self.kinds]
            listed = ", ".join(kinds[:-1]) + " or " + kinds[-1] if len(kinds) > 1 else kinds[0]
            said = " or ".join(f"“{phrase}”" for phrase in self.phrases)
            return f"{'an' if listed[0] in 'aeiou' else 'a'} {listed} saying {said}"
        if self.event is Event.STATUS:
            return f"status {self.name}"
        if self.event is Event.SEVERITY:
            return f"severity {self.name}"
        if self.event is Event.STEP:
            return f"runbook step {self.number} ticked"
        if self.event is Event.UPDATE and self.number == 1:
            return "the first status update published"
        if self.event is Event.UPDATE:
            return f"status update #{self.number} published"
        if self.event is Event.ROLE:
            return f"someone assigned as {self.name}"
        if self.event is Event.ESCALATED:
            return "the escalation recorded"
        return f"injection {self.name} arrived"


@dataclass(frozen=True)
class Inject:
    """One injection: what arrives, from whom, and when."""

    id: str
    index: int  # 1-based position in the file (what error messages count)
    kind: InjectKind
    who: str  # the source (alert, metric, status page) or the author (message)
    text: str
    state: str = ""
    at: int | None = None
    after: Condition | None = None
    delay: int = 0
    unless: Condition | None = None
    within: int | None = None

    @property
    def earliest(self) -> int | None:
        """The drill minute it arrives at when that does not hang on an event."""
        if self.after is None:
            return self.at if self.at is not None else self.within
        return None

    def when(self) -> str:
        """When it arrives, in words ("3 min after status monitoring, unless ..."): for a
        facilitator's preview of the scenario, never shown to the players."""
        if self.after is None:
            text = f"at {self.earliest} min"
        else:
            wait = self.within if self.unless is not None else self.delay
            text = f"{wait} min after {self.after.describe()}" if wait else ""
            text = text or f"on {self.after.describe()}"
        if self.unless is not None:
            text += f", unless {self.unless.describe()} by then"
        return text


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario; `name` is the file name without `.md` (what `cockpit drill` takes)."""

    name: str
    path: Path
    title: str
    service: str
    starts_at_severity: str
    expected_severity: str
    runbook: str
    briefing: str  # the Markdown body, shown to the players
    injects: tuple[Inject, ...]  # by earliest minute, then the conditional ones, in file order
    description: str = ""
    expected_steps: tuple[int, ...] = ()  # empty: every step of the runbook, in order
    mitigate_within: int | None = None
    resolve_within: int | None = None

    @property
    def page(self) -> Inject:
        """The alert at minute 0 that starts the drill (the parser makes sure there is one)."""
        return next(i for i in self.injects if i.kind is InjectKind.ALERT and i.at == 0)

    def inject(self, inject_id: str) -> Inject:
        """The injection with this id; LookupError naming the scenario otherwise."""
        for inject in self.injects:
            if inject.id == inject_id:
                return inject
        raise LookupError(f"scenario {self.name!r} has no injection {inject_id!r}")

    def steps_for(self, runbook: Runbook) -> tuple[int, ...]:
        """The steps the players should tick, in order: `expected_steps`, else all of them."""
        return self.expected_steps or tuple(step.number for step in runbook.steps)

    def mitigate_minutes(self, runbook: Runbook | None) -> int:
        """How long mitigation may take: the scenario's figure, else the runbook's escalation
        time (the practice escalates what is not fixed by then), else 30 minutes."""
        if self.mitigate_within is not None:
            return self.mitigate_within
        if runbook is not None and runbook.escalate_after_minutes is not None:
            return runbook.escalate_after_minutes
        return DEFAULT_MITIGATE_MINUTES
