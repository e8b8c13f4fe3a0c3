"""Which injections are due at a drill moment, given the timeline so far. Pure: no I/O, no clock.

Each injection has a deterministic key, `<scenario>/<id>`, that goes into its entry's meta as
`inject`; written with the store's `append_once(..., key=INJECT_KEY)`, an injection lands once
however many processes (the app, `cockpit log` in a second terminal) notice it is due.

An injection is dated when it was due, not when the check ran: a timed one at its minute, a
conditional one at the moment its condition became true plus its delay (or at its `within`
deadline), so a late check still puts it in the right place on the timeline. An event counts
from when it was written (`written_at`): in a drill, a backdated note happened when the players
logged it, and an injection cannot be made to arrive in the past by backdating.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cockpit.domain import Entry, Kind, Status, name_key
from cockpit.drills.scenario import Condition, Event, Inject, Scenario

INJECT_EVENT = "drill-inject"
"""The `event` meta of every injected entry."""
INJECT_KEY = ("event", "inject")
"""The meta fields `append_once` compares: one entry per injection key."""


@dataclass(frozen=True)
class Injection:
    """One injection due: what to append to the timeline, and when it is dated."""

    key: str  # "<scenario>/<inject id>", unique within a drill
    inject: Inject
    at: datetime  # the drill moment it was due
    minute: float  # the same, in drill minutes after time zero

    @property
    def kind(self) -> Kind:
        return self.inject.kind.entry_kind

    @property
    def author(self) -> str:
        return self.inject.who

    @property
    def text(self) -> str:
        return self.inject.text

    @property
    def meta(self) -> dict[str, object]:
        """The entry's meta: the key `append_once` checks, and what arrived."""
        meta: dict[str, object] = {
            "event": INJECT_EVENT,
            "inject": self.key,
            "drill_kind": self.inject.kind.value,
        }
        if self.inject.state:
            meta["state"] = self.inject.state
        return meta

    @property
    def reason(self) -> str:
        """Why the entry is dated before it was written (when the check ran late)."""
        return f"drill injection due at minute {round(self.minute, 1):g}"


def injection_key(scenario: Scenario, inject: Inject) -> str:
    """The key that makes injecting idempotent: `api-high-error-rate/relapse`."""
    return f"{scenario.name}/{inject.id}"


def is_injected(entry: Entry) -> bool:
    """Whether the drill wrote this entry (an alert, a message, ...) rather than a player."""
    return entry.meta.get("event") == INJECT_EVENT


def due_injections(
    scenario: Scenario, zero: datetime, now: datetime, timeline: Sequence[Entry]
) -> list[Injection]:
    """The injections due by `now` and not yet on `timeline`, in the order they were due.

    `zero` is the drill's time zero (the page); `timeline` is the drill incident's entries.
    """
    events = _Events(scenario, zero, now, timeline)
    written = {entry.meta.get("inject") for entry in timeline if is_injected(entry)}
    due: list[Injection] = []
    for inject in scenario.injects:
        key = injection_key(scenario, inject)
        moment = events.due(inject)
        if moment is None or moment > now or key in written:
            continue
        due.append(Injection(key, inject, moment, (moment - zero) / timedelta(minutes=1)))
    due.sort(key=lambda injection: (injection.at, injection.inject.index))
    return due


def _known_at(entry: Entry) -> datetime:
    return max(entry.at, entry.written_at)


def _words(text: str) -> str:
    return " ".join(text.casefold().split())


_EVENT_KINDS: dict[Event, tuple[Kind, ...]] = {
    Event.STATUS: (Kind.STATUS,),
    Event.SEVERITY: (Kind.SEVERITY, Kind.SYSTEM),  # SYSTEM: the severity declared at
    Event.STEP: (Kind.STEP,),
    Event.UPDATE: (Kind.UPDATE,),
    Event.ROLE: (Kind.ROLE,),
    Event.ESCALATED: (Kind.ESCALATION,),
}
"""The entry kinds that can make each event true (`logged` says its own)."""


class _Events:
    """When each condition first became true on one timeline, and when each injection is due.

    Built once per check: entries are grouped by kind, each condition is answered once, and a
    note's text is normalised once, so a tick stays cheap on a long timeline.
    """

    def __init__(
        self, scenario: Scenario, zero: datetime, now: datetime, timeline: Sequence[Entry]
    ) -> None:
        self.scenario = scenario
        self.zero = zero
        known = sorted(
            (entry for entry in timeline if _known_at(entry) <= now),
            key=lambda entry: (_known_at(entry), entry.id),
        )
        self.by_kind: dict[Kind, list[Entry]] = {}
        for entry in known:
            self.by_kind.setdefault(entry.kind, []).append(entry)
        self.due_at: dict[str, datetime | None] = {}
        self.moments: dict[Condition, datetime | None] = {}
        self.words: dict[int, str] = {}

    def due(self, inject: Inject) -> datetime | None:
        """When `inject` is due; None while its condition has not happened, or if it never
        will arrive (its `unless` happened in time)."""
        if inject.id not in self.due_at:
            self.due_at[inject.id] = self._due(inject)
        return self.due_at[inject.id]

    def _due(self, inject: Inject) -> datetime | None:
        base = self.zero
        if inject.after is not None:
            happened = self.moment(inject.after)
            if happened is None:
                return None
            base = happened
        if inject.unless is None:
            offset = inject.at if inject.at is not None else inject.delay
            return base + timedelta(minutes=offset)
        deadline = base + timedelta(minutes=inject.within or 0)
        prevented = self.moment(inject.unless)
        # Once `deadline` has passed, every entry up to it is on the timeline: final answer.
        if prevented is not None and prevented <= deadline:
            return None
        return deadline

    def moment(self, condition: Condition) -> datetime | None:
        """When `condition` first became true, if it has."""
        if condition not in self.moments:
            self.moments[condition] = self._moment(condition)
        return self.moments[condition]

    def _moment(self, condition: Condition) -> datetime | None:
        if condition.event is Event.INJECTED:
            return self.due(self.scenario.inject(condition.name))
        if condition.event is Event.UPDATE:
            updates = self.by_kind.get(Kind.UPDATE, [])
            enough = len(updates) >= condition.number
            return _known_at(updates[condition.number - 1]) if enough else None
        kinds = (
            condition.kinds if condition.event is Event.LOGGED else _EVENT_KINDS[condition.event]
        )
        firsts = (
            next((e for e in self.by_kind.get(kind, []) if self.matches(condition, e)), None)
            for kind in kinds
        )
        found = [(_known_at(e), e.id) for e in firsts if e is not None]
        return min(found)[0] if found else None

    def matches(self, condition: Condition, entry: Entry) -> bool:
        """Whether `entry` (of a kind the condition looks at) makes `condition` true."""
        meta = entry.meta
        event = condition.event
        if event is Event.LOGGED:
            if is_injected(entry):
                return False
            if entry.id not in self.words:
                self.words[entry.id] = _words(entry.text)
            return any(phrase in self.words[entry.id] for phrase in condition.phrases)
        if event is Event.STATUS:
            return _rank(meta.get("to")) >= _rank(condition.name)
        if event is Event.SEVERITY:
            if entry.kind is Kind.SYSTEM and meta.get("event") != "declared":
                return False
            severity = meta.get("severity" if entry.kind is Kind.SYSTEM else "to")
            return isinstance(severity, str) and (name_key(severity) == name_key(condition.name))
        if event is Event.STEP:
            step = meta.get("step")
            return (
                meta.get("runbook") == self.scenario.runbook
                and isinstance(step, int)
                and not isinstance(step, bool)
                and step == condition.number
                and meta.get("done") is True
            )
        if event is Event.ROLE:
            holder = meta.get("to")
            return (
                meta.get("role") == condition.name
                and isinstance(holder, str)
                and bool(holder.strip())
            )
        return event is Event.ESCALATED


def _rank(value: object) -> int:
    """A status's place in investigating → resolved; -1 for anything else."""
    try:
        return Status(str(value)).rank
    except ValueError:
        return -1
