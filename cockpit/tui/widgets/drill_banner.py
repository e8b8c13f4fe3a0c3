"""The drill banner: one line at the top of a drill's screens that nobody can mistake for a real
incident."""

from __future__ import annotations

from datetime import datetime

from textual.content import Content
from textual.widgets import Static

from cockpit.domain import format_local
from cockpit.drills import play
from cockpit.drills.clock import format_speed
from cockpit.drills.scorecard import minute
from cockpit.tui.widgets.panes import show_content


class DrillBanner(Static):
    """One loud line: DRILL, which one, the speed, drill time, and that nothing is sent."""

    # Here rather than in drill.tcss: the app's default screen does not load a screen's
    # CSS_PATH, and the banner must never look like the real cockpit.
    DEFAULT_CSS = """
    DrillBanner {
        width: 1fr;
        height: 1;
        background: $warning;
        color: $background;
        text-style: bold;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def show(self, drill: play.Drill, now: datetime, ended: bool) -> None:
        state = "ENDED" if ended else f"drill time {format_local(now, now, seconds=True)}"
        at = minute(drill.clock.minute(now))
        # Redrawn every second in place: one line, as wide as the screen, so no layout.
        show_content(
            self,
            Content(
                f" DRILL · {drill.ref} · {format_speed(drill.row.speed)} speed · {state} "
                f"({at}) · practice: nothing is sent "
            ),
        )
