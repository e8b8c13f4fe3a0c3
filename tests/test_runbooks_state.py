"""Checklist state from the timeline, escalation recorded once, and the board's use of both."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from cockpit.board import build_board, incident_json
from cockpit.config import Config, RunbooksConfig
from cockpit.domain import Kind, Status
from cockpit.runbooks import (
    Runbook,
    escalation_for,
    find_runbook,
    record_escalation,
    set_step,
    step_state,
    toggle_step,
)
from cockpit.store import Store
from tests.conftest import T0, FakeClock

API = "api-high-error-rate"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(runbooks=RunbooksConfig(dirs=[str(tmp_path / "runbooks")]))


@pytest.fixture
def runbook(config: Config) -> Runbook:
    return find_runbook(config.runbook_dirs, API)


def declare(store: Store, runbook: str | None = API) -> int:
    return store.declare("Checkout API errors", "SEV-2", "alice", runbook=runbook).id


# ---- ticking steps --------------------------------------------------------------------------


def test_tick_and_untick_write_step_entries(store: Store, runbook: Runbook) -> None:
    incident = declare(store)
    done = set_step(store, incident, runbook, 2, True, "alice")
    assert done is not None
    assert done.kind is Kind.STEP
    assert done.text == "runbook step 2 done: Check error distribution"
    assert dict(done.meta) == {"runbook": API, "step": 2, "done": True}
    assert step_state(store, incident, API) == {2}

    undone = set_step(store, incident, runbook, 2, False, "bob")
    assert undone is not None
    assert undone.text == "runbook step 2 undone: Check error distribution"
    assert dict(undone.meta) == {"runbook": API, "step": 2, "done": False}
    assert undone.author == "bob"
    assert step_state(store, incident, API) == set()


def test_setting_a_step_to_its_current_state_writes_nothing(store: Store, runbook: Runbook) -> None:
    incident = declare(store)
    assert set_step(store, incident, runbook, 1, False, "alice") is None
    set_step(store, incident, runbook, 1, True, "alice")
    assert set_step(store, incident, runbook, 1, True, "alice") is None
    assert store.entry_count(incident, kinds=[Kind.STEP]) == 1


def test_toggle_flips_and_state_survives_reopening(
    db_path: Path, clock: FakeClock, runbook: Runbook
) -> None:
    with Store.open(db_path, clock=clock) as store:
        incident = declare(store)
        toggle_step(store, incident, runbook, 1, "alice")
        toggle_step(store, incident, runbook, 3, "alice")
        toggle_step(store, incident, runbook, 3, "alice")
        toggle_step(store, incident, runbook, 6, "alice")
    with Store.open(db_path, clock=clock) as reopened:
        assert step_state(reopened, incident, API) == {1, 6}
        texts = [e.text for e in reopened.entries(incident, kinds=[Kind.STEP])]
    assert texts == [
        "runbook step 1 done: Check recent deployments",
        "runbook step 3 done: Check the database connection pool",
        "runbook step 3 undone: Check the database connection pool",
        "runbook step 6 done: Roll back a bad deployment",
    ]


def test_steps_of_another_runbook_do_not_count(store: Store, config: Config) -> None:
    incident = declare(store)
    api = find_runbook(config.runbook_dirs, API)
    pool = find_runbook(config.runbook_dirs, "db-connection-pool-exhausted")
    set_step(store, incident, api, 1, True, "alice")
    set_step(store, incident, pool, 2, True, "alice")
    assert step_state(store, incident, API) == {1}
    assert step_state(store, incident, pool.name) == {2}


def test_unknown_step_is_refused_before_writing(store: Store, runbook: Runbook) -> None:
    incident = declare(store)
    with pytest.raises(LookupError, match="has no step 10 \\(it has 9 steps\\)"):
        set_step(store, incident, runbook, 10, True, "alice")
    with pytest.raises(LookupError):
        toggle_step(store, incident, runbook, 0, "alice")
    assert store.entry_count(incident, kinds=[Kind.STEP]) == 0


# ---- escalation ---------------------------------------------------------------------------


def test_escalation_deadline_while_open(store: Store, runbook: Runbook, clock: FakeClock) -> None:
    incident = store.incident(declare(store))
    escalation = escalation_for(incident, runbook)
    assert escalation is not None
    assert escalation.due_at == T0 + timedelta(minutes=30)
    assert escalation.label(T0 + timedelta(minutes=23, seconds=41)) == (
        "escalate to Engineering Lead in 06:19"
    )
    assert escalation.label(T0 + timedelta(minutes=32, seconds=10)) == (
        "escalate to Engineering Lead now: due 02:10 ago"
    )
    assert not escalation.due(T0 + timedelta(minutes=29, seconds=59))
    assert escalation.due(T0 + timedelta(minutes=30))
    store.set_status(incident.id, Status.RESOLVED, "alice")
    assert escalation_for(store.incident(incident.id), runbook) is None


def test_escalation_is_recorded_once_when_due(
    store: Store, runbook: Runbook, clock: FakeClock
) -> None:
    incident = declare(store)
    clock.advance(minutes=29, seconds=59)
    assert record_escalation(store, incident, runbook) is None  # not due yet
    clock.advance(seconds=1)
    entry = record_escalation(store, incident, runbook)
    assert entry is not None
    assert entry.kind is Kind.ESCALATION
    assert entry.at == T0 + timedelta(minutes=30)
    assert entry.text == (
        "escalate to Engineering Lead: not resolved 30 min after declaring "
        "(runbook api-high-error-rate)"
    )
    assert entry.meta["runbook"] == API
    assert entry.meta["to"] == "Engineering Lead"
    clock.advance(minutes=5)
    assert record_escalation(store, incident, runbook) is None
    assert store.entry_count(incident, kinds=[Kind.ESCALATION]) == 1


def test_escalation_once_across_processes(
    db_path: Path, clock: FakeClock, runbook: Runbook
) -> None:
    with Store.open(db_path, clock=clock) as store:
        incident = declare(store)
    clock.advance(minutes=31)
    barrier = threading.Barrier(6)
    results: list[object] = []

    def contender() -> None:
        # Each thread is its own connection, as another `cockpit` process would be.
        with Store.open(db_path, clock=clock) as mine:
            barrier.wait()
            results.append(record_escalation(mine, incident, runbook))

    threads = [threading.Thread(target=contender) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(1 for r in results if r is not None) == 1
    with Store.open(db_path, clock=clock) as store:
        assert store.entry_count(incident, kinds=[Kind.ESCALATION]) == 1
        # A restarted app finds it recorded and does not write it again.
        assert record_escalation(store, incident, runbook) is None


def test_no_escalation_without_a_rule(store: Store, tmp_path: Path, clock: FakeClock) -> None:
    directory = tmp_path / "runbooks"
    directory.mkdir()
    (directory / "quiet.md").write_text("# Quiet\n\n## Do\n\n1. Nothing\n")
    quiet = find_runbook([directory], "quiet")
    incident = declare(store, "quiet")
    clock.advance(hours=5)
    assert record_escalation(store, incident, quiet) is None
    assert escalation_for(store.incident(incident), quiet) is None


def test_append_once_and_find_entry(store: Store) -> None:
    incident = declare(store)
    meta = {"runbook": "a", "to": "x"}
    first = store.append_once(incident, Kind.ESCALATION, "one", "me", meta=meta, key=["runbook"])
    assert first is not None
    again = {"runbook": "a", "to": "y"}
    assert (
        store.append_once(incident, Kind.ESCALATION, "x", "me", meta=again, key=["runbook"]) is None
    )
    both = ["runbook", "to"]
    assert store.append_once(incident, Kind.ESCALATION, "y", "me", meta=again, key=both)
    assert store.append_once(incident, Kind.ESCALATION, "y", "me", meta=again, key=both) is None
    other = {"runbook": "b"}
    assert store.append_once(incident, Kind.ESCALATION, "b", "me", meta=other, key=["runbook"])
    found = store.find_entry(incident, Kind.ESCALATION, {"runbook": "a"})
    assert found is not None and found.id == first.id
    assert store.find_entry(incident, Kind.NOTE, {"runbook": "a"}) is None
    with pytest.raises(ValueError, match="not a meta field name"):
        store.find_entry(incident, Kind.NOTE, {"x') OR 1=1 --": "a"})


# ---- the board ---------------------------------------------------------------------------


def test_board_uses_the_runbook_cadence_and_escalation(
    store: Store, config: Config, clock: FakeClock
) -> None:
    incident = declare(store)
    clock.advance(minutes=10)
    store.publish(incident, "We are investigating.", "bob")
    board = build_board(store, config, incident, clock())
    assert board.runbook is not None and board.runbook.name == API
    assert board.runbook_minutes == 15
    assert board.deadline is not None
    assert board.deadline.due_at == T0 + timedelta(minutes=25)  # every 15, not SEV-2's 30
    assert board.escalation is not None
    assert board.escalation.due_at == T0 + timedelta(minutes=30)
    assert board.escalation.recorded_at is None
    assert not board.escalation_due

    clock.advance(minutes=20)
    record_escalation(store, incident, board.runbook)
    board = build_board(store, config, incident, clock())
    assert board.escalation_due
    assert board.escalation is not None and board.escalation.recorded_at == clock()
    data = incident_json(store, board)
    assert data["escalation"]["recorded_at"] == "2026-11-27T02:44:00.000Z"
    assert data["checklist"][0] == {
        "step": 1,
        "title": "Check recent deployments",
        "done": False,
        "command": "kubectl rollout history deployment/api -n production",
    }


def test_board_without_runbook_or_with_a_missing_one(store: Store, config: Config) -> None:
    plain = declare(store, None)
    board = build_board(store, config, plain, T0)
    assert board.runbook is None and board.escalation is None and board.runbook_problem is None
    assert board.deadline is not None and board.deadline.every_minutes == 30

    gone = declare(store, "deleted-runbook")
    board = build_board(store, config, gone, T0)
    assert board.runbook is None
    assert board.runbook_problem == "linked runbook not found in runbooks.dirs"
    assert board.deadline is not None and board.deadline.every_minutes == 30


def test_board_reports_a_malformed_linked_runbook(
    store: Store, config: Config, tmp_path: Path
) -> None:
    directory = tmp_path / "runbooks"
    directory.mkdir()
    (directory / API).with_suffix(".md").write_text("+++\nupdate_every_minutes = 'often'\n+++\n")
    incident = declare(store)
    board = build_board(store, config, incident, T0)
    assert board.runbook is None  # the user's broken copy shadows the bundled one
    assert board.runbook_problem is not None
    assert "update_every_minutes: expected a whole number" in board.runbook_problem
