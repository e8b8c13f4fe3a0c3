"""`Committing`: how a screen writes through the app's writer and shows the result only after
the commit, staying live (and saying so) while the database keeps it waiting."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from textual import getters
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widget import Widget

from cockpit.domain import one_line
from cockpit.store import Store, StoreError
from cockpit.tui.base import CockpitBase
from cockpit.tui.writer import BUSY, SAVING, Write

T = TypeVar("T")

if TYPE_CHECKING:
    _Screen = Screen[Any]
else:
    # A mixin at run time: Textual takes a screen's CSS type names from its first base that is
    # a widget, which must stay `ModalScreen` for the dialogs.
    _Screen = object


class Committing(_Screen):
    """A screen that writes through the app's writer and shows the result only after commit.

    `await self.commit(write, then)` waits here while the write goes quickly, so the result is
    on screen when it returns. Once the database is busy (or the write is slow) the wait goes on
    in a worker and the screen stays live, saying so through `say`. A failure is one line (and
    a notification); the screen, and what was typed, stay for another try.
    """

    app = getters.app(CockpitBase)

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
        self.say(BUSY if self.app.writer.busy else SAVING)
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
            self.say(BUSY if self.app.writer.busy else SAVING)
            return
        self._writing.add(key)
        job = self.app.writer.submit(write)
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


def _expected(exc: Exception) -> bool:
    """Errors a write reports to the person (the store's one-liners, a missing runbook step)."""
    return isinstance(exc, StoreError | LookupError | ValueError | OSError)
