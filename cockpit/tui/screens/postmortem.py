"""The post-mortem screen (`p`): every field a multi-line editor, action items as a table.

What is typed is saved to the store shortly after typing stops, on ctrl+s, and before the screen
closes, exports or the app quits, so nothing typed is lost; a save the database refuses keeps the
screen open and says so. Fields someone else changed (`cockpit postmortem set` in another
terminal) are re-read unless they are being edited here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Label, Static, TextArea

from cockpit.config import Config
from cockpit.domain import (
    FIELD_HINTS,
    FIELD_LABELS,
    FIELDS,
    ActionItem,
    Clock,
    ItemState,
    field_value,
    format_duration,
    one_line,
    parse_deadline,
    strip_control,
)
from cockpit.metrics import compute_metrics
from cockpit.postmortem.due import postmortem_due_at
from cockpit.postmortem.export import export_markdown, export_path, write_export
from cockpit.postmortem.report import METRIC_KINDS
from cockpit.runbook_policy import linked_runbook_minutes
from cockpit.store import Store, StoreError
from cockpit.tui.committing import Committing
from cockpit.tui.dialogs.action_item import ActionItemDialog
from cockpit.tui.keys import key_text
from cockpit.tui.unsaved import Unsaved, keep_in_file
from cockpit.tui.widgets.panes import DatabaseLine
from cockpit.tui.writer import locked

SAVE_AFTER_SECONDS = 0.8
"""Typing pauses this long before the field is written to the store."""

POLL_SECONDS = 0.5
"""How often the screen checks whether another process changed the post-mortem."""

NEXT_STATE = {
    ItemState.OPEN: ItemState.DONE,
    ItemState.DONE: ItemState.WONT_DO,
    ItemState.WONT_DO: ItemState.OPEN,
}


class ActionItemsTable(DataTable[str | Text]):
    """The action items; keys act on the row under the cursor."""

    BINDINGS = [
        Binding("a", "add_item", "add item", id="postmortem.add_item"),
        Binding("enter", "edit_item", "edit item", id="postmortem.edit_item"),
        Binding("x", "cycle_state", "state", id="postmortem.item_state"),
    ]

    def action_add_item(self) -> None:
        screen = self.screen
        if isinstance(screen, PostmortemScreen):
            screen.add_item()

    def action_edit_item(self) -> None:
        screen = self.screen
        if isinstance(screen, PostmortemScreen):
            screen.edit_item()

    async def action_cycle_state(self) -> None:
        screen = self.screen
        if isinstance(screen, PostmortemScreen):
            await screen.cycle_state()


class PostmortemScreen(Committing, Screen[None]):
    """Summary, impact, the five whys, factors, what went well and poorly, lessons, items."""

    CSS_PATH = "postmortem.tcss"
    BINDINGS = [
        Binding("escape", "close", "back", id="postmortem.close"),
        Binding("ctrl+s", "save", "save", id="postmortem.save"),
        Binding("e", "export", "export", id="cockpit.export", tooltip="Export as Markdown"),
        Binding("c", "complete", "complete", id="postmortem.complete"),
    ]

    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Clock,
        incident_id: int,
    ) -> None:
        super().__init__()
        self.config = config
        self.store = store
        self.clock = clock
        self.incident_id = incident_id
        self._dirty: dict[str, str] = {}  # field -> text typed and not yet saved
        self._save_timer: Timer | None = None
        self._data_version = -1
        self._loading = False
        self._read_busy = False
        self._after_flush: list[Callable[[], object]] = []  # asked for while a save was under way

    # -- layout

    def compose(self) -> ComposeResult:
        incident = self.store.incident(self.incident_id)
        title = Content(f"{incident.ref} post-mortem: {one_line(incident.title)}")
        yield Label(title, id="pm-title")
        yield Static(id="pm-metrics")
        with VerticalScroll(id="pm-fields"):
            for name in FIELDS:
                yield Label(FIELD_LABELS[name], classes="pm-label")
                yield TextArea(
                    id=f"field-{name}",
                    classes="pm-field",
                    placeholder=FIELD_HINTS[name],
                    soft_wrap=True,
                )
            with Horizontal(classes="pm-label"):
                yield Label("Action items", id="pm-items-label")
                add, edit, state = (
                    key_text(self.app, f"postmortem.{name}")
                    for name in ("add_item", "edit_item", "item_state")
                )
                yield Label(
                    f"{add} add · {edit} edit · {state} open/done/won't do",
                    classes="pm-hint",
                    id="pm-items-hint",
                    markup=False,
                )
            table: ActionItemsTable = ActionItemsTable(id="pm-items", cursor_type="row")
            table.add_columns("#", "Action", "Owner", "Deadline", "State")
            yield table
        yield DatabaseLine(id="database")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.load()
        self.query_one("#field-summary", TextArea).focus()
        self._data_version = self._version()
        self.set_interval(POLL_SECONDS, self.poll)

    # -- reading

    def _version(self) -> int:
        try:
            return self.store.data_version()
        except (StoreError, sqlite3.Error):
            return -1

    def load(self) -> None:
        """Show the stored fields (except those being edited here), items and figures."""
        pm = self.store.postmortem(self.incident_id)
        self._loading = True
        try:
            for name in FIELDS:
                if name in self._dirty:
                    continue
                area = self.query_one(f"#field-{name}", TextArea)
                text = strip_control(pm.text_of(name))  # the editor shows it on the terminal
                if area.text != text:
                    area.load_text(text)
        finally:
            self._loading = False
        self.show_items()
        self.show_summary()

    def show_items(self) -> None:
        table = self.query_one(ActionItemsTable)
        row = table.cursor_row
        table.clear()
        now = self.clock()
        for item in self.store.action_items(self.incident_id):
            state = item.state.label + (" (late)" if item.past_deadline(now) else "")
            table.add_row(  # Text, not str: a str cell is parsed as markup
                str(item.id),
                Text(one_line(item.title)),
                Text(one_line(item.owner) or "—"),
                item.deadline.isoformat() if item.deadline else "—",
                state,
                key=str(item.id),
            )
        if table.row_count:
            table.move_cursor(row=min(max(row, 0), table.row_count - 1))

    def show_summary(self) -> None:
        """The computed figures, one line, and when the post-mortem is due."""
        now = self.clock()
        incident = self.store.incident(self.incident_id)
        metrics = compute_metrics(
            incident,
            self.store.entries(self.incident_id, kinds=METRIC_KINDS),
            self.config.severities,
            now,
            runbook_minutes=linked_runbook_minutes(self.config, incident),
        )

        def since(moment: datetime | None) -> str:
            delta = metrics.since_declared(moment)
            return format_duration(delta) if delta is not None else "—"

        updates = metrics.updates
        parts = [
            f"detected after {format_duration(metrics.detection)}",
            f"ack {since(metrics.acknowledged_at)}",
            f"mitigated {since(metrics.mitigated_at)}",
            f"resolved {since(metrics.resolved_at)}",
            f"updates {updates.sent} sent, {updates.met}/{updates.required} on time",
        ]
        if updates.resolution_owed:
            parts.append("resolution update owed")
        pm = self.store.postmortem(self.incident_id)
        due = postmortem_due_at(incident, self.config.postmortem.due_hours)
        state = "complete" if pm.completed_at else "draft"
        if due is not None and pm.completed_at is None:
            if now > due:
                state += f", OVERDUE by {format_duration(now - due)}"
            else:
                state += f", due in {format_duration(due - now)}"
        summary = self.query_one("#pm-metrics", Static)
        summary.update(f"{state} · " + " · ".join(parts))
        summary.set_class(pm.completed_at is None and due is not None and now > due, "-overdue")

    def poll(self) -> None:
        version = self._version()
        if version != self._data_version:
            try:
                self.load()
                self._data_version = version
                self._read_busy = False
            except (StoreError, sqlite3.Error) as exc:
                # Locked by another process: skip this look, the next one reads it all.
                self._read_busy = locked(exc)
                if not self._read_busy:
                    self._data_version = version
                    self.notify(str(exc), severity="error", timeout=8)
        self.query_one(DatabaseLine).show(
            writing=self.app.writer.busy,
            reading=self._read_busy,
        )

    # -- writing the fields

    @on(TextArea.Changed, ".pm-field")
    def changed(self, event: TextArea.Changed) -> None:
        if self._loading or event.text_area.id is None:
            return
        self._dirty[event.text_area.id.removeprefix("field-")] = event.text_area.text
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(SAVE_AFTER_SECONDS, self.flush)

    async def flush(self, then: Callable[[], object] = lambda: None) -> None:
        """Write every edited field in one transaction, then `then()`. A failure is a notice
        and keeps the text, on screen and here, for the next try."""
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None
        if self.writing("fields"):  # a save is under way: save again after it, then go on
            self._after_flush.append(then)
            return
        if not self._dirty:
            then()
            return
        typed = dict(self._dirty)
        fields = {name: field_value(name, text) for name, text in typed.items()}
        incident_id, author = self.incident_id, self.config.author

        def saved(_: object) -> None:
            self._saved(typed)
            then()
            waiting, self._after_flush = self._after_flush, []
            if waiting:
                self.call_later(self.flush, lambda: [action() for action in waiting])

        def failed(_: Exception) -> None:
            self._after_flush = []  # not closed, not exported: the notice says why

        await self.commit(
            lambda store: store.set_postmortem(incident_id, author, fields),
            saved,
            key="fields",
            failed=failed,
        )

    def _saved(self, typed: dict[str, str]) -> None:
        # Typing may have gone on while the write waited: what changed since stays to save.
        for name, text in typed.items():
            if self._dirty.get(name) == text:
                del self._dirty[name]
        if self._dirty and self._save_timer is None:
            self._save_timer = self.set_timer(SAVE_AFTER_SECONDS, self.flush)

    def unsaved(self) -> Unsaved | None:
        if not self._dirty:
            return None
        typed = dict(self._dirty)
        fields = {name: field_value(name, text) for name, text in typed.items()}
        incident_id, author = self.incident_id, self.config.author
        return Unsaved(
            "the post-mortem",
            "\n\n".join(f"{FIELD_LABELS[name]}:\n{text}" for name, text in typed.items()),
            lambda store: store.set_postmortem(incident_id, author, fields),
            lambda _: self._saved(typed),
            autosave=True,
        )

    async def action_save(self) -> None:
        await self.flush(lambda: self.notify("post-mortem saved", timeout=3))

    async def action_close(self) -> None:
        # A failed save keeps the screen, and the text, open.
        await self.flush(lambda: self.dismiss(None))

    def on_unmount(self) -> None:
        """Closing with text still unsaved (the app stopped some other way): keep it in a file."""
        held = self.unsaved()
        if held is None:
            return
        reason = "the cockpit closed before it was saved"
        try:
            path = keep_in_file([held], self.store.path, self.clock(), reason)
        except OSError:
            return
        kept = getattr(self.app, "kept", None)
        if kept is not None:
            kept.append(path)

    # -- action items

    def _selected_item(self) -> ActionItem | None:
        table = self.query_one(ActionItemsTable)
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return self.store.action_item(int(str(row_key.value)))

    def add_item(self) -> None:
        incident_id = self.incident_id

        def save(
            store: Store, title: str, owner: str, deadline: str, state: ItemState
        ) -> ActionItem:
            item = store.add_action_item(
                incident_id, title, owner=owner, deadline=parse_deadline(deadline, self.clock())
            )
            if state is not ItemState.OPEN:
                item = store.update_action_item(item.id, state=state)
            return item

        self.app.push_screen(ActionItemDialog(save, self.clock()), self._item_saved)

    def edit_item(self) -> None:
        item = self._selected_item()
        if item is None:
            self.add_item()
            return

        def save(
            store: Store, title: str, owner: str, deadline: str, state: ItemState
        ) -> ActionItem:
            return store.update_action_item(
                item.id,
                title=title,
                owner=owner,
                deadline=parse_deadline(deadline, self.clock()),
                state=state,
            )

        self.app.push_screen(ActionItemDialog(save, self.clock(), item), self._item_saved)

    async def cycle_state(self) -> None:
        item = self._selected_item()
        if item is None:
            return
        state = NEXT_STATE[item.state]
        await self.commit(
            lambda store: store.update_action_item(item.id, state=state),
            lambda _: self.show_items(),
            key="item",
        )

    def _item_saved(self, item: ActionItem | None) -> None:
        if item is None:
            return
        self.show_items()
        table = self.query_one(ActionItemsTable)
        table.move_cursor(row=table.get_row_index(str(item.id)))
        table.focus()

    # -- export and completion

    async def action_export(self) -> None:
        await self.flush(
            lambda: export(self, self.config, self.store, self.clock, self.incident_id)
        )

    async def action_complete(self) -> None:
        await self.flush(lambda: self.call_later(self._complete))

    async def _complete(self) -> None:
        incident_id, author = self.incident_id, self.config.author

        def complete(store: Store) -> bool:
            done = store.postmortem(incident_id).completed_at is None
            store.set_postmortem(incident_id, author, completed=done)
            return done

        def completed(done: bool) -> None:
            self.notify(
                "post-mortem marked complete" if done else "post-mortem reopened", timeout=3
            )
            self.show_summary()

        await self.commit(complete, completed, key="complete")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Letters are text while a field has focus: only show `e`/`c` where they work.
        if action in ("export", "complete") and isinstance(self.focused, TextArea):
            return None
        return True


def export(
    screen: Widget,
    config: Config,
    store: Store,
    clock: Clock,
    incident_id: int,
) -> Path | None:
    """Write the Markdown post-mortem to its default file and say where (the `e` key)."""
    try:
        text = export_markdown(store, config, incident_id, clock())
        path = write_export(export_path(config, store.incident(incident_id)).resolve(), text)
    except StoreError as exc:
        screen.notify(str(exc), severity="error", timeout=10)
        return None
    except OSError as exc:
        screen.notify(f"export failed: {exc.strerror} ({exc.filename})", severity="error")
        return None
    screen.notify(f"exported {path}", title="Post-mortem", timeout=8)
    return path
