"""Delivery in the app: the worker that sends the outbox, and the line that shows where each
target stands (queued, sent, retrying with the reason and when, failed with the service's error).

The worker is the core's `DeliveryWorker`, run as an async Textual worker on its own database
connection, started after the first paint (it imports httpx, which start-up does not wait for).
It never blocks the screen: every request is async with timeouts.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.content import Content
from textual.widgets import Static

from cockpit.comms.outbox import OutboxError, state_text, undelivered
from cockpit.config import Config, ConfigError, load_config
from cockpit.domain import one_line
from cockpit.store import Delivery, Store, StoreError

if TYPE_CHECKING:
    from datetime import datetime

    from cockpit.comms.worker import DeliveryWorker

SYMBOLS = {"queued": "…", "sending": "↑", "retrying": "⟳", "sent": "✓", "failed": "✗"}
STYLES = {
    "queued": "$text-muted",
    "sending": "$text-primary",
    "retrying": "$text-warning",
    "sent": "$text-success",
    "failed": "bold $text-error",
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
        texts = [one_line(state_text(delivery, now)) for delivery, _ in shown]
        # Targets that are fine take what they need; the others share the rest of the line,
        # so one long error hides no other target.
        fixed = [d.state in ("sent", "queued", "sending") for d, _ in shown]
        used = sum(
            len(t) + len(d.target) + 8
            for (d, _), t, ok in zip(shown, texts, fixed, strict=True)
            if ok
        )
        troubled = fixed.count(False)
        room_each = (self.size.width - 10 - len(hint) - used) // troubled if troubled else 0
        parts = []
        for (delivery, more), state, ok in zip(shown, texts, fixed, strict=True):
            style = STYLES.get(delivery.state, "")
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
        self.set_class("retrying" in states, "-retrying")
        line = Content.styled("Updates ", "$text-muted") + Content("  ·  ").join(parts)
        self.update(line + hint)


class DeliveryRunner:
    """Starts, wakes and feeds the delivery worker that runs inside the app."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.worker: DeliveryWorker | None = None

    def start(self) -> None:
        """Deliver in the background, if this configuration has anywhere to deliver to."""
        from cockpit.comms.targets import configured_targets

        config = self.app.config  # type: ignore[attr-defined]
        if not configured_targets(config) or self.worker is not None:
            return
        self.app.run_worker(
            self._run(), name="delivery", group="delivery", exclusive=True, exit_on_error=False
        )

    async def _run(self) -> None:
        # Imported off the event loop: httpx takes a noticeable moment to import.
        module = await asyncio.to_thread(importlib.import_module, "cockpit.comms.worker")
        app: Any = self.app
        store = Store.open(
            app.store.path, clock=app.clock, busy_timeout_ms=app.config.database.busy_timeout_ms
        )
        try:
            self.worker = module.DeliveryWorker(store, app.config, clock=app.clock)
            await self.worker.run()
        except (StoreError, OSError) as exc:
            self.app.notify(f"delivery stopped: {exc}", severity="error", timeout=15)
        finally:
            self.worker = None
            store.close()

    def wake(self) -> None:
        """Something was just published: look at the outbox now."""
        if self.worker is not None:
            self.worker.wake()

    def fresh_config(self) -> Config:
        """The configuration read again from config.toml (it may have been fixed since the app
        started). Raises OutboxError when it no longer loads."""
        config: Config = self.app.config  # type: ignore[attr-defined]
        if config.source is None:
            return config
        try:
            return load_config(config.source)
        except ConfigError as exc:
            raise OutboxError(str(exc)) from None

    def requeued(self, delivery: Delivery, config: Config) -> str:
        """After a failed delivery was queued again (`cockpit.comms.outbox.retry`, on the app's
        writer): deliver it with `config`'s targets; the message to show."""
        app: Any = self.app
        from cockpit.comms.targets import configured_targets

        if self.worker is not None:
            self.worker.targets = dict(configured_targets(config))
            self.worker.wake()
        else:
            app.config = config
            self.start()
        return f"#{delivery.id} to {delivery.target} queued again"
