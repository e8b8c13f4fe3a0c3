"""The on-call rotation: who holds the pager at a moment, and when it next changes hands.

A weekly rotation through an ordered list of people. The first shift starts on `start` at the
hand-off time; after that the pager changes hands every `handoff_day` at `handoff_time`, wall
clock in the rotation's time zone (so a hand-off stays at 09:00 across daylight-saving changes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Rotation:
    """A weekly rotation, as configured in `[oncall]`."""

    people: tuple[str, ...]
    start: date
    handoff_day: int  # 0 = Monday
    handoff_time: time
    zone: ZoneInfo

    def handoff_at(self, day: date) -> datetime:
        """The hand-off moment on a local date (aware, in the rotation's zone)."""
        return datetime.combine(day, self.handoff_time, tzinfo=self.zone)

    @property
    def first_weekly_handoff(self) -> date:
        """The first `handoff_day` after `start` (the first shift may be short)."""
        ahead = (self.handoff_day - self.start.weekday()) % 7 or 7
        return self.start + timedelta(days=ahead)


@dataclass(frozen=True)
class Shift:
    """Who is on call at a moment, and the next hand-off."""

    person: str | None  # None before the rotation starts
    since: datetime | None
    next_person: str
    next_handoff: datetime


def current_shift(rotation: Rotation, now: datetime) -> Shift:
    """Who holds the pager at `now` and who takes it next, and when."""
    people = rotation.people
    local = now.astimezone(rotation.zone)
    first = rotation.handoff_at(rotation.start)
    if local < first:
        return Shift(None, None, people[0], first)
    weekly = rotation.first_weekly_handoff
    # The latest weekly hand-off date on or before today (local), if that moment has passed.
    days_back = (local.date().weekday() - rotation.handoff_day) % 7
    last_day = local.date() - timedelta(days=days_back)
    if rotation.handoff_at(last_day) > local:
        last_day -= timedelta(days=7)
    if last_day < weekly:
        index, since, upcoming = 0, first, weekly
    else:
        index = 1 + (last_day - weekly).days // 7
        since, upcoming = rotation.handoff_at(last_day), last_day + timedelta(days=7)
    return Shift(
        person=people[index % len(people)],
        since=since,
        next_person=people[(index + 1) % len(people)],
        next_handoff=rotation.handoff_at(upcoming),
    )


def parse_weekday(text: str) -> int:
    """`monday` (or `mon`) -> 0; ValueError naming the choices otherwise."""
    wanted = text.strip().lower()
    for index, name in enumerate(WEEKDAYS):
        if wanted in (name, name[:3]):
            return index
    raise ValueError(f"expected a day of the week like 'monday', got {text!r}")


def parse_clock_time(text: str) -> time:
    """`09:00` -> time(9, 0); ValueError otherwise."""
    try:
        hours, minutes = text.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"expected a time of day like '09:00', got {text!r}") from None
