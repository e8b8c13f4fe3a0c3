"""The exported file: its name, where it goes, writing it, and the whole export in one call."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.domain.incident import Incident
from cockpit.files import write_text
from cockpit.postmortem.render import render_markdown
from cockpit.postmortem.report import build_report

if TYPE_CHECKING:
    from cockpit.config import Config
    from cockpit.store import Store


def slug(title: str, limit: int = 48) -> str:
    """A file-name-safe lower-case slug of `title` ("incident" when nothing is left)."""
    text = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    if len(text) > limit:
        text = text[:limit].rsplit("-", 1)[0] if "-" in text[:limit] else text[:limit]
    return text.strip("-") or "incident"


def export_filename(incident: Incident) -> str:
    """`postmortem-INC-7-checkout-api-errors.md`."""
    return f"postmortem-{incident.ref}-{slug(incident.title)}.md"


def export_path(config: Config, incident: Incident) -> Path:
    """Where the export goes by default: `[postmortem] dir` (relative to the working dir)."""
    return Path(config.postmortem.dir).expanduser() / export_filename(incident)


def write_export(path: Path, text: str) -> Path:
    """Write the document atomically (a reader never sees half of it); returns the path.

    A symlink is written through and a FIFO or device (`/dev/stdout`) gets a stream; neither
    is ever replaced by a file (`cockpit.files.write_text`).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text(path, text)


def export_markdown(
    store: Store,
    config: Config,
    incident_id: int,
    now: datetime,
    *,
    tz: tzinfo | None = None,
) -> str:
    """The post-mortem of one incident as GitHub-flavoured Markdown."""
    report = build_report(store, config, incident_id, now, tz=tz)
    return render_markdown(report)
