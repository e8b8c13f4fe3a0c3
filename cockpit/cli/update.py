"""`cockpit update`: publish a status update (a timeline entry plus one delivery per target).

It renders and queues; `cockpit deliver` (or the open app) sends. With team sync on it first
reads the incident's Slack thread once, so a teammate's update that just went out is asked
about (`publish_checks`, the composer's questions): a terminal is asked, a script is refused
unless it passes --yes.
"""

from __future__ import annotations

import sys
from typing import Any

from cockpit.cli.context import READ, Context, UsageError, incident_id, read_stdin, usage_error
from cockpit.cli.lines import sent_by
from cockpit.domain import UPDATE_TEXT, Status, one_line, parse_status
from cockpit.plaintext import visible
from cockpit.store import fits

PHASES = ("acknowledge", "update", "resolution")


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
    p.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="publish even if a teammate's update just arrived or someone else is communicator",
    )
    p.set_defaults(handler=cmd_update)


def _status(raw: str | None) -> Status | None:
    if raw is None:
        return None
    with usage_error():
        status = parse_status(raw)
    return status


def cmd_update(ctx: Context) -> int:
    # Deferred: templates and targets are not needed by the commands that start fast.
    from cockpit.comms.publish import draft, preview, publish

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
    if not _confirmed(ctx, target, asks_stdin=ctx.args.message == "-"):
        return 1
    entry = publish(
        ctx.store, ctx.config, target, text, status, ctx.config.author, ctx.clock, template=template
    )
    raw = entry.meta.get("targets")
    targets = [str(name) for name in raw] if isinstance(raw, list) else []
    print(f"{ctx.ref(target)}: published {entry.meta.get('phase', 'update')} #{entry.id}")
    for line in text.splitlines():
        print(f"   {one_line(line)}")
    if targets:
        print(f"queued for {', '.join(targets)}; {sent_by(ctx)}")
    else:
        print("no targets configured ([slack], [statuspage]): recorded on the timeline only")
    return 0


def _confirmed(ctx: Context, target: int, *, asks_stdin: bool) -> bool:
    """Ask what the composer asks before publishing; False (said why) when not confirmed."""
    from cockpit.comms.publish_checks import publish_checks

    seen = ctx.store.last_entry_id(target)
    problem = _read_thread(ctx, target)
    if problem:
        print(f"cockpit: note: {problem}", file=sys.stderr)
    checks = publish_checks(ctx.store, ctx.config, target, seen, ctx.clock())
    if not checks or ctx.args.yes:
        return True
    for check in checks:
        print(f"cockpit: {check.reason}", file=sys.stderr)
    if not asks_stdin and sys.stdin.isatty():
        try:
            answer = input("Publish yours all the same? [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() in ("y", "yes"):
            return True
    print("cockpit: nothing published; --yes publishes all the same", file=sys.stderr)
    return False


def _read_thread(ctx: Context, target: int) -> str | None:
    """One read of the incident's thread (a teammate's newest update arrives here, nothing is
    posted); why it could not be made, or None. Sync off or a drill: nothing to read."""
    if ctx.drill is not None or not ctx.config.sync_enabled:
        return None
    import asyncio

    from cockpit.comms import transport
    from cockpit.comms.slack_thread import SlackFailure
    from cockpit.comms.sync import thread_sync
    from cockpit.comms.target import MissingSecret

    slack = ctx.config.slack
    limit = 2 * slack.timeout_seconds + 1 if slack is not None else 10.0

    async def read() -> str | None:
        async with transport.client() as http:
            sync = thread_sync(ctx.store, ctx.config, http, clock=ctx.clock)
            done = await asyncio.wait_for(sync.catch_up(target), limit)
        return None if done.failure is None else done.failure.reason

    try:
        failure = asyncio.run(read())
    except (SlackFailure, MissingSecret, TimeoutError) as exc:
        failure = str(exc) or "no answer in time"
    if failure is None:
        return None
    return f"could not read the Slack thread for a teammate's newer update: {one_line(failure)}"
