"""Moments: the accepted time range, the stored form, reading back stored times, times people
type, and how times and spans are shown."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""The times cockpit accepts and stores: from EARLIEST (included) to LATEST (excluded), UTC.

One rule for every time that comes in (typed, relative, configured, from the clock) and every
time read back from the database: anything outside it is refused, or flagged when already stored.
"""

_OUT_OF_RANGE = "out of range: cockpit accepts 2000-01-01 to 2099-12-31 (UTC)"


def check_moment(moment: datetime, what: str = "") -> datetime:
    """`moment` in UTC if it is inside the accepted range; ValueError naming `what` otherwise."""
    try:
        utc = moment.astimezone(UTC) if moment.tzinfo is not None else None
    except (OverflowError, ValueError):
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValueError(f"{what or 'time ' + moment.isoformat()} is {_OUT_OF_RANGE}")
    return utc


def check_day(day: date, what: str = "") -> date:
    """`day` if it falls inside the accepted range; ValueError naming `what` otherwise."""
    if not EARLIEST.date() <= day < LATEST.date():
        raise ValueError(f"{what or 'date ' + day.isoformat()} is {_OUT_OF_RANGE}")
    return day


def format_utc(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and `Z`, the stored form: `2026-11-27T02:14:05.123Z`.

    The year is always four digits, so `parse_utc` reads back whatever this writes; callers that
    store a time check it first with `check_moment`.
    """
    utc = moment.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


def parse_utc(text: str) -> datetime:
    """The stored form (or any ISO-8601 with an offset) back to an aware UTC datetime."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"not a time cockpit can read: {text!r}") from None


def read_stored(raw: object) -> datetime:
    """A time read back from the database, if it is readable and in range; ValueError if not.

    Rows written by older versions, or edited by hand, may hold anything: the reader flags
    them instead of failing on them. (On every entry read: the stored `...Z` form takes the
    shortest path.)
    """
    if not isinstance(raw, str):
        raise ValueError(f"not a stored time: {raw!r}")
    value = datetime.fromisoformat(raw)
    if value.tzinfo is not UTC:
        try:
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
        except OverflowError:
            raise ValueError(f"not a stored time: {raw!r}") from None
    if not EARLIEST <= value < LATEST:
        raise ValueError(f"stored time {raw!r} is {_OUT_OF_RANGE}")
    return value


def read_stored_day(raw: object) -> date:
    """A date read back from the database (an action item's deadline); ValueError if unusable."""
    if not isinstance(raw, str):
        raise ValueError(f"not a stored date: {raw!r}")
    return check_day(date.fromisoformat(raw), f"stored date {raw!r}")


_RELATIVE = re.compile(r"^-?\s*(\d+)\s*(s|sec|m|min|h|hr|hours?|d|days?)\s*(?:ago)?$", re.I)


def parse_moment(text: str, now: datetime) -> datetime:
    """A user's time: ISO-8601 (local time if no offset), `HH:MM` today (local), or `15m ago`.

    Raises ValueError with the accepted forms when it is none of them, and when it falls
    outside the accepted range (`check_moment`).
    """
    try:
        moment = _parse_moment(text.strip(), text, now)
    except OverflowError:
        raise ValueError(f"time {text!r} is {_OUT_OF_RANGE}") from None
    return check_moment(moment, f"time {text!r}")


def _parse_moment(raw: str, text: str, now: datetime) -> datetime:
    match = _RELATIVE.match(raw)
    if match and (raw.startswith("-") or raw.lower().endswith("ago")):
        if len(match.group(1).lstrip("0")) > 15:
            raise OverflowError(text)  # far beyond any range, and int() refuses huge digit runs
        amount, unit = int(match.group(1)), match.group(2).lower()[0]
        seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit] * amount
        return now - timedelta(seconds=seconds)
    clock = re.match(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$", raw)
    if clock:
        hour, minute, second = int(clock.group(1)), int(clock.group(2)), int(clock.group(3) or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise ValueError(f"not a time of day: {text!r}")
        local_now = now.astimezone()
        local = local_now.replace(hour=hour, minute=minute, second=second, microsecond=0)
        if local > local_now:
            local -= timedelta(days=1)  # "02:10" typed at 00:05 means yesterday
        return local.astimezone(UTC)
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"not a time: {text!r} (use 2026-11-27T02:14, 02:14 or '15m ago')"
        ) from None
    if not EARLIEST.year - 1 <= value.year <= LATEST.year:
        # Before any conversion: local time and offsets near year 1 or 9999 overflow.
        raise OverflowError(text)
    return value.astimezone(UTC)  # naive means local time


def format_local(moment: datetime, now: datetime, seconds: bool = False) -> str:
    """Local time for the screen; the date is added when it differs from today's."""
    local = moment.astimezone()
    text = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    if local.date() != now.astimezone().date():
        text = local.strftime("%Y-%m-%d ") + text
    return text


def format_duration(delta: timedelta) -> str:
    """`01:02:03` for positive spans; days are added beyond 24 hours (`2d 03:00:00`)."""
    total = int(abs(delta).total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    if days:
        text = f"{days}d {text}"
    return ("-" if delta < timedelta(0) else "") + text


def format_countdown(delta: timedelta) -> str:
    """`04:12` (minutes:seconds) for a countdown; hours shown when needed."""
    total = int(abs(delta).total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"
    return ("-" if delta < timedelta(0) else "") + text


# Characters a terminal obeys rather than shows: C0 and C1 controls (U+009B is CSI, U+009D is
# OSC) except tab and newline, and the bidirectional marks, embeddings, overrides and isolates
