"""Reading an incident's Slack thread for team sync (team-sync.md §3.3, §3.4): what a read
imports, this laptop's echoes it confirms as sent, the echoes a whole read misses (queued
again), people's deleted messages (corrected), and the names of the people it mentions.

`ReadingThread` is a mixin: `ThreadSync` (cockpit.comms.sync) composes it and owns the state
it declares.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cockpit.comms.slack_thread import Identity, SlackThreadApi
from cockpit.comms.sync_messages import Round, ts_minus
from cockpit.domain import Clock
from cockpit.store import Store, SyncThread
from cockpit.sync.entry import SyncEntry, is_declared
from cockpit.sync.ids import SLACK_NODE
from cockpit.sync.slack_text import (
    ThreadSource,
    deletion_entry,
    is_ts,
    message_entries,
    ts_time,
)

OVERLAP = timedelta(seconds=60)
"""How far before the last message seen each read starts: a message with a lower `ts` may
become visible after a higher one."""
DELETION_SETTLE = timedelta(seconds=60)
"""A person's message missing from a whole read counts as deleted only if older than this."""
NOTE_READ_EVERY = timedelta(minutes=1)
"""A read that brings nothing new is written down (`last_read_at`) at most this often: each
write would make the open app re-read the incident (this laptop's screen shows the time of
the last read from memory)."""


@dataclass
class Health:
    """How one incident's sync stands on this laptop (what `ThreadSync.status` shows)."""

    offline_since: datetime | None = None
    reason: str | None = None
    last_read_at: datetime | None = None
    last_activity: datetime | None = None


class ReadingThread:
    """Reads a thread and imports it; the state it declares is `ThreadSync`'s."""

    store: Store
    api: SlackThreadApi
    clock: Clock
    _identity: Identity | None
    _names: dict[str, str | None]
    _doubt: dict[str, datetime]  # uid -> when its post may have landed
    _health: dict[int, Health]

    async def identity(self) -> Identity:
        """Who "we" are on Slack (auth.test, once)."""
        if self._identity is None:
            self._identity = await self.api.identity()
        return self._identity

    async def _read(
        self, incident_id: int, thread: SyncThread, done: Round, *, full: bool
    ) -> SyncThread:
        identity = await self.identity()
        oldest = None if full or thread.last_ts is None else ts_minus(thread.last_ts, OVERLAP)
        started = self.clock()
        messages = await self.api.replies(thread.channel, thread.root_ts, oldest)
        gid = self.store.incident(incident_id).gid
        await self._learn_names(messages)
        source = ThreadSource(
            gid=gid,
            channel=thread.channel,
            app_id=identity.app_id,
            bot_id=identity.bot_id,
            user_name=self._names.get,
        )
        entries: list[SyncEntry] = []
        present: dict[str, str] = {}  # uid -> ts of the message that carries it
        seen_ts: set[str] = set()
        last_ts = thread.last_ts
        for message in messages:
            ts = message.get("ts")
            if not is_ts(ts):
                continue
            assert isinstance(ts, str)
            seen_ts.add(ts)
            if last_ts is None or float(ts) > float(last_ts):
                last_ts = ts
            got = message_entries(message, source)
            done.problems += got.problems
            for wire in got.entries:
                entries.append(wire.entry)
                if source.is_ours(message):
                    present[wire.entry.uid] = ts
        if full:
            entries += self._deletions(incident_id, gid, thread.channel, seen_ts, started)
        entries = self.store.unheld(entries)  # the overlap brings back what is here
        if entries:
            done.imported += self.store.import_entries(incident_id, entries, "slack")
        self._confirm_own(incident_id, thread.channel, present)
        if full:
            self._requeue_missing(incident_id, present, started)
        now = self.clock()
        self._health.setdefault(incident_id, Health()).last_read_at = now
        noted = thread.last_read_at
        if full or last_ts != thread.last_ts or noted is None or now - noted >= NOTE_READ_EVERY:
            self.store.note_read(incident_id, last_ts=last_ts, full_scan=full)
        return self.store.thread_for(incident_id) or thread

    def _confirm_own(self, incident_id: int, channel: str, present: Mapping[str, str]) -> None:
        """Our echoes found in the thread are sent, whatever the post that made them heard."""
        unsent = {e.uid for e in self.store.unsent_entries(incident_id)}
        by_ts: dict[str, list[str]] = {}
        for uid, ts in present.items():
            self._doubt.pop(uid, None)
            if uid in unsent:
                by_ts.setdefault(ts, []).append(uid)
        for ts, uids in by_ts.items():
            self.store.mark_sent(uids, channel, ts)

    def _requeue_missing(
        self, incident_id: int, present: Mapping[str, str], started: datetime
    ) -> None:
        """Anti-entropy: own entries marked sent that a whole read does not find (a deleted
        echo, a lost answer) are queued to be posted again on this round's send."""
        unsent = {e.uid for e in self.store.unsent_entries(incident_id)}
        missing = [
            e.uid
            for e in self.store.sync_entries(incident_id)
            if e.node == self.store.node
            and e.uid not in present
            and e.uid not in unsent
            and not is_declared(e)
            and started - e.written_at > DELETION_SETTLE
        ]
        if missing:
            self.store.mark_unsent(missing)

    def _deletions(
        self, incident_id: int, gid: str, channel: str, seen: set[str], started: datetime
    ) -> list[SyncEntry]:
        """Corrections for people's messages this laptop imported that a whole read no
        longer finds (Slack removes a deleted reply without a trace)."""
        found = []
        corrected = set()
        entries = self.store.sync_entries(incident_id)
        for entry in entries:
            if entry.corrects_uid and entry.meta.get("event") == "deleted":
                corrected.add(entry.corrects_uid)
        for entry in entries:
            ts = entry.meta.get("ts")
            if (
                entry.node == SLACK_NODE
                and entry.corrects_uid is None
                and isinstance(ts, str)
                and is_ts(ts)
                and ts not in seen
                and entry.uid not in corrected
                and entry.meta.get("event") != "deleted"
                and started - ts_time(ts) > DELETION_SETTLE
            ):
                found.append(deletion_entry(gid, channel, ts))
        return found

    async def _learn_names(self, messages: Iterable[Mapping[str, Any]]) -> None:
        """`users.info` for every person the messages name that is not cached yet."""
        import re

        wanted: set[str] = set()
        for message in messages:
            user = message.get("user")
            if isinstance(user, str) and user and not message.get("bot_id"):
                wanted.add(user)
            text = message.get("text")
            if isinstance(text, str):
                wanted.update(re.findall(r"<@([UW][A-Z0-9]+)", text))
        for user in sorted(wanted - self._names.keys()):
            name = self.store.slack_user(user)
            if name is None:
                name = await self.api.user_name(user)
                if name is not None:
                    self.store.set_slack_user(user, name)
            self._names[user] = name
