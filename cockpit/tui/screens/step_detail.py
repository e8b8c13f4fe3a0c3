"""The selected runbook step, whole: Enter on the checklist opens it.

At 80 columns a checklist line shows about twenty characters of a step ("Check recent
deployme…"). This view shows the step's whole text and every command in it, with its keys:
space ticks or unticks it and c copies its command, as on the checklist; ↑/↓ read on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.widgets import OptionList

from cockpit.domain import one_line
from cockpit.tui.keys import key_text
from cockpit.tui.widgets.detail_lines import DetailScreen, Row, readable

if TYPE_CHECKING:
    from cockpit.runbooks import Runbook, Step
    from cockpit.tui.widgets.runbook import RunbookPane


def step_rows(runbook: Runbook, step: Step, ticked: bool) -> list[Row]:
    """The step's text as written, then where it sits, whether it is done and its commands."""
    rows = [Row("", readable(step.text) or step.title), Row("", "")]
    rows.append(Row("done", "✓ ticked" if ticked else "not yet", "" if ticked else "strong"))
    if step.section:
        rows.append(Row("section", one_line(step.section)))
    rows.append(Row("runbook", one_line(f"{runbook.title} ({runbook.name})")))
    for number, command in enumerate(step.commands, 1):
        label = f"command {number}" if len(step.commands) > 1 else "command"
        rows.append(Row(label, readable(command)))
    if not step.commands:
        rows.append(Row("command", "none in this step", "muted"))
    return rows


class StepDetail(DetailScreen):
    """One step of the linked runbook; ↑/↓ move the checklist's cursor and follow."""

    BINDINGS = [
        Binding("space", "tick", "tick", id="cockpit.runbook.tick"),
        Binding("c", "copy", "copy", id="cockpit.runbook.copy"),
    ]

    def keys_hint(self) -> str:
        tick, copy = (key_text(self.app, f"cockpit.runbook.{name}") for name in ("tick", "copy"))
        return f"{tick} tick · {copy} copy · {super().keys_hint()}"

    def __init__(self, pane: RunbookPane) -> None:
        super().__init__()
        self.pane = pane

    def refresh_detail(self) -> None:
        step, runbook = self.pane.selected_step, self.pane.runbook
        if step is None or runbook is None:
            self.dismiss(None)
            return
        rows = step_rows(runbook, step, step.number in self.pane.ticked)
        position = f"{step.number} of {len(runbook.steps)}"
        self.show(f"Step {step.number} · {one_line(step.title)}", position, rows)

    def _move(self, by: int) -> None:
        steps = self.pane.query_one("#runbook-steps", OptionList)
        index = (steps.highlighted or 0) + by
        if 0 <= index < steps.option_count:
            steps.highlighted = index
            self.refresh_detail()

    def action_previous(self) -> None:
        self._move(-1)

    def action_next(self) -> None:
        self._move(1)

    async def action_tick(self) -> None:
        await self.pane.action_toggle_step()  # through the app's writer, like the pane's space
        self.refresh_detail()

    def action_copy(self) -> None:
        self.pane.action_copy_command()
