"""The demo incident: a realistic SEV-1 in progress, written through the store, sending nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cockpit.board import build_board
from cockpit.cli import build_parser
from cockpit.demo import DEMO_RUNBOOK, demo_config, seed_demo
from cockpit.domain import Kind, Status
from cockpit.store import Store

NOW = datetime(2026, 11, 27, 2, 30, tzinfo=UTC)


def test_demo_is_a_sev1_in_progress(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    incident = seed_demo(tmp_path / "demo.db", NOW)
    with Store.open(tmp_path / "demo.db", clock=lambda: NOW) as store:
        board = build_board(store, config, incident.id, NOW)
        entries = store.entries(incident.id)
        assert incident.severity == "SEV-1"
        assert incident.status is Status.MONITORING
        assert dict(incident.roles) == {"commander": "alice", "communicator": "bob"}
        assert board.missing_roles == ()
        assert incident.runbook == DEMO_RUNBOOK
        assert 35 <= len(entries) <= 45
        assert all(NOW - timedelta(hours=1) <= e.at <= NOW for e in entries)
        assert [e.at for e in entries] == sorted(e.at for e in entries)
        assert {e.kind for e in entries} >= {
            Kind.NOTE,
            Kind.ACTION,
            Kind.DECISION,
            Kind.STATUS,
            Kind.ROLE,
            Kind.STEP,
            Kind.UPDATE,
        }
        steps = [e.meta for e in entries if e.kind is Kind.STEP]
        assert [s["step"] for s in steps] == [1, 2, 3]
        assert all(s["runbook"] == DEMO_RUNBOOK and s["done"] is True for s in steps)
        # One update published, nothing queued to send, the next one due in under 5 minutes.
        assert board.updates_sent == 1
        assert store.deliveries(incident.id) == []
        assert board.deadline is not None and not board.overdue
        assert timedelta(0) < board.deadline.remaining(NOW) < timedelta(minutes=5)


def test_demo_runbook_is_found_first_and_has_six_steps(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    path = config.runbook_dirs[0] / f"{DEMO_RUNBOOK}.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("+++\n")
    assert sum(1 for line in text.splitlines() if line[:2] in {f"{n}." for n in range(1, 10)}) == 6


def test_demo_subcommand_is_registered() -> None:
    args = build_parser().parse_args(["demo"])
    assert args.handler.__name__ == "cmd_demo"
