"""The scorecard on hand-built drill timelines: every check met, each check missed on its own,
a drill abandoned midway, and the areas that are not scored."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from cockpit.config import PACKAGE_RUNBOOKS
from cockpit.domain import DEFAULT_SEVERITIES, Kind, Severity, Status
from cockpit.drills.library import PACKAGE_DRILLS, find_scenario
from cockpit.drills.score import NOT_REACHED, score_drill
from cockpit.drills.scorecard import AREAS, Check, Scorecard
from cockpit.runbooks import Runbook, find_runbook
from tests.drills.timeline import ZERO, Drill, m

SCENARIO = find_scenario(
    [PACKAGE_DRILLS],
    "api-high-error-rate",
    runbook_dirs=[PACKAGE_RUNBOOKS],
    severities=DEFAULT_SEVERITIES,
)
RUNBOOK = find_runbook([PACKAGE_RUNBOOKS], "api-high-error-rate")
PLAYED = m(-7 * 60)  # the wall moment the drill started: 19:14 the evening before


def score(
    drill: Drill,
    now: float,
    runbook: Runbook | None = RUNBOOK,
    severities: tuple[Severity, ...] = DEFAULT_SEVERITIES,
) -> Scorecard:
    return score_drill(
        SCENARIO,
        drill.incident(),
        drill.entries,
        severities,
        runbook,
        now=m(now),
        speed=10,
        played_at=PLAYED,
    )


def good_drill(**changes: Callable[[Drill], None]) -> Drill:
    """The drill played well (the practice's story), each step replaceable by a test.

    Runbook linked (updates every 15 min), SEV-2 raised to SEV-1 at minute 3, communicator at
    4, acknowledged at 8, rolled back at 9, monitoring at 16, updates at 22 and 35, the
    escalation recorded at 30, resolved with the resolution update at 35.
    """
    drill = Drill(severity="SEV-2")
    steps: dict[str, Callable[[Drill], None]] = {
        "page": lambda d: d.alert(0),
        "commander": lambda d: d.assign(0, "commander", "alice"),
        "tick1": lambda d: d.tick(2, 1),
        "sev1": lambda d: d.set_severity(3, "SEV-1"),
        "communicator": lambda d: d.assign(4, "communicator", "bob"),
        "tick2": lambda d: d.tick(5, 2),
        "ack": lambda d: d.update(8, "acknowledge"),
        "rollback": lambda d: d.note(9, "kubectl rollout undo deployment/api", Kind.ACTION),
        "tick6": lambda d: d.tick(10, 6),
        "identified": lambda d: d.set_status(12, Status.IDENTIFIED),
        "monitoring": lambda d: d.set_status(16, Status.MONITORING),
        "tick9": lambda d: d.tick(17, 9),
        "update2": lambda d: d.update(22),
        "escalation": lambda d: d.escalate(30),
        "resolve": lambda d: d.update(35, "resolution", Status.RESOLVED),
    }
    unknown = set(changes) - set(steps)
    assert not unknown, unknown
    steps.update(changes)
    for step in steps.values():
        step(drill)
    return drill


def skip(_: Drill) -> None:
    """Leave this step out."""


def failed(card: Scorecard) -> list[str]:
    return [check.id for check in card.checks if not check.passed]


GOOD_CHECKS = [
    "acknowledge",
    "update-2",
    "update-3",
    "role-commander",
    "role-communicator",
    "steps",
    "step-order",
    "escalation",
    "resolution-update",
    "mitigate",
    "resolve",
    "severity",
]


def test_every_check_met() -> None:
    card = score(good_drill(), now=60)
    assert [check.id for check in card.checks] == GOOD_CHECKS
    assert failed(card) == []
    assert card.score == 100
    assert card.not_scored == ()
    assert card.resolved and card.ended_at == m(35)
    assert (card.acknowledge_minutes, card.deadlines_missed) == (8, 0)
    assert (card.mitigate_minutes, card.resolve_minutes) == (16, 35)
    assert (card.drill, card.scenario, card.speed, card.played_at) == (
        "DRILL-1",
        "api-high-error-rate",
        10,
        PLAYED,
    )
    rows = {check.id: (check.expected, check.actual, check.detail) for check in card.checks}
    communicator = (
        "held within 5 min of SEV-1 (minute 3)",
        "bob from minute 4, 1 min after it was required",
    )
    escalated = ("to Engineering Lead by minute 30 if still open", "at minute 30")
    assert rows == {
        "acknowledge": (
            "first update within 15 min of the page (SEV-1)",
            "8 min after the page",
            "",
        ),
        "update-2": ("by minute 23", "at minute 22", "1 min to spare"),
        "update-3": ("by minute 37", "at minute 35", "2 min to spare"),
        "role-commander": ("held within 5 min of SEV-2 (minute 0)", "alice from minute 0", ""),
        "role-communicator": (*communicator, "empty for 1 min while required"),
        "steps": ("steps 1, 2, 6, 9", "4 of 4", ""),
        "step-order": ("1 → 2 → 6 → 9", "1 → 2 → 6 → 9", ""),
        "escalation": (*escalated, "when it was due"),
        "resolution-update": ("published on resolving", "at minute 35", "with the resolution"),
        "mitigate": ("within 20 min of the page", "16 min", ""),
        "resolve": ("within 45 min of the page", "35 min", ""),
        "severity": ("SEV-1", "SEV-1 at minute 3", ""),
    }


# ---- each check missed on its own ------------------------------------------------------------


def test_acknowledged_late() -> None:
    card = score(
        good_drill(
            ack=lambda d: d.update(17, "acknowledge"),
            update2=lambda d: d.update(31),
        ),
        now=60,
    )
    assert failed(card) == ["acknowledge"]
    check = card.check("acknowledge")
    assert (check.expected, check.actual, check.detail) == (
        "first update within 15 min of the page (SEV-1)",
        "17 min after the page",
        "2 min late (SEV-1)",
    )
    assert card.acknowledge_minutes == 17 and card.deadlines_missed == 1


def test_never_acknowledged() -> None:
    card = score(
        good_drill(ack=skip, update2=skip, resolve=lambda d: d.set_status(35, Status.RESOLVED)),
        now=60,
    )
    assert failed(card) == ["acknowledge", "resolution-update"]
    assert ("updates", "no update fell due after the first (the first never went out)") in [
        (n.area, n.reason) for n in card.not_scored
    ]
    check = card.check("acknowledge")
    assert check.actual == "no status update"
    assert check.detail == "drill resolved at minute 35 without one"
    assert card.acknowledge_minutes is None


def test_an_update_deadline_missed() -> None:
    card = score(good_drill(update2=lambda d: d.update(26)), now=60)
    assert failed(card) == ["update-2"]
    check = card.check("update-2")
    assert (check.expected, check.actual, check.detail) == (
        "by minute 23",
        "at minute 26",
        "3 min late (SEV-1)",
    )
    assert card.check("update-3").expected == "by minute 41"
    assert card.deadlines_missed == 1


def test_an_update_never_sent_before_resolving() -> None:
    card = score(
        good_drill(update2=skip, resolve=lambda d: d.set_status(35, Status.RESOLVED)), now=60
    )
    assert "update-2" in failed(card)
    check = card.check("update-2")
    assert (check.actual, check.detail) == (
        "not sent",
        "12 min overdue when the drill resolved at minute 35",
    )


def test_a_role_never_filled() -> None:
    card = score(good_drill(communicator=skip), now=60)
    assert failed(card) == ["role-communicator"]
    check = card.check("role-communicator")
    assert (check.actual, check.detail) == ("nobody", "empty for 32 min while required")


def test_a_role_filled_late() -> None:
    card = score(good_drill(communicator=lambda d: d.assign(12, "communicator", "bob")), now=60)
    assert failed(card) == ["role-communicator"]
    check = card.check("role-communicator")
    assert (check.actual, check.detail) == (
        "bob from minute 12, 9 min after it was required",
        "empty for 9 min while required",
    )


def test_a_role_left_empty_midway() -> None:
    def handover(d: Drill) -> None:
        d.assign(4, "communicator", "bob")
        d.assign(14, "communicator", "")
        d.assign(21, "communicator", "carol")

    card = score(good_drill(communicator=handover), now=60)
    assert failed(card) == ["role-communicator"]
    assert card.check("role-communicator").detail == "empty for 8 min while required"


def test_runbook_steps_not_all_ticked() -> None:
    card = score(good_drill(tick9=lambda d: d.tick(17, 7)), now=60)
    assert failed(card) == ["steps"]
    check = card.check("steps")
    assert (check.actual, check.detail) == ("3 of 4", "not ticked: 9; also ticked: 7")


def test_a_step_unticked_is_not_ticked() -> None:
    def flip(d: Drill) -> None:
        d.tick(17, 9)
        d.tick(18, 9, done=False)

    assert failed(score(good_drill(tick9=flip), now=60)) == ["steps"]


def test_runbook_steps_out_of_order() -> None:
    card = score(good_drill(tick2=lambda d: d.tick(11, 2), tick6=lambda d: d.tick(10, 6)), now=60)
    assert failed(card) == ["step-order"]
    check = card.check("step-order")
    assert (check.actual, check.detail) == ("1 → 6 → 2 → 9", "6 ticked before 2")


def test_steps_of_another_runbook_do_not_count() -> None:
    card = score(
        good_drill(tick9=lambda d: d.tick(17, 9, runbook="db-connection-pool-exhausted")), now=60
    )
    assert failed(card) == ["steps"]


def test_escalation_not_recorded() -> None:
    card = score(good_drill(escalation=skip), now=60)
    assert failed(card) == ["escalation"]
    assert card.check("escalation").actual == "not recorded"


def test_escalation_recorded_late() -> None:
    def later(d: Drill) -> None:
        d.update(36)
        d.update(40, "resolution", Status.RESOLVED)

    card = score(good_drill(escalation=lambda d: d.escalate(36.5), resolve=later), now=60)
    assert failed(card) == ["escalation"]
    assert card.check("escalation").detail == "6.5 min after it was due"


def test_no_resolution_update() -> None:
    card = score(good_drill(resolve=lambda d: d.set_status(35, Status.RESOLVED)), now=60)
    assert failed(card) == ["resolution-update"]
    check = card.check("resolution-update")
    assert (check.actual, check.detail) == ("none", "resolved at minute 35 without one")


def test_resolution_update_long_after_resolving() -> None:
    def late(d: Drill) -> None:
        d.set_status(35, Status.RESOLVED)
        d.update(47, "resolution")

    card = score(good_drill(resolve=late), now=60)
    assert failed(card) == ["resolution-update"]
    assert card.check("resolution-update").detail == "12 min after resolving"


def test_resolution_update_by_template_or_status() -> None:
    def by_template(d: Drill) -> None:
        d.set_status(35, Status.RESOLVED)
        d.add(Kind.UPDATE, 36, "fixed", meta={"template": "resolution"})

    assert failed(score(good_drill(resolve=by_template), now=60)) == []
    by_status = good_drill(resolve=lambda d: d.update(35, "update", Status.RESOLVED))
    assert failed(score(by_status, now=60)) == []


def test_mitigated_late() -> None:
    card = score(good_drill(monitoring=lambda d: d.set_status(25, Status.MONITORING)), now=60)
    assert failed(card) == ["mitigate"]
    assert card.check("mitigate").actual == "25 min"


def test_never_monitoring_counts_mitigation_at_resolution() -> None:
    card = score(good_drill(monitoring=skip), now=60)
    assert failed(card) == ["mitigate"]
    check = card.check("mitigate")
    assert (check.actual, check.detail) == (
        "35 min",
        "never set to monitoring: counted at resolution",
    )


def test_resolved_late() -> None:
    def late(d: Drill) -> None:
        d.update(36)
        d.update(50, "resolution", Status.RESOLVED)

    card = score(good_drill(resolve=late), now=60)
    assert failed(card) == ["resolve"]
    assert card.check("resolve").actual == "50 min"


def test_expected_severity_never_reached() -> None:
    card = score(good_drill(sev1=skip), now=60)
    assert failed(card) == ["severity"]
    check = card.check("severity")
    assert (check.actual, check.detail) == ("SEV-2", "highest was SEV-2")
    assert [c.id for c in card.checks if c.area == "roles"] == ["role-commander"]


def test_over_classified_is_not_the_expected_severity() -> None:
    card = score(good_drill(sev1=lambda d: d.set_severity(3, "SEV-3")), now=60)
    assert "severity" in failed(card)
    assert card.check("severity").actual == "SEV-3"


# ---- a drill abandoned midway -----------------------------------------------------------------


def test_abandoned_midway_is_scored_on_what_happened() -> None:
    drill = good_drill(
        identified=skip,
        monitoring=skip,
        tick9=skip,
        update2=skip,
        escalation=skip,
        resolve=skip,
    )
    card = score(drill, now=12)
    assert not card.resolved and card.ended_at == m(12)
    by_id = {check.id: check for check in card.checks}
    met = {"acknowledge", "role-commander", "role-communicator", "step-order", "severity"}
    assert {i for i, c in by_id.items() if c.passed} == met
    for check_id in ("steps", "escalation", "resolution-update", "mitigate", "resolve"):
        assert by_id[check_id].detail.endswith(NOT_REACHED), check_id
    assert by_id["steps"].detail == f"not ticked: 9; {NOT_REACHED}"
    assert by_id["resolve"].actual == "not resolved"
    assert [n.area for n in card.not_scored] == ["updates"]
    assert card.not_scored[0].reason == "no update fell due after the first"
    assert card.score == round(100 * (1 + 1 + 0.5 + 0 + 0 + 0 + 0 + 1) / 8)
    assert (card.mitigate_minutes, card.resolve_minutes) == (None, None)


def test_abandoned_with_an_update_overdue() -> None:
    drill = good_drill(monitoring=skip, tick9=skip, update2=skip, escalation=skip, resolve=skip)
    card = score(drill, now=40)
    check = card.check("update-2")
    assert (check.actual, check.passed) == ("not sent", False)
    assert check.detail == f"17 min overdue when the drill ended at minute 40; {NOT_REACHED}"
    assert card.check("escalation").actual == "not recorded"


def test_abandoned_before_acknowledging() -> None:
    drill = Drill()
    drill.alert(0)
    card = score(drill, now=5)
    check = card.check("acknowledge")
    assert (check.passed, check.actual) == (False, "no status update")
    assert check.detail == f"drill ended at minute 5 without one; {NOT_REACHED}"
    assert card.check("resolution-update").detail == NOT_REACHED


def test_reopened_counts_as_not_resolved() -> None:
    drill = good_drill()
    drill.set_status(38, Status.INVESTIGATING)
    card = score(drill, now=50)
    assert not card.resolved
    assert "resolve" in failed(card)


# ---- what is not scored, and policies ------------------------------------------------------


def test_without_the_runbook() -> None:
    card = score(good_drill(), now=60, runbook=None)
    assert [n.area for n in card.not_scored] == ["runbook", "escalation"]
    assert card.not_scored[0].reason == "runbook 'api-high-error-rate' could not be read"
    assert "steps" not in [c.id for c in card.checks]
    # No runbook: the severity's cadence (every 30) and the scenario's mitigation limit.
    assert card.check("update-2").expected == "by minute 38"
    assert card.check("mitigate").expected == "within 20 min of the page"


def test_the_runbook_cadence_applies_only_while_linked() -> None:
    drill = good_drill(update2=lambda d: d.update(30))
    assert failed(score(drill, now=60)) == ["update-2"]
    unlinked = dataclasses.replace(drill, runbook=None)
    assert failed(score(unlinked, now=60)) == []


def test_resolved_before_escalation_was_due() -> None:
    early = good_drill(
        escalation=skip, update2=skip, resolve=lambda d: d.update(20, "resolution", Status.RESOLVED)
    )
    card = score(early, now=60)
    assert ("escalation", "resolved at minute 20, before it was due (minute 30)") in [
        (n.area, n.reason) for n in card.not_scored
    ]
    assert failed(card) == []


def test_a_severity_that_asks_for_nothing() -> None:
    quiet = (Severity("SEV-2"), Severity("SEV-1", required_roles=("commander",)))
    drill = Drill(runbook=None)  # a linked runbook's cadence would ask for updates
    drill.alert(0)
    drill.set_severity(3, "SEV-1")
    drill.assign(3, "commander", "alice")
    drill.set_status(20, Status.RESOLVED)
    card = score(drill, now=30, severities=quiet)
    areas = [n.area for n in card.not_scored]
    assert areas == ["acknowledge", "updates", "runbook", "escalation"]
    assert card.not_scored[0].reason == "SEV-1 asks for no status update"


def test_a_missed_deadline_lifted_by_a_lower_severity() -> None:
    drill = Drill(severity="SEV-1", runbook=None)
    drill.alert(0)
    drill.assign(0, "commander", "alice")
    drill.assign(0, "communicator", "bob")
    drill.set_severity(20, "SEV-2")
    drill.update(25, "acknowledge")
    drill.update(50, "resolution", Status.RESOLVED)
    card = score(drill, now=60)
    check = card.check("acknowledge")
    assert check.passed is False
    assert check.detail == "5 min late under SEV-1, until the severity changed"
    assert check.expected == "first update within 15 min of the page (SEV-1)"


def test_time_is_measured_from_the_first_alert() -> None:
    drill = good_drill(page=lambda d: d.alert(2))
    card = score(drill, now=60)
    assert card.check("acknowledge").actual == "6 min after the page"
    assert card.acknowledge_minutes == 6
    assert card.check("resolve").actual == "33 min"


def test_the_json_shape() -> None:
    data = score(good_drill(update2=lambda d: d.update(26)), now=60).to_json()
    assert set(data) == {
        "drill",
        "scenario",
        "title",
        "speed",
        "played_at",
        "started_at",
        "ended_at",
        "duration_minutes",
        "resolved",
        "score",
        "checks",
        "not_scored",
        "figures",
    }
    assert data["started_at"] == "2026-11-27T02:14:00.000Z"
    assert data["ended_at"] == "2026-11-27T02:49:00.000Z"
    assert data["duration_minutes"] == 35
    assert data["figures"] == {
        "acknowledge_minutes": 8.0,
        "deadlines_missed": 1,
        "mitigate_minutes": 16.0,
        "resolve_minutes": 35.0,
    }
    checks = data["checks"]
    assert isinstance(checks, list)
    assert {"name", "expected", "actual", "passed", "detail"} <= set(checks[0])
    assert data["score"] == round(100 * (8 + 1 / 2) / 9)


@pytest.mark.parametrize(
    ("passed", "score"),
    [({}, 100), ({"a1": False}, round(100 * 8 / 9)), ({"u1": False}, round(100 * (8 + 1 / 2) / 9))],
)
def test_every_area_weighs_the_same(passed: dict[str, bool], score: int) -> None:
    checks = [
        Check("a1", "acknowledge", "a", "", "", passed.get("a1", True)),
        Check("u1", "updates", "u", "", "", passed.get("u1", True)),
        Check("u2", "updates", "u", "", "", True),
        *(
            Check(area, area, area, "", "", True)
            for area in AREAS
            if area not in ("acknowledge", "updates")
        ),
    ]
    card = Scorecard("DRILL-1", "s", "t", 10, ZERO, ZERO, ZERO, True, tuple(checks))
    assert card.score == score
    assert Scorecard("DRILL-1", "s", "t", 10, ZERO, ZERO, ZERO, True, ()).score == 0
    with pytest.raises(LookupError):
        card.check("nope")
