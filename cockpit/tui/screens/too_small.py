"""Shown instead of the cockpit while the terminal is too small for its panes to make sense."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.widgets import Static

from cockpit.tui.keys import key_text

MIN_SIZE = Size(64, 18)
"""Below this the panes cut names and the timeline's text away (80×24 shows everything)."""


def too_small(size: Size) -> bool:
    return size.width < MIN_SIZE.width or size.height < MIN_SIZE.height


class TooSmall(ModalScreen[None]):
    """A clear message and nothing else; it leaves by itself when the terminal grows."""

    # A modal screen hides the app's bindings: quitting must still be one key.
    BINDINGS = [Binding("q", "app.quit", "quit", id="cockpit.quit")]

    def compose(self) -> ComposeResult:
        yield Static(self._message(), id="too-small", markup=False)

    def on_resize(self, event: events.Resize) -> None:
        self.query_one("#too-small", Static).update(self._message())

    def on_screen_resume(self) -> None:
        # Back on top (a palette above it closed) after the terminal grew meanwhile.
        if not too_small(self.app.size):
            self.call_later(self.dismiss)

    def _message(self) -> str:
        size = self.app.size
        return (
            f"Terminal too small ({size.width}×{size.height})\n"
            f"cockpit needs at least {MIN_SIZE.width}×{MIN_SIZE.height}:\n"
            "enlarge the window or shrink the font.\n"
            f"Nothing is lost; {key_text(self.app, 'cockpit.quit')} quits."
        )
