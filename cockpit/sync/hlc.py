"""A hybrid logical clock (Kulkarni et al., https://cse.buffalo.edu/tech-reports/2014-04.pdf).

A value is `(wall_ms, counter, node)`: the largest wall clock reading seen (milliseconds since the
epoch), a counter that orders events within one millisecond, and the writing database's node id,
which breaks ties. Values are totally ordered by that tuple, and `str(hlc)` sorts the same way
as text, so it can be an indexed TEXT column.

Every local write calls `tick`; every import calls `receive` with the imported value. Then a change
made after seeing another always carries a larger value, whatever the laptops' wall clocks say,
and the value never goes backwards when the wall clock does.

The counter is bounded by `MAX_COUNTER` so the text form keeps a fixed width. If it would pass
the bound (65,536 events within one millisecond, or a wall clock stuck far behind the largest
value seen), the clock moves its wall part 1 ms forward and restarts the counter at 0: still
strictly increasing, at the cost of running up to that much ahead of physical time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from cockpit.sync.ids import NODE

MAX_COUNTER = 0xFFFF
"""The largest counter; the text form holds it in 4 hex digits."""
MAX_WALL_MS = 7_258_118_400_000
"""The latest wall clock accepted, from the local clock or a parsed value: 2200-01-01. The text
form holds 13 digits (to 2286), so counter overflows past this bound still fit."""
SKEW_SHOWN_MS = 2000
"""Clock skew against Slack worth showing to the person (the note's "above 2 s")."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TEXT = re.compile(r"([0-9]{13})-([0-9a-f]{4})-([0-9a-f]+)")


class Hlc(NamedTuple):
    """One clock value; compares as the tuple `(wall_ms, counter, node)`."""

    wall_ms: int
    counter: int
    node: str

    def __str__(self) -> str:
        return format_hlc(self)


def format_hlc(value: Hlc) -> str:
    """`1732849200123-0000-a1b2c3d4e5f60718`: fixed-width wall and counter, then the node, so
    text order is clock order."""
    if not 0 <= value.wall_ms < 10**13 or not 0 <= value.counter <= MAX_COUNTER:
        raise ValueError(f"clock value out of range: {tuple(value)!r}")
    if NODE.fullmatch(value.node) is None:
        raise ValueError(f"not a node id: {value.node!r}")
    return f"{value.wall_ms:013d}-{value.counter:04x}-{value.node}"


def parse_hlc(text: str) -> Hlc:
    """The text form back to a value; ValueError naming what is wrong otherwise."""
    match = _TEXT.fullmatch(text)
    if match is None or NODE.fullmatch(match.group(3)) is None:
        raise ValueError(f"not a clock value: {text[:60]!r} (expected <13 digits>-<4 hex>-<node>)")
    wall = int(match.group(1))
    if wall > MAX_WALL_MS:
        raise ValueError(f"clock value after the year 2200: {text[:60]!r}")
    return Hlc(wall, int(match.group(2), 16), match.group(3))


def wall_ms(moment: datetime) -> int:
    """An aware datetime as whole milliseconds since the epoch (what `tick` takes)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def tick(last: Hlc | None, wall: int, node: str) -> Hlc:
    """The value for a local write: after `last` (this database's latest), near `wall`."""
    _check_wall(wall)
    if last is None or wall > last.wall_ms:
        return Hlc(wall, 0, node)
    return _bounded(last.wall_ms, last.counter + 1, node)


def receive(last: Hlc | None, remote: Hlc, wall: int, node: str) -> Hlc:
    """The value after importing `remote`: larger than both `last` and `remote`.

    A remote value far ahead (a laptop whose clock is wrong) is adopted all the same: refusing it
    would break "a change made after seeing another wins" and let laptops disagree; `skew_ms`
    is how the app shows that a clock is off.
    """
    _check_wall(wall)
    if last is None:
        last = remote
    top = max(last.wall_ms, remote.wall_ms, wall)
    if top == last.wall_ms == remote.wall_ms:
        counter = max(last.counter, remote.counter) + 1
    elif top == last.wall_ms:
        counter = last.counter + 1
    elif top == remote.wall_ms:
        counter = remote.counter + 1
    else:
        counter = 0
    return _bounded(top, counter, node)


def _bounded(wall: int, counter: int, node: str) -> Hlc:
    if counter > MAX_COUNTER:
        wall, counter = wall + 1, 0
    return Hlc(wall, counter, node)


def _check_wall(wall: int) -> None:
    if not 0 <= wall <= MAX_WALL_MS:
        raise ValueError(f"wall clock out of range: {wall} ms (before 1970 or after 2200)")


def skew_ms(local_wall_ms: int, remote_wall_ms: int) -> int:
    """How far the local clock is ahead of a remote one (negative: behind), in ms.

    Measured against Slack: the local time a post was sent versus the `ts` Slack gave it.
    """
    return local_wall_ms - remote_wall_ms


def skew_shown(skew: int) -> bool:
    """True when a skew is worth showing (more than `SKEW_SHOWN_MS` either way)."""
    return abs(skew) > SKEW_SHOWN_MS


def describe_skew(skew: int) -> str:
    """ "this laptop's clock is 3.2 s ahead of Slack's" (or behind)."""
    way = "ahead of" if skew > 0 else "behind"
    return f"this laptop's clock is {abs(skew) / 1000:.1f} s {way} Slack's"
