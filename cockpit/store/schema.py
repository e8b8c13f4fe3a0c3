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
_SYNC_NODE: dict[str, type] = {"id": int, "node": str, "hlc": str}
_SYNC_THREADS: dict[str, type] = {
    "incident_id": int,
    "channel": str,
    "root_ts": str,
    "permalink": str,
    "last_ts": str,
    "last_read_at": str,
    "last_full_scan_at": str,
}
_SLACK_USERS: dict[str, type] = {"user_id": str, "name": str, "fetched_at": str}
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
    {"sync_node": _SYNC_NODE, "sync_threads": _SYNC_THREADS, "slack_users": _SLACK_USERS},
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


_ENTRY_CONTENT = (
    "id, incident_id, at, written_at, kind, author, text, corrects, reason, meta, "
    "uid, node, hlc, origin, corrects_uid, supersedes"
)
"""The columns of an entry that never change once written (`remote_*` record where a copy
was sent; a same-uid copy is swapped only through `sync_replacing`)."""


def _v4(db: sqlite_utils.Database) -> None:
    # Team sync (issue 15): global ids, the hybrid logical clock, where each entry came from,
    # the incident's Slack thread and the Slack names read. Existing rows get their ids here,
    # which needs the append-only trigger lifted for the length of this migration. Statement
    # by statement: `executescript` would commit the migration's transaction half way.
    from cockpit.store.backfill import backfill_identities

    conn = db.conn
    for statement in _V4_BEFORE:
        conn.execute(statement)
    backfill_identities(conn)
    for statement in _V4_AFTER:
        conn.execute(statement)


_V4_BEFORE = (
    "DROP TRIGGER entries_no_update",
    "ALTER TABLE incidents ADD COLUMN gid TEXT",
    "ALTER TABLE entries ADD COLUMN uid TEXT",
    "ALTER TABLE entries ADD COLUMN node TEXT",
    "ALTER TABLE entries ADD COLUMN hlc TEXT",
    "ALTER TABLE entries ADD COLUMN origin TEXT NOT NULL DEFAULT 'local'",
    "ALTER TABLE entries ADD COLUMN remote_channel TEXT",
    "ALTER TABLE entries ADD COLUMN remote_ts TEXT",
    "ALTER TABLE entries ADD COLUMN corrects_uid TEXT",
    "ALTER TABLE entries ADD COLUMN supersedes TEXT",
    "CREATE TABLE sync_node (id INTEGER PRIMARY KEY CHECK (id = 1), node TEXT NOT NULL, hlc TEXT)",
    "CREATE TABLE sync_threads (incident_id INTEGER PRIMARY KEY REFERENCES incidents(id), "
    "channel TEXT NOT NULL, root_ts TEXT NOT NULL, permalink TEXT, last_ts TEXT, "
    "last_read_at TEXT, last_full_scan_at TEXT)",
    "CREATE TABLE slack_users (user_id TEXT PRIMARY KEY, name TEXT NOT NULL, "
    "fetched_at TEXT NOT NULL)",
    # A same-uid copy is swapped for the one every laptop keeps only while its uid is listed here.
    "CREATE TABLE sync_replacing (uid TEXT PRIMARY KEY)",
)
_V4_AFTER = (
    "CREATE UNIQUE INDEX incidents_gid ON incidents(gid)",
    "CREATE UNIQUE INDEX entries_uid ON entries(uid)",
    "DROP INDEX entries_timeline",
    "CREATE INDEX entries_timeline ON entries(incident_id, at, hlc, uid)",
    f"CREATE TRIGGER entries_no_update BEFORE UPDATE OF {_ENTRY_CONTENT} ON entries "
    "WHEN NOT EXISTS (SELECT 1 FROM sync_replacing WHERE uid = OLD.uid) "
    "BEGIN SELECT RAISE(ABORT, 'timeline entries are append-only'); END",
    "CREATE TRIGGER entries_need_ids BEFORE INSERT ON entries "
    "WHEN NEW.uid IS NULL OR NEW.node IS NULL OR NEW.hlc IS NULL "
    "BEGIN SELECT RAISE(ABORT, 'a timeline entry needs its uid, node and clock'); END",
    "CREATE TRIGGER incidents_need_gid BEFORE INSERT ON incidents WHEN NEW.gid IS NULL "
    "BEGIN SELECT RAISE(ABORT, 'an incident needs its gid'); END",
)


def _v5(db: sqlite_utils.Database) -> None:
    # This laptop's clock against Slack's, measured on each post of the sync (issue 15: shown
    # above 2 s): the latest skew in milliseconds (positive: ahead) and when it was measured.
    db.conn.execute("ALTER TABLE sync_node ADD COLUMN skew_ms INTEGER")
    db.conn.execute("ALTER TABLE sync_node ADD COLUMN skew_at TEXT")


MIGRATIONS = (_v1, _v2, _v3, _v4, _v5)
"""Forward migrations; `PRAGMA user_version` is the number applied."""

SCHEMA_VERSION = len(MIGRATIONS)
