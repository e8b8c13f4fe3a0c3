"""The outbox part of the store: published updates and the deliveries they queue, the event
hook's deliveries, delivery attempts (claim, outcome) and the incident's remote ids."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cockpit.domain.delivery import Delivery, IncidentEvent
from cockpit.domain.incident import Entry, Kind, Status
from cockpit.domain.moments import format_utc
from cockpit.domain.text import UPDATE_TEXT, storable
from cockpit.store.connection import guarded
from cockpit.store.errors import StoreError, fits
from cockpit.store.incidents import Incidents
from cockpit.store.rows import to_delivery


class Outbox(Incidents):
    """The durable queue of deliveries, written in the same transaction as what queues them."""

    @guarded
    def publish(
        self,
        incident_id: int,
        text: str,
        author: str,
        *,
        status: Status | None = None,
        deliveries: Sequence[tuple[str, str, Mapping[str, Any]]] = (),
        meta: Mapping[str, Any] | None = None,
    ) -> Entry:
        """Record a published status update and queue one delivery per target, atomically.

        `deliveries` holds (target, action, payload). A status change rides along in the same
        transaction; the first update also stamps `acknowledged_at`.
        """
        text = storable(text)
        if not text.strip():
            raise StoreError("a status update needs some text")
        fits(text, UPDATE_TEXT)
        now = self.now()
        stamp = format_utc(now)
        with self._write() as conn:
            row = self._require_incident(conn, incident_id)
            if status is not None:
                self._set_status(conn, incident_id, status, author, now)
            if not row["acknowledged_at"]:
                conn.execute(
                    "UPDATE incidents SET acknowledged_at = ? WHERE id = ?", (stamp, incident_id)
                )
            entry_meta = dict(meta or {})
            entry_meta["targets"] = [target for target, _, _ in deliveries]
            if status is not None:
                entry_meta["status"] = status.value
            entry_id = self._insert_entry(
                conn, incident_id, Kind.UPDATE, author, text, now, now, meta=entry_meta
            )
            for target, action, payload in deliveries:
                _insert_delivery(conn, incident_id, entry_id, target, action, payload, stamp)
        return self.entry(entry_id)

    @guarded
    def enqueue(
        self,
        incident_id: int,
        target: str,
        action: str,
        payload: Mapping[str, Any],
        *,
        entry_id: int | None = None,
    ) -> int:
        """Queue a delivery that is not a published update (a page, a webhook event)."""
        stamp = format_utc(self.now())
        with self._write() as conn:
            return _insert_delivery(conn, incident_id, entry_id, target, action, payload, stamp)

    @guarded
    def deliveries(
        self, incident_id: int | None = None, *, states: Sequence[str] | None = None
    ) -> list[Delivery]:
        """Deliveries in the order they were queued (of one incident, or of all)."""
        sql, params = self._select("deliveries", incident_id, states or ())
        return [to_delivery(row) for row in self.conn.execute(sql, params)]

    @guarded
    def delivery(self, delivery_id: int) -> Delivery:
        return to_delivery(self._row("deliveries", delivery_id, "delivery"))

    @guarded
    def update_delivery(self, delivery_id: int, **changes: Any) -> None:
        """Record an attempt's outcome (state, attempts, next_attempt_at, last_error, ...)."""
        allowed = {
            "state",
            "attempts",
            "next_attempt_at",
            "last_error",
            "remote_id",
            "sent_at",
            "payload",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"unknown delivery fields: {sorted(unknown)}")
        values = {
            key: format_utc(self._moment(value, key))
            if isinstance(value, datetime)
            else json.dumps(value)
            if key == "payload"
            else value
            for key, value in changes.items()
        }
        values["updated_at"] = format_utc(self.now())
        assignments = ", ".join(f"{key} = ?" for key in values)
        with self._write() as conn:
            conn.execute(
                f"UPDATE deliveries SET {assignments} WHERE id = ?",
                (*values.values(), delivery_id),
            )

    @guarded
    def claim_delivery(
        self,
        delivery_id: int,
        *,
        state: str,
        attempts: int,
        lease_until: datetime,
        payload: Mapping[str, Any],
    ) -> Delivery | None:
        """Take a delivery for one attempt if it is still as the caller saw it.

        Compare-and-set on (state, attempts), so two delivering processes never send the same
        delivery at once: the winner gets the row back in state `sending` with one more
        attempt and `next_attempt_at` = the end of its lease; the loser gets None.
        """
        stamp = format_utc(self.now())
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, "
                "next_attempt_at = ?, payload = ?, updated_at = ? "
                "WHERE id = ? AND state = ? AND attempts = ?",
                (
                    format_utc(self._moment(lease_until, "the delivery lease")),
                    json.dumps(payload, separators=(",", ":")),
                    stamp,
                    delivery_id,
                    state,
                    attempts,
                ),
            )
        return self.delivery(delivery_id) if cursor.rowcount == 1 else None

    @guarded
    def remote_ref(self, incident_id: int, target: str, key: str) -> str | None:
        """An id the incident has at a service (Slack root `ts`, status-page incident id)."""
        row = self.conn.execute(
            "SELECT value FROM remote_refs WHERE incident_id = ? AND target = ? AND key = ?",
            (incident_id, target, key),
        ).fetchone()
        return row[0] if row else None

    @guarded
    def set_remote_ref(self, incident_id: int, target: str, key: str, value: str) -> None:
        with self._write() as conn:
            self._set_ref(conn, incident_id, target, key, value)

    def _set_ref(
        self, conn: sqlite3.Connection, incident_id: int, target: str, key: str, value: str
    ) -> None:
        conn.execute(
            "INSERT INTO remote_refs (incident_id, target, key, value, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (incident_id, target, key) "
            "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (incident_id, target, key, value, format_utc(self.now())),
        )

    def _fire(
        self,
        conn: sqlite3.Connection,
        name: str,
        incident_id: int,
        entry_id: int,
        meta: Mapping[str, Any],
        author: str,
        now: datetime,
    ) -> None:
        """Queue what the event hook asks for, in the caller's transaction.

        A hook that fails (a bug) must not stop the change itself: the incident is declared
        anyway and the timeline says that nothing was queued, so people page by hand.
        """
        if self.events is None:
            return
        row = conn.execute("SELECT * FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        incident = self._incident(row)  # this connection sees the change not yet committed
        queued = tuple(
            (str(earlier[0]), str(earlier[1]))
            for earlier in conn.execute(
                "SELECT target, action FROM deliveries WHERE incident_id = ? ORDER BY id",
                (incident_id,),
            )
        )
        severities = tuple(
            str(found[0])
            for found in conn.execute(
                "SELECT DISTINCT json_extract(meta, '$.severity') FROM entries "
                "WHERE incident_id = ? AND kind = 'system' "
                "AND json_extract(meta, '$.event') = 'declared' "
                "UNION SELECT json_extract(meta, '$.to') FROM entries "
                "WHERE incident_id = ? AND kind = 'severity'",
                (incident_id, incident_id),
            )
            if found[0] is not None
        )
        event = IncidentEvent(name, incident, dict(meta), entry_id, now, queued, severities)
        try:
            deliveries = list(self.events(event))
        except Exception as exc:
            text = (
                f"could not queue pages or webhook events for this change "
                f"({type(exc).__name__}: {exc}); this is a cockpit bug: page people by hand"
            )
            self._insert_entry(
                conn, incident_id, Kind.SYSTEM, author, text, now, now, meta={"event": "hook"}
            )
            return
        stamp = format_utc(now)
        for target, action, payload in deliveries:
            _insert_delivery(conn, incident_id, entry_id, target, action, payload, stamp)


def _insert_delivery(
    conn: sqlite3.Connection,
    incident_id: int,
    entry_id: int | None,
    target: str,
    action: str,
    payload: Mapping[str, Any],
    stamp: str,
) -> int:
    """Queue one delivery inside the caller's transaction; due at once."""
    cursor = conn.execute(
        "INSERT INTO deliveries (incident_id, entry_id, target, action, payload, state, "
        "attempts, next_attempt_at, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?)",
        (
            incident_id,
            entry_id,
            target,
            action,
            json.dumps(payload, separators=(",", ":")),
            stamp,
            stamp,
            stamp,
        ),
    )
    return int(cursor.lastrowid or 0)
