"""An incident already open in the team's Slack channel, found before declaring another
(team-sync.md §3.4): what the person is shown, and what joining it takes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cockpit.domain import format_local, one_line


@dataclass(frozen=True)
class OpenIncident:
    """A cockpit incident whose thread is in the channel and is not resolved."""

    gid: str
    channel: str
    root_ts: str
    title: str
    severity: str
    declared_by: str
    declared_at: datetime | None
    permalink: str | None
    local_ref: str | None = None
    """`INC-n` when this laptop already has it (declared or joined here)."""

    def describe(self, now: datetime) -> str:
        """`SEV-1 · Checkout API errors · declared 02:14 by alice` (one line)."""
        parts = [one_line(self.severity), one_line(self.title)]
        declared = "declared"
        if self.declared_at is not None:
            declared += f" {format_local(self.declared_at, now)}"
        if self.declared_by:
            declared += f" by {one_line(self.declared_by)}"
        return " · ".join([p for p in parts if p] + [declared])

    def how_to_join(self) -> str:
        """The command that takes it up here (or shows it, when this laptop has it)."""
        if self.local_ref is not None:
            return f"it is here as {self.local_ref}: cockpit show {self.local_ref}"
        if self.permalink:
            return f"join it with: cockpit join {one_line(self.permalink)}"
        return "join it from the link of its root message in Slack: cockpit join LINK"
