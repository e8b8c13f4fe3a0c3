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
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cockpit.comms.slack_thread import Identity, SlackFailure, SlackThreadApi
from cockpit.comms.sync_messages import NotACockpitThread, Round, reason
from cockpit.comms.sync_post import POST_GAP, ROOT_LEASE, PostingThread, Sleep
from cockpit.comms.sync_post import ThreadBusy as ThreadBusy  # the delivery worker catches it here
from cockpit.comms.sync_read import Health, ReadingThread
from cockpit.comms.target import scrubber_for
from cockpit.comms.targets import configured_targets
from cockpit.config import Config, ConfigError
from cockpit.domain import Clock, Incident, system_clock
from cockpit.store import Store
from cockpit.store.drills import DrillStore
from cockpit.sync.ids import SLACK_NODE
from cockpit.sync.permalink import ThreadRef
from cockpit.sync.presence import SyncStatus
from cockpit.sync.slack_text import ThreadSource
from cockpit.sync.wire import EVENT_INCIDENT, WireError, decode

if TYPE_CHECKING:
    import httpx

FULL_SCAN_EVERY = timedelta(minutes=5)
DOUBT_SETTLE = timedelta(seconds=5)
"""After a post that may have landed, how long reads must miss it before it is posted again."""
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


class _Held(SlackFailure):
    """A call not made: Slack's Retry-After has not run out yet."""


class ThreadSync(ReadingThread, PostingThread):
    """Syncs incidents through their Slack threads: `round` once, or `run` until cancelled.
    What a read does is `ReadingThread`'s (cockpit.comms.sync_read), what a post does
    `PostingThread`'s (cockpit.comms.sync_post); the schedule, the rounds and the holds are
    here."""

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
        self._health: dict[int, Health] = {}
        self._wake = asyncio.Event()

    # -- what the screen shows

    def status(self, incident_id: int) -> SyncStatus:
        """How this incident's sync stands on this laptop."""
        health = self._health.get(incident_id, Health())
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
        health = self._health.setdefault(incident_id, Health())
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
        health = self._health.setdefault(incident_id, Health())
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

    def _settle(self, incident_id: int, health: Health, done: Round, *, read: bool = True) -> None:
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
