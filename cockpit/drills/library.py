"""Scenarios in their world: the bundled ones and the team's own (`[drills] dirs`), the first
directory winning for each name, each checked against its runbook and the configuration (step
numbers, the escalation rule, severity and role names) when those are known."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from cockpit.domain import Severity, find_severity, no_such_name
from cockpit.drills.parse import read_scenario
from cockpit.drills.scenario import SUFFIX, Condition, Event, Scenario, ScenarioError
from cockpit.files import markdown_files
from cockpit.runbooks import Runbook, find_runbook

PACKAGE_DRILLS = Path(__file__).resolve().parent.parent / "bundled_drills"
"""The scenarios that ship with cockpit, one per bundled runbook."""


def check_scenario(
    scenario: Scenario,
    *,
    runbook: Runbook | None = None,
    severities: Sequence[Severity] | None = None,
    roles: Sequence[str] | None = None,
) -> Scenario:
    """Check what only the runbook and the configuration can tell: step numbers the runbook has,
    an escalation rule for `escalated`, severity and role names. Returns the scenario with the
    severity names spelled as the taxonomy spells them; ScenarioError for the first problem."""
    if runbook is not None and runbook.name != scenario.runbook:
        raise ValueError(f"runbook {runbook.name!r} is not the scenario's ({scenario.runbook!r})")

    def fail(key: str, problem: str) -> ScenarioError:
        return ScenarioError(scenario.path, f"front matter: {key}: {problem}")

    def canonical(name: str, key: str) -> str:
        if severities is None:
            return name
        try:
            return find_severity(severities, name).name
        except ValueError as exc:
            raise fail(key, str(exc)) from None

    if runbook is not None:
        for step in scenario.expected_steps:
            if step > len(runbook.steps):
                raise fail("expected_steps", _no_step(runbook, step))

    def checked(condition: Condition | None, key: str) -> Condition | None:
        if condition is None:
            return None
        key = f"{key}.{condition.event.value}"
        if runbook is not None:
            _check_runbook_event(condition, runbook, fail, key)
        if roles is not None and condition.event is Event.ROLE and condition.name not in roles:
            raise fail(key, f"no role {condition.name!r} (roles: {', '.join(roles) or 'none'})")
        if condition.event is Event.SEVERITY:
            return dataclasses.replace(condition, name=canonical(condition.name, key))
        return condition

    injects = [
        dataclasses.replace(
            inject,
            after=checked(inject.after, f"inject[{inject.index}].after"),
            unless=checked(inject.unless, f"inject[{inject.index}].unless"),
        )
        for inject in scenario.injects
    ]
    return dataclasses.replace(
        scenario,
        starts_at_severity=canonical(scenario.starts_at_severity, "starts_at_severity"),
        expected_severity=canonical(scenario.expected_severity, "expected_severity"),
        injects=tuple(injects),
    )


def _check_runbook_event(
    condition: Condition, runbook: Runbook, fail: Callable[[str, str], ScenarioError], key: str
) -> None:
    """Refuse a step the runbook does not have, or an escalation it never records."""
    if condition.event is Event.STEP and condition.number > len(runbook.steps):
        raise fail(key, _no_step(runbook, condition.number) + ", so this never happens")
    if condition.event is Event.ESCALATED and runbook.escalate_after_minutes is None:
        raise fail(key, f"runbook {runbook.name!r} has no escalation rule, so nothing is escalated")


def _no_step(runbook: Runbook, number: int) -> str:
    return f"runbook {runbook.name!r} has no step {number} (it has {len(runbook.steps)} steps)"


def scenario_files(dirs: Iterable[Path]) -> tuple[list[Path], list[ScenarioError]]:
    """The scenario files in `dirs`, the first directory winning for each name. A missing
    directory is skipped; one that cannot be listed is an error, not a crash."""
    found, problems = markdown_files(dirs, "drills.dirs")
    seen: set[str] = set()
    files: list[Path] = []
    for path in found:
        if path.stem not in seen:
            seen.add(path.stem)
            files.append(path)
    return files, [ScenarioError(p.path, p.problem) for p in problems]


def load_scenario(
    path: Path,
    *,
    runbook_dirs: Sequence[Path] | None = None,
    severities: Sequence[Severity] | None = None,
    roles: Sequence[str] | None = None,
) -> Scenario:
    """Read one scenario and check it against its runbook (looked up in `runbook_dirs` when
    given) and the configured severities and roles."""
    scenario = read_scenario(path)
    runbook = None
    if runbook_dirs is not None:
        try:
            runbook = find_runbook(runbook_dirs, scenario.runbook)
        except LookupError as exc:
            raise ScenarioError(path, f"front matter: runbook: {exc}") from None
    return check_scenario(scenario, runbook=runbook, severities=severities, roles=roles)


def load_scenarios(
    dirs: Iterable[Path],
    *,
    runbook_dirs: Sequence[Path] | None = None,
    severities: Sequence[Severity] | None = None,
    roles: Sequence[str] | None = None,
) -> tuple[list[Scenario], list[ScenarioError]]:
    """Every usable scenario in `dirs` (sorted by title) and an error for each one that is not."""
    files, errors = scenario_files(dirs)
    scenarios: list[Scenario] = []
    for path in files:
        try:
            scenarios.append(
                load_scenario(path, runbook_dirs=runbook_dirs, severities=severities, roles=roles)
            )
        except ScenarioError as exc:
            errors.append(exc)
    scenarios.sort(key=lambda s: (s.title.lower(), s.name))
    return scenarios, errors


def find_scenario(
    dirs: Sequence[Path],
    name: str,
    *,
    runbook_dirs: Sequence[Path] | None = None,
    severities: Sequence[Severity] | None = None,
    roles: Sequence[str] | None = None,
) -> Scenario:
    """The scenario called `name` (file name without `.md`), checked; LookupError says what
    exists, ScenarioError what is wrong with the file."""
    wanted = name.strip().removesuffix(SUFFIX)
    if not wanted or "/" in wanted or "\\" in wanted:
        raise LookupError(f"not a scenario name: {name!r} (use the file name without .md)")
    for directory in dirs:
        path = directory / f"{wanted}{SUFFIX}"
        if path.exists():  # read_scenario explains a directory or a FIFO of that name
            return load_scenario(
                path, runbook_dirs=runbook_dirs, severities=severities, roles=roles
            )
    names = [p.stem for p in scenario_files(dirs)[0]]
    raise LookupError(no_such_name("drill scenario", wanted, names))
