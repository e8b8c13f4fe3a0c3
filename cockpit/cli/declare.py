"""`cockpit declare`: start an incident and print its id (the same store call the app makes).

With team sync on it first looks in the Slack channel for an open incident (one history read,
`open_incidents`): if there is one it prints it with the `cockpit join` command and declares
nothing (exit 1) unless --new is given. Slack that cannot be read never stops a declaration.
"""

from __future__ import annotations

import sys
from typing import Any

from cockpit.cli.context import CREATE, Context, UsageError, moment, usage_error
from cockpit.cli.lines import say_queued
from cockpit.domain import NAME_TEXT, TITLE_TEXT, find_severity


def register(sub: Any) -> None:
    p = sub.add_parser("declare", help="declare an incident; prints its id")
    p.add_argument("title", help=f"what is broken (at most {TITLE_TEXT.chars:,} characters)")
    p.add_argument("--severity", "-s", metavar="SEV-n", help="default: [declare] default_severity")
    p.add_argument(
        "--service",
        help=f"default: [declare] default_service (at most {NAME_TEXT.chars:,} characters)",
    )
    p.add_argument("--runbook", metavar="NAME", help="runbook file name without .md")
    p.add_argument("--commander", metavar="PERSON")
    p.add_argument("--communicator", metavar="PERSON")
    p.add_argument("--at", metavar="TIME", help="when impact started (backdates it)")
    p.add_argument(
        "--new",
        action="store_true",
        help="declare even if an open incident is already in the team's Slack channel",
    )
    p.set_defaults(handler=cmd_declare, access=CREATE)


def cmd_declare(ctx: Context) -> int:
    config = ctx.config
    with usage_error():
        severity = find_severity(
            config.severities, ctx.args.severity or config.declare.default_severity
        )
    impact = moment(ctx, ctx.args.at) if ctx.args.at else None
    runbook = ctx.args.runbook
    if runbook:
        runbook = _check_runbook(ctx, runbook)
    roles = {"commander": ctx.args.commander or "", "communicator": ctx.args.communicator or ""}
    if not ctx.args.new and config.sync_enabled and _already_open(ctx):
        return 1
    incident = ctx.store.declare(
        ctx.args.title,
        severity.name,
        config.author,
        service=config.declare.default_service if ctx.args.service is None else ctx.args.service,
        runbook=runbook,
        impact_started_at=impact,
        roles=roles,
    )
    print(incident.ref)
    say_queued(ctx, incident.id, None)
    return 0


def _check_runbook(ctx: Context, name: str) -> str:
    """The runbook's name as found in the configured directories; a usage error if none."""
    from cockpit.runbooks import find_runbook  # deferred: only --runbook reads runbook files

    try:
        return str(find_runbook(ctx.config.runbook_dirs, name).name)
    except LookupError as exc:
        raise UsageError(str(exc)) from None


def _already_open(ctx: Context) -> bool:
    """Say which incidents are open in the channel already (True: declare nothing), or why
    the channel could not be looked at (False: declare)."""
    import asyncio

    from cockpit.comms import transport
    from cockpit.comms.channel_incidents import open_incidents
    from cockpit.comms.slack_thread import SlackFailure
    from cockpit.comms.sync import thread_sync
    from cockpit.comms.target import MissingSecret
    from cockpit.domain import one_line

    slack = ctx.config.slack
    limit = 4 * slack.timeout_seconds + 1 if slack is not None else 10.0

    async def look() -> list[Any]:
        async with transport.client() as http:
            sync = thread_sync(ctx.store, ctx.config, http, clock=ctx.clock)
            return await asyncio.wait_for(open_incidents(sync, ctx.clock()), limit)

    try:
        found = asyncio.run(look())
    except (SlackFailure, MissingSecret, TimeoutError) as exc:
        reason = one_line(str(exc)) or "no answer in time"
        print(
            f"cockpit: note: could not look for an open incident in Slack ({reason}); "
            "declaring all the same",
            file=sys.stderr,
        )
        return False
    now = ctx.clock()
    for incident in found:
        print(
            f"cockpit: already open in the Slack channel: {incident.describe(now)}; "
            f"{incident.how_to_join()}",
            file=sys.stderr,
        )
    if found:
        print("cockpit: nothing declared; --new declares another all the same", file=sys.stderr)
    return bool(found)
