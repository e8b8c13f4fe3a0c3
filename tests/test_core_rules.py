"""The rules both front ends share, held once in the core: what a resolved incident refuses,
the configured role names, the event hook, the update cadence a linked runbook sets, and the
escalation recorded by whichever process sees it due. Through the core, then the CLI (the app's
side is `tests/tui/test_core_rules.py`)."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from cockpit.board import build_board
from cockpit.cli import main
from cockpit.comms.events import configure
from cockpit.comms.publish import publish
from cockpit.comms.templates import next_update_minutes
from cockpit.config import Config, RolesConfig, WebhookConfig
from cockpit.domain import DEFAULT_SEVERITIES, Kind, Status, update_every_minutes
from cockpit.postmortem.report import build_report
from cockpit.runbook_policy import (
    due_escalations,
    linked_runbook_minutes,
    record_due_escalations,
    runbook_minutes,
)
from cockpit.runbooks import find_runbook, record_escalation, set_step
from cockpit.store import IncidentResolved, Store, StoreError, UnknownRole
from tests.conftest import FakeClock

API = "api-high-error-rate"  # bundled: updates every 15 min, no escalation
POOL = "db-connection-pool-exhausted"  # bundled: escalates to Database on-call after 20 min
SEV1, SEV2, SEV3 = DEFAULT_SEVERITIES


def resolved(store: Store, runbook: str | None = API) -> int:
    incident = store.declare("Checkout API errors", "SEV-2", "alice", runbook=runbook).id
    store.assign(incident, "commander", "alice", "alice")
    store.set_status(incident, Status.RESOLVED, "alice")
    return incident


# ---- a resolved incident keeps its severity, roles, runbook and checklist --------------------


def test_a_resolved_incident_refuses_every_change_to_its_state(store: Store) -> None:
    incident = resolved(store)
    runbook = find_runbook(Config().runbook_dirs, API)
    before = store.entry_count(incident)
    changes = {
        "change its severity": lambda: store.set_severity(incident, "SEV-1", "bob"),
        "change its roles": lambda: store.assign(incident, "communicator", "bob", "bob"),
        "link or unlink a runbook": lambda: store.link_runbook(incident, POOL, "bob"),
        "unlink": lambda: store.link_runbook(incident, None, "bob"),
        "tick": lambda: set_step(store, incident, runbook, 1, True, "bob"),
        "a raw step entry": lambda: store.append(incident, Kind.STEP, "step 1", "bob"),
        "a raw severity entry": lambda: store.append(incident, Kind.SEVERITY, "x", "bob"),
        "a raw role entry": lambda: store.append(incident, Kind.ROLE, "x", "bob"),
        "escalate": lambda: store.append_once(
            incident, Kind.ESCALATION, "x", "bob", meta={"runbook": API}, key=("runbook",)
        ),
    }
    for what, change in changes.items():
        with pytest.raises(IncidentResolved) as refused:
            change()
        message = str(refused.value)
        assert "\n" not in message, what
        assert message.startswith("INC-1 is resolved: reopen it first (status investigating)")
        assert message.endswith("; nothing was changed")
    assert str(refused.value) == (
        "INC-1 is resolved: reopen it first (status investigating) to escalate it; "
        "nothing was changed"
    )
    assert store.entry_count(incident) == before
    state = store.incident(incident)
    assert (state.severity, state.roles, state.runbook) == ("SEV-2", {"commander": "alice"}, API)
    assert isinstance(refused.value, StoreError)  # both front ends already show StoreErrors


def test_a_resolved_incident_still_takes_notes_the_resolution_update_and_reopening(
    store: Store, clock: FakeClock
) -> None:
    incident = resolved(store)
    store.append(incident, Kind.NOTE, "root cause found", "alice")
    store.append(incident, Kind.DECISION, "keep the rollback", "alice")
    note = store.append(incident, Kind.NOTE, "typo", "alice")
    store.append(incident, Kind.NOTE, "fixed", "alice", corrects=note.id)
    publish(store, Config(), incident, "Resolved.", None, "alice", clock, template="resolution")
    store.set_postmortem(incident, "alice", {"summary": "it broke"})
    store.add_action_item(incident, "add an alert", owner="alice")
    store.star(note.id, "alice")
    assert store.set_status(incident, Status.INVESTIGATING, "alice") is not None  # reopened
    assert store.set_severity(incident, "SEV-1", "alice") is not None
    assert store.assign(incident, "communicator", "bob", "alice") is not None


def test_the_refusal_is_checked_inside_the_write(store: Store, db_path: Path, clock: FakeClock):
    """Resolved by another process after this one last looked: still refused, nothing written."""
    incident = store.declare("Checkout API errors", "SEV-2", "alice").id
    assert store.incident(incident).is_open  # what this process saw
    with Store.open(db_path, clock=clock) as other:
        other.set_status(incident, Status.RESOLVED, "bob")
    with pytest.raises(IncidentResolved):
        store.set_severity(incident, "SEV-1", "alice")
    assert store.incident(incident).severity == "SEV-2"


class Cli:
    """The command line in-process on one database and configuration, with a fixed clock."""

    def __init__(
        self, tmp_path: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self.db = tmp_path / "cli.db"
        self.config = tmp_path / "config.toml"
        self.config.write_text('[user]\nname = "alice"\n', encoding="utf-8")
        self.clock = clock
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        code = main(["--db", str(self.db), "--config", str(self.config), *args], clock=self.clock)
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def cli(tmp_path: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path, clock, capsys)


def test_the_cli_refuses_a_severity_change_on_a_resolved_incident(cli: Cli) -> None:
    cli("declare", "Checkout API errors", "--severity", "SEV-2", "--runbook", API)
    cli("status", "resolved")
    code, out, err = cli("severity", "SEV-1", "-i", "INC-1")
    assert (code, out) == (1, "")
    assert err == (
        "cockpit: INC-1 is resolved: reopen it first (status investigating) to change its "
        "severity; nothing was changed\n"
    )
    code, _, err = cli("assign", "communicator", "bob", "-i", "INC-1")
    assert code == 1
    assert err.startswith("cockpit: INC-1 is resolved") and "change its roles" in err
    assert cli("log", "-i", "INC-1", "root cause: a full disk")[0] == 0  # notes still go in
    code, out, _ = cli("show", "INC-1", "--json")
    shown = json.loads(out)
    assert (shown["severity"], shown["roles"]) == ("SEV-2", {})
    assert cli("status", "investigating", "-i", "INC-1")[0] == 0  # reopen, then it changes
    assert cli("severity", "SEV-1", "-i", "INC-1")[:2] == (0, "severity SEV-2 → SEV-1\n")


# ---- role names -------------------------------------------------------------------------------


def test_the_store_accepts_only_the_configured_roles(store: Store) -> None:
    incident = store.declare("Checkout API errors", "SEV-2", "alice").id
    with pytest.raises(UnknownRole) as unknown:
        store.assign(incident, "scribe", "carol", "alice")
    assert str(unknown.value) == "unknown role 'scribe' (expected one of commander, communicator)"
    for bad in ("", " ", "command", "commander\x1b[2J", "commandeer"):
        with pytest.raises(UnknownRole):
            store.assign(incident, bad, "carol", "alice")
    with pytest.raises(UnknownRole):
        store.declare("Another", "SEV-2", "alice", roles={"scribe": "carol"})
    assert len(store.incidents()) == 1
    assert store.entry_count(incident, kinds=[Kind.ROLE]) == 0
    entry = store.assign(incident, " Commander ", "bob", "alice")  # spelled loosely: found
    assert entry is not None and entry.meta["role"] == "commander"

    configure(store, Config(roles=RolesConfig(names=["commander", "on-call", "scribe"])))
    assert store.assign(incident, "scribe", "carol", "alice") is not None
    assert store.assign(incident, "on_call", "dave", "alice") is not None
    assert store.incident(incident).roles == {
        "commander": "bob",
        "scribe": "carol",
        "on-call": "dave",
    }
    with pytest.raises(UnknownRole):
        store.assign(incident, "communicator", "erin", "alice")  # not configured any more


def test_an_empty_role_offered_at_declaration_is_not_checked(store: Store) -> None:
    configure(store, Config(roles=RolesConfig(names=["lead"])))
    incident = store.declare("x", "SEV-2", "alice", roles={"commander": "", "lead": "bob"})
    assert incident.roles == {"lead": "bob"}


def test_the_cli_takes_its_roles_from_the_core(cli: Cli) -> None:
    cli("declare", "Checkout API errors")
    code, out, err = cli("assign", "scribe", "carol")
    assert (code, out) == (2, "")
    assert err == (
        "cockpit: error: unknown role 'scribe' (expected one of commander, communicator)\n"
    )
    cli.config.write_text('[roles]\nnames = ["commander", "scribe"]\n', encoding="utf-8")
    assert cli("assign", "scribe", "carol")[:2] == (0, "scribe → carol\n")
    code, _, err = cli("declare", "Second", "--communicator", "bob")  # not configured now
    assert code == 2 and "unknown role 'communicator'" in err


# ---- the event hook --------------------------------------------------------------------------


def test_one_place_gives_a_store_the_event_hook_and_the_roles(db_path: Path) -> None:
    config = Config(
        webhook=WebhookConfig(url="http://127.0.0.1:9/hook"),
        roles=RolesConfig(names=["commander", "scribe"]),
    )
    with Store.open(db_path) as store:
        assert store.events is None and store.role_names == ("commander", "communicator")
        configure(store, config)
        assert store.events is not None and store.role_names == ("commander", "scribe")
        incident = store.declare("x", "SEV-1", "alice", roles={"scribe": "bob"}).id
        assert [d.action for d in store.deliveries(incident)] == ["declared"]
        other = store.another(busy_timeout_ms=100)  # the app's writer thread gets the same
        assert (other.events, other.role_names) == (store.events, store.role_names)
        other.close()
    with Store.open(db_path, read_only=True) as reader:
        configure(reader, config)
        assert reader.events is None  # nothing is written through it
    configure(store, Config())
    assert store.events is None  # no target takes incident events


def test_the_cli_and_the_app_install_it_through_that_place(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cockpit.cli.context
    import cockpit.tui.app

    assert cockpit.cli.context.configure is configure
    assert cockpit.tui.app.configure is configure
    cli.config.write_text(
        '[webhook]\nurl = "http://127.0.0.1:9/hook"\n[roles]\nnames = ["commander", "scribe"]\n',
        encoding="utf-8",
    )
    assert cli("declare", "x", "--commander", "alice")[0] == 0
    assert cli("assign", "scribe", "bob")[0] == 0
    with Store.open(cli.db) as store:
        assert [d.action for d in store.deliveries(1)] == ["declared"]


# ---- the cadence a linked runbook sets -------------------------------------------------------


def test_the_linked_runbooks_cadence_overrides_the_severitys(store: Store, clock: FakeClock):
    config = Config()
    api = find_runbook(config.runbook_dirs, API)
    assert api.update_every_minutes == 15
    assert update_every_minutes(SEV2, None) == 30
    assert update_every_minutes(SEV2, 15) == 15
    assert update_every_minutes(SEV3, None) is None
    assert update_every_minutes(SEV3, 15) == 15

    incident = store.declare("x", "SEV-2", "alice", runbook=API)
    assert runbook_minutes(incident, api) == 15
    assert runbook_minutes(incident, None) is None
    assert runbook_minutes(replace(incident, runbook=POOL), api) is None  # not the linked one
    assert linked_runbook_minutes(config, incident) == 15
    no_runbooks = replace(config, runbooks=replace(config.runbooks, include_bundled=False))
    assert linked_runbook_minutes(no_runbooks, incident) is None  # cannot be read: severity's

    publish(store, config, incident.id, "Investigating.", None, "alice", clock)
    board = build_board(store, config, incident.id, clock())
    assert (board.runbook_minutes, board.every_minutes) == (15, 15)
    assert board.deadline is not None and board.deadline.every_minutes == 15
    assert next_update_minutes(board) == 15
    clock.advance(minutes=20)  # late by the runbook's cadence, early by the severity's
    report = build_report(store, config, incident.id, clock())
    assert [m.number for m in report.metrics.updates.missed] == [2]

    plain = store.declare("y", "SEV-2", "alice").id
    board = build_board(store, config, plain, clock())
    assert (board.runbook_minutes, board.every_minutes, next_update_minutes(board)) == (
        None,
        30,
        30,
    )


# ---- escalation, recorded once by whichever process sees it due -----------------------------


def declare_pool(store: Store, title: str = "Pool exhausted") -> int:
    return store.declare(title, "SEV-3", "alice", runbook=POOL).id


def test_every_open_incidents_due_escalation_is_recorded_once(
    store: Store, clock: FakeClock
) -> None:
    config = Config()
    first = declare_pool(store)
    clock.advance(minutes=5)
    second = declare_pool(store, "Pool exhausted again")
    quiet = store.declare("No runbook", "SEV-3", "alice").id
    done = declare_pool(store, "Already over")
    store.set_status(done, Status.RESOLVED, "alice")

    clock.advance(minutes=14, seconds=59)
    assert due_escalations(store, config, clock()) == []
    assert record_due_escalations(store, config, "alice") == []
    clock.advance(seconds=1)
    assert [i.id for i, _ in due_escalations(store, config, clock())] == [first]
    written = record_due_escalations(store, config, "alice")
    assert [(e.incident_id, e.author) for e in written] == [(first, "alice")]
    assert written[0].text == (
        f"escalate to Database on-call: not resolved 20 min after declaring (runbook {POOL})"
    )
    clock.advance(minutes=5)
    assert [e.incident_id for e in record_due_escalations(store, config, "bob")] == [second]
    clock.advance(hours=3)
    assert record_due_escalations(store, config, "bob") == []
    counts = [store.entry_count(i, kinds=[Kind.ESCALATION]) for i in (first, second, quiet, done)]
    assert counts == [1, 1, 0, 0]


def test_processes_racing_to_record_it_write_it_once(
    store: Store, db_path: Path, clock: FakeClock
) -> None:
    config = Config()
    incident = declare_pool(store)
    clock.advance(minutes=21)
    barrier = threading.Barrier(4)
    written: list[int] = []

    def one_process() -> None:
        with Store.open(db_path, clock=clock) as mine:
            barrier.wait()
            written.extend(e.id for e in record_due_escalations(mine, config, "cockpit"))

    threads = [threading.Thread(target=one_process) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(written) == 1
    assert store.entry_count(incident, kinds=[Kind.ESCALATION]) == 1


def test_an_incident_resolved_meanwhile_is_not_escalated(store: Store, clock: FakeClock) -> None:
    runbook = find_runbook(Config().runbook_dirs, POOL)
    incident = declare_pool(store)
    clock.advance(minutes=21)
    due = due_escalations(store, Config(), clock())
    assert [i.id for i, _ in due] == [incident]
    store.set_status(incident, Status.RESOLVED, "bob")  # another process, between look and write
    assert record_due_escalations(store, Config(), "alice") == []
    with pytest.raises(IncidentResolved):  # the store itself refuses it, whatever asks
        store.append_once(
            incident, Kind.ESCALATION, "x", "a", meta={"runbook": POOL}, key=("runbook",)
        )
    assert record_escalation(store, incident, runbook) is None  # the rule: not due once resolved


def test_cockpit_show_records_a_due_escalation_once(cli: Cli) -> None:
    cli("declare", "Pool exhausted", "--severity", "SEV-3", "--runbook", POOL)
    cli("declare", "Other pool", "--severity", "SEV-3", "--runbook", POOL)
    cli.clock.advance(minutes=19)
    code, out, err = cli("show", "INC-1")
    assert code == 0 and err == "" and "escalate to Database on-call at" in out
    cli.clock.advance(minutes=1)
    code, out, err = cli("show", "INC-1")
    assert code == 0
    assert err == (
        f"INC-1: escalate to Database on-call: not resolved 20 min after declaring (runbook "
        f"{POOL})\nINC-2: escalate to Database on-call: not resolved 20 min after declaring "
        f"(runbook {POOL})\n"
    )
    assert "ESCALATE to Database on-call now (due 00:00 ago)" in out  # as loud as in the app
    cli.clock.advance(minutes=5)
    assert "escalated to Database on-call at 02:34" in cli("show", "INC-1")[1]
    code, out, err = cli("show", "INC-2", "--json")
    assert (code, err) == (0, "")  # recorded already: nothing more
    assert json.loads(out)["escalation"]["recorded_at"] == "2026-11-27T02:34:00.000Z"
    with Store.open(cli.db) as store:
        assert [store.entry_count(i, kinds=[Kind.ESCALATION]) for i in (1, 2)] == [1, 1]


def test_cockpit_show_on_a_database_it_cannot_write_says_so_and_still_shows(
    cli: Cli, tmp_path: Path
) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes a read-only file anyway")
    cli("declare", "Pool exhausted", "--severity", "SEV-3", "--runbook", POOL)
    cli.clock.advance(minutes=25)
    cli.db.chmod(0o444)
    try:
        code, out, err = cli("show")
    finally:
        cli.db.chmod(0o644)
    assert code == 0 and "ESCALATE to Database on-call now" in out
    assert err.startswith("cockpit: note: a runbook escalation is due and could not be recorded")
    assert err.count("\n") == 1


def test_cockpit_deliver_records_a_due_escalation(cli: Cli) -> None:
    cli("declare", "Pool exhausted", "--severity", "SEV-3", "--runbook", POOL)
    cli.clock.advance(minutes=30)
    code, out, err = cli("deliver", "--wait", "0")
    assert code == 0 and out == "outbox drained: everything delivered\n"
    assert err.startswith("INC-1: escalate to Database on-call: not resolved 20 min")
    assert cli("deliver", "--wait", "0")[2] == ""  # once
    with Store.open(cli.db) as store:
        [entry] = store.entries(1, kinds=[Kind.ESCALATION])
        assert entry.at == store.incident(1).declared_at + timedelta(minutes=30)
