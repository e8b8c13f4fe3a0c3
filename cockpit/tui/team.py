"""Team sync in the app: the background sync through the Slack thread, and the line that says
who else works the incident and how this laptop's sync stands.

The sync runs like the delivery worker: on a thread of its own, with its own event loop and
database connection, started after the first paint, so no key ever waits on Slack. Its state
reaches the screen as snapshots (`statuses`), written on that thread and read on the screen's.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import threading
from datetime import datetime
from typing import Any

from textual.app import App
from textual.content import Content
from textual.widgets import Static

from cockpit.store import Store, StoreError
from cockpit.sync.ids import SLACK_NODE
from cockpit.sync.presence import SyncStatus


class TeamRunner:
    """Starts the background sync when the configuration shares incidents."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.statuses: dict[int, SyncStatus] = {}
        self.running = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        app: Any = self.app
        # A drill shares nothing: it is practice on this laptop, and nothing leaves it.
        drill = getattr(app, "drill", None) is not None
        if not app.config.sync_enabled or self.running or app.store.read_only or drill:
            return
        self.running = True
        self.app.run_worker(
            self._run(), name="team-sync", group="team-sync", exclusive=True, exit_on_error=False
        )

    async def _run(self) -> None:
        module = await asyncio.to_thread(importlib.import_module, "cockpit.comms.sync")
        self._stopping.clear()
        try:
            await asyncio.to_thread(self._sync, module)
        except (StoreError, OSError) as exc:
            self.app.notify(f"team sync stopped: {exc}", severity="error", timeout=15)
        except asyncio.CancelledError:
            self._stopping.set()
            loop, task = self._loop, self._task
            if loop is not None and task is not None:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(task.cancel)
            raise
        finally:
            self.running = False

    def _sync(self, module: Any) -> None:
        app: Any = self.app
        store = app.store.another(busy_timeout_ms=app.config.database.busy_timeout_ms)
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._main(module, store))
        except asyncio.CancelledError:
            pass
        finally:
            self._loop = None
            self._task = None
            loop.close()
            store.close()

    async def _main(self, module: Any, store: Store) -> None:
        from cockpit.comms import transport

        app: Any = self.app
        async with transport.client() as http:
            sync = module.thread_sync(store, app.config, http, clock=app.clock)

            def changed(incident_id: int) -> None:
                with contextlib.suppress(StoreError):
                    self.statuses[incident_id] = sync.status(incident_id)

            sync.on_change = changed
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.ensure_future(sync.run(lambda: module.shared_incidents(store)))
            if self._stopping.is_set():
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class TeamLine(Static):
    """One line under the panes: the sync state and the teammates heard from, with when."""

    def show(self, store: Store, incident_id: int | None, status: SyncStatus | None) -> None:
        app: Any = self.app
        self.display = bool(app.config.sync_enabled) and incident_id is not None
        if not self.display or incident_id is None:
            return
        state = status.describe() if status is not None else "starting…"
        names = []
        for peer in store.peers(incident_id)[:4]:
            who = "Slack" if peer.node == SLACK_NODE else ", ".join(peer.authors[:2])
            names.append(f"{who} {_local(peer.last_written_at)}")
        self.set_class(status is not None and status.state == "offline", "-offline")
        team = " · ".join(names) if names else "no teammate heard from yet"
        self.update(Content.styled("Team ", "$text-muted") + Content(f"{state}  ·  {team}"))


def _local(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M")
