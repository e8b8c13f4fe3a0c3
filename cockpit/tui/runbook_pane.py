"""The runbook pane: the linked runbook's Markdown, read from the configured directories.

Self-contained on purpose: the runbooks issue replaces this module with a checklist. The screen
only calls `RunbookPane.show(name, dirs)`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from cockpit.domain import one_line, strip_control


def read_runbook(name: str, dirs: list[Path]) -> tuple[str, str] | None:
    """(title, Markdown body) of `<dir>/<name>.md` in the first directory that has it."""
    for directory in dirs:
        path = directory / f"{name}.md"
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        return _split(text, name)
    return None


def _split(text: str, name: str) -> tuple[str, str]:
    """Strip `+++` TOML front matter; the title comes from it, else the first heading."""
    title = ""
    body = text
    lines = text.splitlines(keepends=True)
    if lines and lines[0].strip() == "+++":
        for index in range(1, len(lines)):
            if lines[index].strip() == "+++":
                front = "".join(lines[1:index])
                body = "".join(lines[index + 1 :])
                try:
                    title = str(tomllib.loads(front).get("title", ""))
                except tomllib.TOMLDecodeError:
                    title = ""  # a malformed header still shows the body
                break
    if not title:
        for line in body.splitlines():
            if line.startswith("#"):
                title = line.lstrip("#").strip()
                break
    return one_line(title or name), strip_control(body)


class RunbookPane(VerticalScroll):
    """The linked runbook rendered as Markdown, or a placeholder saying why there is none."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._shown: tuple[str | None, tuple[Path, ...]] | None = None

    def compose(self) -> ComposeResult:
        yield Static("No runbook linked.", classes="placeholder")

    def show(self, name: str | None, dirs: list[Path]) -> None:
        """Show runbook `name` (None: none linked); re-reads only when the name changes."""
        key = (name, tuple(dirs))
        if key == self._shown:
            return
        self._shown = key
        self.remove_children()
        self.border_title = "Runbook"
        if name is None:
            self.mount(Static("No runbook linked.", classes="placeholder"))
            return
        found = read_runbook(name, dirs)
        if found is None:
            where = ", ".join(str(d) for d in dirs) or "no runbook directories configured"
            self.mount(
                Static(
                    f"Runbook {one_line(name)!r} not found.\nLooked in: {where}",
                    classes="placeholder -missing",
                )
            )
            return
        title, body = found
        self.border_title = f"Runbook · {title}"
        # Imported here: Markdown pulls in markdown-it, which an empty cockpit never needs.
        from textual.widgets import Markdown

        self.mount(Markdown(body, open_links=False))
