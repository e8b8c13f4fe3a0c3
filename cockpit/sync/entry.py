"""A timeline entry as every laptop knows it, and the conventions by which entries change state.

The conventions are today's (`cockpit/store.py`, `cockpit/runbooks.py`), read in one place:

- declared: kind `system`, meta `event: declared`, `severity`, `title`, `service`, and
  optionally `impact_started_at`, `runbook`;
- severity: kind `severity`, meta `from`, `to`; status: kind `status`, meta `from`, `to`;
- role: kind `role`, meta `role`, `from`, `to` (`""`: unassigned);
- runbook link: kind `system`, meta `event: runbook`, `from`, `to` (null: unlinked);
- runbook step: kind `step`, meta `runbook`, `step`, `done`;
- escalation: kind `escalation`, meta `runbook`, `to`, `after_minutes`, `due_at`;
- status update: kind `update`, meta `status` (optional), `targets`, `template`.

`title` and `service` in the declared entry are new: today they live only in the incidents row,
and the fold needs them from entries.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, NamedTuple, get_args

from cockpit.domain import Kind, Status, is_file_stem, parse_utc
from cockpit.sync.hlc import Hlc
from cockpit.sync.ids import is_id, is_node

Origin = Literal["local", "slack", "file"]
"""Where this laptop got an entry: written here, read from the Slack thread, or from a file."""
ORIGINS: tuple[str, ...] = get_args(Origin)

RegisterValue = str | bool | None


@dataclass(frozen=True, kw_only=True, slots=True)
class SyncEntry:
    """One entry of an incident, identical on every laptop (except `origin`, which is local)."""

    uid: str
    hlc: Hlc  # stamped at write time; orders concurrent changes
    at: datetime  # claimed time (aware UTC, whole milliseconds); orders the timeline
    written_at: datetime
    kind: Kind
    author: str
    text: str
    meta: Mapping[str, object] = field(default_factory=dict)
    reason: str | None = None  # why it was backdated, or why it corrects another
    corrects_uid: str | None = None
    supersedes: str | None = None  # uid of the register write this change replaced when written
    node: str  # the database that wrote it (the clock's node)
    origin: Origin = field(default="local", compare=False)


class RegisterKey(NamedTuple):
    """A piece of incident state that changes by last-writer-wins: `severity`, `status`,
    `runbook`, `role` (name: the role), `step` (name: the runbook; step: its number), and
    `update`, the chain of status updates (no value; only for spotting races)."""

    field: str
    name: str = ""
    step: int = 0


SEVERITY = RegisterKey("severity")
STATUS = RegisterKey("status")
RUNBOOK = RegisterKey("runbook")
UPDATE = RegisterKey("update")


def role_key(role: str) -> RegisterKey:
    """The register of who holds `role`."""
    return RegisterKey("role", role)


def step_key(runbook: str, step: int) -> RegisterKey:
    """The register of whether step `step` of `runbook` is ticked."""
    return RegisterKey("step", runbook, step)


_STAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")  # ASCII
_STATUSES = frozenset(s.value for s in Status)


def is_declared(entry: SyncEntry) -> bool:
    """True for the entry that declared the incident."""
    return entry.kind is Kind.SYSTEM and entry.meta.get("event") == "declared"


def registers_written(entry: SyncEntry) -> list[tuple[RegisterKey, RegisterValue]]:
    """The registers `entry` writes and the value it gives each; none for a malformed change."""
    if meta_problem(entry.kind, entry.meta) is not None:
        return []
    meta = entry.meta
    kind = entry.kind
    if kind is Kind.SYSTEM and meta.get("event") == "declared":
        writes: list[tuple[RegisterKey, RegisterValue]] = [
            (SEVERITY, _text(meta["severity"])),
            (STATUS, Status.INVESTIGATING.value),
        ]
        if "runbook" in meta:
            writes.append((RUNBOOK, _runbook(meta["runbook"])))
        return writes
    if kind is Kind.SYSTEM and meta.get("event") == "runbook":
        return [(RUNBOOK, _runbook(meta.get("to")))]
    if kind is Kind.SEVERITY:
        return [(SEVERITY, _text(meta["to"]))]
    if kind is Kind.STATUS:
        return [(STATUS, _text(meta["to"]))]
    if kind is Kind.ROLE:
        return [(role_key(_text(meta["role"])), _text(meta["to"]))]
    if kind is Kind.STEP:
        step = meta["step"]
        assert isinstance(step, int)  # meta_problem checked it
        return [(step_key(_text(meta["runbook"]), step), meta["done"] is True)]
    if kind is Kind.UPDATE:
        status = meta.get("status")
        return [(UPDATE, status if isinstance(status, str) else None)]
    return []


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _runbook(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def meta_problem(kind: Kind, meta: Mapping[str, object]) -> str | None:
    """What is wrong with a state-changing entry's meta, or None when its shape is right.

    Entries that change nothing (notes, actions, ...) may carry any meta.
    """
    if kind is Kind.SYSTEM:
        event = meta.get("event")
        if event == "declared":
            return (
                _need(meta, "severity", _NON_EMPTY)
                or _need(meta, "title", _STR)
                or _may(meta, "service", _STR)
                or _may(meta, "impact_started_at", _STAMP_SHAPE)
                or _may(meta, "runbook", _OPTIONAL_RUNBOOK)
            )
        if event == "runbook":
            return _may(meta, "to", _OPTIONAL_RUNBOOK)
        return None
    if kind is Kind.SEVERITY:
        return _need(meta, "to", _NON_EMPTY)
    if kind is Kind.STATUS:
        return _need(meta, "to", _STATUS)
    if kind is Kind.ROLE:
        return _need(meta, "role", _NON_EMPTY) or _need(meta, "to", _STR)
    if kind is Kind.STEP:
        return (
            _need(meta, "runbook", _RUNBOOK)
            or _need(meta, "step", _STEP)
            or _need(meta, "done", _BOOL)
        )
    if kind is Kind.UPDATE:
        return _may(meta, "status", _STATUS) or _may(meta, "targets", _STR_LIST)
    if kind is Kind.ESCALATION:
        return _need(meta, "runbook", _RUNBOOK)
    return None


_Shape = tuple[str, Callable[[object], bool]]
"""What a meta value must be, in words, and the test for it."""

_STR: _Shape = ("a string", lambda v: isinstance(v, str))
_BOOL: _Shape = ("true or false", lambda v: isinstance(v, bool))
_OPTIONAL_STR: _Shape = ("a string or null", lambda v: v is None or isinstance(v, str))
_NON_EMPTY: _Shape = ("a non-empty string", lambda v: isinstance(v, str) and bool(v.strip()))
_RUNBOOK: _Shape = ("a runbook's file name", lambda v: isinstance(v, str) and is_file_stem(v))
_OPTIONAL_RUNBOOK: _Shape = (
    "a runbook's file name or null",
    lambda v: v is None or (isinstance(v, str) and is_file_stem(v)),
)
_STATUS: _Shape = (
    f"one of {', '.join(s.value for s in Status)}",
    lambda v: isinstance(v, str) and v in _STATUSES,
)
_STEP: _Shape = (
    "a whole number from 1",
    lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
)
_STAMP_SHAPE: _Shape = ("a UTC time like 2026-11-27T02:14:05.123Z", lambda v: is_stamp(v))
_STR_LIST: _Shape = (
    "a list of strings",
    lambda v: isinstance(v, list) and all(isinstance(item, str) for item in v),
)


def is_stamp(value: object) -> bool:
    """True for a stored UTC time (`2026-11-27T02:14:05.123Z`) that names a real moment."""
    if not isinstance(value, str) or _STAMP.fullmatch(value) is None:
        return False
    try:
        parse_utc(value)
    except ValueError:
        return False
    return True


def _need(meta: Mapping[str, object], key: str, shape: _Shape) -> str | None:
    if key not in meta:
        return f"meta.{key} is missing"
    return _may(meta, key, shape)


def _may(meta: Mapping[str, object], key: str, shape: _Shape) -> str | None:
    wanted, test = shape
    if key not in meta or test(meta[key]):
        return None
    return f"meta.{key} must be {wanted}"


def entry_problem(entry: SyncEntry) -> str | None:
    """What makes `entry` unfit to import, or None. Checks identities, clock, times and the
    shape of state changes; text and author may be anything."""
    if not is_id(entry.uid):
        return f"uid {entry.uid!r} is not 32 hex digits"
    if not is_node(entry.node):
        return f"node {entry.node!r} is not 8 to 32 hex digits"
    if not isinstance(entry.hlc, Hlc) or entry.hlc.node != entry.node:
        return "the clock value was not stamped by the entry's node"
    for name, moment in (("at", entry.at), ("written_at", entry.written_at)):
        if not _is_utc_ms(moment):
            return f"{name} is not an aware UTC time in whole milliseconds"
    if not isinstance(entry.kind, Kind):
        return f"unknown kind {entry.kind!r}"
    for name, value in (("author", entry.author), ("text", entry.text)):
        if not isinstance(value, str):
            return f"{name} is not a string"
    if entry.reason is not None and not isinstance(entry.reason, str):
        return "reason is not a string"
    for name, ref in (("corrects_uid", entry.corrects_uid), ("supersedes", entry.supersedes)):
        if ref is not None and not is_id(ref):
            return f"{name} {ref!r} is not 32 hex digits"
    if not isinstance(entry.meta, Mapping) or not all(isinstance(k, str) for k in entry.meta):
        return "meta is not an object"
    if entry.origin not in ORIGINS:
        return f"unknown origin {entry.origin!r}"
    return meta_problem(entry.kind, entry.meta)


def _is_utc_ms(moment: object) -> bool:
    return (
        isinstance(moment, datetime)
        and moment.utcoffset() == timedelta(0)
        and moment.microsecond % 1000 == 0
    )
