"""Posting to an incident's Slack thread for team sync (team-sync.md §3.2, §3.4): its root,
under the store's claim so that one poster posts it, and this laptop's entries in batches,
one post per second per channel, each post measuring this laptop's clock against Slack's.

`PostingThread` is a mixin: `ThreadSync` (cockpit.comms.sync) composes it and owns the state
it declares.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from cockpit.comms.slack_thread import SlackFailure, SlackThreadApi
from cockpit.comms.sync_messages import Round, batches, root_text
from cockpit.domain import Clock
from cockpit.store import Store, SyncThread
from cockpit.sync.entry import SyncEntry, is_declared
from cockpit.sync.hlc import skew_ms, wall_ms
from cockpit.sync.slack_text import is_ts, ts_ms
from cockpit.sync.wire import (
    EVENT_INCIDENT,
    WireError,
    decode,
    echo_text,
    encode_batches,
    encode_incident,
)

POST_GAP = 1.0
"""Seconds between two posts to one channel (Slack: one message per second per channel)."""

ROOT_LEASE = timedelta(seconds=60)
"""How long a claim to post an incident's root holds off other posters (a post and a
permalink, each within Slack's timeout); after it, the next poster looks for the root first."""

Sleep = Callable[[float], Awaitable[None]]


class ThreadBusy(Exception):
    """Another poster (the delivery worker, another process) is posting the incident's root."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"another cockpit is posting the incident's Slack root until {until}")
        self.until = until


class PostingThread:
    """Posts a thread's root and this laptop's echoes; the state it declares is `ThreadSync`'s."""

    store: Store
    api: SlackThreadApi
    channel: str
    clock: Clock
    sleep: Sleep
    doubt_settle: timedelta
    post_gap: float
    root_lease: timedelta
    _owner: str  # this poster, in the store's root claims
    _next_post_at: datetime | None
    _doubt: dict[str, datetime]  # uid -> when its post may have landed

    async def start_thread(self, incident_id: int) -> SyncThread | None:
        """The incident's thread, its root posted now if nobody has posted one: the store's
        claim (`Store.claim_root`) lets one poster at a time on this laptop (this sync, the
        delivery worker, another process) post it; a claim that ended without a root means
        a post may have landed, so the channel is searched for the root by the incident's gid
        first. Only the laptop that declared the incident posts its root; another adopts a
        root it finds (an incident imported from a file). None when there is none to adopt;
        ThreadBusy while another poster holds the claim."""
        incident = self.store.incident(incident_id)
        declared = next((e for e in self.store.sync_entries(incident_id) if is_declared(e)), None)
        ours = declared is not None and declared.node == self.store.node
        claim = self.store.claim_root(
            incident_id, self.channel, self._owner, self.clock() + self.root_lease
        )
        if claim.thread is not None:
            return claim.thread
        if claim.busy_until is not None:
            raise ThreadBusy(claim.busy_until)
        try:
            root_ts = await self._find_root(incident.gid) if claim.in_doubt or not ours else None
            if root_ts is None and ours:
                assert declared is not None
                metadata = encode_incident(incident.gid, declared, incident.ref)
                await self._pace()
                root_ts = await self._post(self.channel, root_text(incident), metadata)
        except SlackFailure as exc:
            if not exc.maybe_landed:
                self.store.release_root(incident_id, self.channel, self._owner)
            raise
        if root_ts is None:
            self.store.release_root(incident_id, self.channel, self._owner)
            return None  # not ours to start: joined incidents come with their thread
        if declared is not None and ours:
            self.store.mark_sent([declared.uid], self.channel, root_ts)
        self._share_root(incident_id, self.channel, root_ts)
        thread = self.store.set_thread(incident_id, self.channel, root_ts)
        try:
            permalink = await self.api.permalink(self.channel, root_ts)
        except SlackFailure:
            return thread  # the root stands without its link: people copy it from Slack
        return self.store.set_thread(incident_id, self.channel, root_ts, permalink=permalink)

    def _share_root(self, incident_id: int, channel: str, root_ts: str) -> None:
        """Published updates reply in the same thread (the Slack delivery's root)."""
        if channel == self.channel:
            self.store.set_remote_ref(incident_id, "slack", f"root_ts:{channel}", root_ts)

    async def _find_root(self, gid: str) -> str | None:
        for message in await self.api.recent_roots(self.channel):
            metadata = message.get("metadata")
            if not isinstance(metadata, dict) or metadata.get("event_type") != EVENT_INCIDENT:
                continue
            try:
                received = decode(metadata)
            except WireError:
                continue
            ts = message.get("ts")
            if received.gid == gid and isinstance(ts, str):
                return ts
        return None

    # -- sending

    async def _send(
        self, incident_id: int, thread: SyncThread, done: Round, *, after_read: bool
    ) -> None:
        """Post this laptop's unsent entries. One whose earlier post may have landed goes
        again only once a read (`after_read`: just before) has missed it `doubt_settle` after
        that post; from then on it is simply unsent (a refused post, 429, did not land)."""
        now = self.clock()
        gid = self.store.incident(incident_id).gid
        waiting = []
        for entry in self.store.unsent_entries(incident_id):
            doubted = self._doubt.get(entry.uid)
            if is_declared(entry):
                continue
            if doubted is not None:
                if not after_read or now - doubted < self.doubt_settle:
                    continue
                del self._doubt[entry.uid]  # missed by a read: it never landed
            waiting.append(entry)
        for batch in batches(gid, waiting):
            done.sent += await self._post_batch(gid, thread, batch)

    async def _post_batch(self, gid: str, thread: SyncThread, batch: list[SyncEntry]) -> int:
        """Post `batch` (split when Slack finds its metadata too large); entries sent."""
        metadata = encode_batches(gid, batch, budget=10**9, most=len(batch))[0]
        await self._pace()
        try:
            ts = await self._post(thread.channel, echo_text(batch), metadata, thread.root_ts)
        except SlackFailure as exc:
            if exc.error == "metadata_too_large" and len(batch) > 1:
                half = len(batch) // 2
                first = await self._post_batch(gid, thread, batch[:half])
                return first + await self._post_batch(gid, thread, batch[half:])
            if exc.maybe_landed:
                moment = self.clock()
                for entry in batch:
                    self._doubt[entry.uid] = moment
            raise
        self.store.mark_sent([e.uid for e in batch], thread.channel, ts)
        return len(batch)

    async def _post(
        self,
        channel: str,
        text: str,
        metadata: Mapping[str, Any],
        thread_ts: str | None = None,
    ) -> str:
        """Post, and measure this laptop's clock against the `ts` Slack gave the message
        (taken halfway through the call, so a slow answer does not count as skew)."""
        sent = wall_ms(self.clock())
        ts = await self.api.post(channel, text, metadata, thread_ts)
        answered = wall_ms(self.clock())
        if is_ts(ts):
            self.store.note_skew(skew_ms((sent + answered) // 2, ts_ms(ts)))
        return ts

    async def _pace(self) -> None:
        """At most one post per second per channel from this laptop."""
        now = self.clock()
        if self._next_post_at is not None and now < self._next_post_at:
            await self.sleep((self._next_post_at - now).total_seconds())
        self._next_post_at = max(now, self._next_post_at or now) + timedelta(seconds=self.post_gap)
