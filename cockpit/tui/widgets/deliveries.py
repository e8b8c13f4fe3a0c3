"""Delivery in the app: the worker that sends the outbox, and the line that shows where each
target stands (queued, sent, retrying with the reason and when, failed with the service's error).

The worker is the core's `DeliveryWorker`, run on a thread with its own event loop and database
connection, started after the first paint (it imports httpx, which start-up does not wait for).
It never blocks the screen: its requests are async with timeouts, and its writes wait for the
database on its own thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import threading
from collections.abc import Callable
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
    """Starts, wakes and feeds the delivery worker.

    The worker runs on a thread of its own, with its own event loop and database connection:
    its writes (claiming a delivery, recording the outcome) wait for another process's lock
    there, never on the screen's event loop.
    """

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.worker: DeliveryWorker | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the worker thread's loop
        self._task: asyncio.Task[None] | None = None
        self._stopping = threading.Event()

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
        self._stopping.clear()
        try:
            await asyncio.to_thread(self._deliver, module)
        except (StoreError, OSError) as exc:
            self.app.notify(f"delivery stopped: {exc}", severity="error", timeout=15)
        except asyncio.CancelledError:  # the app is closing: stop the thread's loop too
            self._stopping.set()
            self._call(lambda: self._task.cancel() if self._task is not None else None)
            raise

    def _deliver(self, module: Any) -> None:
        """The worker thread: its own store and loop, until the app stops it."""
        app: Any = self.app
        # The file the app opened (deleted or replaced meanwhile: say so, never write elsewhere).
        store = app.store.another(busy_timeout_ms=app.config.database.busy_timeout_ms)
        loop = asyncio.new_event_loop()
        try:
            self.worker = module.DeliveryWorker(store, app.config, clock=app.clock)
            self._task = loop.create_task(self.worker.run())
            self._loop = loop
            if self._stopping.is_set():
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(self._task)
        finally:
            self._loop = None
            self._task = None
            self.worker = None
            loop.close()
            store.close()

    def _call(self, action: Callable[[], object]) -> None:
        """Run `action` on the worker's thread (its objects are not thread-safe)."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(action)

    def held(self) -> dict[str, str]:
        """Targets the running worker cannot send to (a secret missing here), each with why."""
        worker = self.worker
        return worker.held() if worker is not None else {}

    def wake(self) -> None:
        """Something was just published: look at the outbox now."""
        worker = self.worker
        if worker is not None:
            self._call(worker.wake)

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

        worker = self.worker
        if worker is not None:
            targets = dict(configured_targets(config))

            def retarget() -> None:
                worker.targets = targets
                worker.wake()

            self._call(retarget)
        else:
            app.config = config
            self.start()
        return f"#{delivery.id} to {delivery.target} queued again"
