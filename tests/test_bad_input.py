"""Bad input, generated: configuration files, timeline text, time strings and CLI arguments.

Each either works or fails with one clear line; nothing raises past the boundary and nothing
already stored is damaged.
"""

from __future__ import annotations

import io
import os
import string
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import tomli_w
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cockpit.cli import main
from cockpit.config import Config, ConfigError, load_config
from cockpit.domain import EARLIEST, LATEST, Kind, parse_moment, parse_utc
from cockpit.store import Store, StoreError
from tests.conftest import FakeClock, run_cli

FUZZ = float(os.environ.get("COCKPIT_FUZZ", "1"))
"""Scales every example count: COCKPIT_FUZZ=20 runs the long campaign (RELIABILITY.md)."""

SETTINGS = settings(
    max_examples=int(60 * FUZZ),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

KEYS = st.sampled_from(
    [
        "user",
        "name",
        "database",
        "path",
        "busy_timeout_ms",
        "severity",
        "first_update_minutes",
        "update_every_minutes",
        "required_roles",
        "roles",
        "names",
        "declare",
        "default_severity",
        "templates",
        "update",
        "runbooks",
        "dirs",
        "postmortem",
        "due_hours",
        "label",
        "bogus",
        "SEV-1",
    ]
)
SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.datetimes(),
)
TOML_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)


@SETTINGS
@given(st.dictionaries(KEYS, TOML_VALUES, max_size=6))
def test_random_toml_is_loaded_or_refused_in_one_line(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("cfg") / "config.toml"
    path.write_text(tomli_w.dumps(data))
    try:
        config = load_config(path)
    except ConfigError as exc:
        assert "\n" not in str(exc)
        assert str(exc).startswith(str(path))
    else:
        assert isinstance(config, Config)


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes_as_config(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("cfg") / "config.toml"
    path.write_bytes(raw)
    try:
        load_config(path)
    except ConfigError as exc:
        assert "\n" not in str(exc)


@SETTINGS
@given(text=st.text(min_size=1, max_size=400))
def test_any_text_is_stored_exactly(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("db") / "c.db"
    with Store.open(path, clock=FakeClock()) as store:
        incident = store.declare("x", "SEV-2", "alice")
        kept = store.append(incident.id, Kind.NOTE, "kept", "alice")
        try:
            entry = store.append(incident.id, Kind.NOTE, text, "alice")
        except StoreError:
            assert not text.strip()  # only empty text is refused
        else:
            assert store.entry(entry.id).text == text
        assert store.entry(kept.id).text == "kept"
        assert store.integrity_check() == "ok"


def test_lone_surrogates_and_a_megabyte_line(store: Store):
    incident = store.declare("x", "SEV-2", "alice")
    odd = store.append(incident.id, Kind.NOTE, "bad \udcff byte \ud800 and 😀", "alice")
    assert store.entry(odd.id).text == "bad \ufffd byte \ufffd and 😀"
    huge = "x" * 1_000_000 + "\x1b[2J"
    entry = store.append(incident.id, Kind.NOTE, huge, "alice")
    assert store.entry(entry.id).text == huge


NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@SETTINGS
@given(st.text(max_size=40) | st.from_regex(r"-?\d{1,12}\s*[smhd]\w*( ago)?", fullmatch=True))
def test_time_strings_parse_or_explain(raw):
    try:
        moment = parse_moment(raw, NOW)
    except ValueError as exc:
        # One line that names what was typed and says what would do.
        assert repr(raw) in str(exc) and "\n" not in str(exc)
        assert "out of range" in str(exc) or "not a time" in str(exc)
    else:
        assert moment.tzinfo is not None


# Generated times (issue 11.1): any string or datetime the cockpit is given either round-trips
# through the store and every read path, or is refused in one line.

ISO_TIMES = st.builds(
    lambda moment, offset: moment.isoformat(sep=" " if moment.second % 2 else "T") + offset,
    st.datetimes()  # years 1 to 9999, and the edges of the accepted range more often
    | st.datetimes(
        min_value=(EARLIEST - timedelta(days=2)).replace(tzinfo=None),
        max_value=(LATEST + timedelta(days=2)).replace(tzinfo=None),
    ),
    st.sampled_from(["", "Z", "+00:00", "+14:00", "-12:00", "+05:30", "-00:01"]),
)
RELATIVE_TIMES = st.builds(
    lambda amount, unit, tail: f"{amount}{unit}{tail}",
    st.integers(min_value=0, max_value=10**30),
    st.sampled_from(["s", "m", "min", "h", "d", "days", " d"]),
    st.sampled_from([" ago", "ago", ""]),
) | st.from_regex(r"-\d{1,40}\s*[smhd]", fullmatch=True)
CLOCK_TIMES = st.from_regex(r"\d{1,2}:\d{2}(:\d{2})?", fullmatch=True)
TIME_STRINGS = ISO_TIMES | RELATIVE_TIMES | CLOCK_TIMES | st.text(max_size=30)


def read_back_everywhere(store: Store, incident_id: int, entry_id: int) -> datetime:
    """The entry's time as every read path gives it: store, `show --json`, the export."""
    from cockpit.board import build_board, incident_json
    from cockpit.config import Config
    from cockpit.postmortem.export import export_markdown

    entry = store.entry(entry_id)
    assert not entry.unreadable
    shown = incident_json(store, build_board(store, Config(), incident_id, NOW))
    (as_json,) = [e for e in shown["entries"] if e["id"] == entry_id]
    assert parse_utc(as_json["at"]) == entry.at and "unreadable" not in as_json
    exported = export_markdown(store, Config(), incident_id, NOW, tz=UTC)
    assert f"| {entry_id} | {entry.at:%Y-%m-%d %H:%M:%S} |" in exported
    return entry.at


@SETTINGS
@given(raw=TIME_STRINGS)
def test_any_time_string_round_trips_or_is_refused_in_one_line(tmp_path_factory, raw):
    try:
        moment = parse_moment(raw, NOW)
    except ValueError as exc:
        assert str(exc) and "\n" not in str(exc)
        event("refused: " + ("out of range" if "out of range" in str(exc) else "not a time"))
        return
    assert EARLIEST <= moment < LATEST
    path = tmp_path_factory.mktemp("db") / "c.db"
    with Store.open(path, clock=FakeClock(NOW)) as store:
        incident = store.declare("x", "SEV-2", "alice")
        try:
            entry = store.append(incident.id, Kind.NOTE, "t", "alice", at=moment, reason="late")
        except StoreError as exc:
            assert str(exc) == "an entry cannot be dated in the future"
            event("refused: in the future")
            return
        stored = read_back_everywhere(store, incident.id, entry.id)
    event("round-tripped")
    assert stored == moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@SETTINGS
@given(
    moment=st.datetimes(
        min_value=(EARLIEST - timedelta(days=400)).replace(tzinfo=None),
        max_value=(LATEST + timedelta(days=400)).replace(tzinfo=None),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=12))]
        ),
    )
)
def test_any_datetime_given_to_the_store_round_trips_or_is_refused(tmp_path_factory, moment):
    path = tmp_path_factory.mktemp("db") / "c.db"
    with Store.open(path, clock=FakeClock(NOW)) as store:
        incident = store.declare("x", "SEV-2", "alice")
        try:
            entry = store.append(incident.id, Kind.NOTE, "t", "alice", at=moment, reason="late")
        except StoreError as exc:
            assert "\n" not in str(exc)
            assert "out of range" in str(exc) or "future" in str(exc)
            assert [e.id for e in store.entries(incident.id)] == [1]
            event("refused: " + ("out of range" if "out of range" in str(exc) else "future"))
            return
        stored = read_back_everywhere(store, incident.id, entry.id)
    event("round-tripped")
    assert stored == moment.astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000)


@SETTINGS
@given(
    st.lists(
        st.text(alphabet=string.printable + "é😀\u202e", max_size=12)
        | st.sampled_from(["--at", "--reason", "--kind", "--incident", "-", "--db", "log"]),
        max_size=6,
    )
)
def test_random_log_arguments_never_traceback(tmp_path_factory, capsys, monkeypatch, words):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"piped \xff output\n")))
    db = tmp_path_factory.mktemp("db") / "c.db"
    # A generated `--db friday` creates a database named `friday`: never in the checkout.
    monkeypatch.chdir(db.parent)
    with Store.open(db, clock=FakeClock()) as store:
        store.declare("x", "SEV-2", "alice")
    args = ["--db", str(db), "log", *words]
    try:
        status = main(args, clock=FakeClock())
    except SystemExit as exit_:  # argparse usage errors
        status = exit_.code
    assert status in (0, 1, 2)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if status:
        assert err.strip().splitlines()[-1].startswith("cockpit")


def test_invalid_utf8_on_the_command_line_and_stdin(tmp_path: Path):
    db = tmp_path / "c.db"
    run_cli("declare", "x", "-s", "SEV-2", db=db)
    done = run_cli("log", "-", input=b"caf\xe9 \xff\xfe output\n", db=db)
    assert done.returncode == 0, done.stderr
    with Store.open(db) as store:
        assert store.entries(1)[-1].text == "caf\ufffd \ufffd\ufffd output"


# ---- runbook files --------------------------------------------------------------------------

RUNBOOK_KEYS = st.sampled_from(
    [
        "title",
        "trigger",
        "severity",
        "update_every_minutes",
        "escalate_after_minutes",
        "escalate_to",
        "tags",
        "Title",
        "escalate",
        "bogus",
    ]
)
FRONT_MATTER = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "title": st.text(max_size=30),
            "severity": st.sampled_from(["SEV-1", "SEV-2", ""]),
            "update_every_minutes": st.integers(-5, 10**6),
            "tags": st.lists(st.text(max_size=8), max_size=3),
        },
    ).map(tomli_w.dumps),
    st.dictionaries(RUNBOOK_KEYS, TOML_VALUES, max_size=5).map(tomli_w.dumps),
    st.text(alphabet="=[]\"'#.,{} \nabc123+-", max_size=80),  # mostly broken TOML
)
MARKDOWN_PIECES = [
    *"#123456789.)-*+ \t\n`~>_[]()!<|\\abc",
    *("1. ", "\n1. ", "\n## ", "```", "\n```sh\n", "+++", "---", "\r\n", "\r"),
    *("\x1b[2J", "\x1b]0;pwned\x07", "\x00", "\u202e", "é", "😀", "\ufeff", "\udcff"),
]
NOISE = st.lists(st.sampled_from(MARKDOWN_PIECES), max_size=12).map("".join)
MARKDOWN_LINE = st.one_of(
    NOISE,
    st.tuples(st.sampled_from(["# ", "## ", "### ", "#", "Title\n==="]), NOISE).map("".join),
    st.tuples(st.sampled_from(["## Steps\n1. ", "## Fix\n\n2. "]), NOISE).map("".join),
    st.tuples(st.sampled_from(["1. ", "2) ", "10. ", "   1. ", "1.", "- ", "> "]), NOISE).map(
        "".join
    ),
    st.tuples(st.sampled_from(["   ", "\t", "    "]), NOISE).map("".join),
    st.sampled_from(["```", "```sh", "~~~", "```text", "$ kubectl rollout undo", "`cmd`"]),
)
MARKDOWN = st.lists(MARKDOWN_LINE, max_size=25).map("\n".join)


@st.composite
def runbook_texts(draw: st.DrawFn) -> str:
    body = draw(MARKDOWN)
    shape = draw(st.sampled_from(["front matter"] * 3 + ["unclosed", "yaml", "none", "none"]))
    if shape == "none":
        return body
    fence = "---" if shape == "yaml" else "+++"
    closing = "" if shape == "unclosed" else f"{fence}\n"
    return f"{fence}\n{draw(FRONT_MATTER)}\n{closing}{body}"


@SETTINGS
@given(runbook_texts())
def test_any_runbook_text_parses_or_explains_in_one_line(text):
    from cockpit.runbooks import Runbook, RunbookError, parse_runbook

    path = Path("/runbooks/odd.md")
    try:
        runbook = parse_runbook(text, path)
    except RunbookError as exc:
        assert str(exc).startswith(f"{path}: ")
        assert "\n" not in str(exc)
    else:
        assert isinstance(runbook, Runbook)
        assert [step.number for step in runbook.steps] == list(range(1, len(runbook.steps) + 1))
        shown = [runbook.title, runbook.trigger, *(s.title for s in runbook.steps)]
        assert not any("\x1b" in line or "\x00" in line for line in shown)
        assert "\n" not in runbook.title


@settings(SETTINGS, max_examples=int(30 * FUZZ))
@given(texts=st.lists(runbook_texts() | st.binary(max_size=200), min_size=1, max_size=3))
def test_cockpit_runbooks_lists_every_file_or_its_error(tmp_path_factory, capsys, texts):
    folder = tmp_path_factory.mktemp("runbooks")
    for n, text in enumerate(texts):
        path = folder / f"rb-{n}.md"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_bytes(text.encode("utf-8", "surrogatepass"))
    config = folder / "config.toml"
    config.write_text(
        tomli_w.dumps({"runbooks": {"dirs": [str(folder)], "include_bundled": False}})
    )
    db = folder / "c.db"
    status = main(["--config", str(config), "--db", str(db), "runbooks"], clock=FakeClock())
    out, err = capsys.readouterr()
    assert status == 0 and "Traceback" not in err, err
    for n in range(len(texts)):
        listed = [line for line in out.splitlines() if f"rb-{n}" in line]
        assert listed, out  # as a runbook (its name or path) or as a file it cannot use
    errors = [line for line in out.splitlines() if line.startswith(f"  {folder}")]
    assert all(": " in line for line in errors)
    assert "\x1b" not in out
    checked = main(
        ["--config", str(config), "--db", str(db), "runbooks", "--check"], clock=FakeClock()
    )
    capsys.readouterr()
    assert checked == (1 if errors else 0)
