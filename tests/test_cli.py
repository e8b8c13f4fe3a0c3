"""Every subcommand, run as a real process: output, exit status and what lands in the store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.store import Store
from tests.conftest import ROOT, cli_env, run_cli


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


def test_init_writes_a_loadable_starter(tmp_path: Path):
    path = tmp_path / "conf" / "config.toml"
    done = run_cli("init", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(path)
    again = run_cli("init", str(path))
    assert again.returncode == 1
    assert "already exists (use --force" in again.stderr
    assert run_cli("init", str(path), "--force").returncode == 0
    declared = run_cli("--config", str(path), "--db", str(tmp_path / "x.db"), "declare", "x")
    assert declared.returncode == 0, declared.stderr
    shown = run_cli("--config", str(path), "--db", str(tmp_path / "x.db"), "list")
    assert shown.returncode == 0, shown.stderr


def test_a_whole_incident_from_the_command_line(db: Path):
    declared = run_cli(
        "declare",
        "Checkout API errors",
        "--severity",
        "sev1",
        "--service",
        "checkout",
        "--commander",
        "alice",
        "--at",
        "10m ago",
        db=db,
    )
    assert declared.returncode == 0, declared.stderr
    assert declared.stdout == "INC-1\n"
    action = run_cli("log", "rolled", "back", "api", "v142", "--kind", "action", db=db)
    assert action.returncode == 0
    piped = run_cli("log", "-", input='deployment "api" successfully rolled out\n', db=db)
    assert piped.returncode == 0, piped.stderr
    late = run_cli("log", "--at", "5m ago", "--reason", "was on the phone", "called Stripe", db=db)
    assert late.returncode == 0, late.stderr
    assert run_cli("status", "identified", db=db).stdout == "status investigating → identified\n"
    assert run_cli("severity", "SEV-2", db=db).stdout == "severity SEV-1 → SEV-2\n"
    assert run_cli("assign", "communicator", "bob", db=db).stdout == "communicator → bob\n"
    listed = run_cli("list", db=db)
    assert "INC-1" in listed.stdout and "SEV-2" in listed.stdout and "identified" in listed.stdout
    human = run_cli("show", db=db)
    assert "communicator bob" in human.stdout.replace("  ", " ").replace("  ", " ")
    shown = json.loads(run_cli("show", "INC-1", "--json", db=db).stdout)
    assert set(shown) >= {
        "id",
        "title",
        "service",
        "severity",
        "status",
        "impact_started_at",
        "declared_at",
        "acknowledged_at",
        "mitigated_at",
        "resolved_at",
        "roles",
        "runbook",
        "next_update_due",
        "update_overdue",
        "entries",
        "deliveries",
    }
    assert shown["id"] == "INC-1" and shown["severity"] == "SEV-2"
    assert shown["roles"] == {"commander": "alice", "communicator": "bob"}
    assert shown["impact_started_at"] < shown["declared_at"]
    assert shown["next_update_due"].endswith("Z") and shown["update_overdue"] is False
    kinds = [e["kind"] for e in shown["entries"]]
    assert kinds.count("action") == 1 and kinds.count("note") == 2
    backdated = next(e for e in shown["entries"] if e["text"] == "called Stripe")
    assert backdated["reason"] == "was on the phone" and backdated["at"] < backdated["written_at"]
    assert any(e["text"] == 'deployment "api" successfully rolled out' for e in shown["entries"])
    assert run_cli("status", "resolved", db=db).returncode == 0
    listed = run_cli("list", db=db).stdout  # resolved: now its post-mortem is due
    assert listed.startswith("no open incidents\n\nINC-1 ") and "post-mortem due in" in listed
    assert "INC-1" in run_cli("list", "--all", db=db).stdout


def test_several_open_incidents_need_a_choice(db: Path):
    run_cli("declare", "one", "-s", "SEV-2", db=db)
    run_cli("declare", "two", "-s", "SEV-3", db=db)
    ambiguous = run_cli("log", "hello", db=db)
    assert ambiguous.returncode == 1
    assert "several open incidents (INC-2 'two', INC-1 'one')" in ambiguous.stderr
    assert run_cli("log", "--incident", "INC-1", "hello", db=db).returncode == 0
    with Store.open(db) as store:
        assert store.entries(1)[-1].text == "hello"


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["declare", "x", "--severity", "SEV-9"], 2, "unknown severity 'SEV-9'"),
        (["declare", "x", "--at", "someday"], 2, "not a time: 'someday'"),
        (["status", "fixed"], 2, "unknown status 'fixed'"),
        (["assign", "scribe", "bob"], 2, "unknown role 'scribe'"),
        (["log", "--incident", "nope", "x"], 2, "not an incident id: 'nope'"),
        (["log", "--at", "5m ago", "x"], 2, "backdated entry needs --reason"),
        (["log", "--kind", "rant", "x"], 2, "invalid choice: 'rant'"),
        (["log", "x"], 1, "no open incident (declare one"),
        (["show", "INC-42"], 1, "no incident INC-42"),
        (["frobnicate"], 2, "invalid choice: 'frobnicate'"),
    ],
)
def test_errors_are_one_line_with_the_right_status(db: Path, args, status, message):
    Store.open(db).close()  # an empty database: commands other than declare never create one
    done = run_cli(*args, db=db)
    assert done.returncode == status, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("cockpit")


def test_a_foreign_database_file_is_refused_untouched(tmp_path: Path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database")
    done = run_cli("list", "--db", str(notes))
    assert done.returncode == 1
    assert "not an SQLite file" in done.stderr
    assert notes.read_text() == "not a database"


def test_a_broken_config_is_one_line(tmp_path: Path, db: Path):
    config = tmp_path / "bad.toml"
    config.write_text("[user]\nname = 42\n")
    done = run_cli("list", db=db, config=config)
    assert done.returncode == 1
    assert done.stderr == f"cockpit: {config}: user.name: expected a string, got a number\n"


def test_log_imports_neither_textual_nor_httpx(db: Path):
    run_cli("declare", "x", "-s", "SEV-2", db=db)
    probe = (
        "import sys, runpy; sys.argv = ['cockpit', 'log', 'probe'];"
        "import cockpit.cli as c; rc = c.main();"
        "heavy = sorted(m for m in sys.modules"
        "               if m.split('.')[0] in ('textual', 'httpx', 'rich', 'markdown_it'));"
        "print(rc, heavy)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=cli_env(db), cwd=ROOT
    )
    assert done.stdout.strip() == "0 []", done.stderr


# What only other subcommands need: the report, the runbook library, templates and targets,
# the delivery worker, the doctor, the app.
OTHER_COMMANDS_MODULES = (
    "cockpit.board",
    "cockpit.demo",
    "cockpit.drills",
    "cockpit.markdown",
    "cockpit.metrics",
    "cockpit.postmortem",
    "cockpit.runbook_policy",
    "cockpit.runbooks",
    # log stamps ids and the clock (cockpit.sync.ids, .hlc); nothing else of sync
    "cockpit.sync.entry",
    "cockpit.sync.fold",
    "cockpit.sync.permalink",
    "cockpit.sync.slack_text",
    "cockpit.sync.wire",
    "cockpit.store.shared",
    "cockpit.comms.probe",
    "cockpit.comms.publish",
    "cockpit.comms.targets",
    "cockpit.comms.templates",
    "cockpit.comms.worker",
    "cockpit.tui",
)


def test_log_loads_nothing_only_other_subcommands_need(db: Path):
    run_cli("declare", "x", "-s", "SEV-2", db=db)
    probe = (
        "import sys; sys.argv = ['cockpit', 'log', 'probe'];"
        "import cockpit.cli as c; rc = c.main();"
        f"print(rc, sorted(m for m in sys.modules if m.startswith({OTHER_COMMANDS_MODULES!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=cli_env(db), cwd=ROOT
    )
    assert done.stdout.strip() == "0 []", done.stderr


def _modules_below(package: Path, prefix: str, skip: tuple[str, ...]) -> list[str]:
    """Every module and subpackage under `package`, found on disk (nothing imported)."""
    import pkgutil

    found = []
    for info in pkgutil.iter_modules([str(package)], prefix):
        if info.name.startswith(skip):
            continue
        found.append(info.name)
        if info.ispkg:
            child = package / info.name.rpartition(".")[2]
            found += _modules_below(child, info.name + ".", skip)
    return found


def _loaded_after_importing(modules: list[str], roots: tuple[str, ...]) -> list[str]:
    """The modules under `roots` that importing `modules` in a fresh interpreter loads."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(roots)!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def test_core_modules_do_not_import_textual():
    """Every module of every package (not only the top level), each floor in a fresh
    interpreter: the core loads neither Textual, rich nor httpx; the command line (whose
    handlers defer the app and the HTTP client) neither; the delivery layer no Textual (httpx
    itself loads rich, for its own command line)."""
    everything = _modules_below(ROOT / "cockpit", "cockpit.", ("cockpit.tui", "cockpit.__main__"))
    cli = [m for m in everything if m.startswith("cockpit.cli")]
    comms = [m for m in everything if m.startswith("cockpit.comms")]
    core = [m for m in everything if m not in cli + comms]
    assert {"cockpit.store", "cockpit.sync.wire", "cockpit.drills.score", "cockpit.doctor"} <= set(
        core
    )
    assert {"cockpit.cli.log", "cockpit.cli.deliver", "cockpit.cli.context"} <= set(cli)
    assert {"cockpit.comms.worker", "cockpit.comms.probe"} <= set(comms)
    assert _loaded_after_importing(core, ("textual", "rich", "httpx")) == []
    assert _loaded_after_importing(cli, ("textual", "rich", "httpx")) == []
    assert _loaded_after_importing(comms, ("textual",)) == []


def test_every_command_is_in_the_table_under_the_name_it_registers():
    """`COMMANDS` names each subcommand without importing it: the table must say what each
    module registers, or a command would be unreachable except through --help."""
    import argparse

    from cockpit.cli import COMMANDS, build_parser

    parser = build_parser()
    registered = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert list(registered.choices) == list(COMMANDS)
    for name in COMMANDS:
        only = build_parser(["--db", "x", name])
        sub = next(a for a in only._actions if isinstance(a, argparse._SubParsersAction))
        assert list(sub.choices) == [name]


def test_log_imports_its_own_command_module_and_no_other(db: Path):
    run_cli("declare", "x", "-s", "SEV-2", db=db)
    probe = (
        "import sys; sys.argv = ['cockpit', '--db', sys.argv[1], 'log', 'probe'];"
        "import cockpit.cli as c; rc = c.main();"
        "print(rc, sorted(m for m in sys.modules if m.startswith('cockpit.cli.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(db)],
        capture_output=True,
        text=True,
        env=cli_env(db),
        cwd=ROOT,
    )
    assert done.stdout.strip() == "0 ['cockpit.cli.context', 'cockpit.cli.log']"


def test_commands_run_one_after_another_in_one_process(
    db: Path, capsys: pytest.CaptureFixture[str]
):
    """Each command imports its module on demand; `cockpit list` imports `cockpit.cli.list`,
    which must not break the next command run in the same process."""
    from cockpit.cli import main

    assert main(["--db", str(db), "declare", "One", "-s", "SEV-2"]) == 0
    assert main(["--db", str(db), "list"]) == 0
    assert main(["--db", str(db), "log", "after list"]) == 0
    assert main(["--db", str(db), "sync", "export"]) == 0
    assert main(["--db", str(db), "show"]) == 0
    assert "after list" in capsys.readouterr().out
