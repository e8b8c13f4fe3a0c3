"""What an incident's linked runbook decides: the update cadence (it overrides the severity's),
and the escalation, recorded by whichever cockpit process first sees it due (the app, `cockpit
deliver`, `cockpit show`), once per incident and runbook, whoever races.

When an escalation is due and what its entry says is the runbook library's `record_escalation`;
this module finds every open incident it applies to.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cockpit.config import Config
from cockpit.domain import Entry, Incident
from cockpit.store import IncidentResolved, Store

if TYPE_CHECKING:
    from cockpit.runbooks import Runbook


ESCALATION_ALERT = timedelta(minutes=5)
"""How long an escalation that fired still reads as "ESCALATE … now" (red in the app, in
`cockpit show` too) before it reads "escalated to … at"."""


def runbook_minutes(incident: Incident, runbook: Runbook | None) -> int | None:
    """The update cadence `runbook` sets while `incident` links it; None: the severity's holds
    (`cockpit.domain.update_every_minutes` applies the override)."""
    if runbook is None or incident.runbook != runbook.name:
        return None
    return runbook.update_every_minutes


def linked_runbook_minutes(config: Config, incident: Incident) -> int | None:
    """`runbook_minutes` of the runbook `incident` links, read from the configured folders (None
    when none is linked or it cannot be read)."""
    from cockpit.runbooks import Runbook, linked_runbook  # deferred: see `due_escalations`

    linked = linked_runbook(config.runbook_dirs, incident.runbook)
    return runbook_minutes(incident, linked if isinstance(linked, Runbook) else None)


def due_escalations(store: Store, config: Config, now: datetime) -> list[tuple[Incident, Runbook]]:
    """The open incidents whose linked runbook's escalation is due at `now` and not recorded
    yet, with that runbook. Reads only: cheap enough for a front end's per-second tick."""
    linking = [i for i in reversed(store.incidents(open_only=True)) if i.runbook]  # oldest first
    if not linking:
        return []
    # Deferred: the runbook parser loads when an incident links a runbook, not at start-up (the
    # app's first tick comes before its first frame).
    from cockpit.runbooks import Runbook, escalation_for, escalation_recorded, linked_runbook

    due: list[tuple[Incident, Runbook]] = []
    for incident in linking:
        linked = linked_runbook(config.runbook_dirs, incident.runbook)
        if not isinstance(linked, Runbook):
            continue
        escalation = escalation_for(incident, linked)
        if escalation is None or not escalation.due(now):
            continue
        if escalation_recorded(store, incident.id, linked.name) is None:
            due.append((incident, linked))
    return due


def record_due_escalations(store: Store, config: Config, author: str) -> list[Entry]:
    """Record every escalation that is due now and that no process has recorded yet; the
    entries this call wrote (another process racing for the same one writes it, not both)."""
    from cockpit.runbooks import record_escalation  # deferred with `due_escalations`

    written: list[Entry] = []
    for incident, runbook in due_escalations(store, config, store.now()):
        try:
            entry = record_escalation(store, incident.id, runbook, author)
        except IncidentResolved:  # resolved meanwhile by another process: nothing to escalate
            continue
        if entry is not None:
            written.append(entry)
    return written
