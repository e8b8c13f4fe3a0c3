"""Subcommands for status updates: update (publish), deliver (drain the outbox), outbox (list,
retry). `update` renders and queues without touching the network; only `deliver` imports httpx.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from cockpit.cli.incident import incident_id
from cockpit.domain import format_local, one_line, parse_status

if TYPE_CHECKING:
    from cockpit.cli import Context
    from cockpit.store import Delivery

PHASES = ("acknowledge", "update", "resolution")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "update",
        help="publish a status update: timeline entry + one delivery per configured target",
        description=(
            "Publish a status update. Without --message the template that fits the phase is "
            "used (acknowledge first, resolution when --status resolved, update otherwise). "
            "--message alone is the whole text; with --template it fills {summary}. The "
            "update is queued; `cockpit deliver` (or the open app) sends it."
        ),
    )
    p.add_argument("--incident", "-i", metavar="ID", help="INC-n (default: the open one)")
    p.add_argument("--template", "-t", choices=PHASES, help="template to start from")
    p.add_argument("--message", "-m", metavar="TEXT", help="the text ('-' reads standard input)")
    p.add_argument(
        "--status", metavar="STATUS", help="investigating, identified, monitoring, resolved"
    )
    p.add_argument(
        "--dry-run", action="store_true", help="show what each target would receive; send nothing"
    )
    p.set_defaults(handler=cmd_update)

    p = sub.add_parser(
        "deliver",
        help="send queued updates now; exits 1 if anything is left undelivered",
    )
    p.add_argument(
        "--wait",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="keep retrying for up to SECONDS (default 30; 0 = one pass)",
    )
    p.set_defaults(handler=cmd_deliver)

    p = sub.add_parser("outbox", help="list deliveries: state, attempts, next attempt, last error")
    p.add_argument("--incident", "-i", metavar="ID", help="only this incident")
    p.add_argument("--retry", type=int, metavar="DELIVERY", help="queue a failed delivery again")
    p.set_defaults(handler=cmd_outbox)


def _status(raw: str | None) -> Any:
    from cockpit.cli import UsageError

    if raw is None:
        return None
    try:
        return parse_status(raw)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_update(ctx: Context) -> int:
    from cockpit.cli import UsageError
    from cockpit.comms.publish import draft, preview, publish

    status = _status(ctx.args.status)
    message: str | None = ctx.args.message
    if message == "-":
        message = sys.stdin.read()
    if message is not None and not message.strip():
        raise UsageError("--message is empty")
    target = incident_id(ctx, ctx.args.incident)
    template: str | None = None
    if message is not None and ctx.args.template is None:
        text = message.strip()
    else:
        started = draft(
            ctx.store,
            ctx.config,
            target,
            clock=ctx.clock,
            status=status,
            template=ctx.args.template,
            summary=message or "",
        )
        text, template = started.text, started.template
    if ctx.args.dry_run:
        shown = preview(ctx.store, ctx.config, target, text, status, ctx.clock)
        if not shown:
            print("no targets configured: this would be recorded on the timeline only")
        for item in shown:
            print(f"── {one_line(item.heading)}")
            for line in item.text.splitlines():
                print(f"   {one_line(line)}")
        return 0
    entry = publish(
        ctx.store, ctx.config, target, text, status, ctx.config.author, ctx.clock, template=template
    )
    raw = entry.meta.get("targets")
    targets = [str(name) for name in raw] if isinstance(raw, list) else []
    print(f"INC-{target}: published {entry.meta.get('phase', 'update')} #{entry.id}")
    for line in text.splitlines():
        print(f"   {one_line(line)}")
    if targets:
        print(f"queued for {', '.join(targets)}; `cockpit deliver` or the open app sends it")
    else:
        print("no targets configured ([slack], [statuspage]): recorded on the timeline only")
    return 0


def _line(delivery: Delivery, now: Any) -> str:
    from cockpit.comms.outbox import state_text

    return (
        f"#{delivery.id:<4} INC-{delivery.incident_id:<4} {delivery.target:<11} "
        f"{delivery.action:<12} {state_text(delivery, now)}"
    )


def cmd_deliver(ctx: Context) -> int:
    import asyncio

    from cockpit.comms.outbox import undelivered
    from cockpit.comms.worker import DeliveryWorker

    if ctx.args.wait < 0:
        from cockpit.cli import UsageError

        raise UsageError("--wait must be 0 or more seconds")

    def report(delivery: Delivery) -> None:
        if delivery.state != "sending":
            print(_line(delivery, ctx.clock()), flush=True)

    worker = DeliveryWorker(ctx.store, ctx.config, clock=ctx.clock, on_change=report)
    asyncio.run(worker.run(until_idle=True, budget=ctx.args.wait))
    owed = undelivered(ctx.store)
    if owed:
        print(f"cockpit: {len(owed)} update(s) not delivered:", file=sys.stderr)
        for delivery in owed:
            line = _line(delivery, ctx.clock())
            if delivery.target not in worker.targets:
                line += f" (this configuration has no [{delivery.target}] table)"
            print(f"  {line}", file=sys.stderr)
        return 1
    print("outbox drained: everything delivered")
    return 0


def cmd_outbox(ctx: Context) -> int:
    from cockpit.comms.outbox import retry, state_text

    now = ctx.clock()
    if ctx.args.retry is not None:
        delivery = retry(ctx.store, ctx.args.retry, now)
        print(f"#{delivery.id} to {delivery.target} queued again")
        return 0
    only = incident_id(ctx, ctx.args.incident) if ctx.args.incident else None
    deliveries = ctx.store.deliveries(only)
    if not deliveries:
        print("outbox empty")
        return 0
    print(f"{'ID':<5} {'INCIDENT':<9} {'TARGET':<11} {'ACTION':<12} {'ATT':>3}  STATE")
    for d in deliveries:
        print(
            f"#{d.id:<4} INC-{d.incident_id:<5} {d.target:<11} {d.action:<12} {d.attempts:>3}  "
            f"{state_text(d, now)}"
        )
        if d.state in ("retrying", "queued") and d.next_attempt_at and d.next_attempt_at > now:
            print(f"{'':<43}next attempt {format_local(d.next_attempt_at, now, seconds=True)}")
    return 0
