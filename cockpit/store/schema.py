"""The schema: each table's columns, and the forward migrations keyed by `PRAGMA user_version`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils

_INCIDENTS: dict[str, type] = {
    "id": int,
    "title": str,
    "service": str,
    "severity": str,
    "status": str,
    "runbook": str,
    "impact_started_at": str,
    "declared_at": str,
    "acknowledged_at": str,
    "mitigated_at": str,
    "resolved_at": str,
    "declared_by": str,
}
_ENTRIES: dict[str, type] = {
    "id": int,
    "incident_id": int,
    "at": str,
    "written_at": str,
    "kind": str,
    "author": str,
    "text": str,
    "corrects": int,
    "reason": str,
    "meta": str,
}
_ROLES: dict[str, type] = {"incident_id": int, "role": str, "person": str, "since": str}
_ACTION_ITEMS: dict[str, type] = {
    "id": int,
    "incident_id": int,
    "title": str,
    "owner": str,
    "deadline": str,
    "state": str,
    "created_at": str,
}
_DELIVERIES: dict[str, type] = {
    "id": int,
    "incident_id": int,
    "entry_id": int,
    "target": str,
    "action": str,
    "payload": str,
    "state": str,
    "attempts": int,
    "next_attempt_at": str,
    "last_error": str,
    "remote_id": str,
    "created_at": str,
    "updated_at": str,
    "sent_at": str,
}
_REMOTE_REFS: dict[str, type] = {
    "incident_id": int,
    "target": str,
    "key": str,
    "value": str,
    "updated_at": str,
}
_POSTMORTEMS: dict[str, type] = {
    "incident_id": int,
    "summary": str,
    "impact": str,
    "root_cause": str,
    "contributing_factors": str,
    "went_well": str,
    "went_poorly": str,
    "lessons": str,
    "completed_at": str,
    "updated_at": str,
    "updated_by": str,
}
_STARS: dict[str, type] = {
    "incident_id": int,
    "entry_id": int,
    "starred_at": str,
    "starred_by": str,
}

TABLES_ADDED: tuple[dict[str, dict[str, type]], ...] = (
    {
        "incidents": _INCIDENTS,
        "entries": _ENTRIES,
        "roles": _ROLES,
        "action_items": _ACTION_ITEMS,
        "deliveries": _DELIVERIES,
    },
    {"remote_refs": _REMOTE_REFS},
    {"postmortems": _POSTMORTEMS, "stars": _STARS},
)
"""The tables (and their columns) each migration adds: how a cockpit database is recognised."""


def _v1(db: sqlite_utils.Database) -> None:
    db.table("incidents").create(
        _INCIDENTS,
        pk="id",
        not_null={"title", "severity", "status", "declared_at", "impact_started_at"},
        defaults={"service": "", "declared_by": ""},
    )
    db.table("entries").create(
        _ENTRIES,
        pk="id",
        not_null={"incident_id", "at", "written_at", "kind", "author", "text"},
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db.table("roles").create(
        _ROLES, pk=("incident_id", "role"), foreign_keys=[("incident_id", "incidents", "id")]
    )
    db.table("action_items").create(
        _ACTION_ITEMS,
        pk="id",
        not_null={"incident_id", "title", "state"},
        defaults={"state": "open", "owner": ""},
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db.table("deliveries").create(
        _DELIVERIES,
        pk="id",
        not_null={"incident_id", "target", "action", "payload", "state", "attempts"},
        defaults={"state": "queued", "attempts": 0},
        foreign_keys=[("incident_id", "incidents", "id"), ("entry_id", "entries", "id")],
    )
    db.executescript(
        """
        CREATE INDEX entries_timeline ON entries(incident_id, at, id);
        CREATE INDEX entries_kind ON entries(incident_id, kind, at);
        CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);
        CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
        BEGIN SELECT RAISE(ABORT, 'timeline entries are append-only'); END;
        CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
        BEGIN SELECT RAISE(ABORT, 'timeline entries are append-only'); END;
        """
    )


def _v2(db: sqlite_utils.Database) -> None:
    # Remote identities an incident has at each service (Slack root `ts`, status-page id).
    db.table("remote_refs").create(
        _REMOTE_REFS,
        pk=("incident_id", "target", "key"),
        foreign_keys=[("incident_id", "incidents", "id")],
    )


def _v3(db: sqlite_utils.Database) -> None:
    # Post-mortems: the written fields (one row per incident; whys as a JSON list) and the
    # entries starred as key moments, kept apart because entries are append-only.
    db.table("postmortems").create(
        _POSTMORTEMS, pk="incident_id", foreign_keys=[("incident_id", "incidents", "id")]
    )
    db.table("stars").create(
        _STARS,
        pk=("incident_id", "entry_id"),
        foreign_keys=[("incident_id", "incidents", "id"), ("entry_id", "entries", "id")],
    )
    db.executescript("CREATE INDEX action_items_by_incident ON action_items(incident_id, id);")


MIGRATIONS = (_v1, _v2, _v3)
"""Forward migrations; `PRAGMA user_version` is the number applied."""

SCHEMA_VERSION = len(MIGRATIONS)
