"""The drills database: the incident store, plus one `drills` row per drill incident.

A drill is played on a database of its own (never the incident database), so a drill can
appear in no real incident list, metric or delivery. Its `drills` row keeps what every process
needs to compute the same drill time (the wall moment the drill clock started, drill time zero,
the speed, the drill moment it is paused at) and, once it ended, its scorecard as JSON.

The table lives in the drills database only, created when the drills database is opened for
writing; the incident schema and its migrations do not know it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from cockpit.domain.clock import Clock, system_clock
from cockpit.domain.incident import Incident, drill_ref
from cockpit.domain.moments import format_utc
from cockpit.store.connection import guarded
from cockpit.store.errors import IncidentNotFound, StoreError
from cockpit.store.rows import stored_time
from cockpit.store.store import Store

DRILLS_TABLE = """
CREATE TABLE IF NOT EXISTS drills (
    incident_id INTEGER PRIMARY KEY REFERENCES incidents(id),
    scenario TEXT NOT NULL,
    speed REAL NOT NULL,
    wall_start TEXT NOT NULL,
    zero TEXT NOT NULL,
    paused_at TEXT,
    played_at TEXT NOT NULL,
    ended_at TEXT,
    scorecard TEXT
)
"""


@dataclass(frozen=True)
class DrillRow:
    """One drill as stored: its scenario, its clock's figures, and how it ended."""

    incident_id: int
    scenario: str
    speed: float
    wall_start: datetime  # the wall moment drill time `zero` corresponds to (moved by resume)
    zero: datetime  # drill time zero: the page
    played_at: datetime  # the wall moment the drill was started
    paused_at: datetime | None = None  # the drill moment it stands still at
    ended_at: datetime | None = None  # the drill moment it ended (resolved, or abandoned)
    scorecard: Mapping[str, Any] | None = None  # `Scorecard.to_json()`, once it ended

    @property
    def ref(self) -> str:
        return drill_ref(self.incident_id)


def _row(row: Mapping[str, Any]) -> DrillRow:
    ref = drill_ref(row["incident_id"])

    def moment(name: str) -> datetime | None:
        bad: dict[str, str] = {}
        found = stored_time(row, name, bad)
        if bad:
            raise StoreError(f"{ref}: its stored {name} is unreadable ({bad[name]!r})")
        return found

    def required(name: str) -> datetime:
        found = moment(name)
        if found is None:
            raise StoreError(f"{ref}: its {name} is missing")
        return found

    card = None
    if row["scorecard"]:
        try:
            card = json.loads(row["scorecard"])
        except ValueError:
            card = None  # edited by hand: the drill is scored again
    return DrillRow(
        incident_id=row["incident_id"],
        scenario=row["scenario"],
        speed=float(row["speed"]),
        wall_start=required("wall_start"),
        zero=required("zero"),
        played_at=required("played_at"),
        paused_at=moment("paused_at"),
        ended_at=moment("ended_at"),
        scorecard=card if isinstance(card, dict) else None,
    )


class DrillStore(Store):
    """The drills database: incidents are drills (`DRILL-n`), each with its `drills` row."""

    @classmethod
    def open(
        cls,
        path: Any,
        *,
        clock: Clock = system_clock,
        busy_timeout_ms: int = 5000,
        create: bool = True,
        read_only: bool = False,
    ) -> Self:
        """Open (or create) the drills database; the `drills` table is made when writable."""
        store = super().open(
            path, clock=clock, busy_timeout_ms=busy_timeout_ms, create=create, read_only=read_only
        )
        if not store.read_only:
            try:
                with store._write() as conn:
                    conn.execute(DRILLS_TABLE)
            except BaseException:
                store.close()
                raise
        return store

    def _incident(self, row: Mapping[str, Any]) -> Incident:
        return dataclasses.replace(super()._incident(row), drill=True)

    @guarded
    def incident(self, incident_id: int) -> Incident:
        try:
            return super().incident(incident_id)
        except IncidentNotFound:
            raise IncidentNotFound(
                f"no drill {drill_ref(incident_id)} in {self.path} "
                "(`cockpit drill history` lists the drills played)"
            ) from None

    # -- the drills table

    def _has_table(self) -> bool:
        found = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'drills'"
        ).fetchone()
        return found is not None

    @guarded
    def add_drill(self, drill: DrillRow) -> DrillRow:
        """Record a drill's row (its incident was declared in this database)."""
        with self._write() as conn:
            self._require_incident(conn, drill.incident_id)
            conn.execute(
                "INSERT INTO drills (incident_id, scenario, speed, wall_start, zero, paused_at, "
                "played_at, ended_at, scorecard) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    drill.incident_id,
                    drill.scenario,
                    drill.speed,
                    format_utc(drill.wall_start),
                    format_utc(drill.zero),
                    format_utc(drill.paused_at) if drill.paused_at else None,
                    format_utc(drill.played_at),
                    format_utc(drill.ended_at) if drill.ended_at else None,
                    json.dumps(drill.scorecard) if drill.scorecard is not None else None,
                ),
            )
        return drill

    @guarded
    def drill(self, incident_id: int) -> DrillRow:
        """The drill's row; IncidentNotFound naming `DRILL-n` when there is none."""
        row = None
        if self._has_table():
            row = self.conn.execute(
                "SELECT * FROM drills WHERE incident_id = ?", (incident_id,)
            ).fetchone()
        if row is None:
            raise IncidentNotFound(
                f"no drill {drill_ref(incident_id)} in {self.path} "
                "(`cockpit drill history` lists the drills played)"
            )
        return _row(row)

    @guarded
    def drills(self) -> list[DrillRow]:
        """Every drill, in the order they were started."""
        if not self._has_table():
            return []
        rows = self.conn.execute("SELECT * FROM drills ORDER BY played_at, incident_id")
        return [_row(row) for row in rows]

    @guarded
    def set_clock(
        self, incident_id: int, *, wall_start: datetime, paused_at: datetime | None
    ) -> None:
        """Pause or resume a drill: its clock's moving figures."""
        with self._write() as conn:
            conn.execute(
                "UPDATE drills SET wall_start = ?, paused_at = ? WHERE incident_id = ?",
                (
                    format_utc(wall_start),
                    format_utc(paused_at) if paused_at else None,
                    incident_id,
                ),
            )

    @guarded
    def end_drill(self, incident_id: int, ended_at: datetime, scorecard: Mapping[str, Any]) -> bool:
        """Record how the drill ended, once: False when it had ended already (first wins)."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE drills SET ended_at = ?, scorecard = ? "
                "WHERE incident_id = ? AND ended_at IS NULL",
                (format_utc(ended_at), json.dumps(scorecard), incident_id),
            )
        return cursor.rowcount == 1
