"""The scorecard at the end of a drill: the score, each check with what was expected and what
happened (in drill minutes), what was not scored, and `e` to write it as Markdown."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from cockpit.config import Config
from cockpit.domain import one_line
from cockpit.drills import play
from cockpit.drills.clock import format_speed
from cockpit.drills.scorecard import AREA_NAMES, Scorecard, minute
from cockpit.tui.widgets.drill_banner import DrillBanner

INDENT = "\u00a0" * 9
"""Under the check's name (no-break spaces: a wrapped line does not drop them)."""


def check_lines(card: Scorecard) -> Content:
    """Each check as two or three lines: met or missed, then expected and actual."""
    parts: list[Content] = []
    for check in card.checks:
        mark = ("✓ met   ", "$text-success") if check.passed else ("✗ missed", "$text-error")
        parts.append(Content.assemble(mark, " ", (one_line(check.name), "bold")))
        parts.append(Content.styled(f"{INDENT}expected {one_line(check.expected)}", "$text-muted"))
        parts.append(Content(f"{INDENT}actual   {one_line(check.actual)}"))
        if check.detail:
            parts.append(Content.styled(f"{INDENT}{one_line(check.detail)}", "$text-muted"))
    for skipped in card.not_scored:
        area = AREA_NAMES.get(skipped.area, skipped.area)
        parts.append(
            Content.styled(f"– {area}: not scored ({one_line(skipped.reason)})", "$text-muted")
        )
    return Content("\n").join(parts)


class ScorecardScreen(Screen[None]):
    """The drill's scorecard, over the drill screen; Esc goes back to the drill incident."""

    CSS_PATH = "drill.tcss"
    BINDINGS = [
        Binding("escape", "close", "back to the drill", id="scorecard.close"),
        Binding("e", "export", "export Markdown", id="scorecard.export"),
    ]

    def __init__(self, config: Config, card: Scorecard) -> None:
        super().__init__()
        self.config = config
        self.card = card

    def compose(self) -> ComposeResult:
        card = self.card
        state = "resolved" if card.resolved else "ended before it was resolved"
        yield DrillBanner(Content(f" DRILL SCORECARD · {card.drill} · {one_line(card.title)} "))
        yield Static(
            Content(
                f"Score {card.score} / 100  ·  {card.scenario} at {format_speed(card.speed)}  ·  "
                f"{state} at {minute(card.duration_minutes)}"
            ),
            id="scorecard-score",
        )
        with VerticalScroll(id="scorecard-checks"):
            yield Static(check_lines(card), id="scorecard-lines")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#scorecard-checks").focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_export(self) -> None:
        try:
            path = play.export_scorecard(self.config, self.card)
        except OSError as exc:
            self.notify(f"scorecard not written: {exc.strerror or exc}", severity="error")
            return
        self.notify(f"scorecard written to {path}")
