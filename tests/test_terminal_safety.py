"""Text reaches a terminal inert: C0 and C1 controls (U+009B is CSI, U+009D is OSC), escape
sequences and the bidirectional controls that reorder what is shown are removed by
`strip_control`/`one_line` on every command's output, and escaped (`\\u009b`) in JSON, which
would otherwise carry them raw.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.cli import main
from cockpit.domain import UNSAFE_CHARACTER, Kind, escape_unsafe, one_line, strip_control
from cockpit.store import Store
from tests.conftest import FakeClock

FUZZ = float(os.environ.get("COCKPIT_FUZZ", "1"))

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
C1 = "".join(chr(c) for c in range(0x80, 0xA0))
HOSTILE = f"ok\x9b31m\x9d0;title\x07\x1b[2J\x1b]8;;http://x\x1b\\{BIDI}{C1}\x7f\x00end"


def unsafe_in(text: str) -> list[str]:
    return sorted({f"U+{ord(c):04X}" for c in text if UNSAFE_CHARACTER.match(c) or c == "\x1b"})


def test_strip_control_removes_every_c1_and_bidi_control():
    assert strip_control(HOSTILE) == "ok31m0;titleend"  # what is left of the sequences is inert
    for char in BIDI + C1 + "\u206a\u206f":
        assert strip_control(f"a{char}b") == "ab", f"U+{ord(char):04X}"
    assert strip_control("tab\tnew\nline") == "tab\tnew\nline"
    assert strip_control("para\u2029graph\u2028line") == "para\ngraph\nline"
    assert one_line("a\u2028b\u202ec") == "a ⏎ bc"
    assert strip_control("Zoë 😀 مرحبا עברית") == "Zoë 😀 مرحبا עברית"  # text itself is kept


# Any character, with the dangerous ones drawn often enough to meet each other (a list, joined:
# `st.text` would merge the alphabets and draw them as rarely as any other character).
DANGEROUS = [*BIDI, *C1, "\x1b", "[", "]", "\x07", "\u2028", "\u206a"]
DANGEROUS_TEXT = st.lists(st.characters() | st.sampled_from(DANGEROUS)).map("".join)


@settings(max_examples=int(200 * FUZZ), deadline=None)
@given(DANGEROUS_TEXT)
def test_nothing_unsafe_survives_strip_control(text):
    assert unsafe_in(strip_control(text)) == []
    assert unsafe_in(one_line(text)) == [] and "\n" not in one_line(text)


@settings(max_examples=int(200 * FUZZ), deadline=None)
@given(
    st.recursive(
        DANGEROUS_TEXT, lambda inner: st.lists(inner) | st.dictionaries(DANGEROUS_TEXT, inner)
    )
)
@pytest.mark.slow
def test_escaped_json_is_the_same_json_with_nothing_raw(value):
    text = escape_unsafe(json.dumps(value, ensure_ascii=False))
    assert json.loads(text) == value
    assert unsafe_in(text) == []


# ---- every command's output ---------------------------------------------------------------------


@pytest.fixture
def hostile_world(tmp_path: Path) -> tuple[list[str], str]:
    """A configuration, runbook and database where every text people give holds `HOSTILE`."""
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    (runbooks / f"rb{BIDI[:3]}.md").write_text("# plain\n")
    text = HOSTILE.replace("\x00", "")  # TOML cannot hold NUL
    front = {
        "title": text,
        "trigger": text,
        "severity": text,
        "escalate_after_minutes": 1,
        "escalate_to": text,
        "tags": [text],
    }
    (runbooks / "evil.md").write_text(
        f"+++\n{tomli_w.dumps(front)}+++\n# H\n\n## Steps\n\n"
        f"1. **Step {HOSTILE}** `cmd {HOSTILE}`\n"
    )
    config = tmp_path / "config.toml"
    config.write_text(
        tomli_w.dumps({"user": {"name": text}, "runbooks": {"dirs": [str(runbooks)]}})
    )
    db = tmp_path / "c.db"
    clock = FakeClock()
    with Store.open(db, clock=clock) as store:
        incident = store.declare(
            HOSTILE, "SEV-1", HOSTILE, service=HOSTILE, runbook="evil", roles={"commander": HOSTILE}
        ).id
        clock.advance(minutes=5)
        store.append(incident, Kind.NOTE, f"{HOSTILE}\nsecond line", HOSTILE)
        store.append(incident, Kind.ACTION, HOSTILE, HOSTILE, at=clock(), reason=HOSTILE)
        entry = store.publish(incident, HOSTILE, HOSTILE, deliveries=[("slack", "post", {})])
        delivery = store.deliveries(incident)[0].id
        store.update_delivery(delivery, state="failed", last_error=HOSTILE)
        store.set_postmortem(incident, HOSTILE, {"summary": HOSTILE, "root_cause": [HOSTILE]})
        store.add_action_item(incident, HOSTILE, owner=HOSTILE)
        store.star(entry.id, HOSTILE)
    return ["--config", str(config), "--db", str(db)], str(tmp_path)


COMMANDS = [
    ["show"],
    ["show", "1"],
    ["list", "--all"],
    ["outbox"],
    ["outbox", "--incident", "1"],
    ["postmortem", "show", "--timeline"],
    ["runbooks"],
    ["doctor"],
    ["deliver", "--wait", "0"],
    ["assign", "communicator", HOSTILE],
    ["assign", "commander", HOSTILE],
    ["status", "identified"],
    ["log", HOSTILE],
    ["update", "--dry-run", "-m", HOSTILE],
    ["update", "-m", HOSTILE],
    ["postmortem", "item", "edit", "1", "--owner", HOSTILE],
    ["postmortem", "star", "1"],
    ["declare", "second", "--service", HOSTILE],
    ["runbooks", "draft", "INC-1", "--dir", "{tmp}"],
]


@pytest.mark.parametrize("args", COMMANDS)
def test_no_command_writes_a_control_to_the_terminal(hostile_world, capsys, args):
    base, tmp = hostile_world
    argv = [*base, *(tmp if a == "{tmp}" else a for a in args)]
    status = main(argv, clock=FakeClock())
    out, err = capsys.readouterr()
    assert status in (0, 1), err
    assert unsafe_in(out) == [] and unsafe_in(err) == [], (out, err)
    assert "Traceback" not in err


def test_show_json_escapes_controls_and_keeps_the_text(hostile_world, capsys):
    base, _ = hostile_world
    assert main([*base, "show", "--json"], clock=FakeClock()) == 0
    out = capsys.readouterr().out
    assert unsafe_in(out) == []
    assert "\\u009b" in out and "\\u202e" in out
    shown = json.loads(out)
    assert shown["title"] == HOSTILE.strip()
    assert f"{HOSTILE}\nsecond line" in [entry["text"] for entry in shown["entries"]]
    assert shown["roles"]["commander"] == HOSTILE
