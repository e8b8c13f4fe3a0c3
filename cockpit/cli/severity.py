"""`cockpit severity`: change the incident's severity (one of the configured taxonomy)."""

from __future__ import annotations

from typing import Any

from cockpit.cli.context import Context, incident_id, incident_option, usage_error
from cockpit.cli.lines import say_change
from cockpit.domain import find_severity


def register(sub: Any) -> None:
    p = sub.add_parser("severity", help="change the incident severity")
    incident_option(p, "INC-n (default: the open one)")
    p.add_argument("severity", metavar="SEV-n")
    p.set_defaults(handler=cmd_severity)


def cmd_severity(ctx: Context) -> int:
    with usage_error():
        severity = find_severity(ctx.config.severities, ctx.args.severity)
    target = incident_id(ctx, ctx.args.incident)
    entry = ctx.store.set_severity(target, severity.name, ctx.config.author)
    say_change(ctx, target, entry, f"{ctx.ref(target)} is already {severity.name}")
    return 0
