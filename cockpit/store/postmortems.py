"""The post-mortems part of the store: the written fields, action items and starred entries."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from cockpit.domain.moments import format_utc
from cockpit.domain.postmortem import TEXT_FIELDS, ActionItem, ItemState, Postmortem
from cockpit.domain.text import NAME_TEXT, POSTMORTEM_TEXT, TITLE_TEXT
from cockpit.store.connection import guarded
from cockpit.store.errors import StoreError, fits
from cockpit.store.incidents import Incidents
from cockpit.store.rows import to_action_item, to_postmortem


class Postmortems(Incidents):
    """What a post-mortem adds to an incident; kept apart from the append-only timeline."""

    @guarded
    def postmortem(self, incident_id: int) -> Postmortem:
        """The incident's post-mortem fields (all empty until someone writes one)."""
        self.incident(incident_id)
        row = self.conn.execute(
            "SELECT * FROM postmortems WHERE incident_id = ?", (incident_id,)
        ).fetchone()
        return Postmortem(incident_id) if row is None else to_postmortem(row)

    @guarded
    def set_postmortem(
        self,
        incident_id: int,
        author: str,
        fields: Mapping[str, str | Sequence[str]] | None = None,
        *,
        completed: bool | None = None,
    ) -> Postmortem:
        """Change some post-mortem fields (the others are kept); `root_cause` is a list of whys.

        `completed=True` marks the post-mortem complete (it stops being due), False reopens it.
        """
        values: dict[str, Any] = {}
        for name, value in (fields or {}).items():
            if name == "root_cause":
                if isinstance(value, str):
                    raise TypeError("root_cause is a list of whys, not one string")
                whys = [str(why).strip() for why in value if str(why).strip()]
                fits("\n".join(whys), POSTMORTEM_TEXT, "the root cause")
                values[name] = json.dumps(whys, ensure_ascii=False)
            elif name in TEXT_FIELDS:
                if not isinstance(value, str):
                    raise TypeError(f"{name} is text")
                values[name] = fits(value, POSTMORTEM_TEXT, f"the {name.replace('_', ' ')}")
            else:
                raise StoreError(f"unknown post-mortem field {name!r}")
        now = format_utc(self.now())
        if completed is not None:
            values["completed_at"] = now if completed else None
        values["updated_at"] = now
        values["updated_by"] = author
        columns = ", ".join(values)
        updates = ", ".join(f"{name} = excluded.{name}" for name in values)
        with self._write() as conn:
            self._require_incident(conn, incident_id)
            conn.execute(
                f"INSERT INTO postmortems (incident_id, {columns}) "
                f"VALUES (?, {', '.join('?' for _ in values)}) "
                f"ON CONFLICT (incident_id) DO UPDATE SET {updates}",
                (incident_id, *values.values()),
            )
        return self.postmortem(incident_id)

    @guarded
    def action_items(
        self, incident_id: int | None = None, *, states: Sequence[ItemState] | None = None
    ) -> list[ActionItem]:
        """Action items in the order they were added (of one incident, or of all)."""
        sql, params = self._select("action_items", incident_id, [s.value for s in states or ()])
        return [to_action_item(row) for row in self.conn.execute(sql, params)]

    @guarded
    def action_item(self, item_id: int) -> ActionItem:
        return to_action_item(self._row("action_items", item_id, "action item"))

    @guarded
    def add_action_item(
        self, incident_id: int, title: str, *, owner: str = "", deadline: date | None = None
    ) -> ActionItem:
        """Add an open action item; it needs a title."""
        if not title.strip():
            raise StoreError("an action item needs a title")
        fits(title.strip(), TITLE_TEXT, "an action item's title")
        fits(owner.strip(), NAME_TEXT, "an action item's owner")
        with self._write() as conn:
            self._require_incident(conn, incident_id)
            cursor = conn.execute(
                "INSERT INTO action_items (incident_id, title, owner, deadline, state, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    incident_id,
                    title.strip(),
                    owner.strip(),
                    self._day(deadline).isoformat() if deadline else None,
                    ItemState.OPEN.value,
                    format_utc(self.now()),
                ),
            )
        return self.action_item(int(cursor.lastrowid or 0))

    @guarded
    def update_action_item(self, item_id: int, **changes: object) -> ActionItem:
        """Change an item's `title`, `owner`, `deadline` (a date, or None to clear) or `state`."""
        values: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "title":
                if not isinstance(value, str) or not value.strip():
                    raise StoreError("an action item needs a title")
                values[name] = fits(value.strip(), TITLE_TEXT, "an action item's title")
            elif name == "owner":
                values[name] = fits(str(value).strip(), NAME_TEXT, "an action item's owner")
            elif name == "deadline":
                if value is not None and not isinstance(value, date):
                    raise TypeError("deadline is a date or None")
                values[name] = self._day(value).isoformat() if value else None
            elif name == "state":
                values[name] = ItemState(str(value)).value
            else:
                raise StoreError(f"unknown action item field {name!r}")
        self.action_item(item_id)
        if values:
            assignments = ", ".join(f"{name} = ?" for name in values)
            with self._write() as conn:
                conn.execute(
                    f"UPDATE action_items SET {assignments} WHERE id = ?",
                    (*values.values(), item_id),
                )
        return self.action_item(item_id)

    @guarded
    def remove_action_item(self, item_id: int) -> None:
        """Delete an action item added by mistake ("won't do" keeps the record instead)."""
        self.action_item(item_id)
        with self._write() as conn:
            conn.execute("DELETE FROM action_items WHERE id = ?", (item_id,))

    @guarded
    def star(self, entry_id: int, author: str) -> bool:
        """Mark an entry as a key moment; False when it already was."""
        entry = self.entry(entry_id)
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO stars (incident_id, entry_id, starred_at, starred_by) "
                "VALUES (?, ?, ?, ?)",
                (entry.incident_id, entry_id, format_utc(self.now()), author),
            )
        return cursor.rowcount > 0

    @guarded
    def unstar(self, entry_id: int) -> bool:
        """Remove the key-moment mark; False when the entry was not starred."""
        entry = self.entry(entry_id)
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM stars WHERE incident_id = ? AND entry_id = ?",
                (entry.incident_id, entry_id),
            )
        return cursor.rowcount > 0

    @guarded
    def starred(self, incident_id: int) -> set[int]:
        """Ids of the incident's starred entries."""
        rows = self.conn.execute("SELECT entry_id FROM stars WHERE incident_id = ?", (incident_id,))
        return {int(row[0]) for row in rows}
