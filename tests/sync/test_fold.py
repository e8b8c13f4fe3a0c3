"""The incident state as a fold: a pure function of the set of entries, causal changes win,
concurrent ones are reported, late arrivals are spotted."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.domain import Kind, Status
from cockpit.sync.entry import (
    SEVERITY,
    STATUS,
    UPDATE,
    SyncEntry,
    registers_written,
    role_key,
    step_key,
)
from cockpit.sync.fold import (
    LATE_AFTER,
    describe_conflict,
    describe_late,
    fold,
    late_entries,
    preference,
    timeline,
    timeline_key,
    unique,
)
from cockpit.sync.hlc import Hlc, wall_ms
from tests.conftest import T0
from tests.sync import FUZZ
from tests.sync.model import Laptop, histories
from tests.sync.strategies import entries

SETTINGS = settings(max_examples=int(50 * FUZZ), deadline=None)
NOW = wall_ms(T0)
A, B, C = "a1a1a1a1a1a1a1a1", "b2b2b2b2b2b2b2b2", "c3c3c3c3c3c3c3c3"
DECLARED_META = {
    "event": "declared",
    "severity": "SEV-2",
    "title": "Checkout errors",
    "service": "api",
}


def team(*names: str) -> list[Laptop]:
    """Laptops that all hold the declaration made on the first."""
    laptops = [Laptop(node, name) for node, name in zip((A, B, C), names, strict=False)]
    declared = laptops[0].write(NOW, Kind.SYSTEM, "declared SEV-2", dict(DECLARED_META), None)
    for laptop in laptops[1:]:
        laptop.take(NOW, [declared])
    return laptops


def union(*laptops: Laptop) -> list[SyncEntry]:
    return [entry for laptop in laptops for entry in laptop.known.values()]


# ---- a pure function of the set ----------------------------------------------------------


@SETTINGS
@given(histories(), st.randoms(use_true_random=False))
def test_any_order_and_any_duplication_fold_to_the_same_state(history, rnd):
    entries_ = history.everything()
    mixed = entries_ + [rnd.choice(entries_) for _ in range(rnd.randint(0, 8))]
    rnd.shuffle(mixed)
    assert fold(mixed) == fold(entries_)
    assert timeline(mixed) == timeline(entries_)


@SETTINGS
@given(histories(), st.randoms(use_true_random=False))
def test_importing_twice_changes_nothing(history, rnd):
    laptop = history.laptops[-1]
    known = list(laptop.known.values())
    incoming = history.everything()
    once = unique(known + incoming)
    twice = unique(list(once.values()) + rnd.sample(incoming, len(incoming)))
    assert twice == once
    assert fold(once.values()) == fold([*known, *incoming, *incoming])


@SETTINGS
@given(histories())
def test_every_laptop_that_holds_every_entry_agrees(history):
    everything = history.everything()
    for laptop in history.laptops:
        laptop.take(0, everything)
    states = [fold(laptop.known.values()) for laptop in history.laptops]
    assert all(state == states[0] for state in states)
    lines = [timeline(laptop.known.values()) for laptop in history.laptops]
    assert all([e.uid for e in line] == [e.uid for e in lines[0]] for line in lines)


@SETTINGS
@given(st.lists(entries(), max_size=8), st.randoms(use_true_random=False))
def test_any_entries_fold_without_error_and_order_does_not_matter(items, rnd):
    # Arbitrary (even contradictory) entries: shared uids with different content included.
    pool = items + [_same_uid(item, other) for item, other in pairwise(items)]
    shuffled = rnd.sample(pool, len(pool))
    assert fold(shuffled) == fold(pool)
    assert timeline(shuffled) == timeline(pool)


def _same_uid(item: SyncEntry, other: SyncEntry) -> SyncEntry:
    return SyncEntry(**{**_fields(other), "uid": item.uid})


def _fields(entry: SyncEntry) -> dict[str, object]:
    return {name: getattr(entry, name) for name in entry.__slots__}


# ---- causality and concurrency -----------------------------------------------------------


def _writes(history):
    found = []
    for entry in history.entries:
        for register, value in registers_written(entry):
            found.append((register, value, entry))
    return found


@SETTINGS
@given(histories())
def test_a_change_made_after_seeing_another_always_wins(history):
    writes = _writes(history)
    for register, _, later in writes:
        for other_register, _, earlier in writes:
            if other_register == register and earlier.uid in history.seen[later.uid]:
                assert later.hlc > earlier.hlc
    state = fold(history.everything())
    for register, winner in state.registers.items():
        overwritten = {
            uid
            for other_register, _, entry in writes
            if other_register == register
            for uid in history.seen[entry.uid]
        }
        assert winner.uid not in overwritten, f"{register}: a change someone had seen won"


@SETTINGS
@given(histories())
def test_conflicts_are_exactly_the_concurrent_changes_of_one_register(history):
    state = fold(history.everything())
    for conflict in state.conflicts:
        involved = [conflict.winner, *conflict.losers]
        for a in involved:
            for b in involved:
                assert a.uid not in history.seen[b.uid], "a reported conflict was not concurrent"
        assert conflict.winner.hlc > max(w.hlc for w in conflict.losers)
    reported = {(c.register, c.supersedes): {c.winner_uid, *c.loser_uids} for c in state.conflicts}
    forks: dict[tuple[object, object], list[tuple[object, str]]] = {}
    for register, value, entry in _writes(history):
        forks.setdefault((register, entry.supersedes), []).append((value, entry.uid))
    for (register, parent), fork in forks.items():
        contradicts = len({repr(value) for value, _ in fork}) > 1 or register == UPDATE
        if len(fork) > 1 and contradicts:
            assert reported.get((register, parent)) == {uid for _, uid in fork}
        else:
            assert (register, parent) not in reported


def test_concurrent_severities_are_reported_with_their_authors():
    alice, bob = team("alice", "bob")
    one = alice.write(
        NOW + 10, Kind.SEVERITY, "→ SEV-1", {"from": "SEV-2", "to": "SEV-1"}, SEVERITY
    )
    three = bob.write(
        NOW + 10, Kind.SEVERITY, "→ SEV-3", {"from": "SEV-2", "to": "SEV-3"}, SEVERITY
    )
    assert one.supersedes == three.supersedes  # both replaced the declaration
    state = fold(union(alice, bob))
    winner, loser = (one, three) if one.hlc > three.hlc else (three, one)
    assert state.severity == winner.meta["to"]
    [conflict] = state.conflicts
    assert (conflict.winner_uid, conflict.loser_uids) == (winner.uid, (loser.uid,))
    assert describe_conflict(conflict) == (
        f"{winner.meta['to']} set by {winner.author} while {loser.meta['to']} was set by "
        f"{loser.author} on another laptop; {winner.meta['to']} stands"
    )


def test_the_conflict_sentence_for_each_register():
    alice, bob, carol = team("alice", "bob", "carol")
    alice.write(NOW + 5, Kind.STATUS, "s", {"to": "monitoring"}, STATUS)
    bob.write(NOW + 6, Kind.STATUS, "s", {"to": "resolved"}, STATUS)
    carol.write(NOW + 7, Kind.STATUS, "s", {"to": "identified"}, STATUS)
    alice.write(
        NOW + 5, Kind.ROLE, "r", {"role": "commander", "to": "alice"}, role_key("commander")
    )
    bob.write(NOW + 6, Kind.ROLE, "r", {"role": "commander", "to": ""}, role_key("commander"))
    step = {"runbook": "api", "step": 2}
    alice.write(NOW + 5, Kind.STEP, "s", {**step, "done": False}, step_key("api", 2))
    bob.write(NOW + 6, Kind.STEP, "s", {**step, "done": True}, step_key("api", 2))
    alice.write(NOW + 5, Kind.UPDATE, "u", {"targets": []}, UPDATE)
    bob.write(NOW + 6, Kind.UPDATE, "u", {"targets": []}, UPDATE)
    # Same-time writes: node order decides (c3 > b2 > a1), the same everywhere.
    sentences = sorted(describe_conflict(c) for c in fold(union(alice, bob, carol)).conflicts)
    assert sentences == [
        "2 status updates published at once by bob and alice on different laptops",
        "commander unassigned set by bob while commander → alice was set by alice on another "
        "laptop; commander unassigned stands",
        "status identified set by carol while status resolved was set by bob and status "
        "monitoring was set by alice on other laptops; status identified stands",
        "step 2 of api ticked set by bob while step 2 of api unticked was set by alice on "
        "another laptop; step 2 of api ticked stands",
    ]


def test_the_same_value_set_twice_at_once_is_no_conflict():
    alice, bob = team("alice", "bob")
    alice.write(NOW + 5, Kind.SEVERITY, "s", {"to": "SEV-1"}, SEVERITY)
    bob.write(NOW + 5, Kind.SEVERITY, "s", {"to": "SEV-1"}, SEVERITY)
    assert fold(union(alice, bob)).conflicts == ()


def test_a_laptop_three_minutes_fast_does_not_win_what_it_had_not_seen():
    alice, bob = team("alice", "bob")
    bob.skew_ms = 180_000  # bob's clock is 3 minutes fast
    fast = bob.write(NOW + 1000, Kind.SEVERITY, "s", {"to": "SEV-3"}, SEVERITY)
    alice.take(NOW + 2000, [fast])
    after = alice.write(NOW + 3000, Kind.SEVERITY, "s", {"to": "SEV-1"}, SEVERITY)
    assert after.at < fast.at  # by wall clock, bob's is later...
    state = fold(union(alice, bob))
    assert state.severity == "SEV-1"  # ...but alice changed it after seeing bob's
    assert state.conflicts == ()
    assert after.supersedes == fast.uid


def test_a_step_untick_made_later_wins_even_if_it_arrives_first():
    alice, bob = team("alice", "bob")
    tick_ = alice.write(NOW + 1, Kind.STEP, "s", {"runbook": "api", "step": 1, "done": True},
                        step_key("api", 1))  # fmt: skip
    bob.take(NOW + 2, [tick_])
    untick = bob.write(NOW + 3, Kind.STEP, "s", {"runbook": "api", "step": 1, "done": False},
                       step_key("api", 1))  # fmt: skip
    assert fold([untick, *alice.known.values()]).ticked_steps("api") == frozenset()
    assert fold(alice.known.values()).ticked_steps("api") == {1}


# ---- derived moments ---------------------------------------------------------------------


def test_the_state_reads_declaration_roles_runbook_and_moments():
    (alice,) = team("alice")
    at = NOW
    alice.write(at + 60_000, Kind.ROLE, "r", {"role": "commander", "to": "alice"},
                role_key("commander"))  # fmt: skip
    alice.write(at + 61_000, Kind.ROLE, "r", {"role": "scribe", "to": "bob"}, role_key("scribe"))
    alice.write(at + 62_000, Kind.ROLE, "r", {"role": "scribe", "to": ""}, role_key("scribe"))
    alice.write(at + 63_000, Kind.SYSTEM, "rb", {"event": "runbook", "to": "api"}, None)
    first = alice.write(at + 120_000, Kind.UPDATE, "u", {"targets": ["slack"]}, UPDATE)
    alice.write(at + 600_000, Kind.STATUS, "s", {"to": "monitoring"}, STATUS)
    alice.write(at + 700_000, Kind.STATUS, "s", {"to": "resolved"}, STATUS)
    last = alice.write(at + 700_001, Kind.UPDATE, "u", {"targets": [], "status": "resolved"},
                       UPDATE)  # fmt: skip
    state = fold(alice.known.values())
    assert (state.title, state.service, state.declared_by) == ("Checkout errors", "api", "alice")
    assert state.declared_at == state.impact_started_at == T0
    assert state.severity == "SEV-2"
    assert state.roles == {"commander": "alice"}
    assert state.runbook == "api"
    assert state.acknowledged_at == first.at and state.last_update_at == last.at
    assert state.updates_sent == 2
    assert state.mitigated_at == T0 + timedelta(seconds=600)
    assert state.status is Status.RESOLVED
    assert state.resolved_at == T0 + timedelta(seconds=700)
    reopened = alice.write(at + 800_000, Kind.STATUS, "s", {"to": "investigating"}, STATUS)
    state = fold(alice.known.values())
    assert state.status is Status.INVESTIGATING and state.resolved_at is None
    assert state.mitigated_at == T0 + timedelta(seconds=600)  # the first mitigation stays
    assert state.current(STATUS) == reopened.uid


def test_resolving_without_monitoring_counts_as_mitigated_then():
    (alice,) = team("alice")
    done = alice.write(NOW + 5000, Kind.STATUS, "s", {"to": "resolved"}, STATUS)
    state = fold(alice.known.values())
    assert state.mitigated_at == state.resolved_at == done.at


def test_the_declaration_sets_runbook_and_impact_start():
    laptop = Laptop(A, "alice")
    meta = {**DECLARED_META, "runbook": "api", "impact_started_at": "2026-11-27T01:50:00.000Z"}
    laptop.write(NOW, Kind.SYSTEM, "declared", meta, None)
    state = fold(laptop.known.values())
    assert state.runbook == "api"
    assert state.impact_started_at == T0 - timedelta(minutes=24)
    assert state.status is Status.INVESTIGATING


def test_updates_count_once_each_however_often_they_arrive():
    (alice,) = team("alice")
    update = alice.write(NOW + 5, Kind.UPDATE, "u", {"targets": ["slack"]}, UPDATE)
    assert fold([*alice.known.values(), update, update]).updates_sent == 1


def test_no_declaration_yet_gives_an_empty_state():
    state = fold([])
    assert (state.severity, state.status, state.declared_at, state.title) == (
        None,
        Status.INVESTIGATING,
        None,
        "",
    )


def test_malformed_changes_change_nothing():
    (alice,) = team("alice")
    for kind, meta in [
        (Kind.SEVERITY, {"to": 5}),
        (Kind.SEVERITY, {"to": ""}),
        (Kind.SEVERITY, {}),
        (Kind.STATUS, {"to": "exploded"}),
        (Kind.STATUS, {"to": ["resolved"]}),
        (Kind.ROLE, {"role": "", "to": "mallory"}),
        (Kind.ROLE, {"role": "commander", "to": None}),
        (Kind.STEP, {"runbook": "api", "step": True, "done": True}),
        (Kind.STEP, {"runbook": "api", "step": "1", "done": True}),
        (Kind.STEP, {"runbook": "api", "step": 0, "done": True}),
        (Kind.STEP, {"runbook": "api", "step": 1, "done": "yes"}),
        (Kind.SYSTEM, {"event": "runbook", "to": 7}),
        (Kind.SYSTEM, {"event": "declared", "severity": "SEV-1", "title": 3}),
        (Kind.SYSTEM, {"event": "declared", "severity": "SEV-1", "title": "x",
                       "impact_started_at": "2026-13-45T00:00:00.000Z"}),
    ]:  # fmt: skip
        alice.write(NOW + 5, kind, "bad", meta, None)
    state = fold(alice.known.values())
    assert (state.severity, state.status, state.roles, state.ticked, state.runbook) == (
        "SEV-2",
        Status.INVESTIGATING,
        {},
        {},
        None,
    )
    assert state.title == "Checkout errors"


def test_a_link_entry_from_the_store_moves_the_runbook_register():
    (alice,) = team("alice")
    alice.write(NOW + 5, Kind.SYSTEM, "runbook linked: api", {"event": "runbook", "from": None,
                "to": "api"}, None)  # fmt: skip
    assert fold(alice.known.values()).runbook == "api"


# ---- copies that share a uid -------------------------------------------------------------


def test_copies_of_one_uid_resolve_the_same_way_in_any_order():
    (alice,) = team("alice")
    base = alice.write(NOW + 5, Kind.ESCALATION, "escalate", {"runbook": "api"}, None)
    other = SyncEntry(**{**_fields(base), "hlc": Hlc(NOW + 9, 0, B), "node": B, "author": "bob"})
    assert unique([base, other])[base.uid] == unique([other, base])[base.uid] == base
    assert preference(base) < preference(other)


def test_a_complete_copy_beats_one_cut_for_the_wire():
    (alice,) = team("alice")
    full = alice.write(NOW + 5, Kind.NOTE, "x" * 100, {}, None)
    cut = SyncEntry(**{**_fields(full), "text": "x" * 10 + "… [truncated]"})
    assert unique([cut, full])[full.uid] == unique([full, cut])[full.uid] == full


# ---- the timeline and late arrivals ------------------------------------------------------


def test_timeline_order_is_claimed_time_then_clock_then_uid():
    (alice,) = team("alice")
    later = alice.write(NOW + 5000, Kind.NOTE, "b", {}, None)
    backdated = SyncEntry(**{**_fields(later), "uid": "0" * 32, "at": T0 - timedelta(minutes=5)})
    tie = SyncEntry(**{**_fields(later), "uid": "f" * 32})
    line = timeline([tie, later, backdated, *alice.known.values()])
    assert line[0].uid == backdated.uid
    assert [e.uid for e in line][-2:] == [later.uid, tie.uid]
    assert line == sorted(line, key=timeline_key)


def test_entries_dated_well_before_what_is_shown_are_late():
    alice, bob = team("alice", "bob")
    offline = [bob.write(NOW + m * 60_000, Kind.NOTE, f"offline {m}", {}, None) for m in (1, 2, 3)]
    recent = bob.write(NOW + 29 * 60_000, Kind.NOTE, "just now", {}, None)
    alice.write(NOW + 30 * 60_000, Kind.NOTE, "meanwhile", {}, None)
    late = late_entries(alice.known.values(), bob.known.values())
    assert late == offline  # the declaration is known already; "just now" is within a minute
    assert recent not in late
    assert describe_late(late) == "3 entries from bob arrived late, dated 02:15–02:17 UTC"
    assert describe_late(late[:1]) == "1 entry from bob arrived late, dated 02:15 UTC"
    assert describe_late([]) == ""
    assert describe_late(late, lambda t: f"{t:%H.%M}h") == (
        "3 entries from bob arrived late, dated 02.15h–02.17h"
    )


def test_nothing_is_late_on_a_laptop_that_showed_nothing_yet():
    (alice,) = team("alice")
    assert late_entries([], alice.known.values()) == []


def test_late_threshold_is_adjustable_for_a_skewed_teammate():
    alice, bob = team("alice", "bob")
    bob.skew_ms = -90_000
    behind = bob.write(NOW + 60_000, Kind.NOTE, "n", {}, None)
    alice.write(NOW + 60_000, Kind.NOTE, "n", {}, None)
    assert late_entries(alice.known.values(), [behind]) == [behind]
    assert late_entries(alice.known.values(), [behind], LATE_AFTER + timedelta(seconds=90)) == []
