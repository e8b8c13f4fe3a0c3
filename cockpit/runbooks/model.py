"""What a runbook is: the file's model (`Runbook`, its `Step`s), its front-matter fields, and the
error that names a file that cannot be used."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cockpit.files import KiB

SUFFIX = ".md"
MAX_BYTES = 256 * KiB
"""The largest runbook file read: about 100 pages of Markdown (a 50 MB file took 38 s and
573 MB before there was a cap); `bench/runbook_parse.py` times a parse at the cap."""
FIELDS: dict[str, str] = {
    "title": "a string",
    "trigger": "a string",
    "severity": "a string",
    "update_every_minutes": "a whole number of minutes",
    "escalate_after_minutes": "a whole number of minutes",
    "escalate_to": "a string",
    "tags": "a list of strings",
}
"""The front-matter keys a runbook may set, and what each holds (for the messages)."""


class RunbookError(Exception):
    """A runbook file that cannot be used: names the file and the problem, in one line."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class Step:
    """One checklist step: a top-level numbered list item under a heading."""

    number: int  # 1-based, across the whole runbook (what "runbook step 2" refers to)
    title: str  # a short label: "Check error distribution"
    text: str  # the item's Markdown, marker removed and dedented
    commands: tuple[str, ...] = ()  # code spans and fenced blocks in the item
    section: str = ""  # the heading it sits under
    line: int = 0  # 1-based line of the item in the file

    @property
    def command(self) -> str | None:
        """The first command (what `c` copies), if the step has one."""
        return self.commands[0] if self.commands else None


@dataclass(frozen=True)
class Runbook:
    """A parsed runbook; `name` is the file name without `.md` (what `--runbook` takes)."""

    name: str
    path: Path
    title: str
    body: str  # the Markdown after the front matter
    steps: tuple[Step, ...] = ()
    trigger: str = ""
    severity: str | None = None  # suggested severity
    update_every_minutes: int | None = None  # overrides the severity's cadence while linked
    escalate_after_minutes: int | None = None
    escalate_to: str = ""
    tags: tuple[str, ...] = ()
    body_offset: int = 0  # lines before the body (the front matter), to map body lines to file

    def step(self, number: int) -> Step:
        """Step `number` (1-based); LookupError naming the runbook otherwise."""
        if 1 <= number <= len(self.steps):
            return self.steps[number - 1]
        raise LookupError(
            f"runbook {self.name!r} has no step {number} (it has {len(self.steps)} steps)"
        )

    def matches(self, query: str) -> bool:
        """Whether every word of `query` appears in the name, title, trigger or tags."""
        haystack = " ".join((self.name, self.title, self.trigger, *self.tags)).lower()
        return all(word in haystack for word in query.lower().split())
