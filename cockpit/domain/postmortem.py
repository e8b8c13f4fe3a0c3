"""The post-mortem model: the written fields and their parsing, action items and their states.

Stored by `cockpit.store`, edited by the CLI and the app, exported by `cockpit.postmortem`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from cockpit.domain.moments import check_day


class ItemState(StrEnum):
    """Where an action item stands."""

    OPEN = "open"
    DONE = "done"
    WONT_DO = "wont_do"

    @property
    def label(self) -> str:
        return "won't do" if self is ItemState.WONT_DO else self.value


def parse_item_state(text: str) -> ItemState:
    """`open`, `done`, `won't do` (also `wont-do`, `wontdo`); ValueError listing them otherwise."""
    key = re.sub(r"[\s_'’-]", "", text.strip().lower())
    for state in ItemState:
        if key == state.value.replace("_", ""):
            return state
    raise ValueError(f"unknown action item state {text!r} (expected open, done or won't do)")


@dataclass(frozen=True)
class ActionItem:
    """A specific, assignable task that makes a recurrence less likely or less bad."""

    id: int
    incident_id: int
    title: str
    owner: str = ""
    deadline: date | None = None
    state: ItemState = ItemState.OPEN
    created_at: datetime | None = None
    unreadable: Mapping[str, str] = field(default_factory=dict)
    """Stored values that could not be read (column -> raw text); shown flagged."""

    def past_deadline(self, now: datetime) -> bool:
        """Still open after its deadline day (UTC) has ended."""
        return (
            self.state is ItemState.OPEN
            and self.deadline is not None
            and now.astimezone(UTC).date() > self.deadline
        )


TEXT_FIELDS = (
    "summary",
    "impact",
    "contributing_factors",
    "went_well",
    "went_poorly",
    "lessons",
)
"""The free-text fields; `root_cause` is the other field, an ordered list of "whys"."""

FIELDS = ("summary", "impact", "root_cause", *TEXT_FIELDS[2:])
"""Every editable field, in the order the screen and the export show them."""

FIELD_LABELS: Mapping[str, str] = {
    "summary": "Summary",
    "impact": "Customer impact",
    "root_cause": "Root cause (five whys)",
    "contributing_factors": "Contributing factors",
    "went_well": "What went well",
    "went_poorly": "What went poorly",
    "lessons": "Lessons learned",
}

FIELD_HINTS: Mapping[str, str] = {
    "summary": "What happened, in two or three sentences a newcomer understands.",
    "impact": "Who was affected, how, for how long; numbers where you have them.",
    "root_cause": (
        'One "why" per line, from the symptom down: keep asking why until you reach a cause '
        "in how the system is built or run, not a person."
    ),
    "contributing_factors": (
        "One per line: conditions that made it worse or harder to detect (missing monitoring, "
        "unclear runbooks, a confusing deployment process)."
    ),
    "went_well": "One per line: what helped and should be kept.",
    "went_poorly": "One per line: what got in the way.",
    "lessons": "One per line: what the team now knows that it did not before.",
}


@dataclass(frozen=True)
class Postmortem:
    """The written part of a post-mortem; metrics are computed, never stored here."""

    incident_id: int
    summary: str = ""
    impact: str = ""
    root_cause: tuple[str, ...] = ()
    contributing_factors: str = ""
    went_well: str = ""
    went_poorly: str = ""
    lessons: str = ""
    completed_at: datetime | None = None
    updated_at: datetime | None = None
    updated_by: str = ""
    unreadable: Mapping[str, str] = field(default_factory=dict)
    """Stored values that could not be read (column -> raw text); shown flagged."""

    def text_of(self, name: str) -> str:
        """A field as editable text (the whys one per line)."""
        if name == "root_cause":
            return "\n".join(self.root_cause)
        if name not in TEXT_FIELDS:
            raise KeyError(name)
        return str(getattr(self, name))


def whys_from_text(text: str) -> tuple[str, ...]:
    """Editable text back to the ordered whys: one per non-empty line, numbering dropped."""
    whys = []
    for line in text.splitlines():
        why = re.sub(r"^\s*(?:\d{1,3}[.)]|[-*•])\s+", "", line).strip()
        if why:
            whys.append(why)
    return tuple(whys)


def field_value(name: str, text: str) -> str | tuple[str, ...]:
    """What `Store.set_postmortem` takes for a field edited as `text`."""
    if name == "root_cause":
        return whys_from_text(text)
    if name not in TEXT_FIELDS:
        raise KeyError(name)
    return text


def normalize_field_name(name: str) -> str:
    """`root-cause`, `Root cause`, `factors` -> the field name; ValueError listing them."""
    key = re.sub(r"[\s-]+", "_", name.strip().lower())
    key = {
        "factors": "contributing_factors",
        "customer_impact": "impact",
        "whys": "root_cause",
    }.get(key, key)
    if key not in FIELDS:
        choices = ", ".join(f.replace("_", "-") for f in FIELDS)
        raise ValueError(f"unknown post-mortem field {name!r} (expected one of {choices})")
    return key


_RELATIVE_DAYS = re.compile(r"^\+?\s*(\d{1,4})\s*(d|days?|w|weeks?)$", re.IGNORECASE)


def parse_deadline(text: str, now: datetime) -> date | None:
    """`2026-12-04`, or `+7d` / `2w` from today (local); "" clears. ValueError otherwise,
    and for a date outside the range cockpit accepts (`check_day`)."""
    raw = text.strip()
    if not raw:
        return None
    match = _RELATIVE_DAYS.match(raw)
    if match:  # at most 9999 weeks: never past date.max
        days = int(match.group(1)) * (7 if match.group(2).lower().startswith("w") else 1)
        day = now.astimezone().date() + timedelta(days=days)
    else:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"not a deadline: {text!r} (use YYYY-MM-DD, +7d or 2w)") from None
    return check_day(day, f"deadline {text!r}")
