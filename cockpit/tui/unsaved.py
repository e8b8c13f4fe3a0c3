"""Text typed and not saved yet, and the question a quit asks about it.

Every screen where people type says what it holds through `unsaved()`. Quitting (`q`, ctrl+q,
the palette) saves the post-mortem's fields as it always does, and asks about the rest: save and
quit, discard and quit, or keep editing. A save that fails keeps the app open and says why; the
text can then go to a file next to the database, whose name is printed when the app exits. A
SIGTERM or SIGHUP cannot ask: the text goes to that file at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from cockpit.domain import format_utc, one_line
from cockpit.store import Store
from cockpit.tui.committing import Committing

PREVIEW_CHARS = 60
"""Characters of each unsaved text quoted in the question."""


def _nothing(_: object) -> None:
    return None


@dataclass(frozen=True)
class Unsaved:
    """Text typed on one screen and not saved yet."""

    what: str
    """What it is, as the question names it: "the note on INC-7"."""
    text: str
    write: Callable[[Store], object] | None
    """Saves it the way the screen would have; None when that cannot be done on a quit (it would
    page people, or what was typed is not valid yet)."""
    saved: Callable[[Any], object] = field(default=_nothing)
    """The screen's follow-up once the text is safe: committed by `write` (with its result) or
    kept in a file (with None). A dialog closes itself."""
    autosave: bool = False
    """Saved on quit without asking, as the screen saves it anyway (the post-mortem)."""
    how: str = ""
    """How `write` keeps it, when that is not what Enter would do ("as a note, not published")."""


@runtime_checkable
class HoldsText(Protocol):
    """A screen people type into."""

    def unsaved(self) -> Unsaved | None:
        """What was typed and is not saved yet, or None."""
        ...


def unsaved_on(screens: Iterable[Screen[Any]]) -> list[Unsaved]:
    """Unsaved text on `screens`, top screen first."""
    found = []
    for screen in reversed(list(screens)):
        if isinstance(screen, HoldsText):
            held = screen.unsaved()
            if held is not None:
                found.append(held)
    return found


def keep_in_file(items: Sequence[Unsaved], db_path: Path, now: datetime, reason: str) -> Path:
    """Write `items` to a new file beside the database (or in the home folder if that fails);
    its path. Only the owner can read it: incident text can be sensitive."""
    stamp = format_utc(now).replace(":", "").replace("-", "").split(".")[0]
    lines = [
        "Text typed in the cockpit and not saved to the database.",
        f"Written {format_utc(now)} because {reason}.",
        f"Database: {db_path}",
        "",
    ]
    for item in items:
        lines += [f"== {item.what}", item.text, ""]
    data = "\n".join(lines).encode("utf-8", "replace")
    error: OSError | None = None
    for folder in (db_path.parent, Path.home()):
        for number in range(100):
            suffix = f"-{number}" if number else ""
            path = folder / f"cockpit-unsaved-{stamp}Z{suffix}.txt"
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            except OSError as exc:
                error = exc
                break
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                error = exc
                path.unlink(missing_ok=True)
                break
            return path
    raise error or OSError(f"no free file name in {db_path.parent}")


def _preview(text: str) -> str:
    line = one_line(text).strip()
    return line if len(line) <= PREVIEW_CHARS else line[: PREVIEW_CHARS - 1] + "…"


class QuitDialog(Committing, ModalScreen[None]):
    """Asked on quit while text is unsaved: s saves and quits, d discards and quits, Esc keeps
    editing. With only the post-mortem to save it saves at once and quits."""

    BINDINGS = [
        Binding("s", "save", "save and quit", id="quit.save"),
        Binding("d", "discard", "discard and quit", id="quit.discard"),
        Binding("f", "keep_in_file", "keep in a file and quit", id="quit.file"),
        Binding("escape", "cancel", "keep editing", id="dialog.cancel"),
    ]

    def __init__(self, items: Sequence[Unsaved], db_path: Path) -> None:
        super().__init__(classes="dialog")
        self.items = list(items)  # those not saved yet
        self.db_path = db_path
        self.asked = [item for item in self.items if not item.autosave]
        self.failed = False

    @property
    def can_save(self) -> bool:
        return all(item.write is not None for item in self.asked)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box -wide", id="quit") as box:
            box.border_title = "Quit"
            yield Static(self._question(), id="question")
            yield Label(id="status")
            yield Label(self._keys(), classes="dialog-hint", id="hint")

    def on_mount(self) -> None:
        if not self.asked:  # the post-mortem only: saved as always, nothing to ask
            self.call_later(self.action_save)

    def _question(self) -> Content:
        lines = []
        for item in self.asked:
            line = Content.assemble(
                "Unsaved text in ", (item.what, "bold"), ": “", _preview(item.text), "”"
            )
            if item.how:
                line += Content.styled(f" (s saves it {item.how})", "$text-muted")
            elif item.write is None:
                line += Content.styled(" (cannot be saved from here)", "$text-muted")
            lines.append(line)
        autosaved = [item.what for item in self.items if item.autosave]
        if autosaved:
            lines.append(Content(f"Saving {' and '.join(autosaved)} first."))
        return Content("\n").join(lines)

    def _keys(self) -> str:
        if self.failed:
            return "s tries again · f keeps it in a file and quits · Esc keeps editing"
        if not self.asked:
            return "Esc keeps editing"
        if self.can_save:
            return "s saves and quits · d discards and quits · Esc keeps editing"
        return "d discards and quits · f keeps it in a file and quits · Esc keeps editing"

    def say(self, message: str | Content) -> None:
        self.query_one("#status", Label).update(message)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.writing() and action != "cancel":
            return False
        if action == "save":
            return self.can_save
        if action == "keep_in_file":
            return self.failed or not self.can_save
        return True

    async def action_save(self) -> None:
        await self._save(list(self.items))

    async def action_discard(self) -> None:
        self.items = [item for item in self.items if item.autosave]
        self.asked = []
        self.query_one("#question", Static).update(self._question())
        await self._save(list(self.items))

    async def _save(self, todo: list[Unsaved]) -> None:
        """Save `todo` one by one, in order; quit once all are committed."""
        if not todo:
            self.app.exit()
            return
        item = todo[0]
        write = item.write
        if write is None:
            return

        def then(result: object) -> None:
            item.saved(result)
            self.items.remove(item)
            self.call_later(self._save, todo[1:])

        await self.commit(write, then, failed=self._failed)

    def _failed(self, error: Exception) -> None:
        self.failed = True
        self.query_one("#hint", Label).update(self._keys())
        self.refresh_bindings()

    def action_keep_in_file(self) -> None:
        now = self.app.clock()
        try:
            path = keep_in_file(self.items, self.db_path, now, "the database could not take it")
        except OSError as exc:
            self.say(Content(f"Could not write the file either: {one_line(str(exc))}"))
            return
        self.app.kept.append(path)
        for item in self.items:
            item.saved(None)
        self.app.exit()

    def action_cancel(self) -> None:
        self.dismiss(None)
