"""The on-call rotation across a hand-off, a daylight-saving change and the rotation's start."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cockpit.config import ConfigError, load_config
from cockpit.oncall import Rotation, current_shift
from tests.conftest import cli_env, run_cli

BERLIN = ZoneInfo("Europe/Berlin")
# Monday 2026-10-05 09:00 Berlin is the first hand-off; hand-offs every Monday 09:00.
ROTA = Rotation(("alice", "bob", "carol"), date(2026, 10, 5), 0, time(9, 0), BERLIN)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def test_before_the_start_nobody_is_on_call():
    shift = current_shift(ROTA, at(2026, 10, 5, 8, 59))
    assert shift.person is None
    assert shift.next_person == "alice"
    assert shift.next_handoff == at(2026, 10, 5, 9, 0)


def test_the_start_and_a_hand_off():
    assert current_shift(ROTA, at(2026, 10, 5, 9, 0)).person == "alice"
    before = current_shift(ROTA, at(2026, 10, 12, 8, 59, 59))
    assert (before.person, before.next_person) == ("alice", "bob")
    assert before.next_handoff == at(2026, 10, 12, 9, 0)
    after = current_shift(ROTA, at(2026, 10, 12, 9, 0))
    assert (after.person, after.since, after.next_person) == ("bob", at(2026, 10, 12, 9), "carol")
    assert current_shift(ROTA, at(2026, 10, 19, 9, 0)).person == "carol"
    assert current_shift(ROTA, at(2026, 10, 26, 9, 0)).person == "alice"  # wraps around


def test_hand_off_stays_at_nine_across_daylight_saving():
    # Berlin leaves summer time on Sunday 2026-10-25: the Monday 26th hand-off is 09:00 CET,
    # which is 08:00 UTC instead of 07:00 UTC the week before.
    shift = current_shift(ROTA, datetime(2026, 10, 20, 12, 0, tzinfo=UTC))
    assert shift.next_handoff == at(2026, 10, 26, 9, 0)
    assert shift.next_handoff.astimezone(UTC) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    assert current_shift(ROTA, datetime(2026, 10, 26, 7, 30, tzinfo=UTC)).person == "carol"
    assert current_shift(ROTA, datetime(2026, 10, 26, 8, 0, tzinfo=UTC)).person == "alice"


def test_a_start_that_is_not_a_handoff_day_gives_a_short_first_shift():
    rota = Rotation(("alice", "bob"), date(2026, 10, 7), 0, time(9, 0), BERLIN)  # a Wednesday
    first = current_shift(rota, at(2026, 10, 8, 12, 0))
    assert (first.person, first.next_person) == ("alice", "bob")
    assert first.next_handoff == at(2026, 10, 12, 9, 0)
    assert current_shift(rota, at(2026, 10, 12, 9, 0)).person == "bob"
    assert current_shift(rota, at(2026, 10, 19, 9, 0)).person == "alice"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text("[oncall]\n" + body)
    return path


def test_config_and_command(tmp_path: Path):
    config = write(
        tmp_path,
        'people = ["alice", "bob"]\nstart = 2026-10-05\nhandoff_day = "monday"\n'
        'handoff_time = "09:00"\ntimezone = "Europe/Berlin"\n',
    )
    rotation = load_config(config).rotation
    assert rotation is not None and rotation.people == ("alice", "bob")
    done = run_cli("oncall", "--at", "2026-10-13T10:00:00+02:00", env=cli_env(config=config))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "now   bob (since Mon 2026-10-12 09:00 CEST)",
        "next  alice from Mon 2026-10-19 09:00 CEST",
    ]
    assert run_cli("oncall", env=cli_env()).returncode == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('people = ["a"]\n', r"oncall\.start: missing"),
        ('people = ["a"]\nstart = "next week"', r"oncall\.start: expected a date"),
        ('people = ["a"]\nstart = 2026-10-05\nhandoff_day = "caturday"', r"oncall\.handoff_day"),
        ('people = ["a"]\nstart = 2026-10-05\nhandoff_time = "9am"', r"oncall\.handoff_time"),
        ('people = ["a"]\nstart = 2026-10-05\ntimezone = "Mars/Olympus"', r"unknown time zone"),
    ],
)
def test_bad_rotation_config(tmp_path: Path, body: str, message: str):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, body))
