"""The cockpit app: built by `make_app` from a configuration, a store and a clock.

Tests and snapshots build it the same way with a temporary database and a frozen clock; `cockpit`
runs it through `run_app`.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events
from textual.app import SystemCommand
from textual.geometry import Size
from textual.notifications import SeverityLevel
from textual.screen import Screen

from cockpit.comms.events import configure
from cockpit.config import Config, ConfigError
from cockpit.domain import Clock, system_clock
from cockpit.store import CannotWrite, Store, StoreError
from cockpit.tui.base import CockpitBase
from cockpit.tui.delivery_runner import DeliveryRunner
from cockpit.tui.keymap import check_keymap
from cockpit.tui.screens.cockpit import CockpitScreen
from cockpit.tui.screens.too_small import TooSmall, too_small
from cockpit.tui.team import TeamRunner
from cockpit.tui.unsaved import QuitDialog, keep_in_file, unsaved_on

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""Signals that end the app after keeping unsaved text in a file (they cannot ask)."""

if TYPE_CHECKING:
    from rich.traceback import Traceback

    from cockpit.drills.play import Drill


class CockpitApp(CockpitBase):
    """The terminal incident cockpit."""

    CSS_PATH = "cockpit.tcss"

    def __init__(
        self, config: Config, store: Store, clock: Clock = system_clock, drill: Drill | None = None
    ) -> None:
        super().__init__(config, store, drill.clock if drill is not None else clock)
        self.drill = drill
        """The drill being played (on the drills database, on its clock), if any."""
        # Pages and webhook events, and the configured role names, as the CLI installs them.
        configure(store, config)
        self.deliveries = DeliveryRunner(self)
        self.team = TeamRunner(self)
        self._fitting = False  # the first Resize comes before the screens exist
        # `[keys]`: a clash is a configuration error before anything is on screen.
        if self.keymap:
            check_keymap(config)
            self.set_keymap(self.keymap)
        self.handle_signals = False
        """SIGTERM and SIGHUP keep unsaved text in a file, then quit (`run_app` turns it on)."""

    def on_mount(self) -> None:
        # After the first paint: delivering imports httpx, which start-up need not wait for.
        self.call_after_refresh(self.deliveries.start)
        self.call_after_refresh(self.team.start)
        if self.store.notice:
            self.notify(f"{self.store.path}: {self.store.notice}", severity="warning", timeout=30)
        self._fitting = True
        self.fit(self.size)
        if self.handle_signals:
            loop = asyncio.get_running_loop()
            for number in STOP_SIGNALS:
                loop.add_signal_handler(number, self.stop, number)

    async def on_unmount(self) -> None:
        if self.handle_signals:
            loop = asyncio.get_running_loop()
            for number in STOP_SIGNALS:
                loop.remove_signal_handler(number)
        await asyncio.to_thread(self.writer.close)

    # -- quitting without losing what was typed

    async def action_quit(self) -> None:
        """Quit (q, ctrl+q, the palette): unsaved text is saved first, or the quit asks."""
        if any(isinstance(screen, QuitDialog) for screen in self.screen_stack):
            return
        if self.writer.waiting:  # a save is under way: its dialog holds the text until then
            self.notify("Saving first: the cockpit quits once the database has taken it.")
            self.run_worker(self._quit_when_saved(), group="quit", exclusive=True)
            return
        items = unsaved_on(self.screen_stack)
        if not items:
            self.exit()
            return
        self.push_screen(QuitDialog(items, self.store.path))

    async def _quit_when_saved(self) -> None:
        await self.writer.idle()
        await self.action_quit()

    def stop(self, number: int) -> None:
        """SIGTERM or SIGHUP: nobody can be asked, so unsaved text goes to a file; then exit."""
        name = signal.Signals(number).name
        items = unsaved_on(self.screen_stack)
        if items:
            try:
                path = keep_in_file(items, self.store.path, self.clock(), f"the cockpit got {name}")
            except OSError as exc:
                print(f"cockpit: unsaved text lost ({name}): {exc}", file=sys.stderr)
            else:
                self.kept.append(path)
                for item in items:
                    item.saved(None)
        self.exit(return_code=128 + number)

    # -- plain text on screen

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Notifications are plain text, never markup: they carry titles, names and errors that
        people typed (a `[/x]` in them must show as typed, not crash the app)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def action_help_quit(self) -> None:
        """ctrl+c: say how to quit (Textual's own message is markup, shown here as typed)."""
        for active in self.active_bindings.values():
            if active.binding.action == "quit":
                self.notify(f"Press {self.get_key_display(active.binding)} to quit the cockpit")
                return

    def _fatal_error(self) -> None:
        # Textual's crash report shows every frame's locals, the configuration and its
        # secrets among them: none here, and every secret masked in the exception's text.
        self.bell()
        self.panic(crash_report(self.config))

    def get_default_screen(self) -> Screen[None]:
        if self.drill is not None:
            from cockpit.tui.screens.drill import DrillScreen

            return DrillScreen(self.config, self.store, self.drill)
        return CockpitScreen(self.config, self.store, self.clock)

    def on_resize(self, event: events.Resize) -> None:
        if self._fitting:
            self.fit(event.size)

    def fit(self, size: Size) -> None:
        """Cover the cockpit with a clear message while the terminal is too small."""
        if not too_small(size):
            if isinstance(self.screen, TooSmall):
                self.pop_screen()
        elif not any(isinstance(screen, TooSmall) for screen in self.screen_stack):
            self.push_screen(TooSmall())

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Every cockpit key that applies right now is also a command-palette entry."""
        for active in screen.active_bindings.values():
            binding = active.binding
            if active.enabled and binding.id and binding.id.startswith("cockpit."):
                yield SystemCommand(
                    binding.tooltip or binding.description,
                    f"key: {self.get_key_display(binding)}",
                    partial(self.run_action, binding.action, active.node),
                )
        yield from super().get_system_commands(screen)


def crash_report(config: Config) -> Traceback:
    """The exception being handled, as a traceback without locals or secrets."""
    # Imported at the crash only: start-up needs none of it.
    import rich
    from rich.traceback import Trace, Traceback

    from cockpit.comms.target import scrubber_for
    from cockpit.comms.targets import configured_targets

    traceback = Traceback(show_locals=False, width=None, suppress=[rich])
    scrub = scrubber_for(configured_targets(config).values()).scrub

    def clean(trace: Trace) -> None:
        for stack in trace.stacks:
            stack.exc_value = scrub(stack.exc_value)
            stack.notes = [scrub(note) for note in stack.notes]
            for inner in stack.exceptions:
                clean(inner)

    clean(traceback.trace)
    return traceback


def make_app(config: Config, store: Store | Path, clock: Clock = system_clock) -> CockpitApp:
    """The app over `store` (or the database at that path, opened with `clock`)."""
    if isinstance(store, Store):
        return CockpitApp(config, store, clock)
    opened = open_store(store, config, clock)
    try:
        return CockpitApp(config, opened, clock)
    except ConfigError:  # `[keys]` clash: nothing started, nothing left open
        opened.close()
        raise


def open_store(path: Path, config: Config, clock: Clock) -> Store:
    """The database for writing (created if missing); when it cannot be written here (a
    read-only file or folder, a full disk), read-only, so it can still be seen."""
    busy = config.database.busy_timeout_ms
    try:
        return Store.open(path, clock=clock, busy_timeout_ms=busy)
    except CannotWrite as exc:
        problem = exc
    try:
        store = Store.open(path, clock=clock, busy_timeout_ms=busy, read_only=True)
    except StoreError:
        raise problem from None
    reason = str(problem).removeprefix(f"{path}: ")
    store.read_only = f"opened read-only, it cannot be written here ({reason})"
    store.notice = "; ".join(filter(None, (store.read_only, store.notice)))
    return store


def run_app(config: Config, db_path: Path, *, clock: Clock = system_clock) -> int:
    """Run the cockpit on the database at `db_path` until the user quits; the exit status."""
    app = make_app(config, db_path, clock)
    app.handle_signals = True
    try:
        app.run()
    finally:
        app.store.close()
        for path in app.kept:
            print(f"cockpit: text not saved to the database is kept in {path}", file=sys.stderr)
    return app.return_code or 0


def run_drill(config: Config, store: Store, drill: Drill) -> int:
    """Run the cockpit on a drill (its store is the drills database, on the drill's clock)
    until the user quits; the exit status. The drill goes on without the app: `cockpit drill
    score` or another `cockpit drill` session picks it up."""
    app = CockpitApp(config, store, drill=drill)
    app.handle_signals = True
    try:
        app.run()
    finally:
        store.close()
        for path in app.kept:
            print(f"cockpit: text not saved to the database is kept in {path}", file=sys.stderr)
    return app.return_code or 0
