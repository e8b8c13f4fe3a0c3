"""The drill sink: in a drill, every configured target's delivery is recorded, never sent.

A drill publishes exactly as a real incident does (the same templates, rendering, escaping and
limits of each configured target, queued in the drills database's outbox), so the players see
their updates as customers would have. What differs is the last step: the delivery worker on
a drills database (`cockpit.store.drills.DrillStore`) hands every attempt to `record`, which
opens no connection and keeps the rendered payload in the delivery row as sent to the sink.
"""

from __future__ import annotations

from cockpit.comms.target import Attempt, Sent
from cockpit.store import Store
from cockpit.store.drills import DrillStore

SINK_NOTE = "drill: recorded here, nothing was sent"
"""What the outbox says of a delivery the sink took."""
SINK_PREFIX = "drill-sink:"
"""How a sink's remote id starts: no service ever gave it."""


def is_sink(store: Store) -> bool:
    """Whether deliveries from `store` go to the sink: a drills database never sends."""
    return isinstance(store, DrillStore)


def record(attempt: Attempt) -> Sent:
    """The outcome of a drill delivery: kept, with the payload as rendered; nothing sent."""
    return Sent(remote_id=f"{SINK_PREFIX}{attempt.key}", note=SINK_NOTE)


def drill_line(text: str) -> str:
    """A target's timeline line (a page sent) as the drill sink's: nobody was paged."""
    return f"drill, not sent: {text}"
