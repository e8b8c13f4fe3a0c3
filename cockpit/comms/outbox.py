"""The outbox as people and the worker see it: lanes, what is undelivered, retrying by hand.

Deliveries to one target for one incident form a lane and go out in order (a status page
must be created before it is updated); lanes never wait for each other.
"""

from __future__ import annotations

from datetime import datetime

from cockpit.domain import format_countdown, format_local, one_line
from cockpit.store import Delivery, Store, StoreError

PENDING_STATES = ("queued", "sending", "retrying")
OWNER_KEY = "_owner"
"""Payload key naming the process (host:pid) that is sending a delivery right now."""
DOUBT_KEY = "_in_doubt"
"""Payload key set when an earlier attempt may have reached the service."""


class OutboxError(StoreError):
    """An outbox request that cannot be done, as one line a person can act on."""


def lane(delivery: Delivery) -> tuple[int, str]:
    return delivery.incident_id, delivery.target


def superseded_by(store: Store, delivery: Delivery) -> int | None:
    """A later delivery in the same lane that was sent, making this one moot."""
    for other in store.deliveries(delivery.incident_id, states=("sent",)):
        if other.target == delivery.target and other.id > delivery.id:
            return other.id
    return None


def undelivered(store: Store, incident_id: int | None = None) -> list[Delivery]:
    """Deliveries still owed: pending ones, and failed ones no later delivery made moot."""
    owed: list[Delivery] = []
    sent_after: dict[tuple[int, str], int] = {}
    for delivery in store.deliveries(incident_id):
        if delivery.state == "sent":
            sent_after[lane(delivery)] = delivery.id
    for delivery in store.deliveries(incident_id, states=(*PENDING_STATES, "failed")):
        if delivery.state == "failed" and sent_after.get(lane(delivery), 0) > delivery.id:
            continue
        owed.append(delivery)
    return owed


def retry(store: Store, delivery_id: int, now: datetime) -> Delivery:
    """Queue a failed delivery again (after the configuration was fixed)."""
    delivery = store.delivery(delivery_id)
    if delivery.state != "failed":
        raise OutboxError(
            f"delivery #{delivery_id} is {delivery.state}; only failed deliveries are retried"
        )
    later = superseded_by(store, delivery)
    if later is not None:
        raise OutboxError(
            f"delivery #{delivery_id} to {delivery.target} is older than #{later}, which was "
            "delivered; publish a new update instead"
        )
    store.update_delivery(delivery_id, state="queued", next_attempt_at=now, last_error=None)
    return store.delivery(delivery_id)


def state_text(delivery: Delivery, now: datetime, held: str | None = None) -> str:
    """One line for people: queued, sending, retrying in 00:42 (reason), sent, failed: error.
    `held`: why this process cannot send it (a secret it lacks), said after a pending state."""
    text = _state_text(delivery, now)
    if held and delivery.state in ("queued", "retrying"):
        # The gist first: the delivery line cuts the end of a long state.
        text += f": no secret here ({held}); it waits for a cockpit that has it"
    return text


def _state_text(delivery: Delivery, now: datetime) -> str:
    error = one_line(delivery.last_error or "")
    if delivery.state == "retrying":
        due = delivery.next_attempt_at
        when = f"in {format_countdown(due - now)}" if due and due > now else "now"
        return f"retrying {when}" + (f" ({error})" if error else "")
    if delivery.state == "sent":
        at = format_local(delivery.sent_at, now) if delivery.sent_at else ""
        return f"sent {at}".rstrip() + (f" ({error})" if error else "")
    if delivery.state == "failed":
        return f"failed: {error or 'unknown error'}"
    if delivery.state == "superseded":
        return f"not sent: {error}" if error else "not sent: a newer update stands"
    if delivery.state == "sending":
        return "sending…"
    return delivery.state
