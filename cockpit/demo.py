"""The demo incident: a realistic SEV-1 in progress, seeded into a throwaway database.

`cockpit demo` and the app's snapshot tests use it. Everything is written through the store's
own methods, with a scripted clock that walks through the last hour, so the data looks exactly as
if people had typed it. No Textual here, and nothing is ever sent anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cockpit.config import Config, RunbooksConfig, UserConfig
from cockpit.domain import Incident, Kind, Status
from cockpit.store import Store

DEMO_RUNBOOK = "api-high-error-rate"
"""The runbook the demo incident links (a file name without `.md`)."""

DEMO_RUNBOOK_TEXT = """\
+++
title = "API high error rate"
trigger = "Error rate > 2% for 5+ minutes"
severity = "SEV-2"
escalate_after_minutes = 30
escalate_to = "Engineering Lead"
tags = ["api", "errors", "http"]
+++

# API high error rate

**Trigger:** error rate > 2% for 5+ minutes.

## Diagnosis

1. Check recent deployments: `gh api repos/acme/api/deployments --jq '.[0:5]'`
2. Check error distribution in logs: `level:error | count() by statusCode` (last 15 minutes)
3. Check the database connection pool: `SELECT count(*) FROM pg_stat_activity`
4. Check external status pages: Stripe (status.stripe.com), SendGrid (status.sendgrid.com)
5. Apply the fix for the cause found (see below)
6. Confirm recovery: error rate under 1% for 15 minutes

## Common causes

- Recent deployment broke something: `kubectl rollout undo deployment/api -n production`
- Connection pool exhausted: `kubectl rollout restart deployment/api -n production`
- Third-party API down: check whether errors are isolated to those endpoints; tell users if so
- Traffic overload: `kubectl scale deployment api --replicas=5 -n production`

## Escalation

Not resolved in 30 minutes: escalate to the Engineering Lead.
"""

_STEPS = {
    1: "Check recent deployments",
    2: "Check error distribution in logs",
    3: "Check the database connection pool",
}

DECLARED_MINUTES_AGO = 41
"""The demo incident was declared this long before `now`."""

# (seconds before now, kind, author, text): the timeline after declaration, in order.
_SCRIPT: tuple[tuple[int, Kind, str, str], ...] = (
    (2430, Kind.NOTE, "alice", "Paged by Grafana: checkout API 5xx at 7.8% (threshold 2%)"),
    (2360, Kind.NOTE, "bob", "Opened #inc-checkout; support asked to hold replies to tickets"),
    (2290, Kind.STEP, "alice", "1"),
    (2250, Kind.NOTE, "alice", "api v142 went out 25 min before the alert (payment client bump)"),
    (2200, Kind.NOTE, "dave", "Errors concentrated on POST /checkout and /payments/confirm"),
    (2150, Kind.STEP, "dave", "2"),
    (2100, Kind.NOTE, "dave", "502s from payments-gateway, p99 latency 4.1 s"),
    (2050, Kind.DECISION, "alice", "Roll back api to v141 before digging further"),
    (2010, Kind.ACTION, "dave", "kubectl rollout undo deployment/api -n production"),
    (1920, Kind.NOTE, "dave", "Rollback complete, 6/6 pods on v141"),
    (1840, Kind.NOTE, "alice", "Error rate still 6.5% after the rollback: not the deploy"),
    (1710, Kind.STEP, "carol", "3"),
    (1660, Kind.NOTE, "carol", "pg_stat_activity: 96 of 100 connections busy, most idle in txn"),
    (1600, Kind.UPDATE, "bob", ""),
    (1550, Kind.NOTE, "carol", "The nightly reporting job holds 80 connections idle in txn"),
    (1470, Kind.DECISION, "alice", "Kill the reporting sessions; pause the job until we're out"),
    (1420, Kind.ACTION, "carol", "pg_terminate_backend() on 78 sessions of role 'reporting'"),
    (1330, Kind.STATUS, "alice", Status.IDENTIFIED.value),
    (1290, Kind.NOTE, "carol", "Connections back to 31/100"),
    (1240, Kind.NOTE, "dave", "5xx rate falling: 3.9%"),
    (1140, Kind.ACTION, "dave", "kubectl rollout restart deployment/api -n production"),
    (1040, Kind.NOTE, "dave", "Pods restarted with fresh pools, error rate 1.2%"),
    (970, Kind.NOTE, "bob", "Support sees fewer failed-checkout tickets"),
    (900, Kind.DECISION, "alice", "Keep the reporting job paused until it has its own pool limit"),
    (860, Kind.ACTION, "carol", "ALTER ROLE reporting CONNECTION LIMIT 10"),
    (780, Kind.NOTE, "dave", "Gateway 502s gone; what's left are card declines (normal)"),
    (730, Kind.EXTERNAL, "grafana", "Alert 'api-5xx-rate' resolved"),
    (660, Kind.ESCALATION, "alice", "Escalated to Engineering Lead (erin): open 30 min"),
    (620, Kind.NOTE, "erin", "Joined. Hold at monitoring for 30 min before resolving"),
    (570, Kind.STATUS, "alice", Status.MONITORING.value),
    (520, Kind.NOTE, "dave", "Error rate 0.4% for 10 minutes"),
    (420, Kind.NOTE, "alice", "Post-mortem notes go in this timeline as we go"),
    (370, Kind.ACTION, "carol", "Added an alert on connections per role > 50"),
    (270, Kind.NOTE, "bob", "Drafting update #2 for the status page"),
    (180, Kind.NOTE, "dave", "Replayed 214 failed checkouts from the dead-letter queue"),
    (100, Kind.DECISION, "alice", "Refund the 3 double charges found in the replay"),
    (50, Kind.NOTE, "dave", "Checkout error rate 0.3%, latency back to baseline"),
)

_FIRST_UPDATE = (
    "We are aware of an issue affecting checkout: some payments fail with an error. "
    "Our engineering team is investigating. We will provide an update within 30 minutes."
)


@dataclass
class _ScriptClock:
    """A clock the seeding script moves by hand, so each entry gets its moment."""

    moment: datetime

    def __call__(self) -> datetime:
        return self.moment


def demo_config(workdir: Path, author: str = "") -> Config:
    """Built-in defaults plus the demo runbook, written into `workdir`; no targets, so no sends.

    The demo's own runbook directory comes first, so the demo looks the same whatever the
    installed runbooks say.
    """
    runbooks = workdir / "runbooks"
    runbooks.mkdir(parents=True, exist_ok=True)
    (runbooks / f"{DEMO_RUNBOOK}.md").write_text(DEMO_RUNBOOK_TEXT, encoding="utf-8")
    return Config(user=UserConfig(name=author), runbooks=RunbooksConfig(dirs=[str(runbooks)]))


def seed_demo(path: Path, now: datetime) -> Incident:
    """Write the demo SEV-1 into the database at `path`, as it stands at `now`.

    Declared 41 minutes ago, commander and communicator assigned, the runbook linked and half
    its steps done, about forty entries, the first status update published (with no deliveries)
    and the next one due in a little over three minutes.
    """
    clock = _ScriptClock(now - timedelta(minutes=DECLARED_MINUTES_AGO))
    with Store.open(path, clock=clock) as store:
        incident = store.declare(
            "Checkout API errors",
            "SEV-1",
            "alice",
            service="checkout",
            impact_started_at=now - timedelta(minutes=52),
            roles={"commander": "alice"},
        )
        ref = incident.id
        clock.moment = now - timedelta(seconds=2440)
        store.link_runbook(ref, DEMO_RUNBOOK, "alice")
        clock.moment = now - timedelta(seconds=2400)
        store.assign(ref, "communicator", "bob", "alice")
        for seconds_ago, kind, author, text in _SCRIPT:
            clock.moment = now - timedelta(seconds=seconds_ago)
            if kind is Kind.STEP:
                step = int(text)
                store.append(
                    ref,
                    Kind.STEP,
                    f"runbook step {step} done: {_STEPS[step]}",
                    author,
                    meta={"runbook": DEMO_RUNBOOK, "step": step, "done": True},
                )
            elif kind is Kind.UPDATE:
                store.publish(ref, _FIRST_UPDATE, author, meta={"template": "acknowledge"})
            elif kind is Kind.STATUS:
                store.set_status(ref, Status(text), author)
            elif kind is Kind.ESCALATION:
                # The meta the app's escalation timer writes, so it sees this one as recorded.
                meta = {"runbook": DEMO_RUNBOOK, "to": "Engineering Lead", "after_minutes": 30}
                store.append(ref, kind, text, author, meta=meta)
            else:
                store.append(ref, kind, text, author)
        return store.incident(ref)
