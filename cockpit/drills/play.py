"""A drill being played, on the drills database: starting it, its clock, what arrives, its end.

One code path for the app and the CLI. A drill is an incident in the drills database (beside the
incident database, never in it) with a `drills` row holding its clock; every process that opens
it computes the same drill time from its own wall clock, and writes the injections that are due
with `append_once`, so each lands exactly once whoever notices it first. A drill ends when its
incident is resolved (noticed by whoever looks next: the app, `cockpit drill score`, the history)
or when it is abandoned; its scorecard is then kept in its row.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from cockpit.config import Config
from cockpit.domain import Clock, Entry, Status, system_clock
from cockpit.drills.clock import DEFAULT_SPEED, DrillClock, check_speed
from cockpit.drills.history import DrillResult, History, drill_history
from cockpit.drills.inject import INJECT_KEY, due_injections
from cockpit.drills.library import PACKAGE_DRILLS, find_scenario, load_scenarios
from cockpit.drills.scenario import Scenario, ScenarioError
from cockpit.drills.score import score_drill
from cockpit.drills.scorecard import Scorecard, render_markdown, scorecard_filename
from cockpit.postmortem.export import write_export
from cockpit.runbooks import Runbook, find_runbook
from cockpit.store.drills import DrillRow, DrillStore


def drills_database(db_path: Path) -> Path:
    """The drills database beside the incident database: `cockpit.db` -> `cockpit-drills.db`."""
    return db_path.with_name(f"{db_path.stem}-drills{db_path.suffix or '.db'}")


def scenario_dirs(config: Config) -> list[Path]:
    """`[drills] dirs` (`~` expanded), then the bundled scenarios."""
    return [*(Path(d).expanduser() for d in config.drills.dirs), PACKAGE_DRILLS]


def find(config: Config, name: str) -> Scenario:
    """The scenario `name`, checked against its runbook and the configuration; LookupError or
    ScenarioError in one line."""
    return find_scenario(
        scenario_dirs(config),
        name,
        runbook_dirs=config.runbook_dirs,
        severities=config.severities,
        roles=config.role_names,
    )


def scenarios(config: Config) -> tuple[list[Scenario], list[ScenarioError]]:
    """Every usable scenario, and an error naming the file and key for each broken one."""
    return load_scenarios(
        scenario_dirs(config),
        runbook_dirs=config.runbook_dirs,
        severities=config.severities,
        roles=config.role_names,
    )


def clock_of(drill: DrillRow, wall: Clock = system_clock) -> DrillClock:
    """The drill's clock, as every process computes it from the stored figures."""
    return DrillClock(drill.wall_start, drill.zero, drill.speed, drill.paused_at, wall)


@dataclass(frozen=True)
class Drill:
    """A drill opened for play: its row, its scenario and its clock (also the store's clock)."""

    row: DrillRow
    scenario: Scenario
    clock: DrillClock

    @property
    def id(self) -> int:
        return self.row.incident_id

    @property
    def ref(self) -> str:
        return self.row.ref

    @property
    def ended(self) -> bool:
        return self.row.ended_at is not None


def start(
    store: DrillStore,
    config: Config,
    scenario: Scenario,
    *,
    speed: float = DEFAULT_SPEED,
    wall: Clock = system_clock,
) -> Drill:
    """Declare the drill incident at drill time zero (the page), as the scenario's first alert
    arrives, and record its clock. The store runs on the drill's clock from here on."""
    speed = check_speed(speed)
    # Drill time stands still at zero while the page arrives: the declaration and the minute-0
    # injections are all at time zero exactly, none of them "late".
    now = wall()
    started = now.replace(microsecond=now.microsecond // 1000 * 1000)  # as stored: to the ms
    store.clock = DrillClock(started, started, speed, started, wall)
    incident = store.declare(
        scenario.title,
        scenario.starts_at_severity,
        config.author,
        service=scenario.service,
        runbook=scenario.runbook,
    )
    row = DrillRow(
        incident_id=incident.id,
        scenario=scenario.name,
        speed=speed,
        wall_start=started,
        zero=incident.declared_at,
        played_at=started,
        paused_at=incident.declared_at,
    )
    inject_due(store, Drill(row, scenario, store.clock))
    clock = DrillClock(started, incident.declared_at, speed, incident.declared_at, wall).resume()
    store.clock = clock
    row = store.add_drill(dataclasses.replace(row, wall_start=clock.wall_start, paused_at=None))
    return Drill(row, scenario, clock)


def open_drill(
    store: DrillStore, config: Config, drill_id: int, wall: Clock = system_clock
) -> Drill:
    """A drill to play on: the store now runs on its clock."""
    row = store.drill(drill_id)
    try:
        scenario = find(config, row.scenario)
    except LookupError as exc:
        raise ScenarioError(Path(row.scenario), f"{row.ref}: {exc}") from None
    clock = clock_of(row, wall)
    store.clock = clock
    return Drill(row, scenario, clock)


def inject_due(store: DrillStore, drill: Drill) -> list[Entry]:
    """Write what has arrived by now (drill time), each dated when it was due; what another
    process wrote first is not written again. Nothing arrives once the drill has ended."""
    if drill.ended:
        return []
    now = store.now()
    written: list[Entry] = []
    for injection in due_injections(drill.scenario, drill.row.zero, now, store.entries(drill.id)):
        late = injection.at < now
        entry = store.append_once(
            drill.id,
            injection.kind,
            injection.text,
            injection.author,
            meta=injection.meta,
            key=INJECT_KEY,
            at=injection.at if late else None,
            reason=injection.reason if late else None,
        )
        if entry is not None:
            written.append(entry)
    return written


def _runbook(config: Config, scenario: Scenario) -> Runbook | None:
    try:
        return find_runbook(config.runbook_dirs, scenario.runbook)
    except (LookupError, ValueError):
        return None


def score(store: DrillStore, config: Config, drill: Drill) -> Scorecard:
    """The scorecard as of the drill's end: the moment it was recorded, else its resolution,
    else now (a drill still being played is scored on what happened so far)."""
    incident = store.incident(drill.id)
    end = drill.row.ended_at
    if end is None:
        resolved = incident.status is Status.RESOLVED and incident.resolved_at is not None
        end = incident.resolved_at if resolved and incident.resolved_at else store.now()
    return score_drill(
        drill.scenario,
        incident,
        store.entries(drill.id),
        config.severities,
        _runbook(config, drill.scenario),
        now=end,
        speed=drill.row.speed,
        played_at=drill.row.played_at,
        drill=drill.ref,
    )


def settle(store: DrillStore, config: Config, drill: Drill, *, abandon: bool = False) -> Drill:
    """End the drill if its incident is resolved (or `abandon`: now), keeping its scorecard;
    the drill as it now stands. A drill that had ended stays as it ended."""
    if drill.ended:
        return drill
    incident = store.incident(drill.id)
    if incident.status is not Status.RESOLVED and not abandon:
        return drill
    card = score(store, config, drill)
    store.end_drill(drill.id, card.ended_at, card.to_json())
    return dataclasses.replace(drill, row=store.drill(drill.id))


def history(
    store: DrillStore, config: Config, wall: Clock = system_clock, scenario: str | None = None
) -> History:
    """Every ended drill, oldest first; a resolved drill not yet ended is ended now (scored in
    memory when the drills database is only read)."""
    results: list[DrillResult | Scorecard] = []
    for row in store.drills():
        if row.ended_at is None:
            try:
                drill = open_drill(store, config, row.incident_id, wall)
            except (LookupError, ScenarioError):
                continue  # its scenario is gone: it can be neither played nor scored
            if store.incident(drill.id).status is not Status.RESOLVED:
                continue  # still being played
            if store.read_only:
                results.append(score(store, config, drill))
                continue
            row = settle(store, config, drill).row
        if row.scorecard is None:
            continue
        try:
            results.append(DrillResult.from_json(row.scorecard))
        except ValueError:
            continue  # edited by hand: left out rather than fatal
    return drill_history(results, scenario)


def export_scorecard(config: Config, card: Scorecard) -> Path:
    """Write the Markdown scorecard into `[postmortem] dir` as `drill-<scenario>-<date>.md`
    (the post-mortem's export rules: atomic, a symlink written through); the path written."""
    path = Path(config.postmortem.dir).expanduser() / scorecard_filename(card)
    return write_export(path, render_markdown(card))
