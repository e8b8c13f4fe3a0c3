"""Who else works an incident, and how this laptop's sync stands: what the screen and
`cockpit show --json` say about the team. Pure: computed from entries and a few moments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cockpit.sync.entry import SyncEntry
from cockpit.sync.slack_text import SLACK_NODE


@dataclass(frozen=True)
class SyncThread:
    """Where an incident's entries are shared: its Slack thread, how far it was read, and
    when it was last read whole (to catch edits, deletions and lost echoes)."""

    channel: str
    root_ts: str
    last_ts: str | None = None
    last_full_scan_at: datetime | None = None
    permalink: str | None = None
    last_read_at: datetime | None = None


@dataclass(frozen=True)
class Peer:
    """Someone else on the incident: another laptop (by its node) or a person writing in
    Slack, under the name they last wrote as, and when that was."""

    name: str
    last_heard: datetime
    node: str  # the laptop's node, or `slack:<user>` for a person writing in Slack


def peers(entries: Iterable[SyncEntry], own_node: str) -> list[Peer]:
    """Everyone but this laptop who wrote to the incident, the most recently heard first."""
    latest: dict[str, SyncEntry] = {}
    for entry in entries:
        if entry.node == own_node:
            continue
        if entry.node == SLACK_NODE:
            user = entry.meta.get("user") or entry.meta.get("bot_id")
            if not isinstance(user, str) or not user or entry.corrects_uid:
                continue
            key = f"slack:{user}"
        else:
            key = entry.node
        if key not in latest or entry.written_at >= latest[key].written_at:
            latest[key] = entry
    found = [Peer(e.author or "?", e.written_at, key) for key, e in latest.items()]
    return sorted(found, key=lambda p: (-p.last_heard.timestamp(), p.name, p.node))


SyncState = Literal["off", "live", "waiting", "offline"]


@dataclass(frozen=True)
class SyncStatus:
    """How this laptop's sync of one incident stands."""

    state: SyncState
    pending: int = 0
    offline_since: datetime | None = None
    reason: str | None = None
    last_read_at: datetime | None = None

    def describe(self) -> str:
        """`live`, `3 entries waiting to send`, `offline since 02:14 UTC (reason)`."""
        if self.state == "off":
            return "not shared (sync off)"
        if self.state == "offline":
            since = f" since {self.offline_since:%H:%M} UTC" if self.offline_since else ""
            waiting = f", {_entries(self.pending)} waiting" if self.pending else ""
            reason = f" ({self.reason})" if self.reason else ""
            return f"offline{since}{waiting}{reason}"
        if self.pending:
            return f"{_entries(self.pending)} waiting to send"
        return "live"


def _entries(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"
