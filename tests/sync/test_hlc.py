"""The hybrid logical clock: monotonic whatever the wall clock does, text order = clock order."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.sync.hlc import (
    MAX_COUNTER,
    MAX_WALL_MS,
    Hlc,
    describe_skew,
    format_hlc,
    parse_hlc,
    receive,
    skew_ms,
    skew_shown,
    tick,
    wall_ms,
)
from tests.conftest import T0
from tests.sync import FUZZ

NODES = st.text("0123456789abcdef", min_size=8, max_size=32)
WALLS = st.integers(0, MAX_WALL_MS)
VALUES = st.builds(Hlc, WALLS, st.integers(0, MAX_COUNTER), NODES)
HERE = "a1a1a1a1a1a1a1a1"
NOW = wall_ms(T0)

# A wall clock that wanders: small steps either way, big jumps back (sleep, NTP), big jumps
# forward; and imports of remote values near, far behind or far ahead of it.
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("tick"), st.integers(-2000, 2000)),
        st.tuples(st.just("tick"), st.integers(-(10**10), 10**10)),
        st.tuples(st.just("tick"), st.just(0)),
        st.tuples(
            st.just("receive"),
            st.integers(-(10**10), 10**12),
            st.integers(0, MAX_COUNTER),
            NODES,
        ),
        # A remote value next to the clock's own: same millisecond, either counter side.
        st.tuples(st.just("near"), st.integers(-2, 2), st.integers(0, MAX_COUNTER), NODES),
    ),
    max_size=60,
)


@settings(max_examples=int(200 * FUZZ), deadline=None)
@given(STEPS)
def test_the_clock_only_moves_forward_whatever_the_wall_clock_does(steps):
    wall = NOW
    last: Hlc | None = None
    for step in steps:
        if step[0] != "near":
            wall = min(max(0, wall + step[1]), MAX_WALL_MS)
        if step[0] == "tick":
            value = tick(last, wall, HERE)
        else:
            base = last.wall_ms if step[0] == "near" and last else wall
            remote = Hlc(min(max(0, base + step[1]), MAX_WALL_MS), step[2], step[3])
            value = receive(last, remote, wall, HERE)
            assert value > remote, "an import moves the clock past the imported value"
        assert last is None or value > last
        assert value.node == HERE
        assert value.counter <= MAX_COUNTER
        assert last is None or format_hlc(value) > format_hlc(last)
        last = value


def test_a_wall_clock_jumping_back_an_hour_keeps_the_clock_ahead():
    first = tick(None, NOW, HERE)
    back = tick(first, NOW - 3_600_000, HERE)
    assert back == Hlc(NOW, 1, HERE)
    assert tick(back, NOW + 5, HERE) == Hlc(NOW + 5, 0, HERE)


def test_a_remote_far_ahead_is_adopted_and_local_writes_stay_after_it():
    ahead = Hlc(NOW + 10 * 365 * 86_400_000, 7, "b2b2b2b2b2b2b2b2")
    after = receive(tick(None, NOW, HERE), ahead, NOW, HERE)
    assert after == Hlc(ahead.wall_ms, 8, HERE)
    assert tick(after, NOW + 1000, HERE) == Hlc(ahead.wall_ms, 9, HERE)


def test_receive_without_local_history_still_passes_the_remote():
    remote = Hlc(NOW, 3, "b2b2b2b2b2b2b2b2")
    assert receive(None, remote, NOW - 50, HERE) == Hlc(NOW, 4, HERE)
    assert receive(None, remote, NOW + 50, HERE) == Hlc(NOW + 50, 0, HERE)


def test_a_full_counter_moves_the_wall_part_one_millisecond():
    full = Hlc(NOW, MAX_COUNTER, HERE)
    assert tick(full, NOW, HERE) == Hlc(NOW + 1, 0, HERE)
    assert receive(full, Hlc(NOW, MAX_COUNTER, "b2b2b2b2b2b2b2b2"), NOW, HERE) == Hlc(
        NOW + 1, 0, HERE
    )


def test_the_node_breaks_ties_inside_the_clock_order():
    low, high = Hlc(NOW, 0, "0d0d0d0d0d0d0d0d"), Hlc(NOW, 0, "a1a1a1a1a1a1a1a1")
    assert low < high
    assert Hlc(NOW, 1, "0d0d0d0d0d0d0d0d") > high


@settings(max_examples=int(200 * FUZZ), deadline=None)
@given(VALUES, VALUES)
def test_text_order_is_clock_order(a, b):
    assert (format_hlc(a) < format_hlc(b)) == (a < b)
    assert parse_hlc(format_hlc(a)) == a
    assert str(a) == format_hlc(a)


def test_the_text_form():
    assert str(Hlc(1732849200123, 10, "a1b2c3d4e5f60718")) == "1732849200123-000a-a1b2c3d4e5f60718"
    assert parse_hlc("0000000000001-ffff-0d0d0d0d") == Hlc(1, 0xFFFF, "0d0d0d0d")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1732849200123-000a",
        "1732849200123-000A-a1b2c3d4e5f60718",  # upper-case hex would sort differently
        "173284920012-000a-a1b2c3d4e5f60718",  # 12 digits
        "1732849200123-00a-a1b2c3d4e5f60718",
        "1732849200123-000a-a1b2",  # node too short
        "1732849200123-000a-" + "a" * 33,
        "1732849200123-000a-a1b2c3d4e5f6071g",
        "9999999999999-0000-a1b2c3d4e5f60718",  # after 2200: a poisoned clock
        " 1732849200123-000a-a1b2c3d4e5f60718",
        "1732849200123-000a-a1b2c3d4e5f60718\n",
        "١٧٣٢٨٤٩٢٠٠١٢٣-000a-a1b2c3d4e5f60718",  # Unicode digits are not ASCII digits
    ],
)
def test_malformed_clock_text_is_refused(text):
    with pytest.raises(ValueError, match="clock value"):
        parse_hlc(text)


@pytest.mark.parametrize(
    "value",
    [Hlc(-1, 0, HERE), Hlc(10**13, 0, HERE), Hlc(0, MAX_COUNTER + 1, HERE), Hlc(0, 0, "XY")],
)
def test_out_of_range_values_have_no_text_form(value):
    with pytest.raises(ValueError):
        format_hlc(value)


@pytest.mark.parametrize("wall", [-1, MAX_WALL_MS + 1])
def test_a_wall_clock_outside_1970_to_2200_is_a_bug_not_a_value(wall):
    with pytest.raises(ValueError, match="wall clock out of range"):
        tick(None, wall, HERE)
    with pytest.raises(ValueError, match="wall clock out of range"):
        receive(None, Hlc(0, 0, HERE), wall, HERE)


def test_skew_against_slack_is_shown_above_two_seconds():
    assert skew_ms(NOW + 3200, NOW) == 3200
    assert skew_shown(3200) and skew_shown(-2001)
    assert not skew_shown(2000) and not skew_shown(-1500)
    assert describe_skew(3200) == "this laptop's clock is 3.2 s ahead of Slack's"
    assert describe_skew(-90_000) == "this laptop's clock is 90.0 s behind Slack's"


def test_wall_ms_is_exact_milliseconds():
    assert wall_ms(T0) == 1795745640000
    assert wall_ms(T0.replace(microsecond=999_999)) == 1795745640999
