"""What a delivery attempt leaves behind: the delivery's new state (sent, retrying with its
backoff or the service's Retry-After, failed, superseded, handed back), the line a target puts
on the timeline, and the notice to whoever watches the outbox.

`OutcomeRecorder` is the half of the delivery worker (`worker.py`) that writes these; the
worker schedules lanes, claims deliveries and sends.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from datetime import datetime, timedelta

from cockpit.comms import sink
from cockpit.comms.attempt import StoredAttempt
from cockpit.comms.outbox import DOUBT_KEY, OWNER_KEY
from cockpit.comms.target import Newer, Outcome, Retry, Sent, Target
from cockpit.domain import Clock, Kind, one_line
from cockpit.store import Delivery, Store, StoreError

BACKOFF_BASE = 2.0
BACKOFF_CAP = 300.0
MAX_RETRY_AFTER = 3600.0


def backoff(attempts: int, jitter: float) -> float:
    """Capped exponential backoff: 2, 4, 8 … 300 s, each scaled by 0.5–1 (`jitter` in [0, 1))."""
    base = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** min(max(attempts - 1, 0), 16))
    return base * (0.5 + jitter / 2)


class OutcomeRecorder:
    """Records what each attempt came to, in the store and on the timeline (a mixin of
    `DeliveryWorker`, which sets these attributes)."""

    store: Store
    clock: Clock
    jitter: Callable[[], float]
    sink: bool
    on_change: Callable[[Delivery], None] | None
    _holds: dict[str, datetime]
    scrub: Callable[[str], str]

    def _supersede(self, delivery: Delivery, target: Target, newer: Newer) -> None:
        """Leave an older update unsent where it would move the status back, and say so on
        the timeline (shared: every laptop learns why the status page did not change)."""
        when = f"{newer.at:%H:%M:%S} UTC"
        older = self.store.entry(delivery.entry_id) if delivery.entry_id else None
        what = f"{older.author}'s update of {older.at:%H:%M:%S} UTC" if older else "an update"
        reason = f"superseded by {newer.author}'s newer update of {when}, already published"
        payload = {k: v for k, v in delivery.payload.items() if k not in (OWNER_KEY, DOUBT_KEY)}
        self.store.update_delivery(
            delivery.id,
            state="superseded",
            next_attempt_at=None,
            last_error=one_line(reason)[:500],
            payload=payload,
        )
        text = (
            f"{target.name}: {what} not sent; {newer.author}'s newer update of {when} stands "
            "there (an older update never moves a status back)"
        )
        self.store.append_once(
            delivery.incident_id,
            Kind.EXTERNAL,
            one_line(text)[:500],
            target.name,
            meta={
                "event": "superseded",
                "target": target.name,
                "key": str(delivery.payload.get("key") or delivery.id),
                "newer": newer.uid,
            },
            key=("event", "target", "key"),
        )
        self._notify(self.store.delivery(delivery.id))

    def _record(
        self, delivery: Delivery, target: Target, attempt: StoredAttempt, outcome: Outcome
    ) -> None:
        now = self.clock()
        payload = {k: v for k, v in attempt.payload.items() if k not in (OWNER_KEY, DOUBT_KEY)}

        def shown(text: str | None) -> str | None:
            if not text:
                return None
            # Scrubbed last: cleaning or cutting the line cannot bring a secret back.
            return self.scrub(one_line(text)[:500])

        if isinstance(outcome, Sent):
            self.store.update_delivery(
                delivery.id,
                state="sent",
                sent_at=now,
                next_attempt_at=None,
                remote_id=self.scrub(outcome.remote_id or attempt.remote_id or "") or None,
                last_error=shown(outcome.note),
                payload=payload,
            )
        else:
            if attempt.in_doubt or (isinstance(outcome, Retry) and outcome.maybe_landed):
                payload[DOUBT_KEY] = True
            if isinstance(outcome, Retry):
                if outcome.after is not None and math.isfinite(outcome.after):
                    delay = min(outcome.after, MAX_RETRY_AFTER) + self.jitter()
                    self._holds[delivery.target] = now + timedelta(seconds=delay)
                    reason = f"{outcome.reason}, asked to wait {outcome.after:g} s"
                else:
                    delay = backoff(delivery.attempts, self.jitter())
                    reason = outcome.reason
                self.store.update_delivery(
                    delivery.id,
                    state="retrying",
                    next_attempt_at=now + timedelta(seconds=delay),
                    last_error=shown(reason),
                    payload=payload,
                )
            else:
                self.store.update_delivery(
                    delivery.id,
                    state="failed",
                    next_attempt_at=None,
                    last_error=shown(outcome.error),
                    payload=payload,
                )
        self._note_on_timeline(delivery, target, outcome, shown)
        self._notify(self.store.delivery(delivery.id))

    def _note_on_timeline(
        self,
        delivery: Delivery,
        target: Target | None,
        outcome: Outcome,
        shown: Callable[[str | None], str | None],
    ) -> None:
        """Write what the target says belongs on the timeline (a page sent or failed), once
        per delivery and outcome even if two processes record it."""
        if target is None or isinstance(outcome, Retry):
            return
        text = shown(target.timeline_text(delivery.action, delivery.payload, outcome))
        if not text:
            return
        if self.sink:
            text = sink.drill_line(text)
        state = "sent" if isinstance(outcome, Sent) else "failed"
        meta = {
            "event": "delivery",
            "delivery": delivery.id,
            "target": target.name,
            "action": delivery.action,
            "state": state,
            # The entry's uid is derived from these: the payload's key is unique across
            # laptops, the local delivery id is not (alice's #1 and bob's #1 are two pages).
            "key": str(delivery.payload.get("key") or f"delivery-{delivery.id}"),
        }
        self.store.append_once(
            delivery.incident_id,
            Kind.EXTERNAL,
            text,
            target.name,
            meta=meta,
            key=("event", "key", "state"),
        )

    def _release(self, delivery: Delivery) -> None:
        """Stopped mid-flight: hand the delivery back, in doubt, for whoever runs next."""
        payload = {k: v for k, v in delivery.payload.items() if k != OWNER_KEY}
        payload[DOUBT_KEY] = True
        with contextlib.suppress(StoreError):
            self.store.update_delivery(
                delivery.id,
                state="retrying",
                next_attempt_at=self.clock(),
                last_error="interrupted before the service answered",
                payload=payload,
            )

    def _hand_back(self, claimed: Delivery, before: Delivery) -> None:
        """Undo a claim: the delivery as it was before, for a process that can send it."""
        self.store.update_delivery(
            claimed.id,
            state=before.state,
            attempts=before.attempts,
            next_attempt_at=before.next_attempt_at,
            payload=before.payload,
        )
        self._notify(self.store.delivery(claimed.id))

    def _notify(self, delivery: Delivery) -> None:
        if self.on_change is not None:
            self.on_change(delivery)
