"""`cockpit declare`: start an incident and print its id (the same store call the app makes)."""

from __future__ import annotations

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
