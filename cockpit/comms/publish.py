"""From a draft to the outbox: the one way the CLI and the app publish a status update.

`draft` picks and fills the template for the phase; `render_deliveries` turns the final text
into one payload per configured target (the preview shows exactly those payloads); `publish`
writes the timeline entry and the outbox rows in one transaction.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from cockpit.board import build_board
from cockpit.comms.events import hook_for
from cockpit.comms.target import Message, Preview
from cockpit.comms.targets import configured_targets
from cockpit.comms.templates import (
    Draft,
    phase_for,
    render_template,
    template_fields,
    template_text,
)
from cockpit.config import Config
from cockpit.domain import Clock, Entry, Status
from cockpit.plaintext import visible
from cockpit.store import IncidentEvent, Store, StoreError


@dataclass(frozen=True)
class Rendered:
    """One target's delivery of an update: what is queued and how it reads."""

    target: str
    action: str
    payload: dict[str, Any]
    preview: Preview


def draft(
    store: Store,
    config: Config,
    incident_id: int,
    *,
    clock: Clock,
    status: Status | None = None,
    template: str | None = None,
    summary: str = "",
) -> Draft:
    """The update to start from: the phase's template (or `template`) filled in."""
    now = clock()
    board = build_board(store, config, incident_id, now)
    status = status or board.incident.status
    name = template or phase_for(board.updates_sent, status)
    fields = template_fields(board, status, summary, now)
    return Draft(name, status, render_template(template_text(config, name), fields))


def render_deliveries(
    store: Store, config: Config, incident_id: int, text: str, status: Status | None, clock: Clock
) -> list[Rendered]:
    """One payload per configured target for this text (no secrets in them)."""
    incident = store.incident(incident_id)
    status = status or incident.status
    count, _ = store.updates_sent(incident_id)
    phase = phase_for(count, status)
    now = clock()
    rendered = []
    for name, target in configured_targets(config).items():
        if not target.receives_updates:
            continue  # a pager: it hears of incident events only (cockpit.comms.events)
        message = Message(incident, text, status, phase, now, uuid4().hex)
        payload = target.render(message)
        # Sent here before, by this laptop or (a root or status-page id shared through the
        # team's thread) by a teammate: the preview must say the update continues it.
        ref = target.continuing_ref()
        continuing = any(
            d.target == name and d.state != "failed" for d in store.deliveries(incident_id)
        ) or (ref is not None and store.remote_ref(incident_id, name, ref) is not None)
        rendered.append(
            Rendered(name, phase, payload, target.describe(payload, continuing=continuing))
        )
    return rendered


def status_event_deliveries(
    store: Store, config: Config, incident_id: int, status: Status | None, clock: Clock
) -> list[Rendered]:
    """What publishing with a status change also queues through the event hook (a webhook
    `incident.resolved` event, the PagerDuty resolve), for the preview."""
    incident = store.incident(incident_id)
    hook = hook_for(config)
    if hook is None or status is None or status is incident.status:
        return []
    event = IncidentEvent(
        "status",
        dataclasses.replace(incident, status=status),
        {"from": incident.status.value, "to": status.value},
        0,
        clock(),
        tuple((d.target, d.action) for d in store.deliveries(incident_id)),
    )
    targets = configured_targets(config)
    return [
        Rendered(name, action, dict(payload), targets[name].describe(payload, continuing=True))
        for name, action, payload in hook(event)
    ]


def preview(
    store: Store, config: Config, incident_id: int, text: str, status: Status | None, clock: Clock
) -> list[Preview]:
    """What each configured target would receive if `text` were published now, including
    what a status change queues for webhooks and pagers."""
    events = status_event_deliveries(store, config, incident_id, status, clock)
    updates = render_deliveries(store, config, incident_id, text, status, clock)
    return [r.preview for r in [*events, *updates]]


def publish(
    store: Store,
    config: Config,
    incident_id: int,
    text: str,
    status: Status | None,
    author: str,
    clock: Clock,
    *,
    template: str | None = None,
) -> Entry:
    """Record the update on the timeline and queue it for every target, atomically.

    The next-update countdown restarts from this entry; `status` (if given) changes the
    incident's status in the same transaction. `template` names the template the text started
    from (kept in the entry's meta: the resolution template makes it a resolution update).
    """
    text = text.strip()
    if not visible(text):  # nothing a target would show: control characters only
        raise StoreError("a status update needs some text")
    rendered = render_deliveries(store, config, incident_id, text, status, clock)
    count, _ = store.updates_sent(incident_id)
    phase = phase_for(count, status or store.incident(incident_id).status)
    return store.publish(
        incident_id,
        text,
        author,
        status=status,
        deliveries=[(r.target, r.action, r.payload) for r in rendered],
        meta={"phase": phase, **({"template": template} if template else {})},
    )
