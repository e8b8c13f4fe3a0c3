"""The cockpit app: built by `make_app` from a configuration, a store and a clock.

Tests and snapshots build it the same way with a temporary database and a frozen clock; `cockpit`
runs it through `run_app`.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.geometry import Size
from textual.screen import Screen

from cockpit.comms.events import hook_for
from cockpit.config import Config, ConfigError
from cockpit.domain import Clock, system_clock
from cockpit.store import CannotWrite, Store, StoreError
from cockpit.tui.cockpit_screen import CockpitScreen
from cockpit.tui.deliveries import DeliveryRunner
from cockpit.tui.keys import check_keymap
from cockpit.tui.too_small import TooSmall, too_small

if TYPE_CHECKING:
    from rich.traceback import Traceback


class CockpitApp(App[int]):
    """The terminal incident cockpit."""

    CSS_PATH = "cockpit.tcss"
    TITLE = "cockpit"
    BINDINGS = [Binding("q", "quit", "quit", id="cockpit.quit", tooltip="Quit the cockpit")]

    def __init__(self, config: Config, store: Store, clock: Clock = system_clock) -> None:
        super().__init__()
        self.config = config
        self.store = store
        self.clock = clock
        # Declare, severity and status changes queue pages and webhook events atomically,
        # the same hook the CLI installs.
        store.events = hook_for(config)
        self.deliveries = DeliveryRunner(self)
        self._fitting = False  # the first Resize comes before the screens exist
        # `[keys]`: a clash is a configuration error before anything is on screen.
        self.keymap: dict[str, str] = dict(config.keys.bindings)
        if self.keymap:
            check_keymap(config)
            self.set_keymap(self.keymap)

    def on_mount(self) -> None:
        # After the first paint: delivering imports httpx, which start-up need not wait for.
        self.call_after_refresh(self.deliveries.start)
        if self.store.notice:
            self.notify(f"{self.store.path}: {self.store.notice}", severity="warning", timeout=30)
        self._fitting = True
        self.fit(self.size)

    def _fatal_error(self) -> None:
        # Textual's crash report shows every frame's locals, the configuration and its
        # secrets among them: none here, and every secret masked in the exception's text.
        self.bell()
        self.panic(crash_report(self.config))

    def get_default_screen(self) -> Screen[None]:
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
    try:
        app.run()
    finally:
        app.store.close()
    return app.return_code or 0
