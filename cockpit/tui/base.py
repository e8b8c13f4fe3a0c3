"""`CockpitBase`: the app as its screens and widgets see it, and the bindings that apply on
every screen. `CockpitApp` (`cockpit.tui.app`) builds on it with the screens themselves."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.binding import Binding

from cockpit.config import Config
from cockpit.domain import Clock
from cockpit.store import Store
from cockpit.tui.writer import Writer


class CockpitBase(App[int]):
    """The configuration, the store and the clock the app runs with, the writer every write
    goes through, the keys as `[keys]` remaps them, and the files unsaved text was kept in."""

    TITLE = "cockpit"
    BINDINGS = [Binding("q", "quit", "quit", id="cockpit.quit", tooltip="Quit the cockpit")]

    def __init__(self, config: Config, store: Store, clock: Clock) -> None:
        super().__init__()
        self.config = config
        self.store = store
        self.clock = clock
        # Writes wait for other processes' locks on a thread of their own: the screen stays live.
        self.writer = Writer(store, busy_timeout_ms=config.database.busy_timeout_ms)
        self.keymap: dict[str, str] = dict(config.keys.bindings)
        """`[keys]`: binding id -> keys, as configured (checked before the app starts)."""
        self.kept: list[Path] = []
        """Files that unsaved text was written to; `run_app` names them once the app is gone."""
