"""Drills from the command line: `cockpit drill ...` and DRILL-n wherever an incident id goes,
on the drill clock (a fake wall clock moved by hand: no sleeps)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.domain import Kind
from cockpit.drills.play import drills_database
from cockpit.store.drills import DrillStore
from tests.conftest import FakeClock

ZERO = datetime(2026, 11, 27, 2, 14, tzinfo=UTC)
API = "api-high-error-rate"

Cockpit = Callable[..., tuple[int, str, str]]


@pytest.fixture
def wall() -> FakeClock:
    return FakeClock(ZERO)


@pytest.fixture
def cockpit(tmp_path: Path, wall: FakeClock, capsys: pytest.CaptureFixture[str]) -> Cockpit:
    """`cockpit ARGS` in this process, on a temporary database, at the fake wall clock."""
    config = tmp_path / "config.toml"
    if not config.exists():
        config.write_text('[user]\nname = "alice"\n', encoding="utf-8")

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        status = main(
            ["--db", str(tmp_path / "cockpit.db"), "--config", str(config), *args], clock=wall
        )
        out, err = capsys.readouterr()
        return status, out, err

    return run


def drills_db(tmp_path: Path) -> DrillStore:
    return DrillStore.open(drills_database(tmp_path / "cockpit.db"), read_only=True)


def entries(tmp_path: Path, drill: int = 1) -> list[tuple[float, str, str]]:
    """(drill minute, kind, text) of every entry, in timeline order."""
    with drills_db(tmp_path) as store:
        return [
            ((e.at - ZERO) / timedelta(minutes=1), e.kind.value, e.text)
            for e in store.entries(drill)
        ]


def texts(tmp_path: Path) -> list[str]:
    return [text for _, _, text in entries(tmp_path)]


def test_start_declares_the_drill_at_time_zero_in_the_drills_database_only(
    cockpit: Cockpit, tmp_path: Path
) -> None:
    status, out, err = cockpit("drill", "start", API, "--speed", "10")
    assert (status, out, err) == (0, "DRILL-1\n", "")
    assert not (tmp_path / "cockpit.db").exists()  # the incident database is never touched
    with drills_db(tmp_path) as store:
        drill = store.drill(1)
        incident = store.incident(1)
        assert (drill.scenario, drill.speed, drill.zero) == (API, 10.0, ZERO)
        assert incident.ref == "DRILL-1" and incident.declared_at == ZERO
        assert (incident.severity, incident.runbook) == ("SEV-2", API)
    # The page arrived with the declaration: both alerts at minute 0.
    assert [(m, k) for m, k, _ in entries(tmp_path)] == [
        (0.0, "system"),
        (0.0, "external"),
        (0.0, "external"),
    ]


def test_drill_time_runs_at_the_speed_for_every_command(
    cockpit: Cockpit, wall: FakeClock, tmp_path: Path
) -> None:
    cockpit("drill", "start", API, "--speed", "10")
    wall.advance(seconds=24)  # 4 drill minutes
    status, _out, _ = cockpit("log", "--incident", "DRILL-1", "checking deploys")
    assert status == 0
    logged = entries(tmp_path)
    # Maya's message was due at minute 3: written by this command, dated at minute 3.
    assert (3.0, "note", logged[3][2]) == logged[3] and "14 tickets" in logged[3][2]
    assert logged[-1] == (4.0, "note", "checking deploys")
    # `show` in a second terminal sees the same drill time: 26 minutes to the first update.
    _, shown, _ = cockpit("show", "DRILL-1", "--json")
    board = json.loads(shown)
    assert board["id"] == "DRILL-1"
    assert board["next_update_due"] == "2026-11-27T02:44:00.000Z"  # 30 drill minutes
    assert "DRILL-1" in cockpit("show", "DRILL-1")[1]


def test_countdown_and_escalation_fall_due_at_drill_time(cockpit: Cockpit, wall: FakeClock) -> None:
    cockpit("drill", "start", API, "--speed", "10")
    wall.advance(minutes=2, seconds=54)  # drill minute 29: not yet
    shown = cockpit("show", "DRILL-1")[1]
    assert "next update due" in shown and "ESCALATE" not in shown
    wall.advance(seconds=12)  # drill minute 31: the first update (30 min) and escalation late
    shown = cockpit("show", "DRILL-1")[1]
    assert "next update OVERDUE" in shown
    assert "ESCALATE to Engineering Lead now" in shown


def test_injections_arrive_in_order_and_on_their_conditions(
    cockpit: Cockpit, wall: FakeClock, tmp_path: Path
) -> None:
    cockpit("drill", "start", API, "--speed", "10")
    wall.advance(seconds=30)  # minute 5
    assert cockpit("update", "--incident", "DRILL-1", "-m", "We are looking into it")[0] == 0
    cockpit("log", "--incident", "DRILL-1", "-k", "action", "rolled back api v142")
    wall.advance(minutes=2)  # minute 25: everything timed has arrived; nobody checked since 5
    cockpit("log", "--incident", "DRILL-1", "anything new?")
    logged = entries(tmp_path)
    minutes = [m for m, _, _ in logged]
    assert minutes == sorted(minutes)  # dated when due, whenever noticed
    arrived = {text.split(":")[0][:30]: m for m, _, text in logged}
    got = "\n".join(texts(tmp_path))
    assert "@acme is checkout down" not in got  # an update went out at minute 5, before 10
    assert "FYI api v142" in got  # step 1 was never ticked by minute 8
    assert arrived["FYI api v142 went out at 02"] == 8.0
    # "falling" waits for the rollback (logged at 5) plus 3; "recovered" for it plus 4.
    assert arrived["api-5xx-rate falling"] == 8.0
    assert arrived["[RESOLVED] api-5xx-rate"] == 12.0
    assert "retry storm" not in got  # the relapse waits for `monitoring`, never reached


def test_the_tweet_arrives_when_nobody_updated_in_time(
    cockpit: Cockpit, wall: FakeClock, tmp_path: Path
) -> None:
    cockpit("drill", "start", API, "--speed", "10")
    wall.advance(seconds=90)  # minute 15, first looked at now
    cockpit("update", "--incident", "DRILL-1", "-m", "Late, but here")
    tweet = [m for m, _, text in entries(tmp_path) if text.startswith("@acme")]
    assert tweet == [10.0]


def test_no_command_acts_on_a_drill_without_its_id(
    cockpit: Cockpit, wall: FakeClock, tmp_path: Path
) -> None:
    cockpit("drill", "start", API)
    for args in (("log", "nothing named"), ("status", "resolved"), ("show",), ("list",)):
        status, out, _err = cockpit(*args)
        assert status == 1 and "DRILL" not in out, args
    cockpit("declare", "Real one", "--severity", "SEV-3")
    assert "DRILL" not in cockpit("list", "--all")[1]
    assert cockpit("log", "real note")[0] == 0  # goes to INC-1, the only real incident
    assert "real note" not in "\n".join(texts(tmp_path))


@pytest.mark.parametrize(
    ("ref", "status", "said"),
    [
        ("DRILL-7", 1, "no drill DRILL-7"),
        ("drill-0", 2, "not a drill id"),
        ("DRILL-99999999999999999999", 2, "not a drill id"),
    ],
)
def test_a_drill_id_that_names_nothing_is_one_line(
    cockpit: Cockpit, ref: str, status: int, said: str
) -> None:
    cockpit("drill", "start", API)
    for args in (("log", "--incident", ref, "x"), ("show", ref), ("drill", "score", ref)):
        got, out, err = cockpit(*args)
        assert (got, out) == (status, ""), args
        assert said in err and err.count("\n") == 1, args


def test_speed_is_checked(cockpit: Cockpit) -> None:
    for speed in ("0", "121", "nan", "fast"):
        status, _, err = cockpit("drill", "start", API, "--speed", speed)
        assert status == 2 and "drill speed" in err, speed


def test_score_json_and_history_across_drills(
    cockpit: Cockpit, wall: FakeClock, tmp_path: Path
) -> None:
    cockpit("drill", "start", API, "--speed", "10")
    wall.advance(seconds=72)  # minute 12: the first update is 12 minutes after the page
    cockpit("update", "--incident", "DRILL-1", "-m", "Investigating")
    cockpit("status", "--incident", "DRILL-1", "resolved")
    status, out, _ = cockpit("drill", "score", "DRILL-1", "--json")
    card = json.loads(out)
    assert status == 0 and card["drill"] == "DRILL-1" and card["resolved"] is True
    for check in card["checks"]:
        assert set(check) >= {"name", "expected", "actual", "passed"}
    assert card["figures"]["acknowledge_minutes"] == 12.0
    assert isinstance(card["score"], int)

    cockpit("drill", "start", API, "--speed", "10")
    wall.advance(seconds=30)  # minute 5 of the second drill
    cockpit("update", "--incident", "DRILL-2", "-m", "Investigating")
    cockpit("drill", "end", "DRILL-2")  # abandoned midway: scored on what happened
    trend = json.loads(cockpit("drill", "history", "--json")[1])
    assert [d["drill"] for d in trend["drills"]] == ["DRILL-1", "DRILL-2"]
    assert trend["trend"]["acknowledge_minutes"]["direction"] == "better"
    assert [d["resolved"] for d in trend["drills"]] == [True, False]
    shown = cockpit("drill", "history")[1]
    assert "time to acknowledge  latest 5 min, earlier average 12 min: better" in shown


def test_score_markdown_is_written_under_its_own_name(
    cockpit: Cockpit, wall: FakeClock, tmp_path: Path
) -> None:
    cockpit("drill", "start", API)
    out_dir = tmp_path / "scores"
    out_dir.mkdir()
    status, out, _ = cockpit("drill", "score", "-o", str(out_dir))
    written = out_dir / "drill-api-high-error-rate-2026-11-27.md"
    assert status == 0 and out.strip() == str(written)
    assert written.read_text(encoding="utf-8").startswith("# Drill scorecard: Checkout fails")


def test_list_names_broken_scenarios_with_file_and_key(cockpit: Cockpit, tmp_path: Path) -> None:
    own = tmp_path / "drills"
    own.mkdir()
    (own / "broken.md").write_text(
        '+++\ntitle = "x"\nservice = "api"\nstarts_at_severity = "SEV-2"\n'
        'expected_severity = "SEV-9"\nruns = 1\n+++\n\nbody\n',
        encoding="utf-8",
    )
    (tmp_path / "config.toml").write_text(f'[drills]\ndirs = ["{own}"]\n', encoding="utf-8")
    status, out, err = cockpit("drill", "--list")
    assert status == 1
    assert API in out  # the bundled ones are still offered
    assert f"{own / 'broken.md'}: front matter:" in err and err.count("\n") == 1


def test_drill_entries_carry_the_drill_kind(cockpit: Cockpit, tmp_path: Path) -> None:
    cockpit("drill", "start", API)
    with drills_db(tmp_path) as store:
        page = [e for e in store.entries(1) if e.kind is Kind.EXTERNAL]
    assert [e.meta["drill_kind"] for e in page] == ["alert", "alert"]


def test_every_incident_command_takes_a_drill_id(
    cockpit: Cockpit, wall: FakeClock, tmp_path: Path
) -> None:
    cockpit("drill", "start", API)
    wall.advance(seconds=30)
    for args in (
        ("assign", "--incident", "DRILL-1", "communicator", "bob"),
        ("severity", "--incident", "DRILL-1", "SEV-1"),
        ("update", "--incident", "DRILL-1", "-m", "Investigating", "--dry-run"),
        ("outbox", "--incident", "DRILL-1"),
        ("postmortem", "show", "DRILL-1"),
        ("export", "DRILL-1", "-o", "-"),
    ):
        status, out, err = cockpit(*args)
        assert status == 0, (args, err)
        assert "INC-" not in out, args
    with drills_db(tmp_path) as store:
        incident = store.incident(1)
    assert (incident.severity, incident.roles.get("communicator")) == ("SEV-1", "bob")
    assert not (tmp_path / "cockpit.db").exists()
