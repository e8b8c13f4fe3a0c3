"""`cockpit join PERMALINK`: take up a teammate's incident from the link of its Slack root
message; prints the local `INC-n`. A malformed link is exit 2; a thread that is not a cockpit
incident, or Slack that cannot be read, exit 1 with one line."""

from __future__ import annotations

from typing import Any

from cockpit.cli.context import CREATE, Context, UsageError
from cockpit.config import ConfigError
from cockpit.domain import one_line


def register(sub: Any) -> None:
    p = sub.add_parser(
        "join",
        help="work a teammate's incident: PERMALINK is the link of its Slack root message",
        description="Read the incident's Slack thread, create it here with the same id and "
        "every entry, and keep it in step from then on (the app, or `cockpit sync`).",
    )
    p.add_argument("permalink", metavar="PERMALINK", help="Slack's 'Copy link' of the root")
    p.set_defaults(handler=cmd_join, access=CREATE)


def cmd_join(ctx: Context) -> int:
    import asyncio

    from cockpit.sync.permalink import parse_permalink

    try:
        ref = parse_permalink(ctx.args.permalink)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return asyncio.run(_join(ctx, ref, ctx.args.permalink.strip().strip("<>")))


async def _join(ctx: Context, ref: Any, link: str) -> int:
    import sys

    from cockpit.comms import transport
    from cockpit.comms.slack_thread import SlackFailure
    from cockpit.comms.sync import thread_sync
    from cockpit.comms.sync_messages import NotACockpitThread
    from cockpit.comms.target import MissingSecret

    async with transport.client() as http:
        sync = thread_sync(ctx.store, ctx.config, http, clock=ctx.clock)
        try:
            incident, done = await sync.join(ref, link)
        except MissingSecret as exc:
            raise ConfigError(str(exc)) from None
        except (NotACockpitThread, SlackFailure) as exc:
            print(f"cockpit: cannot join: {one_line(str(exc))}", file=sys.stderr)
            return 1
    print(incident.ref)
    if done.failure is not None:
        print(
            f"cockpit: {incident.ref} joined, but the thread was not read whole: "
            f"{one_line(done.failure.reason)}; `cockpit sync` finishes it",
            file=sys.stderr,
        )
    return 0
