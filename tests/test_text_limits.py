"""Text over its stated limit is refused whole, in one line, with nothing stored; never cut.

Every path where text enters: `log` arguments and standard input, `update --message` and `-`,
`postmortem set … -`, `declare`, `assign`, action items, the store itself (the one rule both
front ends show) and the configuration's texts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.config import ConfigError, load_config
from cockpit.domain import (
    ENTRY_TEXT,
    NAME_TEXT,
    POSTMORTEM_TEXT,
    REASON_TEXT,
    TITLE_TEXT,
    UPDATE_TEXT,
    Kind,
)
from cockpit.store import Store, TextTooLong
from tests.conftest import FakeClock, run_cli


def over(limit_chars: int) -> str:
    return "x" * (limit_chars + 1)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "c.db"
    with Store.open(path, clock=FakeClock()) as store:
        store.declare("Checkout errors", "SEV-2", "alice")
    return path


def snapshot(db: Path) -> tuple[object, ...]:
    """Everything a refused command could have written."""
    with Store.open(db) as store:
        return (
            [(e.kind, e.text, e.reason) for i in store.incidents() for e in store.entries(i.id)],
            [(i.title, i.service, dict(i.roles)) for i in store.incidents()],
            store.deliveries(),
            [store.postmortem(i.id) for i in store.incidents()],
            store.action_items(),
        )


def refused_in_one_line(stderr: str, limit_chars: int) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("cockpit: error: ")
    assert f"limited to {limit_chars:,} characters" in lines[0]
    assert "nothing was stored" in lines[0]


# ---- standard input, as a real process -------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "limit"),
    [
        (["log", "-"], ENTRY_TEXT.chars),
        (["log", "--kind", "action", "-"], ENTRY_TEXT.chars),
        (["update", "-m", "-"], UPDATE_TEXT.chars),
        (["update", "--dry-run", "-m", "-"], UPDATE_TEXT.chars),
        (["postmortem", "set", "summary", "-"], POSTMORTEM_TEXT.chars),
        (["postmortem", "set", "root-cause", "-"], POSTMORTEM_TEXT.chars),
    ],
)
def test_standard_input_over_the_limit_is_refused_and_nothing_is_stored(db, args, limit):
    before = snapshot(db)
    done = run_cli(*args, db=db, input=b"a" * 10_000_000)  # 10 MB, as in the report
    assert done.returncode == 2, done.stderr
    refused_in_one_line(done.stderr, limit)
    assert snapshot(db) == before


def test_multibyte_input_over_the_limit_counts_characters(db):
    before = snapshot(db)
    done = run_cli("update", "-m", "-", db=db, input="é" * (UPDATE_TEXT.chars + 1))
    assert done.returncode == 2, done.stderr
    refused_in_one_line(done.stderr, UPDATE_TEXT.chars)
    assert f"got {UPDATE_TEXT.chars + 1:,}" in done.stderr
    assert snapshot(db) == before


def test_standard_input_at_the_limit_is_stored_whole(db):
    text = "ü" * (ENTRY_TEXT.chars - 1) + "!"  # 2 bytes a character: twice the limit in bytes
    done = run_cli("log", "-", db=db, input=text + "\n")
    assert done.returncode == 0, done.stderr
    with Store.open(db) as store:
        assert store.entries(1)[-1].text == text


# ---- arguments, in process (argv is too small for a megabyte) ---------------------------------


@pytest.mark.parametrize(
    ("args", "limit"),
    [
        (["log", over(ENTRY_TEXT.chars)], ENTRY_TEXT.chars),
        (["log", *(["y" * 1000] * 1100)], ENTRY_TEXT.chars),  # many words, joined
        (["log", "--at", "1m ago", "--reason", over(REASON_TEXT.chars), "x"], REASON_TEXT.chars),
        (["update", "-m", over(UPDATE_TEXT.chars)], UPDATE_TEXT.chars),
        (["update", "--dry-run", "-m", over(UPDATE_TEXT.chars)], UPDATE_TEXT.chars),
        # A summary that fits a template only once rendered over the limit.
        (["update", "-t", "update", "-m", "s" * (UPDATE_TEXT.chars - 20)], UPDATE_TEXT.chars),
        (["declare", over(TITLE_TEXT.chars)], TITLE_TEXT.chars),
        (["declare", "ok", "--service", over(NAME_TEXT.chars)], NAME_TEXT.chars),
        (["declare", "ok", "--commander", over(NAME_TEXT.chars)], NAME_TEXT.chars),
        (["assign", "commander", over(NAME_TEXT.chars)], NAME_TEXT.chars),
        (["postmortem", "set", "impact", over(POSTMORTEM_TEXT.chars)], POSTMORTEM_TEXT.chars),
        (["postmortem", "item", "add", over(TITLE_TEXT.chars)], TITLE_TEXT.chars),
        (["postmortem", "item", "add", "ok", "--owner", over(NAME_TEXT.chars)], NAME_TEXT.chars),
    ],
)
def test_arguments_over_the_limit_are_refused(db, capsys, args, limit):
    before = snapshot(db)
    status = main(["--db", str(db), *args], clock=FakeClock())
    assert status == 2
    refused_in_one_line(capsys.readouterr().err, limit)
    assert snapshot(db) == before


def test_editing_an_action_item_over_the_limit_changes_nothing(db, capsys):
    assert main(["--db", str(db), "postmortem", "item", "add", "Alert on pool"]) == 0
    before = snapshot(db)
    for args in (["--title", over(TITLE_TEXT.chars)], ["--owner", over(NAME_TEXT.chars)]):
        capsys.readouterr()
        assert main(["--db", str(db), "postmortem", "item", "edit", "1", *args]) == 2
        assert "nothing was stored" in capsys.readouterr().err
    assert snapshot(db) == before


# ---- the store: the one rule the app shows too --------------------------------------------------


def test_every_store_write_refuses_text_over_its_limit(store: Store):
    incident = store.declare("x", "SEV-2", "alice").id
    store.add_action_item(incident, "item")
    writes = [
        lambda: store.declare(over(TITLE_TEXT.chars), "SEV-2", "alice"),
        lambda: store.declare("x", "SEV-2", "alice", service=over(NAME_TEXT.chars)),
        lambda: store.declare("x", "SEV-2", "a", roles={"commander": over(NAME_TEXT.chars)}),
        lambda: store.append(incident, Kind.NOTE, over(ENTRY_TEXT.chars), "alice"),
        lambda: store.append(
            incident,
            Kind.NOTE,
            "x",
            "alice",
            at=store.now(),
            reason=over(REASON_TEXT.chars),
        ),
        lambda: store.assign(incident, "commander", over(NAME_TEXT.chars), "alice"),
        lambda: store.publish(incident, over(UPDATE_TEXT.chars), "alice"),
        lambda: store.set_postmortem(incident, "a", {"summary": over(POSTMORTEM_TEXT.chars)}),
        lambda: store.set_postmortem(
            incident, "a", {"root_cause": ["why"] * (POSTMORTEM_TEXT.chars // 3)}
        ),
        lambda: store.add_action_item(incident, over(TITLE_TEXT.chars)),
        lambda: store.add_action_item(incident, "t", owner=over(NAME_TEXT.chars)),
        lambda: store.update_action_item(1, title=over(TITLE_TEXT.chars)),
        lambda: store.update_action_item(1, owner=over(NAME_TEXT.chars)),
    ]
    before = (
        store.incidents(),
        store.entries(incident),
        store.postmortem(incident),
        store.action_items(),
    )
    for write in writes:
        with pytest.raises(TextTooLong, match="nothing was stored"):
            write()
    after = (
        store.incidents(),
        store.entries(incident),
        store.postmortem(incident),
        store.action_items(),
    )
    assert after == before


def test_text_at_each_limit_is_kept_whole(store: Store):
    incident = store.declare("t" * TITLE_TEXT.chars, "SEV-2", "a", service="s" * NAME_TEXT.chars)
    entry = store.append(incident.id, Kind.NOTE, "n" * ENTRY_TEXT.chars, "alice")
    update = store.publish(incident.id, "u" * UPDATE_TEXT.chars, "alice")
    assert store.entry(entry.id).text == "n" * ENTRY_TEXT.chars
    assert store.entry(update.id).text == "u" * UPDATE_TEXT.chars
    assert store.incident(incident.id).title == "t" * TITLE_TEXT.chars


# ---- configuration text ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (f'[user]\nname = "{over(NAME_TEXT.chars)}"', "user.name"),
        (f'[declare]\ndefault_service = "{over(NAME_TEXT.chars)}"', "declare.default_service"),
        (f'[templates]\nupdate = "{over(UPDATE_TEXT.chars)}"', "templates.update"),
        (
            f'[oncall]\npeople = ["a", "{over(NAME_TEXT.chars)}"]\nstart = 2026-11-02',
            r"oncall.people[1]",
        ),
    ],
)
def test_configuration_text_over_its_limit_is_refused_naming_the_key(tmp_path, text, key):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {key}: ") and "over the limit" in message
    assert "\n" not in message
