"""The outbox part of the store where a full mutation run (`make mutate`, issue 14) found
nothing asserting: what `publish` checks and stamps (and on which incident only), when an
outcome is recorded, and what the event hook is told (its incident, the deliveries queued
earlier for that incident, in order)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from cockpit.domain import IncidentEvent
from cockpit.store import Store, StoreError
from cockpit.store.errors import TextTooLong
from tests.conftest import FakeClock


def test_publish_stamps_acknowledged_on_its_own_incident_only(
    store: Store, clock: FakeClock
) -> None:
    first = store.declare("Checkout down", "SEV-1", "alice")
    second = store.declare("Search slow", "SEV-2", "alice")
    store.publish(second.id, "Looking into slow search", "alice")
    assert store.incident(first.id).acknowledged_at is None
    assert store.incident(second.id).acknowledged_at == clock()

    acknowledged = clock()
    clock.advance(minutes=5)
    store.publish(first.id, "Checkout is down", "alice")
    assert store.incident(first.id).acknowledged_at == clock()
    assert store.incident(second.id).acknowledged_at == acknowledged


def test_publish_refuses_an_update_over_its_limit_and_stores_undecodable_text(
    store: Store,
) -> None:
    incident = store.declare("Checkout down", "SEV-1", "alice")
    with pytest.raises(TextTooLong, match="a status update is limited to 25,000 characters"):
        store.publish(incident.id, "x" * 25_001, "alice")
    assert store.deliveries(incident.id) == []
    # A lone surrogate (from undecodable input) is stored as U+FFFD, not refused by SQLite.
    entry = store.publish(incident.id, "pay\udcffments back", "alice")
    assert entry.text == "pay\ufffdments back"


def test_recording_an_outcome_stamps_when_it_was_recorded(store: Store, clock: FakeClock) -> None:
    incident = store.declare("Checkout down", "SEV-1", "alice")
    delivery_id = store.enqueue(incident.id, "webhook", "event", {"key": "k"})
    clock.advance(minutes=3)
    store.update_delivery(delivery_id, state="failed", last_error="HTTP 400")
    recorded = store.delivery(delivery_id)
    assert recorded.updated_at == clock()
    assert recorded.created_at != recorded.updated_at


def test_a_missing_delivery_is_named(store: Store) -> None:
    with pytest.raises(StoreError, match=r"^no delivery 404$"):
        store.delivery(404)


def test_the_event_hook_hears_of_its_own_incident_and_what_was_queued_for_it(
    store: Store,
) -> None:
    heard: list[IncidentEvent] = []

    def hook(event: IncidentEvent) -> Sequence[tuple[str, str, Mapping[str, Any]]]:
        heard.append(event)
        return [("pagerduty", f"page-{event.name}", {"key": event.name})]

    store.events = hook
    first = store.declare("Checkout down", "SEV-1", "alice")
    second = store.declare("Search slow", "SEV-2", "bob")
    store.enqueue(second.id, "webhook", "extra", {})
    store.set_severity(second.id, "SEV-1", "bob")

    assert [(e.name, e.incident.id, e.incident.title) for e in heard] == [
        ("declared", first.id, "Checkout down"),
        ("declared", second.id, "Search slow"),
        ("severity", second.id, "Search slow"),
    ]
    assert heard[1].queued == ()  # the first incident's page is not this one's
    assert heard[2].queued == (("pagerduty", "page-declared"), ("webhook", "extra"))
    assert heard[2].incident.severity == "SEV-1"  # as it is after the change
