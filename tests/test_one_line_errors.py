"""Whatever goes wrong is one line on stderr. An unexpected exception says it is a bug and where
its traceback went (a private file, without local variables); the environment's problems
(unknown `~user`, NUL bytes, names too long, an output encoding that cannot show the text,
closed or broken standard streams) are said plainly.
"""

from __future__ import annotations

import json
import os
import stat
import string
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cockpit.cli import main
from cockpit.config import ConfigError, load_config
from cockpit.domain import Kind
from cockpit.store import Store
from tests.conftest import ROOT, FakeClock, cli_env, run_cli

FUZZ = float(os.environ.get("COCKPIT_FUZZ", "1"))


# ---- a bug: one line, and the traceback in a file ------------------------------------------------


def test_an_unexpected_exception_is_one_line_naming_the_report(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    token = "xoxb-local-secret-123"

    def broken(ctx: object) -> int:
        secret_local = token  # a local variable: must not reach the report
        raise ZeroDivisionError(f"boom {len(secret_local)}")

    monkeypatch.setattr("cockpit.cli.list.cmd_list", broken)
    status = main(["--db", str(tmp_path / "c.db"), "list"], clock=FakeClock())
    err = capsys.readouterr().err
    assert status == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("cockpit: unexpected ZeroDivisionError: a bug in cockpit")
    path = Path(lines[0].split("details in ", 1)[1].split(" (please report it)")[0])
    assert path.parent == tmp_path / "state" / "cockpit" / "log"
    report = path.read_text()
    assert "Traceback (most recent call last)" in report and "ZeroDivisionError: boom 21" in report
    assert token not in report
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_crash_report_masks_the_configurations_secrets(tmp_path, monkeypatch, capsys):
    """A bug whose message holds a configured credential (a token echoed into an exception)
    is reported with the credential masked, in the file and in the one line."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    token = "xoxb-1234567890-abcdefghijkl"
    monkeypatch.setenv("TEST_SLACK_TOKEN", token)
    config = tmp_path / "config.toml"
    config.write_text('[slack]\ntoken_env = "TEST_SLACK_TOKEN"\nchannel = "C123"\n')

    def broken(ctx: object) -> int:
        raise RuntimeError(f"the service said: bad header Bearer {token}")

    monkeypatch.setattr("cockpit.cli.list.cmd_list", broken)
    status = main(["--config", str(config), "--db", str(tmp_path / "c.db"), "list"])
    err = capsys.readouterr().err
    assert status == 1 and token not in err
    path = Path(err.split("details in ", 1)[1].split(" (please report it)")[0])
    report = path.read_text()
    assert "RuntimeError: the service said: bad header Bearer" in report
    assert token not in report and token[:12] not in report


def test_when_no_report_can_be_written_the_traceback_goes_to_stderr(tmp_path, monkeypatch, capsys):
    blocked = tmp_path / "state"
    blocked.write_text("a file where the folder should be")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocked))
    monkeypatch.setattr(
        "cockpit.cli.list.cmd_list",
        lambda ctx: {}["missing"],  # a KeyError
    )
    assert main(["--db", str(tmp_path / "c.db"), "list"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith(
            "cockpit: unexpected KeyError: a bug in cockpit, not in what you typed; "
            "the traceback is above"
        )
    )


# ---- paths people give ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--db", "~nosuchuser/x.db", "list"],
        ["--config", "~nosuchuser/config.toml", "list"],
        ["export", "-o", "~nosuchuser/pm.md"],
        ["init", "~nosuchuser/config.toml"],
        ["runbooks", "draft", "INC-1", "--dir", "~nosuchuser/rb"],
    ],
)
def test_an_unknown_user_in_a_path_is_one_line(tmp_path: Path, args):
    db = tmp_path / "c.db"
    with Store.open(db) as store:
        store.declare("x", "SEV-2", "alice")
    done = run_cli(*args, db=db)
    assert done.returncode in (1, 2)
    assert done.stderr.count("\n") == 1, done.stderr
    assert "cannot expand ~nosuchuser (no user named 'nosuchuser')" in done.stderr


@pytest.mark.parametrize("name", ["COCKPIT_DB", "COCKPIT_CONFIG"])
def test_an_unknown_user_in_an_environment_variable_is_one_line(name):
    done = run_cli("list", env=cli_env(**{name: "~nosuchuser/x"}))
    assert done.returncode == 1
    assert done.stderr == (
        f"cockpit: ${name} ~nosuchuser/x: cannot expand ~nosuchuser "
        "(no user named 'nosuchuser'); give the full path\n"
    )


def test_an_empty_cockpit_db_means_the_default(tmp_path: Path):
    data = tmp_path / "share"
    env = cli_env(COCKPIT_DB="", HOME=str(tmp_path), XDG_DATA_HOME=str(data))
    declared = run_cli("declare", "Empty means default", env=env)
    assert declared.returncode == 0, declared.stderr
    assert (data / "cockpit" / "cockpit.db").exists()
    done = run_cli("list", env=env)
    assert done.returncode == 0, done.stderr
    assert "Empty means default" in done.stdout


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[database]\npath = "~nosuchuser/c.db"', "database.path"),
        ('[database]\npath = "a\\u0000b"', "database.path"),
        ('[runbooks]\ndirs = ["ok", "~nosuchuser/rb"]', "runbooks.dirs[1]"),
        ('[postmortem]\ndir = "pm\\u0000"', "postmortem.dir"),
    ],
)
def test_paths_in_the_configuration_are_checked_when_loading(tmp_path: Path, text, key):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: {key}: ")
    assert "\n" not in str(caught.value) and "\0" not in str(caught.value)


@pytest.mark.parametrize(
    "args",
    [
        ["--db", "{long}", "list"],
        ["--db", "{deep}", "log", "x"],
        ["--config", "{long}", "list"],
        ["export", "-o", "{long}"],
        ["export", "-o", "{deep}"],
        ["init", "{long}"],
    ],
)
def test_names_too_long_are_one_line(tmp_path: Path, args):
    db = tmp_path / "c.db"
    with Store.open(db) as store:
        store.declare("x", "SEV-2", "alice")
    names = {"{long}": str(tmp_path / ("a" * 300)), "{deep}": str(tmp_path) + "/a" * 3000}
    done = run_cli(*(names.get(a, a) for a in args), db=db)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and done.stderr.endswith("File name too long\n")


# ---- output the terminal cannot encode --------------------------------------------------------


@pytest.fixture
def worldly(tmp_path: Path) -> Path:
    """A database full of text ASCII cannot hold."""
    db = tmp_path / "c.db"
    with Store.open(db, clock=FakeClock()) as store:
        incident = store.declare("Zahlungen — Störung 😀", "SEV-1", "Zoë", service="café")
        store.append(incident.id, Kind.NOTE, "日本語 ✓ naïve", "José")
        store.assign(incident.id, "commander", "Łukasz", "Zoë")
        store.set_postmortem(incident.id, "Zoë", {"summary": "Ärger"})
        store.add_action_item(incident.id, "Überwachung", owner="Søren")
    return db


COMMANDS = [
    ["show"],
    ["show", "--json"],
    ["list", "--all"],
    ["outbox"],
    ["postmortem", "show", "--timeline"],
    ["export", "-o", "-"],
    ["runbooks"],
    ["doctor"],
    ["assign", "commander", "Łukasz"],
    ["log", "plain"],
]


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
@pytest.mark.parametrize("args", COMMANDS)
def test_an_output_encoding_that_cannot_show_the_text_is_not_fatal(worldly, encoding, args):
    done = run_cli(*args, db=worldly, env=cli_env(worldly, PYTHONIOENCODING=encoding))
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr and "Error" not in done.stderr
    if args == ["show", "--json"]:
        shown = json.loads(done.stdout)
        assert shown["title"] == "Zahlungen — Störung 😀"
        assert shown["entries"][1]["text"] == "日本語 ✓ naïve"
    if args == ["show"]:
        assert "Zahlungen" in done.stdout


# ---- closed and broken standard streams ------------------------------------------------------


def run_with(args: list[str], db: Path, close: tuple[int, ...]) -> subprocess.CompletedProcess[str]:
    def close_fds() -> None:  # pragma: no cover - runs in the child
        for fd in close:
            os.close(fd)

    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args],
        stdout=subprocess.DEVNULL if 1 in close else subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=cli_env(db),
        cwd=ROOT,
        preexec_fn=close_fds,
        text=True,
        timeout=30,
    )


def test_a_closed_standard_output_still_logs(worldly: Path):
    for args in (["log", "written blind"], ["show"], ["show", "--json"], ["list"]):
        done = run_with(args, worldly, close=(1,))
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr and "Exception" not in done.stderr
    with Store.open(worldly) as store:
        assert store.entries(1)[-1].text == "written blind"


def test_a_closed_standard_input_is_empty(worldly: Path):
    done = run_with(["log", "-"], worldly, close=(0,))
    assert done.returncode == 2
    assert done.stderr == "cockpit: error: nothing to log (empty text)\n"
    done = run_with(["update", "-m", "-"], worldly, close=(0,))
    assert (done.returncode, done.stderr) == (2, "cockpit: error: --message is empty\n")


def test_a_reader_that_leaves_early_is_no_traceback(worldly: Path):
    with Store.open(worldly) as store:
        for n in range(3000):
            store.append(1, Kind.NOTE, f"line {n} " + "x" * 60, "alice")
    for args in (["show"], ["export", "-o", "-"], ["postmortem", "show", "--timeline"]):
        child = subprocess.Popen(
            [sys.executable, "-m", "cockpit", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=cli_env(worldly),
            cwd=ROOT,
        )
        assert child.stdout is not None and child.stderr is not None
        child.stdout.read(10)
        child.stdout.close()  # `| head -c 10`
        err = child.stderr.read().decode()
        # 1 when the broken pipe is noticed; CPython may also finish a large write silently.
        assert child.wait(timeout=30) in (0, 1)
        assert err == "", err


# ---- anything at all on the command line -----------------------------------------------------

SUBCOMMANDS = [
    ["log"],
    ["declare"],
    ["status"],
    ["severity"],
    ["assign"],
    ["list"],
    ["show"],
    ["export"],
    ["update", "--dry-run"],
    ["outbox"],
    ["runbooks"],
    ["runbooks", "draft"],
    ["postmortem", "show"],
    ["postmortem", "set"],
    ["postmortem", "item", "add"],
    ["postmortem", "item", "edit"],
    ["postmortem", "star"],
    ["oncall"],
]
TOKENS = st.one_of(
    st.text(alphabet=string.printable + "é😀\u202e\x9b\x00", max_size=12).filter(
        # argv cannot hold NUL; and `init`, `export -o` and `draft --dir` write where a path
        # points, so generated paths stay inside the test's folder.
        lambda t: "\x00" not in t and not t.lstrip().startswith(("/", "~")) and ".." not in t
    ),
    st.sampled_from(
        [
            *("-", "--at", "--incident", "-i", "INC-1", "1", "0", "-1", "nan", "~nosuchuser/x"),
            *("--title", "--owner", "--deadline", "--state", "--json", "--all", "summary"),
            *("--kind", "--reason", "--template", "--message", "--status", "resolved", "SEV-1"),
            "commander",
        ]
    ),
)


@settings(
    max_examples=int(80 * FUZZ),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(command=st.sampled_from(SUBCOMMANDS), words=st.lists(TOKENS, max_size=6))
def test_any_arguments_to_any_command_end_in_one_line(
    tmp_path_factory, capsys, monkeypatch, command, words
):
    folder = tmp_path_factory.mktemp("cli")
    monkeypatch.chdir(folder)  # `init`, `export` and `draft` write here
    monkeypatch.setattr("sys.stdin", open(os.devnull, encoding="utf-8"))  # noqa: SIM115
    db = folder / "c.db"
    with Store.open(db, clock=FakeClock()) as store:
        store.declare("x", "SEV-2", "alice")
    try:
        status = main(["--db", str(db), *command, *words], clock=FakeClock())
    except SystemExit as exit_:  # argparse's usage errors and --help
        status = exit_.code
    err = capsys.readouterr().err
    assert status in (0, 1, 2), err
    assert "Traceback" not in err and "a bug in cockpit" not in err, err
    if status:
        assert err.strip().splitlines()[-1].startswith("cockpit")
