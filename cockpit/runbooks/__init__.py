"""Runbooks: Markdown files with TOML front matter whose numbered steps become a checklist.

A runbook is parsed once per (path, mtime, size) and cached, so the board can look up the
linked runbook on every tick. Checklist state is never stored here: it is derived from the
timeline's `step` entries, so the app, `cockpit show` and a restarted app always agree.
Escalation is a deadline (declared + N minutes while open) recorded by one `escalation` entry.

`model` (Runbook, Step, RunbookError), `front_matter` (the `+++` TOML splitter drills share),
`parse` (the body's steps, on markdown-it-py), `library` (directories, cache, lookup),
`checklist`, `escalation` and `draft`.
"""

from cockpit.runbooks.checklist import set_step, step_state, step_text, ticked_steps, toggle_step
from cockpit.runbooks.draft import DRAFT_OUTPUT_LINES, draft_name, draft_runbook
from cockpit.runbooks.escalation import (
    Escalation,
    escalation_for,
    escalation_recorded,
    record_escalation,
)
from cockpit.runbooks.front_matter import FRONT_MATTER_FENCE, split_front_matter, type_name
from cockpit.runbooks.library import (
    CACHE,
    NOT_FOUND,
    RunbookCache,
    find_runbook,
    hidden_runbooks,
    linked_runbook,
    load_runbooks,
    runbook_files,
)
from cockpit.runbooks.model import MAX_BYTES, SUFFIX, Runbook, RunbookError, Step
from cockpit.runbooks.parse import TITLE_MAX, parse_runbook, read_runbook, step_title

__all__ = [
    "CACHE",
    "DRAFT_OUTPUT_LINES",
    "FRONT_MATTER_FENCE",
    "MAX_BYTES",
    "NOT_FOUND",
    "SUFFIX",
    "TITLE_MAX",
    "Escalation",
    "Runbook",
    "RunbookCache",
    "RunbookError",
    "Step",
    "draft_name",
    "draft_runbook",
    "escalation_for",
    "escalation_recorded",
    "find_runbook",
    "hidden_runbooks",
    "linked_runbook",
    "load_runbooks",
    "parse_runbook",
    "read_runbook",
    "record_escalation",
    "runbook_files",
    "set_step",
    "split_front_matter",
    "step_state",
    "step_text",
    "step_title",
    "ticked_steps",
    "toggle_step",
    "type_name",
]
