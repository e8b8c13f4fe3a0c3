"""Reading scenario files: every malformed scenario is refused with one line naming the file and
the key (`inject[3].after.step: ...`, injections counted from 1 in file order), like runbooks.

This checks what the file alone can tell; `cockpit.drills.library.check_scenario` adds what
needs the runbook and the configuration (step numbers, the escalation rule, severity and role
names).
"""

from __future__ import annotations

import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cockpit.domain import (
    Kind,
    Status,
    closest,
    name_key,
    one_line,
    parse_status,
    strip_control,
)
from cockpit.drills.scenario import (
    ID_PATTERN,
    LOGGABLE_KINDS,
    LOGGED_KINDS,
    MAX_COUNT,
    MAX_INJECTS,
    MAX_MINUTES,
    SUFFIX,
    Condition,
    Event,
    Inject,
    InjectKind,
    Scenario,
    ScenarioError,
)
from cockpit.drills.waits import find_loop
from cockpit.runbooks import RunbookError, split_front_matter, type_name

_FIELDS: dict[str, str] = {
    "title": "a string",
    "service": "a string",
    "starts_at_severity": "a severity name",
    "expected_severity": "a severity name",
    "runbook": "a runbook name",
    "description": "a string",
    "expected_steps": "a list of step numbers",
    "mitigate_within": "a whole number of minutes",
    "resolve_within": "a whole number of minutes",
    "inject": "[[inject]] tables",
}
MAX_BYTES = 1_000_000
"""The largest scenario file read."""
_REQUIRED = ("title", "service", "starts_at_severity", "expected_severity", "runbook", "inject")
_INJECT_FIELDS = (
    "id",
    "kind",
    "source",
    "author",
    "text",
    "state",
    "at",
    "after",
    "delay",
    "unless",
    "within",
)
_CONDITION_FIELDS = (*(event.value for event in Event), "kind")


def parse_scenario(text: str, path: Path) -> Scenario:
    """Parse scenario text; raises ScenarioError naming `path` and what is wrong.

    Checks what the file alone can tell; `library.check_scenario` adds what needs the runbook
    and the configured severities and roles.
    """
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = strip_control(text)  # the briefing and the injections reach the terminal
    try:
        meta, body, offset = split_front_matter(text, path)
    except RunbookError as exc:
        raise ScenarioError(path, exc.problem) from None
    if offset == 0:
        raise ScenarioError(path, "front matter: missing (line 1 must be +++, then TOML, then +++)")
    return _Parser(path).scenario(meta, body)


def read_scenario(path: Path) -> Scenario:
    """Read and parse one file; every failure (unreadable, not a regular file, too large, not
    UTF-8, malformed) is ScenarioError."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ScenarioError(path, "is a directory, not a scenario file")
        if not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block or never end
            raise ScenarioError(path, "not a regular file")
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError(path, "no such file") from None
    except OSError as exc:
        raise ScenarioError(path, f"cannot read: {exc.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise ScenarioError(path, f"larger than {MAX_BYTES // 1000} kB; a scenario is a few pages")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(path, "not UTF-8 text; save the file as UTF-8") from None
    return parse_scenario(text, path)


class _Parser:
    """One file's front matter to a Scenario; every error names the key it is about."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> ScenarioError:
        return ScenarioError(self.path, f"front matter: {key}: {problem}")

    def scenario(self, meta: Mapping[str, Any], body: str) -> Scenario:
        self.unknown(meta, _FIELDS, "")
        for key in _REQUIRED:
            if key not in meta:
                raise self.fail(key, f"missing ({_FIELDS[key]})")
        briefing = body.strip("\n")
        if not briefing.strip():
            raise ScenarioError(
                self.path,
                "briefing: the body after the front matter is empty "
                "(write what the players are told when they are paged)",
            )
        injects = self.injects(meta["inject"])
        mitigate = self.optional_minutes(meta, "mitigate_within")
        resolve = self.optional_minutes(meta, "resolve_within")
        if mitigate is not None and resolve is not None and mitigate > resolve:
            raise self.fail(
                "mitigate_within", f"{mitigate} is later than resolve_within ({resolve})"
            )
        scenario = Scenario(
            name=self.path.stem,
            path=self.path,
            title=self.line(meta, "title"),
            service=self.line(meta, "service"),
            starts_at_severity=self.line(meta, "starts_at_severity"),
            expected_severity=self.line(meta, "expected_severity"),
            runbook=self.runbook_name(meta["runbook"]),
            briefing=briefing,
            injects=injects,
            description=self.line(meta, "description", required=False),
            expected_steps=self.steps(meta.get("expected_steps")),
            mitigate_within=mitigate,
            resolve_within=resolve,
        )
        self.check_severity_events(scenario)
        return scenario

    # -- keys

    def unknown(self, table: Mapping[str, Any], known: Iterable[str], prefix: str) -> None:
        names = list(known)
        for key in table:
            if key in names:
                continue
            close = closest(key, names, prefix=True)
            hint = f"did you mean {close}?" if close else f"expected one of {', '.join(names)}"
            raise self.fail(prefix + key, f"unknown key ({hint})")

    def line(
        self, table: Mapping[str, Any], key: str, *, required: bool = True, at: str = ""
    ) -> str:
        value = table.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            raise self.fail(at + key, f"expected a string, got {type_name(value)}")
        text = one_line(value).strip()
        if not text and required:
            raise self.fail(at + key, "is empty")
        return text

    def runbook_name(self, value: Any) -> str:
        if not isinstance(value, str):
            raise self.fail("runbook", f"expected a runbook name, got {type_name(value)}")
        name = value.strip().removesuffix(SUFFIX)
        if not name or "/" in name or "\\" in name or name != one_line(name):
            raise self.fail(
                "runbook", f"not a runbook name: {value!r} (use the file name without .md)"
            )
        return name

    def minutes(self, value: Any, key: str, low: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected a whole number of minutes, got {type_name(value)}")
        if not low <= value <= MAX_MINUTES:
            raise self.fail(
                key, f"expected {low} to {MAX_MINUTES} minutes (a day of drill time), got {value}"
            )
        return value

    def optional_minutes(self, meta: Mapping[str, Any], key: str) -> int | None:
        return None if key not in meta else self.minutes(meta[key], key, low=1)

    def count(self, value: Any, key: str, what: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected {what}, got {type_name(value)}")
        if not 1 <= value <= MAX_COUNT:
            raise self.fail(key, f"expected {what} from 1 to {MAX_COUNT}, got {value}")
        return value

    def steps(self, value: Any) -> tuple[int, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not value:
            got = "an empty list" if value == [] else type_name(value)
            raise self.fail("expected_steps", f"expected a list of step numbers, got {got}")
        steps = [self.count(item, "expected_steps", "step numbers") for item in value]
        repeated = sorted({step for step in steps if steps.count(step) > 1})
        if repeated:
            raise self.fail("expected_steps", f"step {repeated[0]} is listed twice")
        return tuple(steps)

    # -- injections

    def injects(self, value: Any) -> tuple[Inject, ...]:
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.fail(
                "inject",
                f"expected [[inject]] tables (an array of tables), got {type_name(value)}",
            )
        if not value:
            raise self.fail("inject", "no injections (add [[inject]] tables, the first the page)")
        if len(value) > MAX_INJECTS:
            raise self.fail(
                "inject", f"{len(value)} injections, at most {MAX_INJECTS} (split the scenario)"
            )
        injects = [self.inject(table, index) for index, table in enumerate(value, start=1)]
        ids: dict[str, int] = {}
        for inject in injects:
            if inject.id in ids:
                raise self.fail(
                    f"inject[{inject.index}].id",
                    f"{inject.id!r} is already the id of inject[{ids[inject.id]}]",
                )
            ids[inject.id] = inject.index
        for inject in injects:
            self.check_references(inject, ids)
        loop = find_loop(injects)
        if loop is not None:
            first, field, cycle = loop
            raise self.fail(
                f"inject[{first.index}].{field}.injected",
                f"injections wait for each other in a loop ({' → '.join(cycle)})",
            )
        if not any(i.kind is InjectKind.ALERT and i.at == 0 for i in injects):
            raise self.fail(
                "inject",
                'no alert at minute 0 (the page that starts the drill: kind = "alert", at = 0)',
            )
        never = float(MAX_MINUTES + 1)
        ordered = sorted(
            injects, key=lambda i: (never if i.earliest is None else i.earliest, i.index)
        )
        return tuple(ordered)

    def inject(self, table: Mapping[str, Any], index: int) -> Inject:
        at = f"inject[{index}]."
        self.unknown(table, _INJECT_FIELDS, at)
        kind_value = table.get("kind")
        if kind_value not in [k.value for k in InjectKind]:
            choices = ", ".join(k.value for k in InjectKind)
            got = "missing" if kind_value is None else f"got {type_name(kind_value)}"
            raise self.fail(at + "kind", f"expected one of {choices}; {got}")
        kind = InjectKind(str(kind_value))
        wrong_who = "source" if kind.who_key == "author" else "author"
        if wrong_who in table:
            raise self.fail(
                at + wrong_who, f"use {kind.who_key} for {_a(kind.value)}, not {wrong_who}"
            )
        if kind.who_key not in table:
            raise self.fail(at + kind.who_key, f"missing (who the {kind.value} comes from)")
        who = self.line(table, kind.who_key, at=at)
        text = self.text(table.get("text"), at + "text")
        state = self.state(table, kind, at)
        inject_id = self.identifier(table.get("id"), index, at)
        after = self.condition(table["after"], at + "after") if "after" in table else None
        unless = self.condition(table["unless"], at + "unless") if "unless" in table else None
        moment = self.minutes(table["at"], at + "at") if "at" in table else None
        delay = self.minutes(table["delay"], at + "delay") if "delay" in table else None
        within = self.minutes(table["within"], at + "within", low=1) if "within" in table else None
        self.timing(at, moment, after, delay, unless, within)
        if after is not None and after == unless:
            raise self.fail(
                at + "unless", "the same event as after, so the injection can never arrive"
            )
        return Inject(
            id=inject_id,
            index=index,
            kind=kind,
            who=who,
            text=text,
            state=state,
            at=moment,
            after=after,
            delay=delay or 0,
            unless=unless,
            within=within,
        )

    def timing(
        self,
        at: str,
        moment: int | None,
        after: Condition | None,
        delay: int | None,
        unless: Condition | None,
        within: int | None,
    ) -> None:
        if moment is not None and (after is not None or unless is not None):
            other = "after" if after is not None else "unless"
            hint = "delay" if other == "after" else "within"
            raise self.fail(at + "at", f"goes alone; with {other}, say when with {hint}")
        if delay is not None and after is None:
            raise self.fail(at + "delay", "goes with after (minutes after the event)")
        if within is not None and unless is None:
            raise self.fail(at + "within", "goes with unless (the deadline for the event)")
        if unless is not None and within is None:
            raise self.fail(at + "unless", "needs within (how long the event has to happen)")
        if delay is not None and unless is not None:
            raise self.fail(at + "delay", "with unless, within says when (drop delay)")
        if moment is None and after is None and unless is None:
            raise self.fail(
                at + "at", "missing: say when (at = minutes, after = an event, or unless + within)"
            )

    def text(self, value: Any, key: str) -> str:
        if value is None:
            raise self.fail(key, "missing (what arrives)")
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {type_name(value)}")
        text = strip_control(value).strip()  # TOML escapes can spell control characters
        if not text:
            raise self.fail(key, "is empty")
        return text

    def state(self, table: Mapping[str, Any], kind: InjectKind, at: str) -> str:
        if not kind.states:
            if "state" in table:
                raise self.fail(
                    at + "state",
                    f"only a metric or a status_page has a state, not {_a(kind.value)}",
                )
            return ""
        value = table.get("state")
        if value not in kind.states:
            got = "missing" if value is None else f"got {type_name(value)}"
            raise self.fail(at + "state", f"expected {' or '.join(kind.states)}; {got}")
        return str(value)

    def identifier(self, value: Any, index: int, at: str) -> str:
        if value is None:
            return str(index)
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            shown = repr(value) if isinstance(value, str) else type_name(value)
            raise self.fail(
                at + "id",
                f"not an id: {shown} (lower-case letters, digits, - and _, starting with a letter)",
            )
        return value

    # -- conditions

    def condition(self, value: Any, key: str) -> Condition:
        if not isinstance(value, dict):
            raise self.fail(
                key,
                f'expected a table such as {{ status = "monitoring" }}, got {type_name(value)}',
            )
        self.unknown(value, _CONDITION_FIELDS, key + ".")
        events = [name for name in value if name != "kind"]
        if not events:
            names = ", ".join(event.value for event in Event)
            raise self.fail(key, f"no event (expected one of {names})")
        if len(events) > 1:
            raise self.fail(key, f"one event per condition, got {' and '.join(events)}")
        event = Event(events[0])
        at = f"{key}.{event.value}"
        if "kind" in value and event is not Event.LOGGED:
            raise self.fail(key + ".kind", "goes with logged (the kinds of entry searched)")
        raw = value[event.value]
        if event is Event.LOGGED:
            return Condition(
                event, phrases=self.phrases(raw, at), kinds=self.kinds(value.get("kind"), key)
            )
        if event is Event.STATUS:
            return Condition(event, name=self.status(raw, at))
        if event in (Event.STEP, Event.UPDATE):
            what = "a step number" if event is Event.STEP else "an update number (1: the first)"
            return Condition(event, number=self.count(raw, at, what))
        if event is Event.ESCALATED:
            if raw is not True:
                raise self.fail(at, f"expected true, got {type_name(raw)}")
            return Condition(event)
        if event is Event.INJECTED and not (isinstance(raw, str) and ID_PATTERN.match(raw)):
            shown = repr(raw) if isinstance(raw, str) else type_name(raw)
            raise self.fail(at, f"not an injection id: {shown} (give that injection an id)")
        return Condition(event, name=self.line(value, event.value, at=key + "."))

    def phrases(self, value: Any, key: str) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
            raise self.fail(key, f"expected a phrase or a list of phrases, got {type_name(value)}")
        phrases = tuple(" ".join(strip_control(item).casefold().split()) for item in items)
        if not all(phrases):
            raise self.fail(key, "an empty phrase matches everything; remove it")
        return phrases

    def kinds(self, value: Any, key: str) -> tuple[Kind, ...]:
        if value is None:
            return LOGGED_KINDS
        items = [value] if isinstance(value, str) else value
        choices = ", ".join(kind.value for kind in LOGGABLE_KINDS)
        if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
            raise self.fail(key + ".kind", f"expected one of {choices}, got {type_name(value)}")
        kinds = []
        for item in items:
            if item not in [kind.value for kind in LOGGABLE_KINDS]:
                raise self.fail(key + ".kind", f"expected one of {choices}, got {item!r}")
            kinds.append(Kind(item))
        return tuple(dict.fromkeys(kinds))

    def status(self, value: Any, key: str) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"expected a status, got {type_name(value)}")
        try:
            status = parse_status(value)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None
        if status is Status.INVESTIGATING:
            raise self.fail(
                key, "every drill starts investigating, so this is true at minute 0 (use at = 0)"
            )
        return status.value

    def check_references(self, inject: Inject, ids: Mapping[str, int]) -> None:
        for name, condition in (("after", inject.after), ("unless", inject.unless)):
            if condition is None or condition.event is not Event.INJECTED:
                continue
            key = f"inject[{inject.index}].{name}.injected"
            if condition.name not in ids:
                raise self.fail(key, f"no injection has the id {condition.name!r}")
            if condition.name == inject.id:
                raise self.fail(key, "an injection cannot wait for itself")

    def check_severity_events(self, scenario: Scenario) -> None:
        for inject in scenario.injects:
            for name, condition in (("after", inject.after), ("unless", inject.unless)):
                if condition is None or condition.event is not Event.SEVERITY:
                    continue
                if name_key(condition.name) == name_key(scenario.starts_at_severity):
                    raise self.fail(
                        f"inject[{inject.index}].{name}.severity",
                        f"the drill starts at {scenario.starts_at_severity}, so this is true at "
                        "minute 0 (use at = 0)",
                    )


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"
