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

from cockpit.comms.outbox import OutboxError, retry, state_text, undelivered
from cockpit.config import ConfigError, load_config
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
        hint = Content.styled("  o outbox", "$text-muted")
        held = held_here(self.app)
        texts = [one_line(state_text(d, now, held.get(d.target))) for d, _ in shown]
        # Waiting here for a secret this process lacks: a warning, like a retry.
        waiting = [d.target in held and d.state in ("queued", "retrying") for d, _ in shown]
        # Targets that are fine take what they need; the others share the rest of the line,
        # so one long error hides no other target.
        fixed = [
            d.state in ("sent", "queued", "sending") and not wait
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
        if self.app.store.read_only:  # type: ignore[attr-defined]
            return  # nothing can be claimed or recorded: another process must deliver
        self.app.run_worker(
            self._run(), name="delivery", group="delivery", exclusive=True, exit_on_error=False
        )

    async def _run(self) -> None:
        # Imported off the event loop: httpx takes a noticeable moment to import.
        module = await asyncio.to_thread(importlib.import_module, "cockpit.comms.worker")
        app: Any = self.app
        store: Store | None = None
        try:
            store = Store.open(
                app.store.path,
                clock=app.clock,
                busy_timeout_ms=app.config.database.busy_timeout_ms,
                create=False,  # deleted meanwhile: say so, never start an empty one
            )
            self.worker = module.DeliveryWorker(store, app.config, clock=app.clock)
            await self.worker.run()
        except (StoreError, OSError) as exc:
            self.app.notify(f"delivery stopped: {exc}", severity="error", timeout=15)
        finally:
            self.worker = None
            if store is not None:
                store.close()

    def held(self) -> dict[str, str]:
        """Targets the running worker cannot send to (a secret missing here), each with why."""
        return self.worker.held() if self.worker is not None else {}

    def wake(self) -> None:
        """Something was just published: look at the outbox now."""
        if self.worker is not None:
            self.worker.wake()

    def retry(self, delivery_id: int) -> str:
        """Re-read the targets from config.toml (it may have been fixed) and queue a failed
        delivery again; the message to show. Raises OutboxError when it cannot."""
        app: Any = self.app
        config = app.config
        if config.source is not None:
            try:
                config = load_config(config.source)
            except ConfigError as exc:
                raise OutboxError(str(exc)) from None
        delivery = retry(app.store, delivery_id, app.clock())
        from cockpit.comms.targets import configured_targets

        if self.worker is not None:
            self.worker.targets = dict(configured_targets(config))
            self.worker.wake()
        else:
            app.config = config
            self.start()
        return f"#{delivery.id} to {delivery.target} queued again"
