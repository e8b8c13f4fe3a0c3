"""What team sync posts, says and reports: the thread's root text, entries grouped into the
messages `encode_batches` sends, `ts` arithmetic for reads that overlap, a failure in one line,
and what a round did."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from cockpit.comms.slack_thread import SlackFailure
from cockpit.domain import Incident, one_line
from cockpit.plaintext import clean_line, slack_escape
from cockpit.sync.entry import SyncEntry
from cockpit.sync.wire import BATCH_CAP_BYTES, encode_batches


class NotACockpitThread(Exception):
    """The link points at a message that is not the root of a cockpit incident (one line)."""


@dataclass
class Round:
    """What one round did: entries posted, uids imported, messages it could not read, and
    the failure that ended it early (None when it went through)."""

    sent: int = 0
    imported: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    failure: SlackFailure | None = None

    @property
    def quiet(self) -> bool:
        """Nothing sent, nothing new read, nothing failed: this laptop and the thread agree."""
        return self.failure is None and not self.sent and not self.imported


def batches(gid: str, entries: Sequence[SyncEntry]) -> list[list[SyncEntry]]:
    """Entries grouped as `encode_batches` would send them (same budget and count)."""
    groups: list[list[SyncEntry]] = []
    start = 0
    for metadata in encode_batches(gid, entries, BATCH_CAP_BYTES):
        payload = metadata["event_payload"]
        assert isinstance(payload, dict)
        items = payload.get("entries")
        count = len(items) if isinstance(items, list) else 1
        groups.append(list(entries[start : start + count]))
        start += count
    return groups


def root_text(incident: Incident) -> str:
    """The root message a person reads: severity, id and title, and what the thread is."""
    title = slack_escape(clean_line(incident.title, 150))
    severity = slack_escape(clean_line(incident.severity, 32))
    lead = f"*{severity} · {incident.ref} · {title}*"
    return f"{lead}\ncockpit incident: the team's timeline is in this thread"


def ts_minus(ts: str, delta: timedelta) -> str:
    """A Slack `ts` moved `delta` earlier (never below zero)."""
    seconds = max(float(ts) - delta.total_seconds(), 0.0)
    return f"{seconds:.6f}"


def reason(failure: SlackFailure) -> str:
    """A failure as the one line the sync state shows, with what to do when reads are throttled."""
    if failure.throttled:
        return (
            f"{one_line(failure.reason)}; Slack allows this app one read a minute: make it an "
            "internal app (cockpit slack-manifest)"
        )
    return one_line(failure.reason)
