"""The drill clock: drill time runs `speed` times faster than the wall clock.

It is kept as a few figures the store persists (the wall moment the drill clock started, the
drill moment it started from, the speed, and the drill moment it is paused at, if it is), so
every process that reads them computes the same drill time from its own wall clock:

    now = zero + (wall now − wall start) × speed

`zero` never moves: it is the drill's time zero (the page), so drill minutes are always counted
from it. Pausing freezes drill time; resuming moves `wall_start` so that time goes on from where
it stopped.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cockpit.domain import Clock, system_clock

MIN_SPEED = 1.0
MAX_SPEED = 120.0
DEFAULT_SPEED = 10.0


def check_speed(value: object) -> float:
    """A drill speed as a float; ValueError in one line when it is not a number from 1 to 120."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"drill speed: expected a number, got {value!r}")
    speed = float(value)
    if not math.isfinite(speed) or not MIN_SPEED <= speed <= MAX_SPEED:
        raise ValueError(
            f"drill speed: expected {format_speed(MIN_SPEED)} to {format_speed(MAX_SPEED)} "
            f"(times faster than real time), got {value}"
        )
    return speed


def parse_speed(text: str) -> float:
    """`10`, `10x`, `2.5×` -> the speed; ValueError in one line otherwise."""
    raw = text.strip().rstrip("xX×").strip()
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"drill speed: not a number: {text!r} (e.g. 10 for ten times)") from None
    return check_speed(value)


def format_speed(speed: float) -> str:
    """`10×`, `2.5×`: how the banner and the scorecard show the speed."""
    return f"{speed:g}×"


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"drill clock: {name} must be an aware datetime (UTC), got {moment}")
    return moment


@dataclass(frozen=True)
class DrillClock:
    """Drill time from an injected wall clock. Callable, so it is a `Clock` the store can use."""

    wall_start: datetime  # the wall moment `zero` corresponds to (moved by resume)
    zero: datetime  # drill time zero: the page
    speed: float = DEFAULT_SPEED
    paused_at: datetime | None = None  # the drill moment time stands still at, while paused
    wall: Clock = field(default=system_clock, compare=False, repr=False)

    def __post_init__(self) -> None:
        _aware(self.wall_start, "wall_start")
        _aware(self.zero, "zero")
        if self.paused_at is not None and _aware(self.paused_at, "paused_at") < self.zero:
            raise ValueError("drill clock: paused before time zero")
        object.__setattr__(self, "speed", check_speed(self.speed))

    @classmethod
    def start(
        cls, wall: Clock = system_clock, speed: float = DEFAULT_SPEED, zero: datetime | None = None
    ) -> DrillClock:
        """A clock starting now on `wall`, at drill moment `zero` (default: the wall's now)."""
        started = wall()
        return cls(started, zero if zero is not None else started, speed, None, wall)

    def __call__(self) -> datetime:
        return self.now()

    def now(self) -> datetime:
        """The drill moment now. A wall clock that went backwards does not take the drill
        before time zero."""
        if self.paused_at is not None:
            return self.paused_at
        elapsed = max(self.wall() - self.wall_start, timedelta(0))
        return self.zero + elapsed * self.speed

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    def pause(self) -> DrillClock:
        """The clock stopped at the drill moment now (unchanged if already paused)."""
        return self if self.paused else dataclasses.replace(self, paused_at=self.now())

    def resume(self) -> DrillClock:
        """The clock running again from where it stopped (unchanged if it runs)."""
        if self.paused_at is None:
            return self
        spent = (self.paused_at - self.zero) / self.speed  # wall time the drill has run
        return dataclasses.replace(self, wall_start=self.wall() - spent, paused_at=None)

    # -- conversions

    def drill_minutes(self, wall_seconds: float) -> float:
        """How many drill minutes pass in `wall_seconds` of real time."""
        return wall_seconds * self.speed / 60

    def wall_seconds(self, drill_minutes: float) -> float:
        """How many real seconds `drill_minutes` of drill time take."""
        return drill_minutes * 60 / self.speed

    def minute(self, moment: datetime) -> float:
        """Drill minutes from time zero to `moment` (a drill moment)."""
        return (moment - self.zero) / timedelta(minutes=1)

    def moment(self, minutes: float) -> datetime:
        """The drill moment `minutes` after time zero."""
        return self.zero + timedelta(minutes=minutes)

    def wall_at(self, moment: datetime) -> datetime | None:
        """When, on the wall clock, drill time reaches `moment`; None while paused (never, until
        resumed). What a timer sleeps until."""
        if self.paused:
            return None
        return self.wall_start + (moment - self.zero) / self.speed
