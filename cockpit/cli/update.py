"""Subcommands for status updates: update (publish), deliver (drain the outbox), outbox (list,
retry). `update` renders and queues without touching the network; only `deliver` imports httpx.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from cockpit.cli import READ, WRITE, id_argument, read_stdin, seconds_argument
from cockpit.cli.show import incident_id
from cockpit.domain import UPDATE_TEXT, format_local, one_line, parse_status, unreadable_note
from cockpit.store import fits

if TYPE_CHECKING:
    from cockpit.cli import Context
    from cockpit.store import Delivery

PHASES = ("acknowledge", "update", "resolution")
MAX_WAIT_SECONDS = 86_400
"""`cockpit deliver --wait` keeps retrying for at most a day."""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "update",
        help="publish a status update: timeline entry + one delivery per configured target",
        description=(
            "Publish a status update. Without --message the template that fits the phase is "
            "used (acknowledge first, resolution when --status resolved, update otherwise). "
            "--message alone is the whole text; with --template it fills {summary}, or "
            "follows the template as its own paragraph when it has none. The update is "
            "queued; `cockpit deliver` (or the open app) sends it."
        ),
    )
    p.add_argument("--incident", "-i", metavar="ID", help="INC-n (default: the open one)")
    p.add_argument("--template", "-t", choices=PHASES, help="template to start from")
    p.add_argument(
        "--message",
        "-m",
        metavar="TEXT",
        help=f"the text ('-' reads standard input); at most {UPDATE_TEXT.chars:,} characters",
    )
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
        type=seconds_argument(MAX_WAIT_SECONDS),
        default=30.0,
        metavar="SECONDS",
        help=f"keep retrying for up to SECONDS (default 30, at most {MAX_WAIT_SECONDS:,}; "
        "0 = one pass)",
    )
    p.set_defaults(handler=cmd_deliver)

    p = sub.add_parser("outbox", help="list deliveries: state, attempts, next attempt, last error")
    p.add_argument("--incident", "-i", metavar="ID", help="only this incident")
    p.add_argument(
        "--retry",
        type=id_argument("a delivery id"),
        metavar="DELIVERY",
        help="queue a failed delivery again",
    )
    p.set_defaults(handler=cmd_outbox, access=READ)


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
    from cockpit.comms.render import visible

    status = _status(ctx.args.status)
    if ctx.args.dry_run:
        ctx.access = READ  # a preview writes nothing
    message: str | None = ctx.args.message
    if message == "-":
        message = read_stdin(UPDATE_TEXT)
    if message is not None and not visible(message):
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
    fits(text, UPDATE_TEXT)  # refused before a dry run says it would go out
    if ctx.args.dry_run:
        shown = preview(ctx.store, ctx.config, target, text, status, ctx.clock)
        if not shown:
            print("── no targets configured: this would be recorded on the timeline only")
            for line in text.splitlines():
                print(f"   {one_line(line)}")
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


def _line(delivery: Delivery, now: Any, held: dict[str, str]) -> str:
    from cockpit.comms.outbox import state_text

    return (
        f"#{delivery.id:<4} INC-{delivery.incident_id:<4} {one_line(delivery.target):<11} "
        f"{one_line(delivery.action):<12} {state_text(delivery, now, held.get(delivery.target))}"
    )


def cmd_deliver(ctx: Context) -> int:
    import asyncio

    from cockpit.comms.outbox import undelivered
    from cockpit.comms.worker import DeliveryWorker

    def report(delivery: Delivery) -> None:
        if delivery.state != "sending":
            print(_line(delivery, ctx.clock(), {}), flush=True)

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


def cmd_outbox(ctx: Context) -> int:
    from cockpit.comms.outbox import retry, state_text
    from cockpit.comms.targets import configured_targets, held

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
            f"#{d.id:<4} INC-{d.incident_id:<5} {one_line(d.target):<11} "
            f"{one_line(d.action):<12} {d.attempts:>3}  "
            f"{state_text(d, now, unsendable.get(d.target))}"
            + (f"  {one_line(unreadable_note(d.unreadable))}" if d.unreadable else "")
        )
        if d.state in ("retrying", "queued") and d.next_attempt_at and d.next_attempt_at > now:
            print(f"{'':<43}next attempt {format_local(d.next_attempt_at, now, seconds=True)}")
    return 0
