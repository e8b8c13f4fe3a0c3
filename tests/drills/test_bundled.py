"""The bundled scenarios: each parses and is checked against its runbook, and each is played
through a real store on the drill clock (injecting what is due as the app's tick will), once
by a team that does it well and once by one that does not. Between the two plays every
injection arrives, so no condition is unsatisfiable; the good plays score 100."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit.config import PACKAGE_RUNBOOKS
from cockpit.domain import DEFAULT_SEVERITIES, Kind, Status
from cockpit.drills.clock import DrillClock
from cockpit.drills.inject import INJECT_KEY, due_injections, is_injected
from cockpit.drills.library import PACKAGE_DRILLS, load_scenarios, scenario_files
from cockpit.drills.scenario import Scenario
from cockpit.drills.score import score_drill
from cockpit.drills.scorecard import Scorecard
from cockpit.runbooks import Runbook, find_runbook, record_escalation, set_step
from cockpit.store import Store
from tests.conftest import FakeClock
from tests.drills.timeline import ZERO

WALL = datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)
ROLES = ["commander", "communicator"]
NAMES = ["api-high-error-rate", "db-connection-pool-exhausted", "third-party-dependency-down"]


def bundled() -> dict[str, Scenario]:
    scenarios, errors = load_scenarios(
        [PACKAGE_DRILLS],
        runbook_dirs=[PACKAGE_RUNBOOKS],
        severities=DEFAULT_SEVERITIES,
        roles=ROLES,
    )
    assert errors == []
    return {s.name: s for s in scenarios}


def test_one_scenario_per_bundled_runbook() -> None:
    scenarios = bundled()
    runbooks = sorted(p.stem for p in PACKAGE_RUNBOOKS.glob("*.md"))
    assert sorted(scenarios) == NAMES == runbooks
    for name, scenario in scenarios.items():
        assert scenario.runbook == name
        assert scenario.page.at == 0
        assert scenario.description
        kinds = {inject.kind.value for inject in scenario.injects}
        assert {"alert", "message", "metric"} <= kinds, name
        assert any(i.id == "tweet" and i.unless is not None for i in scenario.injects), name
        assert any(i.state == "relapses" for i in scenario.injects), name


def test_the_scenarios_ship_with_the_package() -> None:
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"bundled_drills/*.md"' in pyproject
    files, errors = scenario_files([PACKAGE_DRILLS])
    assert [p.stem for p in files] == NAMES and errors == []


# ---- playing a drill through the store --------------------------------------------------------


@dataclass
class Play:
    """One drill played at 10×: the store stamps entries in drill time."""

    scenario: Scenario
    runbook: Runbook
    store: Store
    wall: FakeClock
    clock: DrillClock
    incident_id: int

    def minute(self) -> float:
        return self.clock.minute(self.clock.now())

    def tick(self) -> None:
        """What the app does every second: inject what is due, record a due escalation."""
        timeline = self.store.entries(self.incident_id)
        for injection in due_injections(self.scenario, ZERO, self.clock.now(), timeline):
            self.store.append_once(
                self.incident_id,
                injection.kind,
                injection.text,
                injection.author,
                meta=injection.meta,
                key=INJECT_KEY,
            )
        record_escalation(self.store, self.incident_id, self.runbook)

    def until(self, minute: float) -> None:
        while self.minute() < minute:
            self.wall.advance(seconds=1)  # one tick of the app: 10 drill seconds
            self.tick()

    # what the players do

    def step(self, number: int) -> None:
        set_step(self.store, self.incident_id, self.runbook, number, True, "alice")

    def log(self, text: str, kind: Kind = Kind.NOTE) -> None:
        self.store.append(self.incident_id, kind, text, "alice")

    def publish(self, phase: str, status: Status | None = None) -> None:
        text = f"{phase}: we are working on it"
        self.store.publish(self.incident_id, text, "bob", status=status, meta={"phase": phase})

    def severity(self, name: str) -> None:
        self.store.set_severity(self.incident_id, name, "alice")

    def status(self, status: Status) -> None:
        self.store.set_status(self.incident_id, status, "alice")

    def assign(self, role: str, person: str) -> None:
        self.store.assign(self.incident_id, role, person, "alice")

    def injected(self) -> list[str]:
        """The ids of the injections that arrived, in timeline order."""
        entries = self.store.entries(self.incident_id)
        return [str(e.meta["inject"]).split("/", 1)[1] for e in entries if is_injected(e)]

    def score(self) -> Scorecard:
        incident = self.store.incident(self.incident_id)
        entries = self.store.entries(self.incident_id)
        return score_drill(
            self.scenario,
            incident,
            entries,
            DEFAULT_SEVERITIES,
            self.runbook,
            now=self.clock.now(),
            speed=self.clock.speed,
            played_at=WALL,
        )


Script = list[tuple[float, Callable[[Play], None]]]


@pytest.fixture
def play(tmp_path: Path) -> Iterator[Callable[[str, Script, float], Play]]:
    stores: list[Store] = []

    def run(name: str, script: Script, end: float) -> Play:
        scenario = bundled()[name]
        runbook = find_runbook([PACKAGE_RUNBOOKS], scenario.runbook)
        wall = FakeClock(WALL)
        clock = DrillClock.start(wall, speed=10, zero=ZERO)
        store = Store.open(tmp_path / f"{name}-{len(stores)}.db", clock=clock)
        stores.append(store)
        incident = store.declare(
            scenario.title,
            scenario.starts_at_severity,
            "drill",
            service=scenario.service,
            runbook=scenario.runbook,
            roles={"commander": "alice"},
        )
        played = Play(scenario, runbook, store, wall, clock, incident.id)
        played.tick()
        for minute, action in sorted(script, key=lambda item: item[0]):
            played.until(minute)
            action(played)
            played.tick()
        played.until(end)
        return played

    yield run
    for store in stores:
        store.close()


def everything_arrives(good: Play, bad: Play) -> None:
    every = {inject.id for inject in good.scenario.injects}
    assert set(good.injected()) | set(bad.injected()) == every


API_GOOD: Script = [
    (1, lambda p: p.step(1)),
    (2, lambda p: p.log("api v142 went out at 02:01, 13 min before the alert")),
    (3, lambda p: p.severity("SEV-1")),
    (3, lambda p: p.assign("communicator", "bob")),
    (4, lambda p: p.step(2)),
    (5, lambda p: p.publish("acknowledge")),
    (6, lambda p: p.log("Roll back v142 before digging further", Kind.DECISION)),
    (6, lambda p: p.log("kubectl rollout undo deployment/api -n production", Kind.ACTION)),
    (7, lambda p: p.step(6)),
    (10, lambda p: p.status(Status.IDENTIFIED)),
    (14, lambda p: p.status(Status.MONITORING)),
    (15, lambda p: p.step(9)),
    (19, lambda p: p.log("Retry storm from mobile clients, holding at monitoring")),
    (20, lambda p: p.publish("update")),
    (26, lambda p: p.publish("resolution", Status.RESOLVED)),
]
API_SLEEPY: Script = [
    (12, lambda p: p.severity("SEV-1")),
    (14, lambda p: p.log("rolled back to v141", Kind.ACTION)),
    (22, lambda p: p.status(Status.MONITORING)),
    (40, lambda p: p.status(Status.RESOLVED)),
]


def test_api_high_error_rate_played_well_and_badly(play: Callable[..., Play]) -> None:
    good = play("api-high-error-rate", API_GOOD, 30)
    assert good.injected() == [
        "page",
        "2",
        "3",
        "checkout-drop",
        "5",
        "falling",
        "recovered",
        "relapse",
        "12",
    ]
    card = good.score()
    assert [c.id for c in card.checks if not c.passed] == []
    assert card.score == 100
    assert [n.area for n in card.not_scored] == ["escalation"]  # resolved before minute 30
    bad = play("api-high-error-rate", API_SLEEPY, 45)
    assert [i for i in bad.injected() if i in ("hint", "tweet", "vp")] == ["hint", "tweet", "vp"]
    everything_arrives(good, bad)
    poor = bad.score()
    assert {"acknowledge", "role-communicator", "steps", "resolution-update"} <= {
        c.id for c in poor.checks if not c.passed
    }
    assert poor.check("escalation").passed  # the cockpit recorded it at minute 30
    assert poor.score < 50


DB_GOOD: Script = [
    (1, lambda p: p.step(1)),
    (2, lambda p: p.severity("SEV-2")),
    (3, lambda p: p.step(2)),
    (4, lambda p: p.step(3)),
    (5, lambda p: p.publish("acknowledge")),
    (6, lambda p: p.step(5)),
    (6, lambda p: p.log("HPA took api from 6 to 12 replicas: 12 x 20 = 240 > 160")),
    (7, lambda p: p.log("pg_terminate_backend on 19 idle in transaction sessions", Kind.ACTION)),
    (7, lambda p: p.step(6)),
    (8, lambda p: p.log("kubectl scale deployment api --replicas=6, HPA max 6", Kind.ACTION)),
    (8, lambda p: p.step(9)),
    (13, lambda p: p.status(Status.MONITORING)),
    (14, lambda p: p.step(10)),
    (18, lambda p: p.publish("resolution", Status.RESOLVED)),
]
DB_SLEEPY: Script = [
    (10, lambda p: p.log("Terminated the idle in transaction sessions", Kind.ACTION)),
    (22, lambda p: p.log("Scaled api back to 6 replicas", Kind.ACTION)),
    (30, lambda p: p.status(Status.RESOLVED)),
]


def test_db_connection_pool_exhausted_played_well_and_badly(play: Callable[..., Play]) -> None:
    good = play("db-connection-pool-exhausted", DB_GOOD, 20)
    assert good.injected() == ["1", "2", "3", "4", "5", "relief", "recovered"]
    card = good.score()
    assert [c.id for c in card.checks if not c.passed] == []
    assert card.score == 100
    bad = play("db-connection-pool-exhausted", DB_SLEEPY, 35)
    assert bad.injected()[-5:] == ["tweet", "relief", "relapse", "9", "recovered"]
    everything_arrives(good, bad)
    poor = bad.score()
    assert not poor.check("severity").passed  # stayed SEV-3
    assert poor.check("escalation").passed  # recorded at 20 by the cockpit
    assert "acknowledge" in [n.area for n in poor.not_scored]  # SEV-3 asks for no update


TP_GOOD: Script = [
    (1, lambda p: p.step(1)),
    (2, lambda p: p.step(2)),
    (2, lambda p: p.severity("SEV-1")),
    (2, lambda p: p.assign("communicator", "bob")),
    (3, lambda p: p.step(3)),
    (4, lambda p: p.publish("acknowledge")),
    (5, lambda p: p.step(4)),
    (6, lambda p: p.log("kubectl set env deployment/api PAYMENTS_ENABLED=false", Kind.ACTION)),
    (6, lambda p: p.step(5)),
    (7, lambda p: p.step(6)),
    (8, lambda p: p.log("Ticket 4471 opened with Stripe support")),
    (8, lambda p: p.step(7)),
    (10, lambda p: p.status(Status.IDENTIFIED)),
    (12, lambda p: p.status(Status.MONITORING)),
    (30, lambda p: p.publish("update")),
    (38, lambda p: p.log("PAYMENTS_ENABLED=true, payments back on", Kind.ACTION)),
    (38, lambda p: p.step(8)),
    (44, lambda p: p.publish("resolution", Status.RESOLVED)),
]
TP_HASTY: Script = [
    (15, lambda p: p.log("Payments back on after a restart", Kind.ACTION)),
    (30, lambda p: p.status(Status.RESOLVED)),
]


def test_third_party_dependency_down_played_well_and_badly(play: Callable[..., Play]) -> None:
    good = play("third-party-dependency-down", TP_GOOD, 46)
    assert "too-soon" not in good.injected() and "drained" in good.injected()
    card = good.score()
    assert [c.id for c in card.checks if not c.passed] == []
    assert card.check("steps").detail == "also ticked: 7"
    assert card.score == 100
    bad = play("third-party-dependency-down", TP_HASTY, 40)
    assert "too-soon" in bad.injected() and "drained" not in bad.injected()
    everything_arrives(good, bad)
