"""The app's writes: one at a time, in order, on a thread with its own database connection.

While another process holds SQLite's write lock, a write waits (up to the busy timeout). On the
event loop that wait froze the screen; here it happens on the writer's thread, and the screen
that asked says "database busy" meanwhile, keeps what was typed and keeps handling keys. An
entry still reaches the screen only after its commit: a screen shows what a write returned.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widget import Widget

from cockpit.domain import one_line
from cockpit.store import Store, StoreError

T = TypeVar("T")

if TYPE_CHECKING:
    _Screen = Screen[Any]
else:
    # A mixin at run time: Textual takes a screen's CSS type names from its first base that is
    # a widget, which must stay `ModalScreen` for the dialogs.
    _Screen = object

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


class Committing(_Screen):
    """A screen that writes through the app's writer and shows the result only after commit.

    `await self.commit(write, then)` waits here while the write goes quickly, so the result is
    on screen when it returns. Once the database is busy (or the write is slow) the wait goes on
    in a worker and the screen stays live, saying so through `say`. A failure is one line (and
    a notification); the screen, and what was typed, stay for another try.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._writing: set[str] = set()
        self._after_commit: list[Callable[[], object]] = []
        self._held: list[Widget] = []
        self._focus_before: Widget | None = None

    def writing(self, key: str = "save") -> bool:
        """A write under `key` is in flight."""
        return key in self._writing

    def say(self, message: str | Content) -> None:
        """Show the state of a save (a dialog's hint line); override where there is one."""

    def still_saving(self) -> bool:
        """True, and says so, while a save is in flight: closing now would hide whether it
        landed (a write waiting for the lock cannot be called back)."""
        if not self._writing:
            return False
        self.say(BUSY if self.app.writer.busy else SAVING)  # type: ignore[attr-defined]
        return True

    async def commit(
        self,
        write: Callable[[Store], T],
        then: Callable[[T], object],
        *,
        key: str = "save",
        failed: Callable[[Exception], object] | None = None,
    ) -> None:
        """Run `write` on the writer, then `then(result)` (once this screen is on top).

        One write per `key` at a time: pressing Enter again while it waits does not write twice.
        """
        if key in self._writing:
            self.say(BUSY if self.app.writer.busy else SAVING)  # type: ignore[attr-defined]
            return
        self._writing.add(key)
        job = self.app.writer.submit(write)  # type: ignore[attr-defined]
        if not await job.quick():
            self.say(BUSY if job.busy.is_set() else SAVING)
            self._hold(True)
            self.run_worker(self._finish(job, then, key, failed), group=f"commit-{key}")
            return
        await self._finish(job, then, key, failed)

    def _hold(self, held: bool) -> None:
        """While a dialog's save waits, its fields show what is being saved and cannot change
        (typing more would be lost when the dialog closes on commit)."""
        if not isinstance(self, ModalScreen):
            return
        if held:
            if self._held:  # already held by another write of this dialog
                return
            self._focus_before = self.focused
            self._held = [w for w in self.query("Input, TextArea, Select") if not w.disabled]
            for widget in self._held:
                widget.disabled = True
            return
        for widget in self._held:
            widget.disabled = False
        self._held = []
        if self._focus_before is not None and self._focus_before.is_attached:
            self._focus_before.focus()

    async def _finish(
        self,
        job: Write[T],
        then: Callable[[T], object],
        key: str,
        failed: Callable[[Exception], object] | None,
    ) -> None:
        try:
            result = await job.result
        except Exception as exc:  # the writer's errors are the store's; a bug still shows
            self._writing.discard(key)
            self._hold(False)
            if failed is not None:
                failed(exc)
            if not _expected(exc):
                raise
            message = f"Not saved: {one_line(str(exc))}"
            self.say(Content(message))
            self.notify(message, severity="error", timeout=10)
            return
        self._writing.discard(key)
        self._hold(False)
        self.after_commit(lambda: then(result))

    def after_commit(self, action: Callable[[], object]) -> None:
        """Run `action` now if this screen is on top, else when it is again (a dialog can only
        close itself from the top: a palette or the too-small notice may be above it)."""
        if self.is_current:
            action()
        else:
            self._after_commit.append(action)

    def on_screen_resume(self) -> None:
        waiting, self._after_commit = self._after_commit, []
        for action in waiting:
            action()


def locked(error: Exception) -> bool:
    """The database is held by another process (as opposed to broken)."""
    if isinstance(error, sqlite3.OperationalError):
        return error.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return isinstance(error, StoreError) and "locked by another process" in str(error)


def _expected(exc: Exception) -> bool:
    """Errors a write reports to the person (the store's one-liners, a missing runbook step)."""
    return isinstance(exc, StoreError | LookupError | ValueError | OSError)
