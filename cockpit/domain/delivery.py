"""The delivery model: one outgoing message in the outbox, and the incident events that queue
deliveries through the event hook."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cockpit.domain.incident import Incident


@dataclass(frozen=True)
class Delivery:
    """One outgoing message in the outbox, and where it stands."""

    id: int
    incident_id: int
    entry_id: int | None
    target: str
    action: str
    payload: Mapping[str, Any]
    state: str  # queued, sending, retrying, sent, failed, superseded
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    remote_id: str | None
    created_at: datetime
    updated_at: datetime | None
    sent_at: datetime | None
    unreadable: Mapping[str, str] = field(default_factory=dict)
    """Stored values that could not be read (column -> raw text); shown flagged."""


DELIVERY_STATES = ("queued", "sending", "retrying", "sent", "failed", "superseded")
"""`superseded`: an update older than one another laptop published, left unsent where it
would move a status page's status back (why is in `last_error` and on the timeline)."""


@dataclass(frozen=True)
class IncidentEvent:
    """A change the event hook hears about, inside the transaction that makes it."""

    name: str  # declared, severity, status
    incident: Incident  # as it is after the change
    meta: Mapping[str, Any]  # the change's timeline meta (severity; from, to)
    entry_id: int
    at: datetime
    queued: tuple[tuple[str, str], ...]  # (target, action) queued earlier for this incident
    severities: tuple[str, ...] = ()
    """Every severity the incident has had, set on any laptop (what a teammate may have paged
    for: resolving here resolves that page too)."""


EventHook = Callable[[IncidentEvent], Sequence[tuple[str, str, Mapping[str, Any]]]]
"""Pure (no I/O): the (target, action, payload) deliveries an incident event queues."""
