"""Injections: due in order and on their conditions, dated when they were due, once each."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cockpit.domain import Entry, Kind, Status
from cockpit.drills.inject import INJECT_KEY, Injection, due_injections, is_injected
from cockpit.drills.parse import parse_scenario
from cockpit.drills.scenario import Scenario
from cockpit.store import Store
from tests.conftest import FakeClock
from tests.drills.timeline import ZERO, Drill, m

HEAD = """\
title = "Checkout fails"
service = "api"
starts_at_severity = "SEV-2"
expected_severity = "SEV-1"
runbook = "api-high-error-rate"
"""


def scenario(injects: str) -> Scenario:
    text = f"+++\n{HEAD}{injects}+++\n\nYou are paged.\n"
    return parse_scenario(text, Path("/drills/s.md"))


PAGE = """
[[inject]]
id = "page"
kind = "alert"
source = "grafana"
at = 0
text = "api-5xx-rate 6.8%"
"""


def message(inject_id: str, when: str, author: str = "Maya (support)") -> str:
    return (
        f'\n[[inject]]\nid = "{inject_id}"\nkind = "message"\nauthor = "{author}"\n'
        f'text = "{inject_id} says hello"\n{when}\n'
    )


def due(s: Scenario, now: float, drill: Drill | Sequence[Entry] = ()) -> list[Injection]:
    entries = drill.entries if isinstance(drill, Drill) else list(drill)
    return due_injections(s, ZERO, m(now), entries)


def ids(injections: Sequence[Injection]) -> list[str]:
    return [injection.inject.id for injection in injections]


def write(drill: Drill, injections: Sequence[Injection], minute: float) -> None:
    """Append what is due, as the integration will (dated when due, written at `minute`)."""
    for injection in injections:
        drill.add(
            injection.kind,
            injection.minute,
            injection.text,
            author=injection.author,
            meta=injection.meta,
            written=minute,
        )


# ---- timed injections ------------------------------------------------------------------------


def test_timed_injections_arrive_in_order() -> None:
    s = scenario(
        PAGE
        + message("ten", "at = 10")
        + '\n[[inject]]\nid = "pd"\nkind = "alert"\nsource = "pagerduty"\nat = 0\ntext = "#4812"\n'
        + message("three", "at = 3")
    )
    assert ids(due(s, 0)) == ["page", "pd"]
    assert ids(due(s, 5)) == ["page", "pd", "three"]
    assert ids(due(s, 9.99)) == ["page", "pd", "three"]
    everything = due(s, 10)
    assert ids(everything) == ["page", "pd", "three", "ten"]
    assert [i.minute for i in everything] == [0, 0, 3, 10]
    assert [i.at for i in everything] == [m(0), m(0), m(3), m(10)]


def test_what_an_injection_writes() -> None:
    s = scenario(
        PAGE
        + message("support", "at = 3")
        + '\n[[inject]]\nid = "metric"\nkind = "metric"\nsource = "grafana"\nstate = "recovers"\n'
        'text = "0.4%"\nat = 5\n'
    )
    page, support, metric = due(s, 5)
    assert (page.kind, page.author, page.text) == (Kind.EXTERNAL, "grafana", "api-5xx-rate 6.8%")
    assert page.key == "s/page"
    assert page.meta == {"event": "drill-inject", "inject": "s/page", "drill_kind": "alert"}
    assert (support.kind, support.author) == (Kind.NOTE, "Maya (support)")
    assert metric.meta["state"] == "recovers"
    assert metric.reason == "drill injection due at minute 5"
    assert tuple(INJECT_KEY) == ("event", "inject")


def test_injected_ones_are_not_due_again() -> None:
    s = scenario(PAGE + message("three", "at = 3"))
    drill = Drill()
    write(drill, due(s, 4), minute=4)
    assert due(s, 4, drill) == []
    assert due(s, 100, drill) == []
    assert all(is_injected(e) for e in drill.entries[1:])
    assert not is_injected(drill.entries[0])


def test_a_late_check_dates_each_injection_when_it_was_due() -> None:
    s = scenario(PAGE + message("three", "at = 3") + message("ten", "at = 10"))
    late = due(s, 60)
    assert [(i.inject.id, i.at) for i in late] == [("page", m(0)), ("three", m(3)), ("ten", m(10))]


# ---- conditions ------------------------------------------------------------------------------


def test_after_logged_counts_from_when_the_players_wrote_it() -> None:
    s = scenario(
        PAGE + message("recovery", 'after = { logged = ["rollback", "rolled back"] }\ndelay = 3')
    )
    drill = Drill()
    drill.note(5, "Checking the deploy history")
    assert ids(due(s, 30, drill)) == ["page"]
    drill.note(12, "We ROLLED   back api to v141", kind=Kind.ACTION)
    assert ids(due(s, 14.9, drill)) == ["page"]
    (recovery,) = due(s, 15, drill)[1:]
    assert recovery.at == m(15)
    # Backdated to minute 5 but written at 12: the drill's event is when it was written.
    backdated = Drill()
    backdated.note(5, "rollback done", written=12)
    assert [i.at for i in due(s, 40, backdated)[1:]] == [m(15)]


def test_logged_ignores_injections_and_kinds_not_asked_for() -> None:
    s = scenario(PAGE + message("recovery", 'after = { logged = "rollback" }'))
    drill = Drill()
    drill.add(
        Kind.NOTE, 2, "Dev suggests a rollback", meta={"event": "drill-inject", "inject": "x"}
    )
    drill.add(Kind.UPDATE, 3, "We are preparing a rollback", meta={"phase": "acknowledge"})
    drill.add(Kind.SYSTEM, 4, "rollback", meta={"event": "runbook"})
    assert ids(due(s, 30, drill)) == ["page"]
    widened = scenario(
        PAGE + message("recovery", 'after = { logged = "rollback", kind = "update" }')
    )
    assert [i.at for i in due(widened, 30, drill)[1:]] == [m(3)]


def test_after_status_is_reached_or_passed() -> None:
    s = scenario(PAGE + message("relapse", 'after = { status = "monitoring" }\ndelay = 4'))
    drill = Drill()
    drill.set_status(6, Status.IDENTIFIED)
    assert ids(due(s, 60, drill)) == ["page"]
    drill.set_status(10, Status.RESOLVED)  # straight past monitoring
    drill.set_status(11, Status.MONITORING)  # reopened: the first moment stands
    assert [i.at for i in due(s, 60, drill)[1:]] == [m(14)]


def test_after_severity() -> None:
    s = scenario(PAGE + message("vp", 'after = { severity = "SEV-1" }'))
    drill = Drill()
    drill.set_severity(4, "SEV-3")
    assert ids(due(s, 60, drill)) == ["page"]
    drill.set_severity(7, "SEV-1")
    drill.set_severity(9, "SEV-2")
    drill.set_severity(12, "SEV-1")
    assert [i.at for i in due(s, 60, drill)[1:]] == [m(7)]
    declared = Drill(severity="SEV-1")  # declared at it (the scenario said otherwise)
    assert [i.at for i in due(s, 60, declared)[1:]] == [m(0)]


def test_after_step_ticked_in_the_scenarios_runbook() -> None:
    s = scenario(PAGE + message("hint", "after = { step = 6 }\ndelay = 1"))
    drill = Drill()
    drill.tick(3, 6, done=False)
    drill.tick(4, 6, runbook="db-connection-pool-exhausted")
    drill.tick(5, 5)
    assert ids(due(s, 60, drill)) == ["page"]
    drill.tick(8, 6)
    drill.tick(9, 6, done=False)  # unticked: it was ticked at 8 all the same
    assert [i.at for i in due(s, 60, drill)[1:]] == [m(9)]


def test_after_the_nth_update() -> None:
    s = scenario(PAGE + message("thanks", "after = { update = 2 }"))
    drill = Drill()
    drill.update(4, "acknowledge")
    assert ids(due(s, 60, drill)) == ["page"]
    drill.update(20)
    drill.update(35)
    assert [i.at for i in due(s, 60, drill)[1:]] == [m(20)]


def test_after_a_role_is_given_not_cleared() -> None:
    s = scenario(PAGE + message("hello", 'after = { role = "communicator" }'))
    drill = Drill()
    drill.assign(2, "commander", "alice")
    drill.assign(3, "communicator", "")
    assert ids(due(s, 60, drill)) == ["page"]
    drill.assign(6, "communicator", "bob")
    assert [i.at for i in due(s, 60, drill)[1:]] == [m(6)]


def test_after_the_escalation() -> None:
    s = scenario(PAGE + message("lead", "after = { escalated = true }\ndelay = 2"))
    drill = Drill()
    assert ids(due(s, 60, drill)) == ["page"]
    drill.escalate(30)
    assert [i.at for i in due(s, 60, drill)[1:]] == [m(32)]


def test_a_chain_of_injections_fires_in_one_late_check() -> None:
    s = scenario(
        PAGE
        + message("falling", 'after = { logged = "rollback" }\ndelay = 3')
        + message("recovered", 'after = { injected = "falling" }\ndelay = 4')
        + message("relapse", 'after = { injected = "recovered" }\ndelay = 10')
    )
    drill = Drill()
    drill.note(10, "rollback started")
    assert ids(due(s, 16.9, drill)) == ["page", "falling"]
    chain = due(s, 100, drill)
    assert [(i.inject.id, i.minute) for i in chain] == [
        ("page", 0),
        ("falling", 13),
        ("recovered", 17),
        ("relapse", 27),
    ]


def test_unless_within_if_nobody_acknowledged() -> None:
    s = scenario(PAGE + message("tweet", "unless = { update = 1 }\nwithin = 10"))
    quiet = Drill()
    assert ids(due(s, 9.99, quiet)) == ["page"]
    (tweet,) = due(s, 10, quiet)[1:]
    assert tweet.at == m(10)
    for minute, tweets in ((9, False), (10, False), (10.5, True)):
        drill = Drill()
        drill.update(minute, "acknowledge")
        assert ("tweet" in ids(due(s, 60, drill))) is tweets, minute


def test_after_unless_within() -> None:
    s = scenario(
        PAGE
        + message(
            "vp", 'after = { severity = "SEV-1" }\nunless = { role = "communicator" }\nwithin = 5'
        )
    )
    drill = Drill()
    drill.set_severity(3, "SEV-1")
    assert ids(due(s, 7.9, drill)) == ["page"]
    assert [i.at for i in due(s, 8, drill)[1:]] == [m(8)]
    named = Drill()
    named.set_severity(3, "SEV-1")
    named.assign(7, "communicator", "bob")
    assert ids(due(s, 60, named)) == ["page"]
    already = Drill()
    already.assign(1, "communicator", "bob")  # before the severity: in time all the same
    already.set_severity(3, "SEV-1")
    assert ids(due(s, 60, already)) == ["page"]


def test_unless_another_injection_arrived() -> None:
    s = scenario(
        PAGE
        + message("stripe-green", "at = 34", author="status.stripe.com")
        + message(
            "too-soon",
            'after = { logged = "back on" }\nunless = { injected = "stripe-green" }\nwithin = 1',
        )
    )
    early = Drill()
    early.note(20, "Payments back on")
    assert ids(due(s, 60, early)) == ["page", "too-soon", "stripe-green"]
    assert [i.minute for i in due(s, 60, early)] == [0, 21, 34]
    patient = Drill()
    patient.note(40, "Payments back on")
    assert ids(due(s, 60, patient)) == ["page", "stripe-green"]


def test_conditional_and_timed_injections_interleave_by_moment() -> None:
    s = scenario(
        PAGE
        + message("twenty", "at = 20")
        + message("on-ack", "after = { update = 1 }\ndelay = 1")
        + message("five", "at = 5")
    )
    drill = Drill()
    drill.update(12, "acknowledge")
    assert ids(due(s, 30, drill)) == ["page", "five", "on-ack", "twenty"]


def test_entries_from_the_future_are_not_seen() -> None:
    s = scenario(PAGE + message("recovery", 'after = { logged = "rollback" }'))
    drill = Drill()
    drill.note(20, "rollback")
    assert ids(due(s, 19, drill)) == ["page"]


# ---- across processes -------------------------------------------------------------------------


def test_two_processes_inject_each_once(tmp_path: Path) -> None:
    """Two cockpits on one drill both see the same injections due; append_once keeps one."""
    s = scenario(
        PAGE + message("three", "at = 3") + message("tweet", "unless = { update = 1 }\nwithin = 10")
    )
    clock = FakeClock(ZERO)
    path = tmp_path / "drills.db"
    with Store.open(path, clock=clock) as first, Store.open(path, clock=clock) as second:
        incident = first.declare("Drill", "SEV-2", "drill")
        clock.set(m(12))
        seen_first = due_injections(s, ZERO, clock(), first.entries(incident.id))
        seen_second = due_injections(s, ZERO, clock(), second.entries(incident.id))
        assert ids(seen_first) == ids(seen_second) == ["page", "three", "tweet"]
        written = []
        for store, seen in ((first, seen_first), (second, seen_second)):
            for injection in seen:
                entry = store.append_once(
                    incident.id,
                    injection.kind,
                    injection.text,
                    injection.author,
                    meta=injection.meta,
                    key=INJECT_KEY,
                )
                written.append(entry is not None)
        assert written == [True, True, True, False, False, False]
        timeline = first.entries(incident.id)
    assert [e.meta.get("inject") for e in timeline if is_injected(e)] == [
        "s/page",
        "s/three",
        "s/tweet",
    ]
    assert due_injections(s, ZERO, m(60), timeline) == []


def test_backdating_cannot_cancel_an_injection_that_was_due() -> None:
    s = scenario(PAGE + message("hint", 'unless = { logged = "deploy" }\nwithin = 8'))
    late = Drill()
    late.note(5, "checked the deploy history", written=9)  # claims 5, written after the hint
    assert [i.at for i in due(s, 60, late)[1:]] == [m(8)]
    in_time = Drill()
    in_time.note(5, "checked the deploy history", written=7)
    assert ids(due(s, 60, in_time)) == ["page"]
