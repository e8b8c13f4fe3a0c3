"""The incident's state as a fold over the set of its entries.

Entries only grow and are deduplicated by `uid`. Severity, status, each role, the linked runbook
and each runbook step are last-writer-wins registers ordered by the hybrid logical clock (the
node id breaks ties inside the clock's order; the uid after that). The claimed time `at` orders
the timeline and never decides a conflict. The state is a pure function of the *set*: any
order, any duplication, the same answer on every laptop.

Concurrency is shown, not hidden: a change records the register write it replaced
(`supersedes`); two changes of one register that replaced the same write were made without
seeing each other, and the fold reports them as a `Conflict`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cockpit.domain import Kind, Status, format_utc, parse_utc
from cockpit.sync.entry import (
    RUNBOOK,
    SEVERITY,
    STATUS,
    UPDATE,
    RegisterKey,
    RegisterValue,
    SyncEntry,
    is_declared,
    registers_written,
)
from cockpit.sync.hlc import Hlc

LATE_AFTER = timedelta(seconds=60)
"""An imported entry claimed more than this before the newest entry already shown is *late*:
well beyond a poll interval plus batching (under 20 s), so only a laptop coming back online,
an outage's backlog or a backdated entry qualifies."""

_MITIGATED = frozenset({Status.MONITORING.value, Status.RESOLVED.value})


@dataclass(frozen=True)
class Write:
    """One entry's write to one register."""

    register: RegisterKey
    value: RegisterValue
    uid: str
    hlc: Hlc
    at: datetime
    author: str
    supersedes: str | None


@dataclass(frozen=True)
class Conflict:
    """Writes to one register that replaced the same earlier write: made without seeing each
    other. `winner` is the one the clock orders last; the others are `losers`."""

    register: RegisterKey
    supersedes: str | None
    winner: Write
    losers: tuple[Write, ...]

    @property
    def winner_uid(self) -> str:
        return self.winner.uid

    @property
    def loser_uids(self) -> tuple[str, ...]:
        return tuple(write.uid for write in self.losers)


@dataclass(frozen=True)
class IncidentState:
    """What the entries say about the incident, the same on every laptop holding them."""

    declared_uid: str | None
    title: str
    service: str
    declared_by: str
    declared_at: datetime | None
    impact_started_at: datetime | None
    severity: str | None
    status: Status
    roles: Mapping[str, str]  # role -> person, only roles someone holds
    runbook: str | None
    ticked: Mapping[str, frozenset[int]]  # runbook -> its ticked step numbers
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    updates_sent: int
    last_update_at: datetime | None
    registers: Mapping[RegisterKey, Write]  # each register's winning write
    conflicts: tuple[Conflict, ...]

    def ticked_steps(self, runbook: str) -> frozenset[int]:
        """The step numbers of `runbook` that are ticked."""
        return self.ticked.get(runbook, frozenset())

    def current(self, register: RegisterKey) -> str | None:
        """The uid of the write a new change of `register` supersedes (None: never written)."""
        write = self.registers.get(register)
        return write.uid if write else None


# ---- the set ---------------------------------------------------------------------------------


def preference(entry: SyncEntry) -> tuple[Hlc, int, str]:
    """Which of several entries sharing a uid the set keeps: the smallest key.

    Normally copies of one uid are identical. They differ for derived uids written on several
    laptops (an escalation each laptop saw due), for a Slack message seen before and after an
    edit (the first version seen has the smaller clock), and for text cut by the wire's cap
    (the complete copy is longer). Bad peers get a deterministic answer too.
    """
    return entry.hlc, -len(entry.text), _canonical(entry)


def _canonical(entry: SyncEntry) -> str:
    fields = [
        format_utc(entry.at),
        format_utc(entry.written_at),
        entry.kind.value,
        entry.author,
        entry.text,
        json.dumps(entry.meta, sort_keys=True, default=repr),
        entry.reason,
        entry.corrects_uid,
        entry.supersedes,
        entry.node,
    ]
    return json.dumps(fields)  # ensure_ascii keeps lone surrogates comparable


def unique(entries: Iterable[SyncEntry]) -> dict[str, SyncEntry]:
    """The set: one entry per uid (the preferred copy when copies differ)."""
    kept: dict[str, SyncEntry] = {}
    for entry in entries:
        held = kept.get(entry.uid)
        if held is None or (held != entry and preference(entry) < preference(held)):
            kept[entry.uid] = entry
    return kept


def timeline_key(entry: SyncEntry) -> tuple[datetime, Hlc, str]:
    """Timeline order: claimed time, then clock, then uid; identical on every laptop."""
    return entry.at, entry.hlc, entry.uid


def timeline(entries: Iterable[SyncEntry]) -> list[SyncEntry]:
    """The set in timeline order."""
    return sorted(unique(entries).values(), key=timeline_key)


# ---- the fold --------------------------------------------------------------------------------


def fold(entries: Iterable[SyncEntry]) -> IncidentState:
    """The incident state the set of `entries` gives (any order, any duplicates)."""
    kept = unique(entries).values()
    writes: dict[RegisterKey, list[Write]] = {}
    declared: list[SyncEntry] = []
    updates: list[SyncEntry] = []
    for entry in kept:
        if entry.kind is Kind.UPDATE:
            updates.append(entry)
        written = registers_written(entry)  # none when the change's meta is malformed
        if written and is_declared(entry):
            declared.append(entry)
        for register, value in written:
            write = Write(
                register, value, entry.uid, entry.hlc, entry.at, entry.author, entry.supersedes
            )
            writes.setdefault(register, []).append(write)

    registers = {
        register: max(chain, key=_write_order) for register, chain in sorted(writes.items())
    }
    first = min(declared, key=lambda e: (e.hlc, e.uid)) if declared else None
    status_write = registers.get(STATUS)
    status = Status(_value_text(status_write) or Status.INVESTIGATING.value)
    ticked: dict[str, set[int]] = {}
    roles: dict[str, str] = {}
    for register, write in registers.items():
        if register.field == "step" and write.value is True:
            ticked.setdefault(register.name, set()).add(register.step)
        elif register.field == "role" and isinstance(write.value, str) and write.value:
            roles[register.name] = write.value
    mitigations = [w.at for w in writes.get(STATUS, []) if w.value in _MITIGATED]
    return IncidentState(
        declared_uid=first.uid if first else None,
        title=_meta_text(first, "title"),
        service=_meta_text(first, "service"),
        declared_by=first.author if first else "",
        declared_at=first.at if first else None,
        impact_started_at=_impact(first),
        severity=_value_text(registers.get(SEVERITY)),
        status=status,
        roles=roles,
        runbook=_value_text(registers.get(RUNBOOK)),
        ticked={name: frozenset(steps) for name, steps in sorted(ticked.items())},
        acknowledged_at=min((e.at for e in updates), default=None),
        mitigated_at=min(mitigations, default=None),
        resolved_at=(status_write.at if status_write and status is Status.RESOLVED else None),
        updates_sent=len(updates),
        last_update_at=max((e.at for e in updates), default=None),
        registers=registers,
        conflicts=_conflicts(writes),
    )


def _write_order(write: Write) -> tuple[Hlc, str]:
    return write.hlc, write.uid


def _value_text(write: Write | None) -> str | None:
    return write.value if write and isinstance(write.value, str) and write.value else None


def _meta_text(entry: SyncEntry | None, key: str) -> str:
    value = entry.meta.get(key) if entry else None
    return value if isinstance(value, str) else ""


def _impact(declared: SyncEntry | None) -> datetime | None:
    if declared is None:
        return None
    stamp = declared.meta.get("impact_started_at")
    return parse_utc(stamp) if isinstance(stamp, str) else declared.at


def _conflicts(writes: Mapping[RegisterKey, list[Write]]) -> tuple[Conflict, ...]:
    found: list[Conflict] = []
    for register, chain in sorted(writes.items()):
        forks: dict[str | None, list[Write]] = {}
        for write in chain:
            forks.setdefault(write.supersedes, []).append(write)
        for parent, fork in forks.items():
            if len(fork) < 2:
                continue
            # Two people setting the same value at once contradict nothing; two status
            # updates at once are worth knowing about whatever they said.
            if register != UPDATE and len({repr(w.value) for w in fork}) < 2:
                continue
            ordered = sorted(fork, key=_write_order, reverse=True)
            found.append(Conflict(register, parent, ordered[0], tuple(ordered[1:])))
    return tuple(sorted(found, key=lambda c: (c.winner.at, c.winner.hlc, c.winner.uid)))


# ---- saying it on the timeline ------------------------------------------------------------


def describe_conflict(conflict: Conflict) -> str:
    """The timeline sentence: "SEV-1 set by alice while SEV-3 was set by bob on another laptop;
    SEV-1 stands"."""
    winner, losers = conflict.winner, conflict.losers
    where = "another laptop" if len(losers) == 1 else "other laptops"
    if conflict.register == UPDATE:
        authors = _and([winner.author, *(w.author for w in losers)])
        count = len(losers) + 1
        return f"{count} status updates published at once by {authors} on different laptops"
    stands = _label(winner)
    others = _and([f"{_label(w)} was set by {w.author}" for w in losers])
    return f"{stands} set by {winner.author} while {others} on {where}; {stands} stands"


def _label(write: Write) -> str:
    register, value = write.register, write.value
    if register.field == "status":
        return f"status {value}"
    if register.field == "role":
        return f"{register.name} → {value}" if value else f"{register.name} unassigned"
    if register.field == "runbook":
        return f"runbook {value}" if value else "no runbook"
    if register.field == "step":
        state = "ticked" if value else "unticked"
        return f"step {register.step} of {register.name} {state}"
    return str(value)


def _and(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


# ---- late arrivals -------------------------------------------------------------------------


def late_entries(
    known: Iterable[SyncEntry],
    imported: Iterable[SyncEntry],
    threshold: timedelta = LATE_AFTER,
) -> list[SyncEntry]:
    """The imported entries to announce as late: new to this laptop, and claimed more than
    `threshold` before the newest entry it already showed. In timeline order.

    Claimed time is compared as written, so a laptop whose clock is behind by more than the
    threshold makes everything it sends look late: pass a threshold widened by the skew.
    """
    shown = unique(known)
    newest = max((entry.at for entry in shown.values()), default=None)
    if newest is None:
        return []
    cutoff = newest - threshold
    fresh = unique(entry for entry in imported if entry.uid not in shown)
    return sorted((e for e in fresh.values() if e.at < cutoff), key=timeline_key)


def describe_late(
    late: Sequence[SyncEntry], time_text: Callable[[datetime], str] | None = None
) -> str:
    """ "3 entries from bob arrived late, dated 02:10–02:25 UTC"; `time_text` formats the times
    (the app passes local time), UTC hours and minutes without it."""
    if not late:
        return ""
    shown = time_text or (lambda moment: f"{moment:%H:%M}")
    zone = "" if time_text else " UTC"
    authors = _and(sorted({entry.author for entry in late}))
    first, last = shown(min(e.at for e in late)), shown(max(e.at for e in late))
    count = "1 entry" if len(late) == 1 else f"{len(late)} entries"
    dated = first if first == last else f"{first}–{last}"
    return f"{count} from {authors} arrived late, dated {dated}{zone}"
