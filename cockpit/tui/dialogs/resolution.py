"""The composer that resolving opens (`t` → resolved): the resolution update comes first.

The practice asks for a resolution update when the incident ends. Publishing resolves the
incident and records the update in one transaction; Esc still resolves, and the status entry
says it was resolved without one (the next-update pane then says it is owed).
"""

from __future__ import annotations

from cockpit.config import Config
from cockpit.domain import Clock, Status
from cockpit.store import Store
from cockpit.tui.dialogs.composer import Composer
from cockpit.tui.keys import key_text

WITHOUT_UPDATE = "without a resolution update"
"""The note on the status entry when Esc resolves without publishing."""


class ResolutionComposer(Composer):
    """The resolution template with status resolved; Esc resolves without an update."""

    def __init__(self, store: Store, config: Config, incident_id: int, clock: Clock) -> None:
        super().__init__(store, config, incident_id, clock, status=Status.RESOLVED)

    def keys_hint(self) -> str:
        publish, cancel = (key_text(self.app, i) for i in ("composer.publish", "dialog.cancel"))
        return f"{publish} publishes and resolves · {cancel} resolves without an update"

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#composer").border_title = f"Resolution update · {self.ref}"

    async def action_cancel(self) -> None:  # type: ignore[override]
        if self.still_saving():
            return
        incident_id, author = self.incident_id, self.config.author
        # Through the app's writer like every other write: a busy database keeps the screen
        # live and the composer open with its text.
        await self.commit(
            lambda store: store.set_status(
                incident_id, Status.RESOLVED, author, note=WITHOUT_UPDATE
            ),
            self.dismiss,
        )
