"""`cockpit runbooks`, `cockpit runbooks draft`, `declare --runbook` and the checklist in `show`."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.domain import Kind
from cockpit.runbooks import find_runbook, read_runbook, set_step
from cockpit.store import Store
from tests.conftest import ROOT, T0, FakeClock, cli_env, run_cli


@pytest.fixture
def runbook_dir(tmp_path: Path) -> Path:
    return tmp_path / "team-runbooks"


@pytest.fixture
def config_path(tmp_path: Path, runbook_dir: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[user]\nname = "alice"\n\n[runbooks]\ndirs = ["{runbook_dir}"]\n')
    return path


class Cli:
    """The command line in-process, with a fixed configuration, database and clock."""

    def __init__(
        self, config: Path, db: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
    ):
        self.base = ["--config", str(config), "--db", str(db)]
        self.clock = clock
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        code = main([*self.base, *args], clock=self.clock)
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def cli(
    config_path: Path, db_path: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> Cli:
    return Cli(config_path, db_path, clock, capsys)


def test_runbooks_lists_title_trigger_path_and_malformed_files(cli: Cli, runbook_dir: Path) -> None:
    runbook_dir.mkdir()
    (runbook_dir / "disk-full.md").write_text(
        '+++\ntitle = "Disk full"\ntrigger = "disk > 90%"\n+++\n## Do\n\n1. `df -h`\n'
    )
    (runbook_dir / "broken.md").write_text("+++\nescalate_after_minutes = 'soon'\n+++\n")
    code, out, _ = cli("runbooks")
    assert code == 0
    assert "disk-full · Disk full\n    trigger  disk > 90%\n    rules    1 steps\n" in out
    assert f"    path     {runbook_dir / 'disk-full.md'}" in out
    assert "api-high-error-rate · API high error rate  [SEV-2]" in out
    assert "escalate to Engineering Lead after 30 min" in out
    assert "cannot use 1 file:\n" in out
    assert (
        f"  {runbook_dir / 'broken.md'}: front matter: escalate_after_minutes: expected a "
        "whole number of minutes, got the string 'soon'"
    ) in out
    assert cli("runbooks", "--check")[0] == 1


def test_runbooks_reports_a_missing_configured_directory(cli: Cli, runbook_dir: Path) -> None:
    code, out, _ = cli("runbooks")
    assert code == 0
    assert f"no such runbook directory: {runbook_dir} (see [runbooks] dirs)" in out


def test_declare_with_runbook_checks_the_name(cli: Cli) -> None:
    code, out, _ = cli(
        "declare", "Checkout errors", "-s", "SEV-2", "--runbook", "api-high-error-rate"
    )
    assert (code, out) == (0, "INC-1\n")
    code, _, err = cli("declare", "Other", "-s", "SEV-2", "--runbook", "api-high-eror-rate")
    assert code == 2
    assert "did you mean 'api-high-error-rate'?" in err


def test_show_lists_the_checklist_and_escalation(
    cli: Cli, db_path: Path, clock: FakeClock, config_path: Path
) -> None:
    cli("declare", "Checkout errors", "-s", "SEV-2", "--runbook", "api-high-error-rate")
    runbook = find_runbook(
        [Path(__file__).parent.parent / "cockpit" / "bundled_runbooks"], "api-high-error-rate"
    )
    with Store.open(db_path, clock=clock) as store:
        set_step(store, 1, runbook, 1, True, "alice")
        set_step(store, 1, runbook, 6, True, "alice")
    clock.advance(minutes=23, seconds=41)
    code, out, _ = cli("show")
    assert code == 0
    assert "  runbook    api-high-error-rate · API high error rate\n" in out
    assert "             [x] 1 Check recent deployments\n" in out
    assert "             [ ] 2 Check error distribution\n" in out
    assert "             [x] 6 Roll back a bad deployment\n" in out
    assert "(in 06:19)" in out
    assert "escalate to Engineering Lead at" in out
    clock.advance(minutes=10)
    assert "ESCALATE to Engineering Lead now (due 03:41 ago)" in cli("show")[1]


def test_draft_writes_a_runbook_from_the_timeline(
    cli: Cli, db_path: Path, clock: FakeClock, runbook_dir: Path
) -> None:
    cli("declare", "Checkout API errors", "-s", "SEV-1", "--service", "checkout-api")
    with Store.open(db_path, clock=clock) as store:
        clock.advance(minutes=2)
        store.append(1, Kind.NOTE, "looks like the deploy", "alice")
        output = "$ kubectl get pods -n production\nNAME    READY\napi-1   0/1\n"
        store.append(1, Kind.NOTE, output, "alice", meta={"captured": True})
        wrong = store.append(1, Kind.ACTION, "rolled back v141", "alice")
        store.append(
            1,
            Kind.ACTION,
            "rolled back `api` to v141 with `kubectl rollout undo deployment/api`",
            "alice",
            corrects=wrong.id,
        )
        store.append(1, Kind.DECISION, "# freeze deploys until Monday", "bob")
        store.append(1, Kind.ACTION, "1. paged the DBA\nthey confirmed the pool was fine", "bob")
    code, out, _ = cli("runbooks", "draft", "INC-1")
    assert code == 0
    path = Path(out.strip())
    assert path == runbook_dir / "checkout-api-errors.md"
    drafted = read_runbook(path)
    assert drafted.title == "Checkout API errors"
    assert drafted.trigger == "Checkout API errors"
    assert drafted.severity == "SEV-1"
    assert drafted.tags == ("checkout-api",)
    assert [s.title for s in drafted.steps] == [
        "Run and check the output",
        "Rolled back api to v141 with",
        "# freeze deploys until Monday",
        "1. paged the DBA",
    ]
    assert drafted.steps[0].commands == ("kubectl get pods -n production",)
    assert drafted.steps[1].commands == ("api", "kubectl rollout undo deployment/api")
    assert "api-1   0/1" in drafted.steps[0].text  # the captured output, shown, not a command
    assert "looks like the deploy" not in drafted.body  # notes are not steps
    assert "v141\n" not in drafted.body.replace("v141 with", "")  # the corrected entry is gone
    assert "they confirmed the pool was fine" in drafted.steps[3].text

    # A second draft never overwrites the first.
    code, out, _ = cli("runbooks", "draft", "INC-1")
    assert Path(out.strip()) == runbook_dir / "checkout-api-errors-2.md"
    assert read_runbook(path).body == drafted.body


def test_draft_keeps_the_followed_runbook_rules(cli: Cli, runbook_dir: Path) -> None:
    cli("declare", "Payments failing", "-s", "SEV-1", "--runbook", "third-party-dependency-down")
    _, out, _ = cli("runbooks", "draft", "1", "--dir", str(runbook_dir / "sub"))
    drafted = read_runbook(Path(out.strip()))
    assert (drafted.escalate_after_minutes, drafted.escalate_to) == (45, "Engineering Lead")
    assert drafted.update_every_minutes == 30
    assert "Third-party dependency down" in drafted.body
    assert len(drafted.steps) == 1  # a placeholder: nothing was logged


def test_draft_without_configured_dirs_goes_to_the_current_directory(
    tmp_path: Path,
    db_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bare = tmp_path / "bare.toml"
    bare.write_text("")
    here = tmp_path / "cwd"
    here.mkdir()
    monkeypatch.chdir(here)
    cli = Cli(bare, db_path, clock, capsys)
    cli("declare", "!!!", "-s", "SEV-3")
    code, out, _ = cli("runbooks", "draft", "INC-1")
    assert code == 0
    assert Path(out.strip()) == Path("inc-1.md").resolve() or Path(out.strip()).resolve() == (
        here / "inc-1.md"
    )
    assert read_runbook(here / "inc-1.md").title == "!!!"


def test_draft_of_an_unknown_incident_fails_cleanly(cli: Cli, db_path: Path) -> None:
    Store.open(db_path).close()
    code, _, err = cli("runbooks", "draft", "INC-9")
    assert code == 1
    assert err == "cockpit: no incident INC-9\n"


def test_runbooks_as_a_real_process(config_path: Path, db_path: Path) -> None:
    result = run_cli("runbooks", "--check", config=config_path, db=db_path)
    assert result.returncode == 1  # the configured directory does not exist yet
    assert "db-connection-pool-exhausted · Database connection pool exhausted" in result.stdout
    assert result.stderr == ""


def test_clock_is_used_for_the_escalation_deadline(cli: Cli, clock: FakeClock) -> None:
    clock.set(T0 + timedelta(hours=1))
    cli("declare", "Pool", "-s", "SEV-2", "--runbook", "db-connection-pool-exhausted")
    clock.advance(minutes=5)
    assert "escalate to Database on-call at" in cli("show")[1]
    assert "(in 15:00)" in cli("show")[1]


def test_a_draft_reads_as_typed_with_working_links(store: Store, tmp_path: Path) -> None:
    """The draft uses the export's escaping: addresses are links GitHub follows, everything
    typed reads as typed, and only the commands typed in backticks stay code."""
    from cockpit.runbooks import draft_runbook, parse_runbook
    from tests import gfm

    grafana = "https://grafana.example.com/d/api_errors?orgId=1&var-env=prod#panel-2"
    jira = "https://acme.atlassian.net/browse/OPS-1234?page=a:b|c#comment-5678"
    incident = store.declare("Checkout \u202eerrors", "SEV-1", "alice", service="api")
    typed = [
        f"Rolled back via {grafana} then ran `kubectl rollout undo deploy/api`",
        "Paged *not bold* _nor this_ & <b>html</b> $x$ a|b\tc ``unpaired`",
        f"# not a heading\n- not a bullet\nsee ({jira}).",
    ]
    for text in typed:
        store.append(incident.id, Kind.ACTION, text, "a_b*c*")
    draft = draft_runbook(store.incident(incident.id), store.entries(incident.id))
    assert "\u202e" not in draft and "\t" not in draft

    root = gfm.render(draft.split("+++", 2)[2])
    assert root.all("h1")[0].text() == "Checkout \\u202Eerrors"
    assert root.links() == [(grafana, gfm.href(grafana)), (jira, gfm.href(jira))]
    codes = [c.text() for c in root.all("code")]
    assert codes == ["cockpit runbooks draft", "kubectl rollout undo deploy/api"]
    steps = root.all("ol")[0].all("li")
    assert [[p.text() for p in step.all("p")][:-1] for step in steps] == [
        ["Rolled back via " + grafana + " then ran kubectl rollout undo deploy/api"],
        ["Paged *not bold* _nor this_ & <b>html</b> $x$ a|b   c ``unpaired`"],
        ["# not a heading", "- not a bullet\nsee (" + jira + ")."],
    ]
    assert not root.tags() - {"h1", "h2", "p", "ol", "ul", "li", "a", "code", "em"}
    assert [em.text() for em in root.all("em")][-1] == "Action by a_b*c* at 02:14 UTC."

    runbook = parse_runbook(draft, tmp_path / "draft.md")
    assert [s.title for s in runbook.steps] == [
        "Rolled back via https://grafana.example.com/d/api_errors?or…",
        "Paged *not bold* _nor this_ & <b>html</b> $x$ a|b   c ``unp…",
        "# not a heading",
    ]
    assert runbook.steps[0].commands == ("kubectl rollout undo deploy/api",)
    assert runbook.steps[1].commands == ()


def test_the_markdown_parser_loads_with_the_first_runbook_not_before(tmp_path: Path) -> None:
    """markdown-it-py is imported when a runbook is parsed: not by importing the runbooks
    package, and never by `cockpit log` (which a script pipes into), even on an incident
    that links a runbook."""
    db = tmp_path / "cockpit.db"
    declared = run_cli("declare", "x", "-s", "SEV-2", "--runbook", "api-high-error-rate", db=db)
    assert declared.returncode == 0, declared.stderr
    probe = (
        "import sys, importlib, pkgutil, cockpit.runbooks as r;"
        "[importlib.import_module('cockpit.runbooks.' + n) for _, n, _ in "
        "pkgutil.iter_modules(r.__path__)];"
        "before = 'markdown_it' in sys.modules;"
        "sys.argv = ['cockpit', 'log', 'probe']; import cockpit.cli as c; rc = c.main();"
        "after_log = 'markdown_it' in sys.modules;"
        "from cockpit.config import PACKAGE_RUNBOOKS;"
        "r.read_runbook(PACKAGE_RUNBOOKS / 'api-high-error-rate.md');"
        "print(rc, before, after_log, 'markdown_it' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=cli_env(db), cwd=ROOT
    )
    assert done.stdout.strip() == "0 False False True", done.stderr
