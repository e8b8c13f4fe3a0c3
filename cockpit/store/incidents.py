"""The incidents part of the store: declaring, reading, and the changes that write an entry
(status, severity, roles, the linked runbook)."""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cockpit.domain.incident import Entry, Incident, Kind, Status, find_role, incident_ref
from cockpit.domain.moments import format_utc
from cockpit.domain.resolved import KEPT_WHEN_RESOLVED, LINK_RUNBOOK
from cockpit.domain.text import NAME_TEXT, TITLE_TEXT, storable
from cockpit.store.connection import guarded
from cockpit.store.errors import IncidentNotFound, StoreError, UnknownRole, fits
from cockpit.store.rows import to_incident
from cockpit.store.timeline import Timeline
from cockpit.sync.ids import new_gid


class Incidents(Timeline, ABC):
    """Incidents and the changes to them; each change is a timeline entry in its transaction.

    Declaring and changing severity or status also tell the event hook (`_fire`), which the
    outbox part implements: what a change queues goes in with the change, atomically.
    """

    @guarded
    def declare(
        self,
        title: str,
        severity: str,
        author: str,
        *,
        service: str = "",
        runbook: str | None = None,
        impact_started_at: datetime | None = None,
        roles: Mapping[str, str] | None = None,
    ) -> Incident:
        """Create an incident, with its `declared` entry and initial roles, in one transaction."""
        title, service, author = storable(title).strip(), storable(service), storable(author)
        if not title:
            raise StoreError("an incident needs a title")
        fits(title, TITLE_TEXT, "an incident title")
        fits(service, NAME_TEXT, "a service name")
        # Only the roles given to someone are checked: a front end may offer one left empty.
        roles = {self.role(role): person for role, person in (roles or {}).items() if person}
        for role, person in roles.items():
            fits(person, NAME_TEXT, f"the {role}'s name")
        now = self.now()
        impact = now
        if impact_started_at is not None:
            impact = self._moment(impact_started_at, "the impact start")
        if impact > now:
            raise StoreError("impact cannot start in the future")
        stamp = format_utc(now)
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO incidents (title, service, severity, status, runbook, "
                "impact_started_at, declared_at, declared_by, gid) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    title,
                    service,
                    severity,
                    Status.INVESTIGATING.value,
                    runbook,
                    format_utc(impact),
                    stamp,
                    author,
                    new_gid(),
                ),
            )
            incident_id = int(cursor.lastrowid or 0)
            text = f"declared {severity}: {title}"
            if service:
                text += f" ({service})"
            # Title, service and runbook ride in the entry: another laptop builds the incident
            # from its entries alone.
            meta: dict[str, Any] = {
                "event": "declared",
                "severity": severity,
                "title": title,
                "service": service,
            }
            if runbook:
                meta["runbook"] = runbook
            if impact_started_at is not None:
                meta["impact_started_at"] = format_utc(impact)
            entry_id = self._insert_entry(
                conn, incident_id, Kind.SYSTEM, author, text, now, now, meta=meta
            )
            for role, person in roles.items():
                self._assign(conn, incident_id, role, person, author, now)
            self._fire(conn, "declared", incident_id, entry_id, meta, author, now)
        return self.incident(incident_id)

    def role(self, text: str) -> str:
        """The role `text` names among `role_names` (`on_call` finds `on-call`); UnknownRole
        (one line listing the roles) when it names none."""
        try:
            return find_role(self.role_names, text.strip())
        except ValueError as exc:
            raise UnknownRole(str(exc)) from None

    @guarded
    def incident(self, incident_id: int) -> Incident:
        row = self.conn.execute("SELECT * FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        if row is None:
            raise IncidentNotFound(f"no incident {incident_ref(incident_id)}")
        return self._incident(row)

    def _incident(self, row: Mapping[str, Any]) -> Incident:
        roles = {
            r["role"]: r["person"]
            for r in self.conn.execute(
                "SELECT role, person FROM roles WHERE incident_id = ? ORDER BY rowid", (row["id"],)
            )
        }
        return to_incident(row, roles)

    @guarded
    def incidents(self, *, open_only: bool = False) -> list[Incident]:
        """Incidents, newest first."""
        sql = "SELECT * FROM incidents"
        if open_only:
            sql += " WHERE status != 'resolved'"
        sql += " ORDER BY id DESC"
        return [self._incident(row) for row in self.conn.execute(sql)]

    @guarded
    def resolve_incident_id(self, explicit: int | None) -> int:
        """The incident a command means: the one named, else the only open one."""
        if explicit is not None:
            self.incident(explicit)
            return explicit
        open_ones = self.incidents(open_only=True)
        if not open_ones:
            raise IncidentNotFound("no open incident (declare one with `cockpit declare`)")
        if len(open_ones) > 1:
            listed = ", ".join(f"{i.ref} {i.title!r}" for i in open_ones)
            raise StoreError(f"several open incidents ({listed}); choose one with --incident")
        return open_ones[0].id

    @guarded
    def set_status(
        self, incident_id: int, status: Status, author: str, *, note: str = ""
    ) -> Entry | None:
        """Move the incident to `status`; None when it is already there."""
        now = self.now()
        with self._write() as conn:
            entry_id = self._set_status(conn, incident_id, status, author, now, note)
        return self.entry(entry_id) if entry_id else None

    def _set_status(
        self,
        conn: sqlite3.Connection,
        incident_id: int,
        status: Status,
        author: str,
        now: datetime,
        note: str = "",
    ) -> int | None:
        row = self._require_incident(conn, incident_id)
        old = Status(row["status"])
        if old is status:
            return None
        stamp = format_utc(now)
        sets = ["status = ?"]
        params: list[Any] = [status.value]
        if status is Status.MONITORING and not row["mitigated_at"]:
            sets.append("mitigated_at = ?")
            params.append(stamp)
        if status is Status.RESOLVED:
            sets.append("resolved_at = ?")
            params.append(stamp)
            if not row["mitigated_at"]:
                sets.append("mitigated_at = ?")
                params.append(stamp)
        elif old is Status.RESOLVED:
            sets.append("resolved_at = NULL")  # reopened
        conn.execute(f"UPDATE incidents SET {', '.join(sets)} WHERE id = ?", (*params, incident_id))
        text = f"status {old.value} → {status.value}"
        if note:
            text += f": {note}"
        meta = {"from": old.value, "to": status.value}
        entry_id = self._insert_entry(
            conn, incident_id, Kind.STATUS, author, text, now, now, meta=meta
        )
        self._fire(conn, "status", incident_id, entry_id, meta, author, now)
        return entry_id

    @guarded
    def set_severity(self, incident_id: int, severity: str, author: str) -> Entry | None:
        """Change the severity; None when it is already that."""
        now = self.now()
        with self._write() as conn:
            row = self._require_open(conn, incident_id, KEPT_WHEN_RESOLVED[Kind.SEVERITY])
            old = row["severity"]
            if old == severity:
                return None
            conn.execute("UPDATE incidents SET severity = ? WHERE id = ?", (severity, incident_id))
            entry_id = self._insert_entry(
                conn,
                incident_id,
                Kind.SEVERITY,
                author,
                f"severity {old} → {severity}",
                now,
                now,
                meta={"from": old, "to": severity},
            )
            self._fire(
                conn, "severity", incident_id, entry_id, {"from": old, "to": severity}, author, now
            )
        return self.entry(entry_id)

    @guarded
    def assign(self, incident_id: int, role: str, person: str, author: str) -> Entry | None:
        """Give `role` (one of `role_names`) to `person` ("" clears it); None when nothing
        changes."""
        role = self.role(role)
        fits(person, NAME_TEXT, f"the {role}'s name")
        now = self.now()
        with self._write() as conn:
            self._require_open(conn, incident_id, KEPT_WHEN_RESOLVED[Kind.ROLE])
            entry_id = self._assign(conn, incident_id, role, person.strip(), author, now)
        return self.entry(entry_id) if entry_id else None

    def _assign(
        self,
        conn: sqlite3.Connection,
        incident_id: int,
        role: str,
        person: str,
        author: str,
        now: datetime,
    ) -> int | None:
        row = conn.execute(
            "SELECT person FROM roles WHERE incident_id = ? AND role = ?", (incident_id, role)
        ).fetchone()
        old = row["person"] if row else ""
        if old == person:
            return None
        if person:
            conn.execute(
                "INSERT INTO roles (incident_id, role, person, since) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (incident_id, role) DO UPDATE SET person = excluded.person, "
                "since = excluded.since",
                (incident_id, role, person, format_utc(now)),
            )
            text = f"{role} → {person}"
        else:
            conn.execute(
                "DELETE FROM roles WHERE incident_id = ? AND role = ?", (incident_id, role)
            )
            text = f"{role} unassigned (was {old})"
        meta = {"role": role, "from": old, "to": person}
        return self._insert_entry(conn, incident_id, Kind.ROLE, author, text, now, now, meta=meta)

    @guarded
    def link_runbook(self, incident_id: int, name: str | None, author: str) -> Entry | None:
        """Link (or unlink, with None) a runbook; the change is a timeline entry."""
        now = self.now()
        with self._write() as conn:
            row = self._require_open(conn, incident_id, LINK_RUNBOOK)
            if row["runbook"] == name:
                return None
            conn.execute("UPDATE incidents SET runbook = ? WHERE id = ?", (name, incident_id))
            text = f"runbook linked: {name}" if name else "runbook unlinked"
            meta = {"event": "runbook", "from": row["runbook"], "to": name}
            entry_id = self._insert_entry(
                conn, incident_id, Kind.SYSTEM, author, text, now, now, meta=meta
            )
        return self.entry(entry_id)

    @abstractmethod
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
        """Hand a change (declared, severity, status) to the event hook, in its transaction."""
