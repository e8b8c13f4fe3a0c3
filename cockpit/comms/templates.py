"""Status-update templates: which one fits the incident's phase, and filling it in.

Placeholders were validated when the configuration was loaded (`config.check_template`), so
rendering cannot meet an unknown one; `render_template` still refuses rather than send `{x}`.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import uuid4

from cockpit.board import Board
from cockpit.config import TEMPLATE_FIELDS, Config, ConfigError
from cockpit.domain import Status, strip_control

PHASES = ("acknowledge", "update", "resolution")
DEFAULT_NEXT_UPDATE_MINUTES = 60
"""What `{next_update_minutes}` promises when the severity has no update cadence."""


def phase_for(updates_sent: int, status: Status) -> str:
    """Acknowledge if nothing was published yet, resolution when resolving, update otherwise."""
    if status is Status.RESOLVED:
        return "resolution"
    return "acknowledge" if updates_sent == 0 else "update"


def template_text(config: Config, name: str) -> str:
    if name not in PHASES:
        raise ValueError(f"unknown template {name!r} (expected one of {', '.join(PHASES)})")
    return str(getattr(config.templates, name))


def next_update_minutes(board: Board) -> int:
    return board.every_minutes or board.severity.first_update_minutes or DEFAULT_NEXT_UPDATE_MINUTES


def human_duration(delta: timedelta) -> str:
    """`45 min`, `2 h 05 min`, `3 d 4 h`: a duration customers read."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins:02d} min"
    return f"{mins} min"


def template_fields(board: Board, status: Status, summary: str, now: datetime) -> dict[str, str]:
    """Every placeholder's value for this incident, as it will be after publishing `status`."""
    incident = board.incident
    fields = {
        "id": incident.ref,
        "title": incident.title,
        "service": incident.service or incident.title,
        "severity": incident.severity,
        "status": status.value,
        "next_update_minutes": str(next_update_minutes(board)),
        "time": now.strftime("%H:%M UTC"),
        "summary": summary.strip(),
        "commander": incident.roles.get("commander", ""),
        "communicator": incident.roles.get("communicator", ""),
        "duration": human_duration(board.since_declared),
    }
    assert set(fields) == set(TEMPLATE_FIELDS), "TEMPLATE_FIELDS and template_fields disagree"
    return fields


def render_template(template: str, fields: dict[str, str]) -> str:
    """Fill the placeholders; blank runs left by empty fields collapse to one space.

    The summary (what the responder typed) is never lost nor reflowed: it fills `{summary}`
    as typed, and where the template has no `{summary}` it follows as its own paragraph.
    """
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    unknown = names - set(fields)
    if unknown:
        raise ConfigError(f"template: unknown placeholder {{{sorted(unknown)[0]}}}")
    # The composer shows this in an editor and customers read it: no controls, no bidi.
    summary = strip_control(fields.get("summary", "")).strip()
    if not summary:
        return _tidy(template.format_map(fields))
    # Tidy the template around a marker, then put the typed text in as it is. The marker is
    # private-use text, not control characters, which the tidying strips.
    marker = f"\ue000{uuid4().hex}\ue001"
    text = _tidy(template.format_map({**fields, "summary": marker}))
    if "summary" not in names:
        return f"{text}\n\n{summary}" if text else summary
    return text.replace(marker, summary)


def _tidy(text: str) -> str:
    text = strip_control(text)
    lines = [re.sub(r"[ \t]{2,}", " ", line).strip() for line in text.splitlines()]
    return "\n".join(lines).strip()


@dataclass(frozen=True)
class Draft:
    """A status update ready to edit: the template it came from, the status, the text."""

    template: str
    status: Status
    text: str
