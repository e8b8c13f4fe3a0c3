"""Stored rows to domain objects: incidents, entries, deliveries, action items, post-mortems.

A row already on disk may hold anything (written by an older cockpit, edited by hand): reading
never fails on it. Each converter tries the fast path; if any value cannot be read it reads the
row again value by value, with a stand-in for what it cannot read and the raw text kept in
`unreadable`, so every front end shows the row flagged and `cockpit doctor` names it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from cockpit.domain.delivery import Delivery
from cockpit.domain.incident import Entry, Incident, Kind, Status, incident_ref
from cockpit.domain.moments import EARLIEST, read_stored, read_stored_day
from cockpit.domain.postmortem import TEXT_FIELDS, ActionItem, ItemState, Postmortem
from cockpit.domain.text import unreadable_note


def stored_time(row: Mapping[str, Any], name: str, bad: dict[str, str]) -> datetime | None:
    """The time in column `name`, or None; an unreadable one is noted in `bad` (column -> raw)."""
    raw = row[name]
    if raw is None:
        return None
    try:
        return read_stored(raw)
    except ValueError:
        bad[name] = str(raw)
        return None


def _json(row: Mapping[str, Any], name: str, shape: type, bad: dict[str, str]) -> Any:
    raw = row[name]
    if not raw:
        return shape()
    try:
        value = json.loads(raw)
    except (ValueError, TypeError, RecursionError):
        value = None
    if not isinstance(value, shape):
        bad[name] = str(raw)
        return shape()
    return value


def _choice(row: Mapping[str, Any], name: str, choices: type[StrEnum], bad: dict[str, str]) -> Any:
    try:
        return choices(row[name])
    except ValueError:
        bad[name] = str(row[name])
        return None


def _meta(raw: str) -> dict[str, Any]:
    meta = json.loads(raw)
    if not isinstance(meta, dict):
        raise TypeError("meta is not an object")
    return meta


def to_entry(row: Mapping[str, Any]) -> Entry:
    try:
        return Entry(
            id=row["id"],
            incident_id=row["incident_id"],
            at=read_stored(row["at"]),
            written_at=read_stored(row["written_at"]),
            kind=Kind(row["kind"]),
            author=row["author"],
            text=row["text"],
            corrects=row["corrects"],
            reason=row["reason"],
            meta=_meta(row["meta"]) if row["meta"] else {},
            uid=row["uid"] or "",
            hlc=row["hlc"] or "",
            origin=row["origin"] or "local",
        )
    except (ValueError, TypeError, RecursionError):
        return _flagged_entry(row)


def _flagged_entry(row: Mapping[str, Any]) -> Entry:
    bad: dict[str, str] = {}
    at, written = stored_time(row, "at", bad), stored_time(row, "written_at", bad)
    kind = _choice(row, "kind", Kind, bad) or Kind.NOTE
    meta = _json(row, "meta", dict, bad)
    return Entry(
        id=row["id"],
        incident_id=row["incident_id"],
        at=at or written or EARLIEST,
        written_at=written or at or EARLIEST,
        kind=kind,
        author=row["author"],
        text=row["text"],
        corrects=row["corrects"],
        reason=row["reason"],
        meta=meta,
        unreadable=bad,
        uid=row["uid"] or "",
        hlc=row["hlc"] or "",
        origin=row["origin"] or "local",
    )


@dataclass(frozen=True)
class UnreadableRow:
    """A stored row with values cockpit cannot read: which one, and the raw values."""

    what: str  # incident, entry, delivery, action item, post-mortem
    id: int
    incident_id: int
    values: Mapping[str, str]

    def describe(self) -> str:
        """`INC-3 entry #42: ⚠ unreadable at='0226-11-28T02:10:00.000Z'`."""
        ref = incident_ref(self.incident_id)
        if self.what == "incident":
            name = ref
        elif self.what == "post-mortem":
            name = f"{ref} post-mortem"
        else:
            name = f"{ref} {self.what} #{self.id}"
        return f"{name}: {unreadable_note(self.values)}"


def to_delivery(row: Mapping[str, Any]) -> Delivery:
    bad: dict[str, str] = {}
    created = stored_time(row, "created_at", bad)
    return Delivery(
        id=row["id"],
        incident_id=row["incident_id"],
        entry_id=row["entry_id"],
        target=row["target"],
        action=row["action"],
        payload=_json(row, "payload", dict, bad),
        state=row["state"],
        attempts=row["attempts"],
        next_attempt_at=stored_time(row, "next_attempt_at", bad),
        last_error=row["last_error"],
        remote_id=row["remote_id"],
        created_at=created or EARLIEST,
        updated_at=stored_time(row, "updated_at", bad),
        sent_at=stored_time(row, "sent_at", bad),
        unreadable=bad,
    )


def to_action_item(row: Mapping[str, Any]) -> ActionItem:
    bad: dict[str, str] = {}
    deadline = None
    if row["deadline"]:
        try:
            deadline = read_stored_day(row["deadline"])
        except ValueError:
            bad["deadline"] = str(row["deadline"])
    return ActionItem(
        id=row["id"],
        incident_id=row["incident_id"],
        title=row["title"],
        owner=row["owner"] or "",
        deadline=deadline,
        state=_choice(row, "state", ItemState, bad) or ItemState.OPEN,
        created_at=stored_time(row, "created_at", bad),
        unreadable=bad,
    )


def to_incident(row: Mapping[str, Any], roles: Mapping[str, str]) -> Incident:
    """An incident row, with the roles read beside it (role -> person)."""
    bad: dict[str, str] = {}
    impact, declared = (
        stored_time(row, "impact_started_at", bad),
        stored_time(row, "declared_at", bad),
    )
    return Incident(
        id=row["id"],
        title=row["title"],
        service=row["service"] or "",
        severity=row["severity"],
        status=_choice(row, "status", Status, bad) or Status.INVESTIGATING,
        runbook=row["runbook"],
        impact_started_at=impact or declared or EARLIEST,
        declared_at=declared or impact or EARLIEST,
        acknowledged_at=stored_time(row, "acknowledged_at", bad),
        mitigated_at=stored_time(row, "mitigated_at", bad),
        resolved_at=stored_time(row, "resolved_at", bad),
        declared_by=row["declared_by"] or "",
        roles=roles,
        unreadable=bad,
        gid=row["gid"] or "",
    )


def to_postmortem(row: Mapping[str, Any]) -> Postmortem:
    """A post-mortem row (the whys stored as a JSON list)."""
    bad: dict[str, str] = {}
    updated = stored_time(row, "updated_at", bad)
    completed = stored_time(row, "completed_at", bad)
    if row["completed_at"] and completed is None:
        completed = updated or EARLIEST  # stored as completed: it stays so, flagged
    return Postmortem(
        incident_id=row["incident_id"],
        root_cause=tuple(str(why) for why in _json(row, "root_cause", list, bad)),
        completed_at=completed,
        updated_at=updated,
        updated_by=row["updated_by"] or "",
        unreadable=bad,
        **{name: row[name] or "" for name in TEXT_FIELDS},
    )
