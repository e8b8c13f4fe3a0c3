"""When a post-mortem is due, and what the incident list nags about: post-mortems due and
action items past their deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from cockpit.domain.incident import Incident
from cockpit.domain.postmortem import ActionItem, ItemState

if TYPE_CHECKING:
    from cockpit.store import Store


def postmortem_due_at(incident: Incident, due_hours: int) -> datetime | None:
    """When the post-mortem is due: `due_hours` after resolution; None while open."""
    if incident.is_open or incident.resolved_at is None:
        return None
    try:
        return incident.resolved_at + timedelta(hours=due_hours)
    except OverflowError:  # resolved near the end of time: never due
        return None


@dataclass(frozen=True)
class PendingPostmortem:
    """A resolved incident whose post-mortem is not complete yet."""

    incident: Incident
    due_at: datetime

    def overdue(self, now: datetime) -> bool:
        return now > self.due_at


@dataclass(frozen=True)
class Pending:
    """What the incident list nags about: post-mortems due and action items past deadline."""

    postmortems: tuple[PendingPostmortem, ...] = ()
    items: tuple[tuple[Incident, ActionItem], ...] = ()


def pending(store: Store, due_hours: int, now: datetime) -> Pending:
    """Incomplete post-mortems of resolved incidents (soonest due first), late action items."""
    incidents = {incident.id: incident for incident in store.incidents()}
    postmortems = []
    for incident in incidents.values():
        due = postmortem_due_at(incident, due_hours)
        if due is not None and store.postmortem(incident.id).completed_at is None:
            postmortems.append(PendingPostmortem(incident, due))
    postmortems.sort(key=lambda p: p.due_at)
    items = [
        (incidents[item.incident_id], item)
        for item in store.action_items(states=(ItemState.OPEN,))
        if item.past_deadline(now) and item.incident_id in incidents
    ]
    items.sort(key=lambda pair: (pair[1].deadline or date.min, pair[1].id))
    return Pending(tuple(postmortems), tuple(items))
