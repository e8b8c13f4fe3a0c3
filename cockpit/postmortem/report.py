"""The report: everything one export shows, read from the store, the configuration and the
metrics at one moment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cockpit.domain.incident import Entry, Incident, Kind
from cockpit.domain.postmortem import ActionItem, Postmortem
from cockpit.metrics import Metrics, compute_metrics
from cockpit.postmortem.due import postmortem_due_at
from cockpit.runbook_policy import linked_runbook_minutes

if TYPE_CHECKING:
    from cockpit.config import Config
    from cockpit.store import Store

TimelineRow = tuple[Any, ...]
"""(id, at, written_at, kind, author, text, reason, corrects) as `Store.timeline_rows` gives."""

METRIC_KINDS = (Kind.SYSTEM, Kind.STATUS, Kind.SEVERITY, Kind.ROLE, Kind.UPDATE)
"""The entries metrics are computed from (the rest only appear in the timeline)."""


@dataclass(frozen=True)
class Report:
    """Everything one export shows, read from the store at `generated_at`."""

    incident: Incident
    postmortem: Postmortem
    items: tuple[ActionItem, ...]
    key_moments: tuple[Entry, ...]  # the starred entries, in timeline order
    timeline: Sequence[TimelineRow]  # every entry, in timeline order
    starred: frozenset[int]
    metrics: Metrics
    generated_at: datetime
    due_at: datetime | None
    role_names: tuple[str, ...] = ("commander", "communicator")
    status_page: str | None = None
    tz: tzinfo | None = None  # local times in this zone; None: the machine's


STATUS_PAGE_REFS = (("statuspage", "shortlink"), ("statuspage", "url"), ("statuspage", "link"))
"""Where a status-page link may be recorded in `remote_refs` (target, key), first found wins."""


STATUSPAGE_MANAGE_URL = "https://manage.statuspage.io/pages/{page}/incidents/{incident}"


def status_page_link(store: Store, config: Config, incident_id: int) -> str | None:
    """A public link if one was recorded, else the Statuspage incident the outbox created."""
    for target, key in STATUS_PAGE_REFS:
        link = store.remote_ref(incident_id, target, key)
        if link:
            return link
    remote = store.remote_ref(incident_id, "statuspage", "incident")
    if remote and config.statuspage is not None and config.statuspage.page_id:
        return STATUSPAGE_MANAGE_URL.format(
            page=quote(config.statuspage.page_id, safe=""), incident=quote(remote, safe="")
        )
    return None


def build_report(
    store: Store,
    config: Config,
    incident_id: int,
    now: datetime,
    *,
    tz: tzinfo | None = None,
) -> Report:
    """Read the incident, its timeline, post-mortem, items and stars; compute the metrics.

    The update cadence is the one the cockpit's countdown used: a linked runbook's applies.
    """
    incident = store.incident(incident_id)
    metrics = compute_metrics(
        incident,
        store.entries(incident_id, kinds=METRIC_KINDS),
        config.severities,
        now,
        runbook_minutes=linked_runbook_minutes(config, incident),
    )
    starred = frozenset(store.starred(incident_id))
    key_moments = sorted((store.entry(i) for i in starred), key=lambda e: (e.at, e.id))
    roles = list(config.role_names)
    roles += [t.role for t in metrics.roles if t.role not in roles]
    return Report(
        incident=incident,
        postmortem=store.postmortem(incident_id),
        items=tuple(store.action_items(incident_id)),
        key_moments=tuple(key_moments),
        timeline=store.timeline_rows(incident_id),
        starred=starred,
        metrics=metrics,
        generated_at=now,
        due_at=postmortem_due_at(incident, config.postmortem.due_hours),
        role_names=tuple(dict.fromkeys(roles)),
        status_page=status_page_link(store, config, incident_id),
        tz=tz,
    )
