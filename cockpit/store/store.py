"""The `Store`: the incident database, composed from its parts, and the check of every row."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cockpit.store.connection import guarded
from cockpit.store.postmortems import Postmortems
from cockpit.store.rows import UnreadableRow, to_action_item, to_delivery, to_entry
from cockpit.store.syncing import Syncing


class Store(Postmortems, Syncing):
    """The incident database. Open with `Store.open(path)`; every write commits before returning.

    Every change to an incident goes through a method here, in one `BEGIN IMMEDIATE`
    transaction committed before the method returns: the CLI and the TUI share these paths.
    """

    @guarded
    def unreadable_rows(self) -> list[UnreadableRow]:
        """Every stored row holding a value cockpit cannot read (shown flagged; doctor lists them).

        Read through the same converters as every other read, so the verdict is theirs.
        """
        found: list[UnreadableRow] = []
        for row in self.conn.execute("SELECT * FROM incidents ORDER BY id"):
            incident = self._incident(row)
            if incident.unreadable:
                found.append(
                    UnreadableRow("incident", incident.id, incident.id, incident.unreadable)
                )
        readers: tuple[tuple[str, str, Callable[[Mapping[str, Any]], Any]], ...] = (
            ("entry", "SELECT * FROM entries ORDER BY id", to_entry),
            ("delivery", "SELECT * FROM deliveries ORDER BY id", to_delivery),
            ("action item", "SELECT * FROM action_items ORDER BY id", to_action_item),
        )
        for what, sql, read in readers:
            for row in self.conn.execute(sql):
                value = read(row)
                if value.unreadable:
                    found.append(
                        UnreadableRow(what, row["id"], row["incident_id"], value.unreadable)
                    )
        for (incident_id,) in self.conn.execute("SELECT incident_id FROM postmortems ORDER BY 1"):
            pm = self.postmortem(incident_id)
            if pm.unreadable:
                found.append(UnreadableRow("post-mortem", incident_id, incident_id, pm.unreadable))
        return found
