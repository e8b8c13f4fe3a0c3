"""`cockpit outbox`: every delivery with its state, attempts, next attempt and last error;
`--retry N` queues a failed one again."""

from __future__ import annotations

from typing import Any

from cockpit.cli.context import READ, WRITE, Context, id_argument, incident_id
from cockpit.comms.outbox import retry, state_text
from cockpit.domain import format_local, one_line, unreadable_note


def register(sub: Any) -> None:
    p = sub.add_parser("outbox", help="list deliveries: state, attempts, next attempt, last error")
    p.add_argument("--incident", "-i", metavar="ID", help="only this incident")
    p.add_argument(
        "--retry",
        type=id_argument("a delivery id"),
        metavar="DELIVERY",
        help="queue a failed delivery again",
    )
    p.set_defaults(handler=cmd_outbox, access=READ)


def cmd_outbox(ctx: Context) -> int:
    from cockpit.comms.targets import configured_targets, held  # deferred: every adapter

    now = ctx.clock()
    if ctx.args.retry is not None:
        ctx.access = WRITE
        delivery = retry(ctx.store, ctx.args.retry, now)
        print(f"#{delivery.id} to {one_line(delivery.target)} queued again")
        return 0
    only = incident_id(ctx, ctx.args.incident) if ctx.args.incident else None
    deliveries = ctx.store.deliveries(only)
    if not deliveries:
        print("outbox empty")
        return 0
    unsendable = held(configured_targets(ctx.config))
    print(f"{'ID':<5} {'INCIDENT':<9} {'TARGET':<11} {'ACTION':<12} {'ATT':>3}  STATE")
    for d in deliveries:
        print(
            f"#{d.id:<4} {ctx.ref(d.incident_id):<9} {one_line(d.target):<11} "
            f"{one_line(d.action):<12} {d.attempts:>3}  "
            f"{state_text(d, now, unsendable.get(d.target))}"
            + (f"  {one_line(unreadable_note(d.unreadable))}" if d.unreadable else "")
        )
        if d.state in ("retrying", "queued") and d.next_attempt_at and d.next_attempt_at > now:
            print(f"{'':<43}next attempt {format_local(d.next_attempt_at, now, seconds=True)}")
    return 0
