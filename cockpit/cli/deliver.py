"""`cockpit deliver`: send what the outbox holds now, retrying for up to `--wait` seconds; exit
status 1 if anything is left undelivered. The one subcommand that imports httpx."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cockpit.cli.context import Context, seconds_argument
from cockpit.cli.lines import record_escalations
from cockpit.comms.outbox import state_text, undelivered
from cockpit.domain import one_line

if TYPE_CHECKING:
    from cockpit.store import Delivery

MAX_WAIT_SECONDS = 86_400
"""`cockpit deliver --wait` keeps retrying for at most a day."""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "deliver",
        help="send queued updates now; exits 1 if anything is left undelivered",
    )
    p.add_argument(
        "--wait",
        type=seconds_argument(MAX_WAIT_SECONDS),
        default=30.0,
        metavar="SECONDS",
        help=f"keep retrying for up to SECONDS (default 30, at most {MAX_WAIT_SECONDS:,}; "
        "0 = one pass)",
    )
    p.set_defaults(handler=cmd_deliver)


def _line(delivery: Delivery, now: datetime, held: dict[str, str]) -> str:
    return (
        f"#{delivery.id:<4} INC-{delivery.incident_id:<4} {one_line(delivery.target):<11} "
        f"{one_line(delivery.action):<12} {state_text(delivery, now, held.get(delivery.target))}"
    )


def cmd_deliver(ctx: Context) -> int:
    import asyncio

    from cockpit.comms.worker import DeliveryWorker  # deferred: httpx and every adapter

    def report(delivery: Delivery) -> None:
        if delivery.state != "sending":
            print(_line(delivery, ctx.clock(), {}), flush=True)

    record_escalations(ctx)
    worker = DeliveryWorker(ctx.store, ctx.config, clock=ctx.clock, on_change=report)
    asyncio.run(worker.run(until_idle=True, budget=ctx.args.wait))
    owed = undelivered(ctx.store)
    if owed:
        held = worker.held()
        print(f"cockpit: {len(owed)} update(s) not delivered:", file=sys.stderr)
        for delivery in owed:
            line = _line(delivery, ctx.clock(), held)
            if delivery.target not in worker.targets:
                line += f" (this configuration has no [{delivery.target}] table)"
            print(f"  {line}", file=sys.stderr)
        return 1
    print("outbox drained: everything delivered")
    return 0
