"""The drill clock: drill time from an injected wall clock, a start and a speed. No sleeps."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.domain import Kind
from cockpit.drills.clock import (
    DEFAULT_SPEED,
    DrillClock,
    check_speed,
    format_speed,
    parse_speed,
)
from cockpit.store import Store
from tests.conftest import FakeClock

WALL = datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)
ZERO = datetime(2026, 11, 27, 2, 14, 0, tzinfo=UTC)


def test_drill_time_runs_speed_times_faster() -> None:
    wall = FakeClock(WALL)
    clock = DrillClock.start(wall, speed=10, zero=ZERO)
    assert clock.now() == ZERO
    wall.advance(seconds=6)
    assert clock.now() == ZERO + timedelta(minutes=1)
    wall.advance(minutes=3)
    assert clock() == ZERO + timedelta(minutes=31)  # callable: a Clock for the store
    assert clock.minute(clock.now()) == 31


def test_the_default_speed_and_zero() -> None:
    wall = FakeClock(WALL)
    clock = DrillClock.start(wall)
    assert clock.speed == DEFAULT_SPEED == 10
    assert clock.zero == clock.wall_start == WALL
    wall.advance(seconds=30)
    assert clock.now() == WALL + timedelta(minutes=5)


def test_two_processes_reading_the_same_figures_agree() -> None:
    wall = FakeClock(WALL)
    first = DrillClock.start(wall, speed=12, zero=ZERO)
    wall.advance(seconds=75)
    # A second terminal builds its clock from what the store keeps: start, zero, speed.
    second = DrillClock(first.wall_start, first.zero, first.speed, wall=wall)
    assert second.now() == first.now() == ZERO + timedelta(minutes=15)


def test_conversions_both_ways() -> None:
    clock = DrillClock(WALL, ZERO, 10, wall=FakeClock(WALL))
    assert clock.drill_minutes(6) == 1
    assert clock.drill_minutes(90) == 15
    assert clock.wall_seconds(15) == 90
    assert clock.wall_seconds(clock.drill_minutes(47.5)) == pytest.approx(47.5)
    assert clock.moment(12.5) == ZERO + timedelta(minutes=12, seconds=30)
    assert clock.minute(clock.moment(12.5)) == 12.5
    slow = DrillClock(WALL, ZERO, 1, wall=FakeClock(WALL))
    assert slow.drill_minutes(60) == 1 and slow.wall_seconds(1) == 60


def test_wall_at_says_when_a_timer_fires() -> None:
    wall = FakeClock(WALL)
    clock = DrillClock.start(wall, speed=10, zero=ZERO)
    due = clock.moment(15)  # the first update deadline of a SEV-1, in drill time
    assert clock.wall_at(due) == WALL + timedelta(seconds=90)
    wall.set(WALL + timedelta(seconds=90))
    assert clock.now() == due


def test_pause_freezes_drill_time_and_resume_goes_on_from_there() -> None:
    wall = FakeClock(WALL)
    clock = DrillClock.start(wall, speed=10, zero=ZERO)
    wall.advance(seconds=60)  # 10 drill minutes
    paused = clock.pause()
    assert paused.paused and paused.now() == ZERO + timedelta(minutes=10)
    assert paused.pause() is paused
    wall.advance(hours=1)  # lunch
    assert paused.now() == ZERO + timedelta(minutes=10)
    assert paused.wall_at(ZERO + timedelta(minutes=20)) is None
    resumed = paused.resume()
    assert not resumed.paused and resumed.zero == ZERO
    assert resumed.now() == ZERO + timedelta(minutes=10)
    wall.advance(seconds=6)
    assert resumed.now() == ZERO + timedelta(minutes=11)
    assert resumed.resume() is resumed
    assert resumed.wall_at(ZERO + timedelta(minutes=12)) == wall.now + timedelta(seconds=6)


def test_a_wall_clock_going_backwards_stays_at_zero() -> None:
    wall = FakeClock(WALL)
    clock = DrillClock.start(wall, speed=10, zero=ZERO)
    wall.advance(seconds=-30)
    assert clock.now() == ZERO


def test_the_store_stamps_entries_in_drill_time(tmp_path: Path) -> None:
    wall = FakeClock(WALL)
    clock = DrillClock.start(wall, speed=10, zero=ZERO)
    with Store.open(tmp_path / "drills.db", clock=clock) as store:
        incident = store.declare("Drill", "SEV-2", "alice")
        wall.advance(seconds=42)  # 7 drill minutes
        entry = store.append(incident.id, Kind.NOTE, "rolled back", "alice")
    assert incident.declared_at == ZERO
    assert entry.at == ZERO + timedelta(minutes=7)


SPEEDS_REFUSED = [0, 0.5, 121, 1000, -10, math.inf, math.nan, True, "10", None]


@pytest.mark.parametrize("speed", SPEEDS_REFUSED, ids=repr)
def test_speed_bounded_with_one_line(speed: object) -> None:
    with pytest.raises(ValueError) as caught:
        check_speed(speed)
    assert str(caught.value).startswith("drill speed: ")
    assert "\n" not in str(caught.value)
    with pytest.raises(ValueError, match="drill speed"):
        DrillClock(WALL, ZERO, speed, wall=FakeClock(WALL))  # type: ignore[arg-type]


def test_speed_limits_accepted() -> None:
    assert check_speed(1) == 1.0
    assert check_speed(120) == 120.0
    assert check_speed(2.5) == 2.5


@pytest.mark.parametrize(
    ("text", "speed"), [("10", 10.0), ("10x", 10.0), (" 2.5× ", 2.5), ("120X", 120.0)]
)
def test_parse_speed(text: str, speed: float) -> None:
    assert parse_speed(text) == speed


@pytest.mark.parametrize("text", ["fast", "", "x", "10 times", "500", "0x", "nan", "inf"])
def test_parse_speed_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"^drill speed: "):
        parse_speed(text)


def test_format_speed() -> None:
    assert format_speed(10.0) == "10×"
    assert format_speed(2.5) == "2.5×"


def test_naive_datetimes_refused() -> None:
    naive = datetime(2026, 11, 27, 2, 14)  # noqa: DTZ001
    with pytest.raises(ValueError, match="wall_start must be an aware datetime"):
        DrillClock(naive, ZERO)
    with pytest.raises(ValueError, match="zero must be an aware datetime"):
        DrillClock(WALL, naive)
    with pytest.raises(ValueError, match="paused before time zero"):
        DrillClock(WALL, ZERO, paused_at=ZERO - timedelta(minutes=1))
