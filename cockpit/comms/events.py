"""Incident events (declared, severity, status) into the outbox, atomically with the change.

`configure(store, config)` is how the CLI and the app install it as `Store.events` (with the
configured role names, the other thing a store learns from the configuration): the store calls it
inside the transaction that declares or changes an incident, and writes the deliveries it
returns in that same transaction, so a page or a webhook event can be neither lost nor sent
for a change that was rolled back. The hook is pure: it renders payloads, it never sends.

This module imports only the configuration and the store; the targets are imported when an
event first fires, so `cockpit log` (which fires none) starts as fast as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cockpit.config import Config
from cockpit.store import EventHook, IncidentEvent, Store


def configure(store: Store, config: Config) -> Store:
    """Give `store` what the configuration decides for every write: the event hook (pages and
    webhook events) and the role names it accepts. The one place the CLI and the app do it."""
    store.role_names = tuple(config.role_names)
    if not store.read_only:
        store.events = hook_for(config)
    return store


def hook_for(config: Config) -> EventHook | None:
    """The event hook for this configuration; None when no target takes incident events."""
    if config.webhook is None and config.pagerduty is None:
        return None

    def hook(event: IncidentEvent) -> Sequence[tuple[str, str, Mapping[str, Any]]]:
        from cockpit.comms.targets import configured_targets

        queued: list[tuple[str, str, Mapping[str, Any]]] = []
        for name, target in configured_targets(config).items():
            for action, payload in target.render_event(event):
                queued.append((name, action, payload))
        return queued

    return hook
