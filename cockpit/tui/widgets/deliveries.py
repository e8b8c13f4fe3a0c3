"""The delivery line under the panes: where each target stands for the incident on screen
(queued, sent, retrying with the reason and when, failed with the service's error).

The app's delivery worker (`cockpit.tui.delivery_runner`) sends the outbox; this line only
reads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.content import Content
from textual.widgets import Static

from cockpit.comms.outbox import state_text, undelivered
from cockpit.domain import one_line
from cockpit.store import Delivery, Store
from cockpit.tui.delivery_runner import DeliveryRunner
from cockpit.tui.widgets.panes import show_content

if TYPE_CHECKING:
    from datetime import datetime


SYMBOLS = {
    "queued": "…",
    "sending": "↑",
    "retrying": "⟳",
    "sent": "✓",
    "failed": "✗",
    "superseded": "↷",
}
STYLES = {
    "queued": "$text-muted",
    "sending": "$text-primary",
    "retrying": "$text-warning",
    "sent": "$text-success",
    "failed": "bold $text-error",
    "superseded": "$text-muted",
}


def shown_per_target(store: Store, incident_id: int) -> list[tuple[Delivery, int]]:
    """For each target, the delivery worth showing (the oldest owed, else the last sent) and
    how many more are owed behind it."""
    owed: dict[str, list[Delivery]] = {}
    for delivery in undelivered(store, incident_id):
        owed.setdefault(delivery.target, []).append(delivery)
    latest: dict[str, Delivery] = {}
    for delivery in store.deliveries(incident_id):
        latest[delivery.target] = delivery
    return [
        (owed[target][0], len(owed[target]) - 1) if target in owed else (latest[target], 0)
        for target in latest
    ]


def held_here(app: App[Any]) -> dict[str, str]:
    """Targets the app's delivery worker cannot send to (a secret missing here), with why."""
    runner = getattr(app, "deliveries", None)
    return runner.held() if isinstance(runner, DeliveryRunner) else {}


class DeliveryBar(Static):
    """One line under the panes: each target's delivery state for the incident on screen."""

    def show(self, store: Store, incident_id: int | None, now: datetime) -> None:
        shown = shown_per_target(store, incident_id) if incident_id is not None else []
        self.display = bool(shown)
        if not shown:
            return
        if not self.size.width:  # just shown: cut the errors to the width it gets once laid out
            self.call_after_refresh(self.show, store, incident_id, now)
        hint = Content.styled("  o outbox", "$text-muted")
        held = held_here(self.app)
        texts = [one_line(state_text(d, now, held.get(d.target))) for d, _ in shown]
        # Waiting here for a secret this process lacks: a warning, like a retry.
        waiting = [d.target in held and d.state in ("queued", "retrying") for d, _ in shown]
        # Targets that are fine take what they need; the others share the rest of the line,
        # so one long error hides no other target.
        fixed = [
            d.state in ("sent", "queued", "sending", "superseded") and not wait
            for (d, _), wait in zip(shown, waiting, strict=True)
        ]
        used = sum(
            len(t) + len(d.target) + 8
            for (d, _), t, ok in zip(shown, texts, fixed, strict=True)
            if ok
        )
        troubled = fixed.count(False)
        room_each = (self.size.width - 10 - len(hint) - used) // troubled if troubled else 0
        parts = []
        for (delivery, more), state, ok, wait in zip(shown, texts, fixed, waiting, strict=True):
            style = STYLES["retrying"] if wait else STYLES.get(delivery.state, "")
            extra = f" (+{more} queued)" if more else ""
            room = max(room_each - len(delivery.target) - len(extra) - 8, 12)
            if not ok and len(state) > room:
                state = state[: room - 1] + "…"
            part = Content.assemble(
                (SYMBOLS.get(delivery.state, "?"), style),
                " ",
                (delivery.target, "bold"),
                " ",
                (state, style),
                (extra, "$text-muted"),
            )
            parts.append(part)
        states = {delivery.state for delivery, _ in shown}
        self.set_class("failed" in states, "-failed")
        self.set_class("retrying" in states or any(waiting), "-retrying")
        line = Content.styled("Updates ", "$text-muted") + Content("  ·  ").join(parts)
        show_content(self, line + hint)
