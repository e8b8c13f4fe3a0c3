"""The delivery worker: drains the outbox over async httpx without ever blocking its caller.

Each lane (one target, one incident) has at most one attempt in flight and goes in order;
lanes run concurrently, so a hanging or failing service delays nobody else. Every attempt
is claimed in the database first (compare-and-set, with a lease naming this process), so
two cockpit processes never send the same delivery at once and a delivery a crashed
process left in `sending` is picked up again, as "in doubt", as soon as that process is
gone. Waiting for a retry uses the injected clock and sleep, so tests never really wait.

A target whose secret this process lacks (its variable is not set here) is `held`: its
deliveries are left queued, untouched, for a cockpit that has the secret; failing them would
tell everyone that a page or an update failed when it was this process that could not send.
Every text kept from an attempt passes through one scrubber fed by every target's secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx

from cockpit.comms import sink, transport
from cockpit.comms.attempt import StoredAttempt
from cockpit.comms.outbox import DOUBT_KEY, OWNER_KEY, PENDING_STATES, lane

# The retry policy lives with the outcomes; callers and tests import it from the worker.
from cockpit.comms.outcomes import BACKOFF_BASE as BACKOFF_BASE
from cockpit.comms.outcomes import BACKOFF_CAP as BACKOFF_CAP
from cockpit.comms.outcomes import MAX_RETRY_AFTER as MAX_RETRY_AFTER
from cockpit.comms.outcomes import OutcomeRecorder
from cockpit.comms.outcomes import backoff as backoff
from cockpit.comms.slack import SlackBot
from cockpit.comms.target import (
    MissingSecret,
    Newer,
    Outcome,
    Permanent,
    Retry,
    Sent,
    Target,
    scrubber_for,
    transport_outcome,
)
from cockpit.comms.targets import configured_targets, held
from cockpit.config import Config
from cockpit.domain import Clock, one_line, system_clock
from cockpit.store import Delivery, Store, StoreError

LEASE = timedelta(minutes=5)
"""How long a claim holds if its process cannot be checked (a hung process, another host)."""

Sleep = Callable[[float], Awaitable[None]]
log = logging.getLogger("cockpit.comms")


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str) -> bool:
    """Whether the process that claimed a delivery may still be sending it.

    A killed process must have been reaped to count as gone (a zombie still has its pid).
    """
    host, _, pid = owner.rpartition(":")
    if not host or host != socket.gethostname():
        return True  # cannot tell from here: wait for the lease to end
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, OverflowError):
        return True
    return True


def _quiet_http_logs() -> None:
    # httpx logs every request URL at INFO; a webhook URL is a secret.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


class DeliveryWorker(OutcomeRecorder):
    """Delivers queued updates until stopped (the app) or until the outbox is drained."""

    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        clock: Clock = system_clock,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        targets: Mapping[str, Target] | None = None,
        poll_seconds: float = 1.0,
        on_change: Callable[[Delivery], None] | None = None,
        lease: timedelta = LEASE,
    ) -> None:
        self.store = store
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter
        self.targets = dict(targets if targets is not None else configured_targets(config))
        self.sink = sink.is_sink(store)
        """A drills database: every attempt is recorded by the drill sink, none is sent."""
        self.sharing = config.sync_enabled and not self.sink
        """Team sync is on: the Slack reply of an update carries its entry into the thread."""
        self.poll_seconds = poll_seconds
        self.on_change = on_change
        self.lease = lease
        self.owner = owner_id()
        self._running: dict[tuple[int, str], asyncio.Task[None]] = {}
        self._holds: dict[str, datetime] = {}  # target -> not before (its Retry-After)
        self._tried: set[int] = set()  # deliveries attempted by this worker
        self._wake = asyncio.Event()
        self._http: httpx.AsyncClient | None = None
        self._client_lock = asyncio.Lock()
        self.config = config
        self._root_owner = secrets.token_hex(8)  # this worker, in the store's root claims

    def wake(self) -> None:
        """Look at the outbox now (something was just published)."""
        self._wake.set()

    def held(self) -> dict[str, str]:
        """Targets this process cannot send to, each with why (a secret it lacks, named by
        its key); their deliveries stay queued for a cockpit that has the secret. The drill
        sink needs no secret."""
        return {} if self.sink else held(self.targets)

    def scrub(self, text: str) -> str:
        """`text` without any secret of any configured target, in any encoding."""
        return scrubber_for(self.targets.values()).scrub(text)

    async def run(self, *, until_idle: bool = False, budget: float | None = None) -> None:
        """Deliver until cancelled, or with `until_idle` until nothing is pending. After
        `budget` seconds (of the injected clock) no retry starts; whatever was queued still
        gets its attempt."""
        deadline = self.clock() + timedelta(seconds=budget) if budget is not None else None
        _quiet_http_logs()
        # Built off the event loop (tens of milliseconds: every encoding of every secret),
        # then cached; recording an outcome on the loop only looks it up.
        await asyncio.to_thread(self.scrub, "")
        try:
            while True:
                self._wake.clear()
                now = self.clock()
                stopping = deadline is not None and now >= deadline
                next_due = self._start_due(now, retries=not stopping)
                if not self._running and (stopping or (until_idle and next_due is None)):
                    return
                # Sleep only towards a lane that is waiting: lanes in flight end by
                # themselves (timeouts), and an injected sleep may return at once.
                wake_at = None if stopping or next_due is None else _earliest(next_due, deadline)
                await self._wait(wake_at, poll=not until_idle)
        finally:
            await self._cancel_running()
            if self._http is not None:
                await self._http.aclose()
                self._http = None

    async def _client(self) -> httpx.AsyncClient:
        """The HTTP client, made at the first delivery: loading the CA bundle holds the
        interpreter for tens of milliseconds, which an app with nothing to send never pays."""
        async with self._client_lock:
            if self._http is None:
                # Bounded: capped answers, a total deadline per exchange (transport.py).
                self._http = await asyncio.to_thread(transport.client)
        return self._http

    # -- scheduling

    def _start_due(self, now: datetime, *, retries: bool) -> datetime | None:
        """Start every lane whose head is due; the earliest moment another one will be.

        Without `retries` (the budget is spent) only deliveries not yet tried in this run
        start, so a drain always gives everything queued one attempt, and then ends.
        """
        heads: dict[tuple[int, str], Delivery] = {}
        for delivery in self.store.deliveries(states=PENDING_STATES):
            heads.setdefault(lane(delivery), delivery)
        earliest: datetime | None = None
        held = self.held() if heads else {}
        for key, delivery in heads.items():
            if key in self._running or delivery.target not in self.targets:
                continue  # in flight, or for a target only another configuration knows
            if delivery.target in held:
                continue  # left queued for a cockpit that has the secret
            ready_at = self._ready_at(delivery, now)
            if ready_at <= now:
                if retries or delivery.id not in self._tried:
                    self._tried.add(delivery.id)
                    self._running[key] = asyncio.create_task(self._attempt(delivery))
            else:
                earliest = _earliest(earliest, ready_at)
        return earliest

    def _ready_at(self, delivery: Delivery, now: datetime) -> datetime:
        ready = delivery.next_attempt_at or now
        if delivery.state == "sending":
            owner = str(delivery.payload.get(OWNER_KEY, ""))
            if owner != self.owner and not owner_alive(owner):
                ready = now  # its process is gone: take it over at once
            else:  # someone is sending it: look again soon, take over when the lease ends
                ready = min(ready, now + timedelta(seconds=self.poll_seconds))
        hold = self._holds.get(delivery.target)
        return max(ready, hold) if hold else ready

    async def _wait(self, wake_at: datetime | None, *, poll: bool) -> None:
        waits: set[asyncio.Future[Any]] = set(self._running.values())
        timers: list[asyncio.Future[Any]] = []
        if wake_at is not None:
            delay = max((wake_at - self.clock()).total_seconds(), 0.0)
            timers.append(asyncio.ensure_future(self.sleep(delay)))
        if poll:
            timers.append(asyncio.ensure_future(self._poll()))
        if not waits and not timers:
            return
        try:
            await asyncio.wait(waits | set(timers), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for timer in timers:
                timer.cancel()
            await asyncio.gather(*timers, return_exceptions=True)

    async def _poll(self) -> None:
        # Real time on purpose: other processes publish on the wall clock.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def _cancel_running(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._running.clear()

    # -- one attempt

    async def _attempt(self, delivery: Delivery) -> None:
        try:
            await self._attempt_once(delivery)
        except StoreError as exc:
            # The database refused (locked, disk full); the claim's lease brings it back.
            log.warning("delivery #%s: %s", delivery.id, one_line(str(exc)))
        finally:
            self._running.pop(lane(delivery), None)

    async def _attempt_once(self, delivery: Delivery) -> None:
        now = self.clock()
        in_doubt = delivery.state == "sending" or bool(delivery.payload.get(DOUBT_KEY))
        payload = {**delivery.payload, OWNER_KEY: self.owner, DOUBT_KEY: in_doubt}
        target = self.targets[delivery.target]
        # Long enough for every step of a delivery to time out (Slack bot mode: up to four
        # calls); a crashed owner is noticed at once anyway, by its pid.
        lease = max(self.lease, timedelta(seconds=4 * (target.timeout + 5)))
        claimed = self.store.claim_delivery(
            delivery.id,
            state=delivery.state,
            attempts=delivery.attempts,
            lease_until=now + lease,
            payload=payload,
        )
        if claimed is None:
            return  # another process took it
        self._notify(claimed)
        newer = self._newer_update(claimed, target)
        if newer is not None and target.follows_status:
            self._supersede(claimed, target, newer)
            return
        attempt = StoredAttempt(
            self.store,
            claimed,
            self.clock,
            in_doubt,
            self.scrub,
            sharing=self.sharing,
            superseded_by=newer,
            shared_refs=target.shared_refs,
        )
        outcome: Outcome
        try:
            outcome = await self._send(target, attempt)
        except asyncio.CancelledError:
            self._release(claimed)
            raise
        except MissingSecret:  # lost since it was checked: hand it back untouched
            self._hand_back(claimed, delivery)
            return
        except Exception as exc:  # a bug in a target must not stop the other lanes
            detail = self.scrub(one_line(f"{type(exc).__name__}: {exc}"))
            log.error("delivery #%s to %s: %s", claimed.id, target.name, detail)
            outcome = Permanent(f"unexpected error ({detail}); this is a cockpit bug")
        self._record(claimed, target, attempt, outcome)

    def _newer_update(self, delivery: Delivery, target: Target) -> Newer | None:
        """A newer update (hybrid clock) for `target` published on another laptop than the one
        this delivery publishes; only updates have one, and only when the team shares them."""
        if delivery.entry_id is None or not target.receives_updates or self.sink:
            return None
        newer = self.store.newer_update(delivery.entry_id, delivery.target)
        if newer is None:
            return None
        return Newer(newer.uid, newer.author, newer.at)

    async def _send(self, target: Target, attempt: StoredAttempt) -> Outcome:
        if self.sink:  # a drill: before any client exists, so no request can leave
            return sink.record(attempt)
        http = await self._client()
        waiting = await self._team_root(target, attempt, http)
        if waiting is not None:
            return waiting
        try:
            if attempt.remote_id:
                return await target.finish(http, attempt, attempt.remote_id)
            if attempt.in_doubt and target.can_check:
                found = await target.find_previous(http, attempt)
                if isinstance(found, Sent | Retry | Permanent):
                    return found
                if found is not None:
                    attempt.landed(found)
                    return await target.finish(http, attempt, found)
                attempt.in_doubt = False  # checked: the earlier attempt did not land
            return await target.post(http, attempt)
        except httpx.TransportError as exc:
            return transport_outcome(exc, target.timeout)

    async def _team_root(
        self, target: Target, attempt: StoredAttempt, http: httpx.AsyncClient
    ) -> Outcome | None:
        """With team sync on, an incident's Slack root is its team thread's, posted (or found)
        once by the sync's `start_thread` under the store's claim: the delivery never posts a
        root of its own beside the sync's, and replies under the one that stands. None when
        the delivery may go on; the outcome to record while the root cannot be had yet."""
        slack = self.config.slack
        if not (self.sharing and isinstance(target, SlackBot) and slack is not None):
            return None
        incident_id = attempt.delivery.incident_id
        if self.store.thread_for(incident_id) is not None:
            return None
        from cockpit.comms.slack_thread import SlackFailure, SlackThreadApi
        from cockpit.comms.sync import ThreadBusy, ThreadSync

        sync = ThreadSync(
            self.store,
            SlackThreadApi(slack, http, self.clock),
            target.channel,
            clock=self.clock,
            sleep=self.sleep,
            owner=self._root_owner,
        )
        try:
            await sync.start_thread(incident_id)
        except ThreadBusy:
            # Backoff, not a hold on every Slack delivery: only this incident waits.
            return Retry("the incident's Slack root is being posted (team sync); replying under it")
        except SlackFailure as exc:
            if exc.permanent:
                return Permanent(exc.reason)
            return Retry(exc.reason, exc.after)
        return None


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)
