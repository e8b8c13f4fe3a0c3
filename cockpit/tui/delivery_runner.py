"""The app's delivery worker: the core's `DeliveryWorker`, run on a thread with its own event
loop and database connection, started after the first paint (it imports httpx, which start-up
does not wait for). It never blocks the screen: its requests are async with timeouts, and its
writes wait for the database on its own thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from cockpit.comms.outbox import OutboxError
from cockpit.config import Config, ConfigError, load_config
from cockpit.store import Delivery, StoreError
from cockpit.tui.base import CockpitBase

if TYPE_CHECKING:
    from cockpit.comms.worker import DeliveryWorker


def _worker_class() -> type[DeliveryWorker]:
    # Imported when delivering starts, off the event loop: httpx takes a noticeable moment.
    from cockpit.comms.worker import DeliveryWorker

    return DeliveryWorker


class DeliveryRunner:
    """Starts, wakes and feeds the delivery worker.

    The worker runs on a thread of its own, with its own event loop and database connection:
    its writes (claiming a delivery, recording the outcome) wait for another process's lock
    there, never on the screen's event loop.
    """

    def __init__(self, app: CockpitBase) -> None:
        self.app = app
        self.worker: DeliveryWorker | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the worker thread's loop
        self._task: asyncio.Task[None] | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        """Deliver in the background, if this configuration has anywhere to deliver to."""
        from cockpit.comms.targets import configured_targets

        if not configured_targets(self.app.config) or self.worker is not None:
            return
        if self.app.store.read_only:
            return  # nothing can be claimed or recorded: another process must deliver
        self.app.run_worker(
            self._run(), name="delivery", group="delivery", exclusive=True, exit_on_error=False
        )

    async def _run(self) -> None:
        worker_class = await asyncio.to_thread(_worker_class)
        self._stopping.clear()
        try:
            await asyncio.to_thread(self._deliver, worker_class)
        except (StoreError, OSError) as exc:
            self.app.notify(f"delivery stopped: {exc}", severity="error", timeout=15)
        except asyncio.CancelledError:  # the app is closing: stop the thread's loop too
            self._stopping.set()
            self._call(lambda: self._task.cancel() if self._task is not None else None)
            raise

    def _deliver(self, worker_class: type[DeliveryWorker]) -> None:
        """The worker thread: its own store and loop, until the app stops it."""
        app = self.app
        # The file the app opened (deleted or replaced meanwhile: say so, never write elsewhere).
        store = app.store.another(busy_timeout_ms=app.config.database.busy_timeout_ms)
        loop = asyncio.new_event_loop()
        try:
            self.worker = worker = worker_class(store, app.config, clock=app.clock)
            self._task = loop.create_task(worker.run())
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
        config = self.app.config
        if config.source is None:
            return config
        try:
            return load_config(config.source)
        except ConfigError as exc:
            raise OutboxError(str(exc)) from None

    def requeued(self, delivery: Delivery, config: Config) -> str:
        """After a failed delivery was queued again (`cockpit.comms.outbox.retry`, on the app's
        writer): deliver it with `config`'s targets; the message to show."""
        from cockpit.comms.targets import configured_targets

        worker = self.worker
        if worker is not None:
            targets = dict(configured_targets(config))

            def retarget() -> None:
                worker.targets = targets
                worker.wake()

            self._call(retarget)
        else:
            self.app.config = config
            self.start()
        return f"#{delivery.id} to {delivery.target} queued again"
