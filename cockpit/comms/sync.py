"""Team sync over the incident's Slack thread: post the root, echo this laptop's entries,
read everyone else's (team-sync.md §3.2–3.4, §3.7).

One round for one incident: make sure the thread exists (this laptop declared it: post the
root with the declared entry in its metadata); read the thread from a little before the last
message seen (or whole, now and then); import what it holds; then post this laptop's unsent
entries in batches, one post per second per channel. Reading comes first so that an echo that
landed although its post failed (a timeout, "stored, then 500", a laptop killed mid-post) is
found and marked sent instead of being posted twice. A whole read also finds this laptop's
echoes that never arrived (sent again), and people's messages that were deleted (a
correction). Only messages from the cockpit's own app carry entries that change state; the
import is the store's, idempotent, and queues no deliveries.

Slack is never waited for by a key: the app runs this in a background task; `cockpit log`
never calls it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cockpit.comms.slack_thread import Identity, SlackFailure, SlackThreadApi
from cockpit.comms.sync_messages import (
    NotACockpitThread,
    Round,
    batches,
    reason,
    root_text,
    ts_minus,
)
from cockpit.comms.target import scrubber_for
from cockpit.comms.targets import configured_targets
from cockpit.config import Config, ConfigError
from cockpit.domain import Clock, Incident, system_clock
from cockpit.store import Store, SyncThread
from cockpit.store.drills import DrillStore
from cockpit.sync.entry import SyncEntry, is_declared
from cockpit.sync.hlc import skew_ms, wall_ms
from cockpit.sync.ids import SLACK_NODE
from cockpit.sync.permalink import ThreadRef
from cockpit.sync.presence import SyncStatus
from cockpit.sync.slack_text import (
    ThreadSource,
    deletion_entry,
    is_ts,
    message_entries,
    ts_ms,
    ts_time,
)
from cockpit.sync.wire import (
    EVENT_INCIDENT,
    WireError,
    decode,
    echo_text,
    encode_batches,
    encode_incident,
)

if TYPE_CHECKING:
    import httpx

OVERLAP = timedelta(seconds=60)
"""How far before the last message seen each read starts: a message with a lower `ts` may
become visible after a higher one."""
FULL_SCAN_EVERY = timedelta(minutes=5)
DOUBT_SETTLE = timedelta(seconds=5)
"""After a post that may have landed, how long reads must miss it before it is posted again."""
DELETION_SETTLE = timedelta(seconds=60)
"""A person's message missing from a whole read counts as deleted only if older than this."""
NOTE_READ_EVERY = timedelta(minutes=1)
"""A read that brings nothing new is written down (`last_read_at`) at most this often: each
write would make the open app re-read the incident (this laptop's screen shows the time of
the last read from memory)."""
IDLE_AFTER = timedelta(minutes=2)
"""Nothing sent or read for this long (and not just started): reads slow to the idle poll."""
KEEP_READING_RESOLVED = timedelta(hours=1)
"""How long after an incident was resolved the background sync still reads its thread."""
TEAM_SIZE = 3
"""Laptops the default poll is budgeted for (3 × under 12 reads a minute within Tier 3's 50)."""
POLL_SPREAD = 0.05
"""Each pause between reads is the poll times 1 to 1 + this (at random): laptops do not read in
step, a laptop stays under 60 / poll reads a minute, and an entry waits at most this much
longer than the poll for the next read."""
HOLD_SPREAD = 0.2
"""Slack's Retry-After is waited out times 1 to 1 + this (at random)."""
LOCAL_CHECK = 0.25
"""Seconds between two looks for entries written here by another connection (the app's writer,
`cockpit log`): one local query, no Slack call; what is found is posted at once."""
POST_GAP = 1.0
"""Seconds between two posts to one channel (Slack: one message per second per channel)."""

ROOT_LEASE = timedelta(seconds=60)
"""How long a claim to post an incident's root holds off other posters (a post and a
permalink, each within Slack's timeout); after it, the next poster looks for the root first."""

Sleep = Callable[[float], Awaitable[None]]


class _Held(SlackFailure):
    """A call not made: Slack's Retry-After has not run out yet."""


class ThreadBusy(Exception):
    """Another poster (the delivery worker, another process) is posting the incident's root."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"another cockpit is posting the incident's Slack root until {until}")
        self.until = until


@dataclass
class _Health:
    offline_since: datetime | None = None
    reason: str | None = None
    last_read_at: datetime | None = None
    last_activity: datetime | None = None


class ThreadSync:
    """Syncs incidents through their Slack threads: `round` once, or `run` until cancelled."""

    def __init__(
        self,
        store: Store,
        api: SlackThreadApi,
        channel: str,
        *,
        clock: Clock = system_clock,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        poll_seconds: float = 5.0,
        idle_poll_seconds: float = 15.0,
        full_scan_every: timedelta = FULL_SCAN_EVERY,
        doubt_settle: timedelta = DOUBT_SETTLE,
        post_gap: float = POST_GAP,
        root_lease: timedelta = ROOT_LEASE,
        owner: str | None = None,
        on_change: Callable[[int], None] | None = None,
    ) -> None:
        self.store = store
        self.api = api
        self.channel = channel
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter
        self.poll_seconds = poll_seconds
        self.idle_poll_seconds = idle_poll_seconds
        self.full_scan_every = full_scan_every
        self.doubt_settle = doubt_settle
        self.post_gap = post_gap
        self.root_lease = root_lease
        self._owner = owner or secrets.token_hex(8)  # this poster, in the store's root claims
        self.on_change = on_change
        self._identity: Identity | None = None
        self._names: dict[str, str | None] = {}
        self._read_hold: datetime | None = None  # Slack's Retry-After for reads
        self._post_hold: datetime | None = None  # and for posts (a separate budget)
        self._next_read: dict[int, datetime] = {}
        self._data_version: int | None = None
        self._started = clock()
        self._next_post_at: datetime | None = None
        self._doubt: dict[str, datetime] = {}  # uid -> when its post may have landed
        self._health: dict[int, _Health] = {}
        self._wake = asyncio.Event()

    # -- what the screen shows

    def status(self, incident_id: int) -> SyncStatus:
        """How this incident's sync stands on this laptop."""
        health = self._health.get(incident_id, _Health())
        thread = self.store.thread_for(incident_id)
        pending = self.store.sync_pending(incident_id)
        last_read = health.last_read_at or (thread.last_read_at if thread else None)
        measured = self.store.clock_skew()
        skew = measured[0] if measured else None
        if health.offline_since is not None:
            return SyncStatus(
                "offline", pending, health.offline_since, health.reason, last_read, skew
            )
        return SyncStatus("waiting" if pending else "live", pending, None, None, last_read, skew)

    def wake(self) -> None:
        """Post soon what was just written here through the sync's own connection (other
        connections' commits are seen by the next turn without it)."""
        self._wake.set()

    # -- the loop

    async def run(self, incidents: Callable[[], Iterable[int]]) -> None:
        """Turns of `step` for every incident `incidents()` names, until cancelled."""
        while True:
            wait = await self.step(incidents())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def step(self, incidents: Iterable[int]) -> float:
        """One turn: a round (read, then send) for each incident whose read is due; for the
        others, a post of what was written here since the last turn, without a read. Returns
        the seconds until the next turn: soon enough to post a new entry at once, and to read
        each thread every `poll_interval` (counted from the start of the previous read)."""
        written = self._written_here()
        if self._post_hold is not None and self.clock() >= self._post_hold:
            self._post_hold = None  # what waited for Slack's Retry-After goes now
            written = True
        chosen = list(incidents)
        for gone in self._next_read.keys() - set(chosen):  # resolved: no longer read
            del self._next_read[gone]
        for incident_id in chosen:
            now = self.clock()
            due = self._next_read.get(incident_id)
            if due is None or now >= due:
                done = await self.round(incident_id)
                idle = done.quiet and self._idle()
                pause = self.poll_interval(self._team(incident_id), idle=idle)
                pause *= 1.0 + POLL_SPREAD * self.jitter()
                self._next_read[incident_id] = max(
                    now + timedelta(seconds=pause), self._read_hold or now
                )
            elif written and self.store.sync_pending(incident_id):
                await self.send(incident_id)
        now = self.clock()
        soonest = min(self._next_read.values(), default=now + timedelta(seconds=LOCAL_CHECK))
        return max(0.0, min(LOCAL_CHECK, (soonest - now).total_seconds()))

    def poll_interval(self, laptops: int, *, idle: bool) -> float:
        """Seconds between reads: `poll_seconds` for up to three laptops, proportionally
        more beyond (they share one read budget), `idle_poll_seconds` when nothing moves."""
        base = self.idle_poll_seconds if idle else self.poll_seconds
        return base * max(1.0, laptops / TEAM_SIZE)

    def _team(self, incident_id: int) -> int:
        """The laptops working the incident: this one and every other node heard from."""
        return 1 + sum(1 for p in self.store.peers(incident_id) if p.node != SLACK_NODE)

    def _idle(self) -> bool:
        """Nothing sent or imported (on any incident) since IDLE_AFTER, nor just started."""
        latest = max(
            (h.last_activity for h in self._health.values() if h.last_activity),
            default=self._started,
        )
        return self.clock() - max(latest, self._started) > IDLE_AFTER

    def _written_here(self) -> bool:
        """Whether another connection committed since the last look (or `wake` was called):
        then entries written here may wait to be posted."""
        woken = self._wake.is_set()
        self._wake.clear()
        version = self.store.data_version()
        changed = version != self._data_version
        self._data_version = version
        return woken or changed

    # -- one round

    async def round(self, incident_id: int, *, full: bool = False) -> Round:
        """Read the thread, import, send what this laptop has not sent; never raises for
        Slack's failures (they are in the result and in `status`). While Slack asks reads to
        wait (Retry-After), the round still posts; while it asks posts to wait, it still reads."""
        done = Round()
        health = self._health.setdefault(incident_id, _Health())
        read = False
        try:
            thread = self.store.thread_for(incident_id)
            if thread is None:
                if self._posts_held():
                    return done  # the turn after the hold posts the root
                try:
                    thread = await self.start_thread(incident_id)
                except ThreadBusy:
                    return done  # the delivery worker is posting the root: read it next round
                if thread is None:
                    return done  # not ours to start: joined incidents come with their thread
                full = True
            try:
                self._check_hold(self._read_hold)
                scan_due = (
                    thread.last_full_scan_at is None
                    or self.clock() - thread.last_full_scan_at >= self.full_scan_every
                )
                thread = await self._read(incident_id, thread, done, full=full or scan_due)
                read = True
            except SlackFailure as exc:
                if exc.after is None:
                    raise
                self._hold_reads(exc)
                done.failure = exc
            if not self._posts_held():
                await self._send(incident_id, thread, done, after_read=read)
        except SlackFailure as exc:
            done.failure = done.failure or exc
            self._hold_posts(exc)
        self._settle(incident_id, health, done)
        return done

    async def send(self, incident_id: int) -> Round:
        """Post what this laptop wrote and has not sent, without reading the thread (a round
        when the thread is not there yet). Entries whose earlier post may have landed wait
        for a round, which reads first."""
        thread = self.store.thread_for(incident_id)
        if thread is None:
            return await self.round(incident_id)
        done = Round()
        if self._posts_held():
            return done  # the turn after the hold sends it
        health = self._health.setdefault(incident_id, _Health())
        try:
            await self._send(incident_id, thread, done, after_read=False)
        except SlackFailure as exc:
            done.failure = exc
            self._hold_posts(exc)
        self._settle(incident_id, health, done, read=False)
        return done

    def _posts_held(self) -> bool:
        return self._post_hold is not None and self.clock() < self._post_hold

    def _check_hold(self, until: datetime | None) -> None:
        now = self.clock()
        if until is not None and now < until:
            wait = (until - now).total_seconds()
            raise _Held(f"Slack asked to wait {wait:.0f} s more", after=wait)

    def _hold_reads(self, exc: SlackFailure) -> None:
        """Reads wait as long as Slack asked (with jitter: the team's laptops share the
        budget); posts, a separate budget, go on."""
        if exc.after is not None and not isinstance(exc, _Held):
            held = self._hold_end(exc.after)
            self._read_hold = max(held, self._read_hold or held)

    def _hold_posts(self, exc: SlackFailure) -> None:
        """Posts wait as long as Slack asked; reads go on."""
        if exc.after is not None and not isinstance(exc, _Held):
            held = self._hold_end(exc.after)
            self._post_hold = max(held, self._post_hold or held)

    def _hold_end(self, after: float) -> datetime:
        """When to call again: Retry-After plus up to a fifth more, so the laptops that
        shared the budget do not all come back at once (and a 1 s wait stays short)."""
        return self.clock() + timedelta(seconds=after * (1.0 + HOLD_SPREAD * self.jitter()))

    def _settle(self, incident_id: int, health: _Health, done: Round, *, read: bool = True) -> None:
        """What the turn leaves on screen: offline since the first failure, live again after
        a round that went through (a post alone does not say teammates' entries arrive)."""
        if done.failure is not None:
            if health.offline_since is None:
                health.offline_since = self.clock()
            health.reason = reason(done.failure)
        elif read:
            health.offline_since = None
            health.reason = None
        if done.sent or done.imported:
            health.last_activity = self.clock()
        if self.on_change is not None:
            self.on_change(incident_id)

    async def catch_up(self, incident_id: int) -> Round:
        """Read the thread and import what is new, posting nothing: what a teammate just
        wrote (an update) arrives before this laptop publishes. Nothing to read before the
        incident has a thread here; Slack's failure is in the result, never raised."""
        done = Round()
        thread = self.store.thread_for(incident_id)
        if thread is None:
            return done
        try:
            await self._read(incident_id, thread, done, full=False)
        except SlackFailure as exc:
            done.failure = exc
        return done

    async def identity(self) -> Identity:
        """Who "we" are on Slack (auth.test, once)."""
        if self._identity is None:
            self._identity = await self.api.identity()
        return self._identity

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

    async def join(self, ref: ThreadRef, link: str | None = None) -> tuple[Incident, Round]:
        """Take up the incident whose thread `ref` names: check its root carries a cockpit
        incident, create it here with the same gid, and read the whole thread.
        NotACockpitThread when it is not one; SlackFailure when Slack cannot be read."""
        identity = await self.identity()
        where = f"the message {ref.root_ts} in {ref.channel}"
        try:
            messages = await self.api.replies(ref.channel, ref.root_ts)
        except SlackFailure as exc:
            if exc.error in ("thread_not_found", "message_not_found"):
                raise NotACockpitThread(f"{where} is not in Slack any more (deleted?)") from None
            if exc.error in ("channel_not_found", "not_in_channel"):
                raise NotACockpitThread(
                    f"the bot cannot read channel {ref.channel} ({exc.error}); invite it there"
                ) from None
            raise
        root = next((m for m in messages if m.get("ts") == ref.root_ts), None)
        if root is None:
            raise NotACockpitThread(f"{where} is not in Slack any more (deleted?)")
        metadata = root.get("metadata")
        if not isinstance(metadata, dict) or metadata.get("event_type") != EVENT_INCIDENT:
            raise NotACockpitThread(
                f"{where} is not a cockpit incident's root (no incident in its metadata); "
                "copy the link of the incident's first message"
            )
        probe = ThreadSource("0" * 32, ref.channel, identity.app_id, identity.bot_id)
        if not probe.is_ours(root):
            raise NotACockpitThread(f"{where} was posted by another Slack app than this one")
        try:
            received = decode(metadata)
        except WireError as exc:
            raise NotACockpitThread(f"{where}: {exc}") from None
        self.store.import_entries(received.gid, [w.entry for w in received.entries], "slack")
        incident = self.store.incident_by_gid(received.gid)
        self.store.set_thread(incident.id, ref.channel, ref.root_ts, permalink=link)
        self._share_root(incident.id, ref.channel, ref.root_ts)
        return incident, await self.round(incident.id, full=True)

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
        self._health.setdefault(incident_id, _Health()).last_read_at = now
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


def thread_sync(
    store: Store,
    config: Config,
    http: httpx.AsyncClient,
    *,
    clock: Clock = system_clock,
    on_change: Callable[[int], None] | None = None,
) -> ThreadSync:
    """The sync this configuration asks for; ConfigError (naming the key) when it is off."""
    slack = config.slack
    if isinstance(store, DrillStore):  # practice: nothing leaves this laptop, not even to the team
        raise ConfigError("a drill shares nothing with the team: team sync is for real incidents")
    if not config.sync_enabled or slack is None:
        raise ConfigError(
            "team sync is off: it needs [slack] in bot mode (token_env and channel) and "
            "sync.enabled not false"
        )
    return ThreadSync(
        store,
        SlackThreadApi(slack, http, clock, scrubber_for(configured_targets(config).values())),
        slack.channel.strip(),
        clock=clock,
        poll_seconds=config.sync.poll_seconds,
        idle_poll_seconds=config.sync.idle_poll_seconds,
        on_change=on_change,
    )


def shared_incidents(store: Store) -> list[int]:
    """The incidents a background sync keeps reading: every open one, and a resolved one for
    `KEEP_READING_RESOLVED` after it was resolved here and as long as this laptop has entries
    of it to send (a teammate's resolution arrives before their late update or the line
    saying it was superseded; this laptop's own resolution reaches the thread). After that,
    `cockpit sync --incident` reads it once more."""
    chosen = [incident.id for incident in store.incidents(open_only=True)]
    closed = store.closed_threads(store.now() - KEEP_READING_RESOLVED)
    pending = store.threads_to_send()
    return chosen + [i for i in dict.fromkeys([*closed, *pending]) if i not in chosen]
