"""The runbook pane: the linked runbook's steps as a checklist, above the runbook's Markdown.

Ticked state is read from the timeline (`step` entries), never kept by the widget: `space` writes
an entry through the core and the pane re-reads it, so a restart, another terminal and `cockpit
show` all agree. Moving between steps scrolls the Markdown to the step; `c` copies its command.
The escalation line of the next-update pane and the escalation entry are built here too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from cockpit.board import Board
from cockpit.config import Config
from cockpit.domain import Entry, format_local, one_line
from cockpit.runbook_policy import ESCALATION_ALERT
from cockpit.store import Store, StoreError
from cockpit.tui.committing import Committing
from cockpit.tui.keys import key_text

if TYPE_CHECKING:  # the parser loads with the first incident, not before the first frame
    from cockpit.runbooks import Runbook, Step


class StepList(OptionList):
    """The checklist: Enter selects a step, which opens it whole (space ticks it, on the pane).
    The binding replaces OptionList's own Enter to give it an id, a name and a tooltip."""

    BINDINGS = [
        Binding(
            "enter",
            "select",
            "read",
            id="cockpit.runbook.read",
            tooltip="Read the selected runbook step whole, with its command",
            show=False,
        )
    ]


class RunbookPane(Vertical):
    """The linked runbook as a checklist and as Markdown, or a line saying why there is none."""

    BINDINGS = [
        Binding(
            "space",
            "toggle_step",
            "tick",
            id="cockpit.runbook.tick",
            tooltip="Tick or untick the selected runbook step",
            show=False,  # the pane's border names its keys: the footer keeps room for q
        ),
        Binding(
            "c",
            "copy_command",
            "copy",
            id="cockpit.runbook.copy",
            tooltip="Copy the selected runbook step's command",
            show=False,
        ),
    ]

    class Written(Message):
        """The pane committed an entry (a step ticked, a runbook linked): the screen syncs."""

        def __init__(self, entry: Entry) -> None:
            super().__init__()
            self.entry = entry

    def __init__(
        self,
        store: Store,
        config: Config,
        reader: Callable[[RunbookPane], Screen[Any]],
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.store = store
        self.config = config
        self.reader = reader
        """The screen that shows one step whole (its screen is above this widget's floor)."""
        self.board: Board | None = None
        self.runbook: Runbook | None = None
        self.ticked: set[int] = set()
        self._shown: tuple[int | None, str | None, Runbook | None, str | None] | None = None
        self._copied: tuple[int, int] | None = None  # (step, command index) last copied

    def compose(self) -> ComposeResult:
        yield Static("No runbook linked.", id="runbook-message")
        yield Static(id="runbook-trigger")
        yield StepList(id="runbook-steps")
        yield VerticalScroll(id="runbook-doc")

    def on_mount(self) -> None:
        self._set_mode(message=True)

    # -- showing a board

    def show(self, board: Board | None) -> None:
        """Show the runbook `board` links and which of its steps are ticked."""
        self.board = board
        incident = board.incident if board else None
        runbook = board.runbook if board else None
        shown = (
            incident.id if incident else None,
            incident.runbook if incident else None,
            runbook,
            board.runbook_problem if board else None,
        )
        if shown != self._shown:
            self._shown = shown
            self.runbook = runbook
            self.ticked = set()
            self._copied = None
            self._rebuild()
            self.refresh_bindings()
        if runbook is not None and incident is not None:
            from cockpit.runbooks import step_state

            ticked = step_state(self.store, incident.id, runbook.name)
            if ticked != self.ticked:
                self.ticked = ticked
                self._render_steps()

    def _rebuild(self) -> None:
        board, runbook = self.board, self.runbook
        message = self.query_one("#runbook-message", Static)
        message.remove_class("-missing")
        self.border_title = "Runbook"
        self.border_subtitle = ""
        if board is None:
            message.update("No incident.")
            self._set_mode(message=True)
            return
        name = board.incident.runbook
        if name is None:
            message.update(Content(f"No runbook linked. Press {self._key('runbook')} to pick one."))
            self._set_mode(message=True)
            return
        if runbook is None:
            from cockpit.runbooks import NOT_FOUND

            message.add_class("-missing")
            if board.runbook_problem in (None, NOT_FOUND):
                where = ", ".join(str(d) for d in self.config.runbook_dirs) or "nowhere"
                why = f"Runbook {one_line(name)!r} not found.\nLooked in: {where}"
            else:
                why = (
                    f"Runbook {one_line(name)!r} cannot be used: {one_line(board.runbook_problem)}"
                )
            message.update(Content(f"{why}\nPress {self._key('runbook')} to pick another."))
            self._set_mode(message=True)
            return
        self.border_title = Content(f"Runbook · {one_line(runbook.title)}")
        trigger = self.query_one("#runbook-trigger", Static)
        trigger.update(Content.assemble(("Trigger: ", "bold"), one_line(runbook.trigger)))
        trigger.display = bool(runbook.trigger)
        steps = self.query_one("#runbook-steps", OptionList)
        steps.clear_options()
        steps.add_options(Option(self._prompt(s), id=str(s.number)) for s in runbook.steps)
        steps.display = bool(runbook.steps)
        if runbook.steps:
            steps.highlighted = 0
        else:
            message.update("No numbered steps under a heading: nothing to tick.")
        self._set_mode(message=not runbook.steps, document=True, note=True)
        self._render_subtitle()
        self._load_document(runbook)

    def _set_mode(self, *, message: bool, document: bool = False, note: bool = False) -> None:
        shown = self.query_one("#runbook-message")
        shown.display = message
        # `.placeholder`: the pane has nothing to show but this line (tests and styles key on it).
        shown.set_class(message and not note, "placeholder")
        shown.set_class(message and note, "-note")
        self.query_one("#runbook-doc").display = document
        if not document:
            self.query_one("#runbook-trigger").display = False
            self.query_one("#runbook-steps").display = False

    def _load_document(self, runbook: Runbook) -> None:
        # Imported here: Markdown pulls in markdown-it, which a cockpit with no runbook never needs.
        from textual.widgets import Markdown

        doc = self.query_one("#runbook-doc", VerticalScroll)
        doc.remove_children()
        doc.mount(Markdown(runbook.body, open_links=False))
        doc.scroll_home(animate=False)

    def _prompt(self, step: Step) -> Content:
        if step.number in self.ticked:
            return Content.assemble(
                ("[x]", "bold $text-success"), f" {step.number} ", (step.title, "$text-muted")
            )
        return Content.assemble("[ ]", f" {step.number} ", step.title)

    def _render_steps(self) -> None:
        runbook = self.runbook
        if runbook is None:
            return
        steps = self.query_one("#runbook-steps", OptionList)
        for index, step in enumerate(runbook.steps):
            steps.replace_option_prompt_at_index(index, self._prompt(step))
        self._render_subtitle()

    def _render_subtitle(self) -> None:
        # The pane's keys are not in the footer (no room at 80 columns): its border says them,
        # the checklist keys while it has focus, `b` otherwise.
        if self.runbook is not None and self.runbook.steps:
            done = f"{len(self.ticked)}/{len(self.runbook.steps)}"
            if self.has_focus_within:
                keys = f"{self._key('runbook.tick')} tick · {self._key('runbook.copy')} copy"
            else:
                keys = f"done · {self._key('runbook')} change"
            self.border_subtitle = Content(f"{done} {keys}")  # keys come from config.toml
        elif self.runbook is not None:
            self.border_subtitle = Content(f"{self._key('runbook')} change")

    def _key(self, name: str) -> str:
        return key_text(self.app, f"cockpit.{name}")

    def on_descendant_focus(self) -> None:
        self._render_subtitle()

    def on_descendant_blur(self) -> None:
        self._render_subtitle()

    # -- the selected step

    @property
    def selected_step(self) -> Step | None:
        """The step under the checklist's cursor."""
        if self.runbook is None or not self.runbook.steps:
            return None
        index = self.query_one("#runbook-steps", OptionList).highlighted
        if index is None or not 0 <= index < len(self.runbook.steps):
            return None
        return self.runbook.steps[index]

    @on(OptionList.OptionHighlighted, "#runbook-steps")
    def _follow(self, event: OptionList.OptionHighlighted) -> None:
        """Scroll the Markdown to the highlighted step's text."""
        from textual.widgets._markdown import MarkdownBlock

        step, runbook = self.selected_step, self.runbook
        if step is None or runbook is None:
            return
        line = step.line - 1 - runbook.body_offset
        doc = self.query_one("#runbook-doc", VerticalScroll)
        # A list renders its items as plain containers: the step's first paragraph is the
        # smallest block that starts on the step's line.
        blocks = [b for b in doc.query(MarkdownBlock) if b.source_range[0] == line]
        if blocks:
            target = min(blocks, key=lambda b: b.source_range[1] - b.source_range[0])
            doc.scroll_to_widget(target, top=True, animate=False)

    @on(OptionList.OptionSelected, "#runbook-steps")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        """Enter (or a click) reads the step whole; ticking stays on space, a deliberate key."""
        event.stop()
        self.read_step()

    def read_step(self) -> None:
        """Open the selected step whole: its text, its commands, whether it is done."""
        if self.selected_step is None:
            return
        self.app.push_screen(self.reader(self))

    # -- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("toggle_step", "copy_command"):
            return self.selected_step is not None
        return True

    async def action_toggle_step(self) -> None:
        """Tick the selected step if it shows unticked, untick it otherwise."""
        step, runbook, board, screen = self.selected_step, self.runbook, self.board, self.screen
        if step is None or runbook is None or board is None or not isinstance(screen, Committing):
            return
        from cockpit.runbooks import set_step, step_state

        done = step.number not in self.ticked
        incident_id, author = board.incident.id, self.config.author

        def ticked(entry: Entry | None) -> None:
            try:
                self.ticked = step_state(self.store, incident_id, runbook.name)
            except StoreError as exc:
                self.notify(str(exc), severity="error", timeout=8)
            self._render_steps()
            if entry is not None:
                self.post_message(self.Written(entry))

        await screen.commit(
            lambda store: set_step(store, incident_id, runbook, step.number, done, author),
            ticked,
            key="step",
        )

    def action_copy_command(self) -> None:
        """Copy the step's command; pressing again on a step with several copies the next."""
        step = self.selected_step
        if step is None:
            return
        if not step.commands:
            self.notify(f"Step {step.number} has no command to copy.", severity="warning")
            return
        index = 0
        if self._copied is not None and self._copied[0] == step.number:
            index = (self._copied[1] + 1) % len(step.commands)
        self._copied = (step.number, index)
        command = step.commands[index]
        self.app.copy_to_clipboard(command)
        which = f" ({index + 1} of {len(step.commands)})" if len(step.commands) > 1 else ""
        self.notify(
            one_line(command),
            title=f"Copied step {step.number}'s command{which}",
            markup=False,
            timeout=4,
        )


# ---- escalation ----------------------------------------------------------------------------


def escalation_line(board: Board | None, now: datetime) -> tuple[Content, bool] | None:
    """The next-update pane's escalation line, and whether the pane should be red.

    "escalate to Engineering Lead in 06:19" until the deadline; then "ESCALATE to Engineering
    Lead now: due 00:12 ago" in red (for a few minutes after it fired); then a quieter
    "escalated to Engineering Lead at 02:44", so an overdue update still stands out.
    """
    escalation = board.escalation if board else None
    if escalation is None:
        return None
    if not escalation.due(now):
        return Content(one_line(escalation.label(now))), False
    recorded = escalation.recorded_at
    if recorded is None or now - recorded < ESCALATION_ALERT:
        text = "ESCALATE" + one_line(escalation.label(now)).removeprefix("escalate")
        return Content.styled(text, "bold $text-error"), True
    text = f"escalated to {one_line(escalation.to)} at {format_local(recorded, now)}"
    return Content.styled(text, "$text-error"), False
