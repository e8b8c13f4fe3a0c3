"""The runbook picker: link or change the incident's runbook, searching title, tag and trigger."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from cockpit.domain import Entry, one_line
from cockpit.runbooks import Runbook, RunbookError
from cockpit.store import Store
from cockpit.tui.dialog import Dialog
from cockpit.tui.keys import key_text

UNLINK = "-unlink-"
"""The option id that unlinks the current runbook."""


class RunbookPicker(Dialog[Entry | None]):
    """Type to filter, arrows move, Enter links (through `link`), Esc cancels with None."""

    BINDINGS = [
        Binding("down", "move(1)", "Next", id="picker.next", show=False),
        Binding("up", "move(-1)", "Previous", id="picker.previous", show=False),
    ]

    def __init__(
        self,
        runbooks: Sequence[Runbook],
        errors: Sequence[RunbookError],
        current: str | None,
        link: Callable[[Store, str | None], Entry | None],
    ) -> None:
        super().__init__()
        self.runbooks = list(runbooks)
        self.errors = list(errors)
        self.current = current
        self.link = link

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box -wide") as box:
            box.border_title = "Runbook"
            yield Input(placeholder="search title, tag or trigger", id="runbook-search")
            yield OptionList(id="runbook-choices")
            hint = f"Enter links · {key_text(self.app, 'dialog.cancel')} cancels"
            if self.errors:
                count = len(self.errors)
                hint += f" · {count} file{'s' if count != 1 else ''} unusable: cockpit runbooks"
            yield Label(hint, classes="dialog-hint", id="hint", markup=False)

    def on_mount(self) -> None:
        self.filter("")

    def filter(self, query: str) -> None:
        """Show the runbooks matching every word of `query`; the current one is marked."""
        options = self.query_one("#runbook-choices", OptionList)
        options.clear_options()
        for runbook in self.runbooks:
            if runbook.matches(query):
                options.add_option(Option(self._prompt(runbook), id=runbook.name))
        if self.current is not None and not query.strip():
            options.add_option(Option(Content.styled("No runbook (unlink)", "italic"), id=UNLINK))
        if options.option_count:
            # Before typing the cursor is on the current runbook; then on the best match.
            ids = [option.id for option in options.options]
            current = not query.strip() and self.current in ids
            options.highlighted = ids.index(self.current) if current else 0

    def _prompt(self, runbook: Runbook) -> Content:
        current = "  (current)" if runbook.name == self.current else ""
        first = Content.assemble(
            (one_line(runbook.title), "bold"), (f"  {runbook.name}{current}", "$text-muted")
        )
        details = one_line(runbook.trigger) or "no trigger given"
        if runbook.tags:
            details += f"  [{', '.join(one_line(tag) for tag in runbook.tags)}]"
        return Content("\n").join([first, Content.styled(f"  {details}", "$text-muted")])

    @on(Input.Changed, "#runbook-search")
    def _search(self, event: Input.Changed) -> None:
        self.filter(event.value)

    @on(Input.Submitted, "#runbook-search")
    async def _submit(self) -> None:
        option = self.query_one("#runbook-choices", OptionList).highlighted_option
        if option is not None and option.id is not None:
            await self.choose(option.id)

    @on(OptionList.OptionSelected, "#runbook-choices")
    async def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            await self.choose(event.option.id)

    async def choose(self, option_id: str) -> None:
        """Link the runbook `option_id` (or unlink), then close with the entry written."""
        name = None if option_id == UNLINK else option_id
        await self.commit(lambda store: self.link(store, name), self.dismiss)

    def action_move(self, step: int) -> None:
        options = self.query_one("#runbook-choices", OptionList)
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()
