"""The outbox behind `o`: every delivery of the incident's status updates, its state, attempts,
next attempt and last error; `r` queues a failed one again once the configuration is fixed."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from cockpit.comms.outbox import OutboxError, retry, state_text
from cockpit.config import Config
from cockpit.domain import Clock, format_local, one_line
from cockpit.store import Delivery, Store, StoreError
from cockpit.tui.committing import Committing
from cockpit.tui.delivery_runner import DeliveryRunner
from cockpit.tui.keys import key_text
from cockpit.tui.widgets.deliveries import STYLES, SYMBOLS, held_here

REFRESH_SECONDS = 0.5


def delivery_line(delivery: Delivery, now: datetime, held: str | None = None) -> Content:
    """Two lines: what and where, then its state in words (`held`: why this app cannot
    send it, a secret it lacks)."""
    style = STYLES.get(delivery.state, "")
    head = Content.assemble(
        (SYMBOLS.get(delivery.state, "?"), style),
        f" #{delivery.id} ",
        (delivery.target, "bold"),
        f" · {delivery.action} · attempts {delivery.attempts}",
    )
    head += Content.styled(f" · queued {format_local(delivery.created_at, now)}", "$text-muted")
    state = Content.styled("   " + one_line(state_text(delivery, now, held)), style)
    return Content("\n").join([head, state])


class OutboxDialog(Committing, ModalScreen[None]):
    """The incident's deliveries, refreshed twice a second while open."""

    BINDINGS = [
        Binding("escape", "cancel", "Close", id="dialog.cancel"),
        Binding("r", "retry", "retry", id="outbox.retry", tooltip="Queue a failed delivery again"),
    ]

    def __init__(
        self, store: Store, incident_id: int, clock: Clock, runner: DeliveryRunner
    ) -> None:
        super().__init__(classes="dialog")
        self.store = store
        self.incident_id = incident_id
        self.clock = clock
        self.runner = runner
        self.deliveries: list[Delivery] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box -wide", id="outbox") as box:
            box.border_title = "Outbox"
            yield OptionList(id="deliveries")
            retry, close = (key_text(self.app, i) for i in ("outbox.retry", "dialog.cancel"))
            yield Label(
                f"{retry} retries a failed delivery (config.toml is read again) · {close} closes",
                classes="dialog-hint",
                id="hint",
                markup=False,
            )

    def on_mount(self) -> None:
        self.refresh_list()
        self.query_one("#deliveries", OptionList).focus()
        self.set_interval(REFRESH_SECONDS, self.refresh_list)

    def refresh_list(self) -> None:
        try:
            self.deliveries = self.store.deliveries(self.incident_id)
        except StoreError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        options = self.query_one("#deliveries", OptionList)
        highlighted = options.highlighted
        now = self.clock()
        held = held_here(self.app)
        options.set_options(
            Option(delivery_line(d, now, held.get(d.target)), id=str(d.id))
            for d in reversed(self.deliveries)
        )
        if not self.deliveries:
            options.set_options([Option("No status update has been published yet.", disabled=True)])
        elif highlighted is not None:
            options.highlighted = min(highlighted, len(self.deliveries) - 1)
        elif options.highlighted is None:
            options.highlighted = 0

    async def action_retry(self) -> None:
        options = self.query_one("#deliveries", OptionList)
        if options.highlighted is None or not self.deliveries:
            return
        option = options.get_option_at_index(options.highlighted)
        if option.id is None:
            return
        delivery_id, now = int(option.id), self.clock()
        try:
            config = self.runner.fresh_config()
        except OutboxError as exc:
            self.notify(str(exc), severity="warning", timeout=8)
            return
        await self.commit(
            lambda store: retry(store, delivery_id, now),
            lambda delivery: self._requeued(delivery, config),
            key="retry",
        )

    def _requeued(self, delivery: Delivery, config: Config) -> None:
        self.notify(self.runner.requeued(delivery, config), timeout=4)
        self.refresh_list()

    def action_cancel(self) -> None:
        self.dismiss(None)
