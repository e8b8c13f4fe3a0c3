"""`cockpit export` and `cockpit postmortem ...`: every field, item and star from a script."""

from __future__ import annotations

import io
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.domain import ItemState
from cockpit.store import Store
from tests.conftest import T0, FakeClock, run_cli


class Cli:
    """The command line in-process, with a fake clock and a throwaway config and database."""

    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.db = tmp_path / "cockpit.db"
        self.export_dir = tmp_path / "postmortems"
        self.config = tmp_path / "config.toml"
        self.config.write_text(
            f'[user]\nname = "alice"\n\n[postmortem]\ndir = "{self.export_dir}"\ndue_hours = 48\n'
        )
        self.clock = FakeClock(T0)
        self.capsys = capsys

    def __call__(self, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()))
        try:
            code = main(
                ["--db", str(self.db), "--config", str(self.config), *args], clock=self.clock
            )
        finally:
            sys.stdin = sys.__stdin__
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *args: str, stdin: str | None = None) -> str:
        code, out, err = self(*args, stdin=stdin)
        assert code == 0, err
        return out

    def store(self) -> Store:
        return Store.open(self.db, clock=self.clock)


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path, capsys)


def resolved_incident(cli: Cli) -> None:
    cli.ok("declare", "DB | down", "-s", "SEV-1", "--service", "db", "--commander", "alice")
    cli.clock.advance(minutes=10)
    cli.ok("log", "pool at 100%")
    cli.clock.advance(minutes=10)
    cli.ok("status", "resolved")


def test_every_field_is_settable_from_the_command_line(cli: Cli):
    resolved_incident(cli)
    assert cli.ok("postmortem", "set", "summary", "The DB went down.\nFor 20 minutes.") == (
        "INC-1: summary saved\n"
    )
    cli.ok("postmortem", "set", "impact", "-", stdin="Checkout failed | 20 min\n")
    cli.ok(
        "postmortem", "set", "root-cause", "-", stdin="1. errors\n2. pool exhausted\n\n3. limits\n"
    )
    cli.ok("postmortem", "set", "contributing-factors", "no alert on pool usage")
    cli.ok("postmortem", "set", "went-well", "rollback was quick")
    cli.ok("postmortem", "set", "Went poorly", "paging took 10 min")
    cli.ok("postmortem", "set", "lessons", "limits must follow traffic", "-i", "INC-1")
    with cli.store() as store:
        pm = store.postmortem(1)
    assert pm.summary == "The DB went down.\nFor 20 minutes."
    assert pm.impact == "Checkout failed | 20 min\n"
    assert pm.root_cause == ("errors", "pool exhausted", "limits")
    assert pm.contributing_factors == "no alert on pool usage"
    assert pm.went_well == "rollback was quick"
    assert pm.went_poorly == "paging took 10 min"
    assert pm.lessons == "limits must follow traffic"
    cli.ok("postmortem", "set", "summary", "")
    with cli.store() as store:
        assert store.postmortem(1).summary == ""

    shown = cli.ok("postmortem", "show")
    assert shown.splitlines()[0] == (
        "INC-1 post-mortem (draft): DB | down  ·  post-mortem due in 2d 00:00:00"
    )
    assert "Root cause (five whys):\n  1. errors\n  2. pool exhausted\n  3. limits\n" in shown
    assert "Summary:\n  (empty)\n" in shown


def test_action_items_from_the_command_line(cli: Cli):
    resolved_incident(cli)
    assert (
        cli.ok(
            "postmortem",
            "item",
            "add",
            "Alert on pool usage",
            "--owner",
            "carol",
            "--deadline",
            "2026-12-04",
        )
        == "#1\n"
    )
    assert cli.ok("postmortem", "item", "add", "Runbook", "--deadline", "+7d") == "#2\n"
    assert cli.ok("postmortem", "item", "add", "Typo") == "#3\n"
    edited = cli.ok("postmortem", "item", "edit", "2", "--owner", "dave", "--title", "DB runbook")
    assert edited.startswith("#2 [open] DB runbook · dave · ")
    assert cli.ok("postmortem", "item", "done", "1").startswith("#1 [done] ")
    assert cli.ok("postmortem", "item", "wontdo", "2").startswith("#2 [won't do] ")
    assert cli.ok("postmortem", "item", "reopen", "2").startswith("#2 [open] ")
    cli.ok("postmortem", "item", "edit", "2", "--state", "won't do", "--deadline", "")
    assert cli.ok("postmortem", "item", "rm", "3") == "#3 removed\n"
    with cli.store() as store:
        items = store.action_items(1)
    assert [(i.id, i.title, i.owner, i.deadline, i.state) for i in items] == [
        (1, "Alert on pool usage", "carol", date(2026, 12, 4), ItemState.DONE),
        (2, "DB runbook", "dave", None, ItemState.WONT_DO),
    ]
    assert "  #1 [done] Alert on pool usage · carol · 2026-12-04\n" in cli.ok("postmortem", "show")


def test_stars_from_the_command_line(cli: Cli):
    resolved_incident(cli)
    assert cli.ok("postmortem", "star", "1", "3") == "#1 starred\n#3 starred\n"
    assert cli.ok("postmortem", "star", "3") == "#3 already starred\n"
    assert cli.ok("postmortem", "unstar", "1") == "#1 unstarred\n"
    with cli.store() as store:
        assert store.starred(1) == {3}
    shown = cli.ok("postmortem", "show")
    assert "Starred entries:\n  ★ #3 " in shown and "pool at 100%" in shown
    timeline = cli.ok("postmortem", "show", "--timeline")
    assert "    #1 " in timeline and "  ★ #3 " in timeline


def test_export_writes_the_default_file_or_where_asked(cli: Cli, tmp_path: Path):
    resolved_incident(cli)
    cli.ok("postmortem", "set", "summary", "The DB went down.")
    written = Path(cli.ok("export").strip())
    assert written == cli.export_dir / "postmortem-INC-1-db-down.md"
    text = written.read_text()
    assert text.startswith("# INC-1 post-mortem: DB \\| down\n")
    assert "The DB went down." in text
    assert not list(cli.export_dir.glob(".*.tmp"))  # written atomically, nothing left over
    chosen = tmp_path / "out" / "pm.md"
    assert cli.ok("export", "INC-1", "-o", str(chosen)) == f"{chosen}\n"
    assert chosen.read_text() == text
    assert cli.ok("export", "-o", "-") == text
    paris = cli.ok("export", "-o", "-", "--tz", "Europe/Paris")
    assert "| 2026-11-27 02:14:00 | 2026-11-27 03:14:00 CET |" in paris


def test_the_latest_resolved_incident_is_the_default_once_none_is_open(cli: Cli):
    resolved_incident(cli)
    cli.ok("declare", "Second", "-s", "SEV-3")
    cli.ok("status", "resolved")
    assert cli.ok("export", "-o", "-").startswith("# INC-2 post-mortem: Second")
    cli.ok("declare", "Third", "-s", "SEV-3")
    assert cli.ok("export", "-o", "-").startswith("# INC-3 post-mortem: Third")


def test_list_shows_postmortems_due_and_items_past_deadline(cli: Cli):
    resolved_incident(cli)
    cli.ok("postmortem", "item", "add", "Alert on pool", "--deadline", "2026-11-28")
    cli.ok("postmortem", "item", "add", "Done already", "--deadline", "2026-11-28")
    cli.ok("postmortem", "item", "done", "2")
    listed = cli.ok("list")
    assert listed == (
        "no open incidents\n\n"
        "INC-1    SEV-1  resolved      post-mortem due in 2d 00:00:00  DB | down\n"
    )
    cli.clock.advance(hours=50)
    listed = cli.ok("list").splitlines()
    assert listed[2] == "INC-1    SEV-1  resolved      post-mortem OVERDUE by 02:00:00  DB | down"
    assert listed[3] == (
        "INC-1    action item past deadline: #1 [open] Alert on pool · no owner · "
        "2026-11-28 (past deadline)"
    )
    cli.ok("postmortem", "complete")
    assert "post-mortem" not in cli.ok("list")
    cli.ok("postmortem", "complete", "--undo")
    assert "OVERDUE" in cli.ok("list")


def test_mistakes_are_one_line_with_the_right_exit_status(cli: Cli):
    resolved_incident(cli)
    cases = [
        (("postmortem", "set", "title", "x"), 2, "unknown post-mortem field 'title'"),
        (("postmortem", "item", "add", "x", "--deadline", "soon"), 2, "not a deadline: 'soon'"),
        (("postmortem", "item", "edit", "1", "--title", "x"), 1, "no action item 1"),
        (("postmortem", "item", "add", "  "), 1, "an action item needs a title"),
        (("postmortem", "star", "99"), 1, "no timeline entry 99"),
        (("export", "INC-9"), 1, "no incident INC-9"),
        (("export", "nine"), 2, "not an incident id"),
        (("export", "--tz", "Mars/Olympus"), 2, "unknown time zone 'Mars/Olympus'"),
    ]
    for args, status, message in cases:
        code, _, err = cli(*args)
        assert (code, err.count("\n")) == (status, 1), (args, err)
        assert message in err, (args, err)
    cli.ok("postmortem", "item", "add", "x")
    code, _, err = cli("postmortem", "item", "edit", "1")
    assert code == 2 and "nothing to change" in err
    code, _, err = cli("postmortem", "item", "edit", "1", "--state", "later")
    assert code == 2 and "open, done or won't do" in err


def test_nothing_to_export_without_incidents(cli: Cli):
    Store.open(cli.db).close()
    code, _, err = cli("export")
    assert code == 1 and "no open incident" in err


def test_export_as_a_real_process(tmp_path: Path):
    db = tmp_path / "p.db"
    assert run_cli("declare", "Real process", "-s", "SEV-2", db=db).returncode == 0
    assert run_cli("postmortem", "set", "summary", "from a script", db=db).returncode == 0
    done = run_cli("export", "-o", "-", db=db)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# INC-1 post-mortem: Real process\n")
    assert "\n## Summary\n\nfrom a script\n" in done.stdout


def test_deadline_shortcuts_count_from_today(cli: Cli):
    resolved_incident(cli)
    cli.ok("postmortem", "item", "add", "x", "--deadline", "2w")
    with cli.store() as store:
        (item,) = store.action_items(1)
    assert item.deadline == cli.clock.now.astimezone().date() + timedelta(days=14)
