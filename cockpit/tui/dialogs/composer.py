"""The status-update composer behind `u`: the phase's template in an editable text area, a
status choice, and a preview of exactly what each configured target will receive.

Publishing goes through `cockpit.comms.publish.publish`, the same call as `cockpit update`:
the timeline entry and one outbox row per target in one transaction. Nothing is sent from
here; the app's delivery worker picks the rows up. Before that, `publish_checks` asks what
`cockpit update` asks (another update arrived since the composer opened, someone else is
communicator): the first publish shows the questions, the next one publishes.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Label, Select, Static, TextArea

from cockpit.comms.publish import draft, preview, publish
from cockpit.comms.publish_checks import PublishCheck, publish_checks
from cockpit.comms.target import Preview
from cockpit.config import Config
from cockpit.domain import Clock, Entry, Kind, Status, strip_control
from cockpit.store import Store
from cockpit.tui.dialog import Dialog
from cockpit.tui.keys import key_text
from cockpit.tui.unsaved import Unsaved

PREVIEW_CHARS = 1500
"""Characters of each target's text shown in the preview (the rest is summarised)."""


def preview_content(previews: list[Preview]) -> Content:
    """The per-target preview as one piece of styled text."""
    if not previews:
        return Content.styled(
            "No targets configured ([slack], [statuspage] in config.toml): the update is "
            "recorded on the timeline only.",
            "$text-muted",
        )
    parts: list[Content] = []
    for item in previews:
        text = strip_control(item.text)
        if len(text) > PREVIEW_CHARS:
            text = text[:PREVIEW_CHARS] + f"… ({len(item.text) - PREVIEW_CHARS:,} more characters)"
        parts.append(Content.styled(strip_control(item.heading), "bold $text-primary"))
        parts.append(Content(text))
    return Content("\n").join(parts)


class Composer(Dialog[Entry | None]):
    """Write, check and publish one status update; dismisses with the published entry."""

    BINDINGS = [
        Binding("ctrl+s", "publish", "Publish", id="composer.publish", priority=True),
    ]

    def __init__(
        self,
        store: Store,
        config: Config,
        incident_id: int,
        clock: Clock,
        *,
        status: Status | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.config = config
        self.incident_id = incident_id
        self.clock = clock
        incident = store.incident(incident_id)
        self.ref = incident.ref
        self.draft = draft(store, config, incident_id, clock=clock, status=status)
        self.seen_through = store.last_entry_id(incident_id)
        """The newest entry when the composer opened: updates after it are asked about."""
        self.asked: set[str] = set()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box -wide", id="composer") as box:
            box.border_title = f"Status update · {self.ref}"
            with Horizontal(id="composer-status"):
                yield Label("Status ", classes="composer-label")
                yield Select(
                    [(s.value, s) for s in Status],
                    value=self.draft.status,
                    allow_blank=False,
                    compact=True,
                    id="status",
                )
                yield Label(Content(f"  template: {self.draft.template}"), id="template")
            yield TextArea(self.draft.text, soft_wrap=True, compact=True, id="text")
            yield Label("What each target will receive", classes="composer-label")
            with VerticalScroll(id="preview-box"):
                yield Static(id="preview")
            yield Static(id="checks", markup=False)
            yield Label(self.keys_hint(), classes="dialog-hint", id="hint", markup=False)

    def keys_hint(self) -> str:
        """The keys line under the preview, with the keys as configured."""
        publish = key_text(self.app, "composer.publish")
        return f"{publish} publishes · Tab moves · {key_text(self.app, 'dialog.cancel')} cancels"

    def on_mount(self) -> None:
        self.query_one("#text", TextArea).focus()
        self.show_preview()

    @property
    def text(self) -> str:
        return self.query_one("#text", TextArea).text

    @property
    def status(self) -> Status:
        value = self.query_one("#status", Select).value
        return value if isinstance(value, Status) else self.draft.status

    def show_preview(self) -> None:
        previews = preview(
            self.store, self.config, self.incident_id, self.text, self.status, self.clock
        )
        self.query_one("#preview", Static).update(preview_content(previews))

    @on(TextArea.Changed, "#text")
    def text_changed(self) -> None:
        self.show_preview()

    @on(Select.Changed, "#status")
    def status_changed(self) -> None:
        """Follow the status with the template (resolving switches to the resolution text),
        keeping what the responder added around it; warn if their edits are inside it."""
        if self.status is self.draft.status:
            return
        area = self.query_one("#text", TextArea)
        old = self.draft
        self.draft = draft(
            self.store, self.config, self.incident_id, clock=self.clock, status=self.status
        )
        hint = self.query_one("#hint", Label)
        if old.text in area.text:
            area.text = area.text.replace(old.text, self.draft.text, 1)
            self.query_one("#template", Label).update(Content(f"  template: {self.draft.template}"))
            hint.update(Content(self.keys_hint()))
        else:
            hint.update(f"Edited text kept: check it still fits “{self.status.value}”.")
        self.show_preview()

    async def action_publish(self) -> None:
        text, status = self.text, self.status
        if not text.strip():
            cancel = key_text(self.app, "dialog.cancel")
            self.say(f"Write the update first, or {cancel} to cancel.")
            return
        config, incident_id, clock = self.config, self.incident_id, self.clock
        checks = publish_checks(self.store, config, incident_id, self.seen_through, clock())
        new = [check for check in checks if check.key not in self.asked]
        if new:
            self.asked.update(check.key for check in new)
            self.ask(new)
            return
        template = self.draft.template
        await self.commit(
            lambda store: publish(
                store, config, incident_id, text, status, config.author, clock, template=template
            ),
            self.dismiss,
        )

    def ask(self, checks: list[PublishCheck]) -> None:
        """Show why publishing waits (and another update's text); the next publish sends."""
        publish, cancel = (key_text(self.app, i) for i in ("composer.publish", "dialog.cancel"))
        parts = [Content.styled(strip_control(c.reason), "bold $text-warning") for c in checks]
        for check in checks:
            if check.text:
                text = strip_control(check.text)
                if len(text) > PREVIEW_CHARS:
                    text = text[:PREVIEW_CHARS] + "…"
                parts.append(Content(text))
        box = self.query_one("#checks", Static)
        box.update(Content("\n").join(parts))
        box.display = True
        self.say(f"{publish} again publishes yours all the same · {cancel} cancels")

    def unsaved(self) -> Unsaved | None:
        """An edited update. A quit never publishes it: saving keeps it as a note."""
        text = self.text
        if not text.strip() or text == self.draft.text:
            return None
        incident_id, author = self.incident_id, self.config.author
        note = f"Status update not published (kept when the cockpit quit):\n{text}"
        return Unsaved(
            f"the status update for {self.ref}",
            text,
            lambda store: store.append(incident_id, Kind.NOTE, note, author),
            lambda _: self.after_commit(lambda: self.dismiss(None)),
            how="as a note on the timeline, not published",
        )
