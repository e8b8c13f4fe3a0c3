"""The app's writes: one at a time, in order, on a thread with its own database connection.

While another process holds SQLite's write lock, a write waits (up to the busy timeout). On the
event loop that wait froze the screen; here it happens on the writer's thread, and the screen
that asked says "database busy" meanwhile, keeps what was typed and keeps handling keys. An
entry still reaches the screen only after its commit: a screen shows what a write returned
(`cockpit.tui.committing` is how a screen writes through it).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from cockpit.store import Store, StoreError

T = TypeVar("T")

QUICK_SECONDS = 0.5
"""A screen waits this long for a write before it lets the wait go on in the background."""

SAVING = "saving…"
BUSY = "saving… (database busy, held by another process)"


class Write(Generic[T]):
    """One write submitted to the writer: its result (after commit), and whether it is waiting
    for another process's lock."""

    def __init__(self, future: Future[T], busy: asyncio.Event) -> None:
        self.result: asyncio.Future[T] = asyncio.wrap_future(future)
        self.busy = busy

    async def quick(self) -> bool:
        """Wait until the write is done (True), or waits for the lock or takes long (False)."""
        busy = asyncio.ensure_future(self.busy.wait())
        either: set[asyncio.Future[Any]] = {self.result, busy}
        try:
            await asyncio.wait(either, timeout=QUICK_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            busy.cancel()
        return self.result.done()


class Writer:
    """Runs every write of the app on one thread, in the order submitted.

    The thread opens its own `Store` on the same file (a sqlite3 connection belongs to the
    thread that opened it), with the app's busy timeout and event hook.
    """

    def __init__(self, main: Store, *, busy_timeout_ms: int) -> None:
        self.main = main  # the app's store: only its file's identity is read from this thread
        self.path = main.path
        self.busy_timeout_ms = busy_timeout_ms
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cockpit-writer")
        self._store: Store | None = None  # used only on the writer's thread
        self._pending: set[Write[Any]] = set()
        self._closed = False

    def submit(self, write: Callable[[Store], T]) -> Write[T]:
        """Queue `write(store)`; await the returned `Write.result` for what it returned."""
        loop = asyncio.get_running_loop()
        busy = asyncio.Event()

        def run() -> T:
            store = self._open()
            if store.write_lock_held():
                loop.call_soon_threadsafe(busy.set)
            return write(store)

        job = Write(self._executor.submit(run), busy)
        self._pending.add(job)
        job.result.add_done_callback(lambda _: self._pending.discard(job))
        return job

    @property
    def waiting(self) -> int:
        """Writes submitted and not finished."""
        return len(self._pending)

    @property
    def busy(self) -> bool:
        """A write is waiting for another process's lock."""
        return any(job.busy.is_set() for job in self._pending)

    async def idle(self) -> None:
        """Wait until every write submitted so far has finished (committed or failed)."""
        while self._pending:
            await asyncio.wait([job.result for job in self._pending])

    def _open(self) -> Store:
        if self._store is None:
            # The file the app opened, or a one-line refusal: never a new or replaced one.
            self._store = self.main.another(busy_timeout_ms=self.busy_timeout_ms)
        return self._store

    def close(self) -> None:
        """Finish the writes queued (each within the busy timeout), then close the connection."""
        if self._closed:
            return
        self._closed = True

        def close_store() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None

        self._executor.submit(close_store)
        self._executor.shutdown(wait=True)


def locked(error: Exception) -> bool:
    """The database is held by another process (as opposed to broken)."""
    if isinstance(error, sqlite3.OperationalError):
        return error.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return isinstance(error, StoreError) and "locked by another process" in str(error)
