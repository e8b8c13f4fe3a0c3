"""`cockpit status`: move the incident along investigating → identified → monitoring → resolved."""

from __future__ import annotations

import sys
from typing import Any

from cockpit.cli.context import Context, incident_id, incident_option, usage_error
from cockpit.cli.lines import resolution_hint, say_change
from cockpit.domain import Status, parse_status


def register(sub: Any) -> None:
    p = sub.add_parser("status", help="change the incident status")
    incident_option(p, "INC-n (default: the open one)")
    p.add_argument("status", help="investigating, identified, monitoring or resolved")
    p.set_defaults(handler=cmd_status)


def cmd_status(ctx: Context) -> int:
    with usage_error():
        status = parse_status(ctx.args.status)
    target = incident_id(ctx, ctx.args.incident)
    entry = ctx.store.set_status(target, status, ctx.config.author)
    say_change(ctx, target, entry, f"{ctx.ref(target)} is already {status.value}")
    if status is Status.RESOLVED:
        _say_resolution_owed(ctx, target)
    return 0


def _say_resolution_owed(ctx: Context, incident: int) -> None:
    """One line on stderr when resolving left the resolution update owed."""
    from cockpit.board import build_board  # deferred: only resolving reads the board

    board = build_board(ctx.store, ctx.config, incident, ctx.clock())
    if board.resolution_update_owed:
        print(
            f"{ctx.ref(incident)}: a resolution update is owed; "
            f"{resolution_hint(ctx.ref(incident))}",
            file=sys.stderr,
        )
