"""Team sync in the app: the background sync through the Slack thread, and the line that says
who else works the incident and how this laptop's sync stands.

The sync runs like the delivery worker: on a thread of its own, with its own event loop and
database connection, started after the first paint, so no key ever waits on Slack. Its state
reaches the screen as snapshots (`views`: the sync state and the teammates heard from), made on
that thread after each round and read on the screen's, so the team line costs the event loop no
query.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from textual.app import App
from textual.content import Content
from textual.widgets import Static

from cockpit.domain import Incident, one_line
from cockpit.store import Peer, Store, StoreError
from cockpit.sync.channel import OpenIncident
from cockpit.sync.ids import SLACK_NODE
from cockpit.sync.presence import SyncStatus
from cockpit.tui.widgets.panes import show_content

T = TypeVar("T")

TEAMMATES_SHOWN = 4
"""Teammates named on the team line, most recently heard from first."""


@dataclass(frozen=True)
class TeamView:
    """What the team line shows of one incident, as the sync's thread last saw it."""

    status: SyncStatus
    peers: tuple[Peer, ...]


class TeamRunner:
    """Starts the background sync when the configuration shares incidents."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.views: dict[int, TeamView] = {}
        """Per incident, written on the sync's thread after each round, read on the screen's."""
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
                    peers = tuple(store.peers(incident_id)[:TEAMMATES_SHOWN])
                    self.views[incident_id] = TeamView(sync.status(incident_id), peers)

            sync.on_change = changed
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.ensure_future(sync.run(lambda: module.shared_incidents(store)))
            if self._stopping.is_set():
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class ChannelCheck:
    """Before declaring: the incidents already open in the team's Slack channel, and joining
    one. Each call runs on a thread of its own (its own event loop, HTTP client and database
    connection), so the app's keys never wait on Slack; a failure comes back as one line."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app

    async def look(self) -> tuple[list[OpenIncident], str | None]:
        """The open incidents (newest first), or why Slack could not be asked."""

        async def work(module: Any, sync: Any) -> list[OpenIncident]:
            found: list[OpenIncident] = await module.open_incidents(sync, sync.clock())
            return found

        return await self._off_loop("cockpit.comms.channel_incidents", work, [])

    def now(self) -> datetime:
        """The app's clock."""
        app: Any = self.app
        moment: datetime = app.clock()
        return moment

    async def join(self, found: OpenIncident) -> tuple[Incident | None, str | None]:
        """Take up `found` here (as `cockpit join`; this laptop's copy when it has one): the
        incident, or why it could not be joined."""
        from cockpit.sync.permalink import ThreadRef

        app: Any = self.app
        store: Store = app.store
        if found.local_ref is None:

            async def work(_: Any, sync: Any) -> int | None:
                incident, _done = await sync.join(
                    ThreadRef(found.channel, found.root_ts), found.permalink
                )
                return int(incident.id)

            joined, problem = await self._off_loop("cockpit.comms.sync", work, None)
            if joined is None:
                return None, problem
        try:
            return store.incident_by_gid(found.gid), None
        except StoreError as exc:
            return None, one_line(str(exc))

    async def _off_loop(
        self, name: str, work: Callable[[Any, Any], Awaitable[T]], failed: T
    ) -> tuple[T, str | None]:
        app: Any = self.app
        slack = app.config.slack
        limit = 4 * slack.timeout_seconds + 1 if slack is not None else 10.0

        async def main(store: Store) -> T:
            from cockpit.comms import transport
            from cockpit.comms.sync import thread_sync

            module = importlib.import_module(name)
            async with transport.client() as http:
                sync = thread_sync(store, app.config, http, clock=app.clock)
                return await asyncio.wait_for(work(module, sync), limit)

        def in_thread() -> tuple[T, str | None]:
            from cockpit.comms.slack_thread import SlackFailure
            from cockpit.comms.sync_messages import NotACockpitThread
            from cockpit.comms.target import MissingSecret
            from cockpit.config import ConfigError

            try:
                store = app.store.another(busy_timeout_ms=app.config.database.busy_timeout_ms)
            except StoreError as exc:
                return failed, one_line(str(exc))
            try:
                return asyncio.run(main(store)), None
            except TimeoutError:
                return failed, "Slack did not answer in time"
            except (SlackFailure, NotACockpitThread, MissingSecret, ConfigError, StoreError) as exc:
                return failed, one_line(str(exc))
            finally:
                store.close()

        return await asyncio.to_thread(in_thread)


class TeamLine(Static):
    """One line under the panes: the sync state and the teammates heard from, with when."""

    def show(self, status: SyncStatus | None, peers: Sequence[Peer]) -> None:
        """The line for `status` (None: the sync has not finished a round of this incident)
        and `peers`; no query: the screen passes what the sync's thread saw."""
        state = status.describe() if status is not None else "starting…"
        names = []
        for peer in peers[:TEAMMATES_SHOWN]:
            who = "Slack" if peer.node == SLACK_NODE else ", ".join(peer.authors[:2])
            names.append(f"{who} {_local(peer.last_written_at)}")
        self.set_class(status is not None and status.state == "offline", "-offline")
        team = " · ".join(names) if names else "no teammate heard from yet"
        show_content(self, Content.styled("Team ", "$text-muted") + Content(f"{state}  ·  {team}"))


def _local(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M")
