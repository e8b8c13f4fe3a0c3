"""How this laptop's sync of an incident stands: what the screen and `cockpit sync` say."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cockpit.sync.hlc import describe_skew, skew_shown

SyncState = Literal["off", "live", "waiting", "offline"]


@dataclass(frozen=True)
class SyncStatus:
    """How this laptop's sync of one incident stands."""

    state: SyncState
    pending: int = 0
    offline_since: datetime | None = None
    reason: str | None = None
    last_read_at: datetime | None = None
    skew_ms: int | None = None
    """This laptop's clock against Slack's at its latest post (ms, positive: ahead)."""

    def describe(self) -> str:
        """`live`, `3 entries waiting to send`, `offline since 02:14 UTC (reason)`, and the
        clock skew when it is worth showing (`live · this laptop's clock is 90.0 s ahead of
        Slack's`)."""
        state = self._state()
        if self.state != "off" and self.skew_ms is not None and skew_shown(self.skew_ms):
            return f"{state} · {describe_skew(self.skew_ms)}"
        return state

    def _state(self) -> str:
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
