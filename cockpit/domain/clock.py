"""The clock: where "now" comes from, injected so deadlines and drills are testable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""A function that returns the current moment as an aware UTC datetime."""


def system_clock() -> datetime:
    """The real clock: now, in UTC."""
    return datetime.now(UTC)


def frozen_clock(at: datetime) -> Clock:
    """A clock stopped at `at` (for tests, snapshots and drills)."""
    moment = at.astimezone(UTC)
    return lambda: moment
