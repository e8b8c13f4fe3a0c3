"""`cockpit oncall`: who holds the pager now and who takes it next (from `[oncall]`)."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

from cockpit.cli.context import READ, Context, moment
from cockpit.domain import one_line
from cockpit.oncall import current_shift


def register(sub: Any) -> None:
    p = sub.add_parser("oncall", help="who is on call now and next (from [oncall])")
    p.add_argument("--at", metavar="TIME", help="ask about another moment (ISO-8601)")
    p.set_defaults(handler=cmd_oncall, access=READ)


def _when(at: datetime) -> str:
    return at.strftime("%a %Y-%m-%d %H:%M %Z")


def cmd_oncall(ctx: Context) -> int:
    rotation = ctx.config.rotation
    if rotation is None:
        print(
            "cockpit: no on-call rotation configured "
            "(add people and start to [oncall] in config.toml)",
            file=sys.stderr,
        )
        return 1
    now = moment(ctx, ctx.args.at) if ctx.args.at else ctx.clock()
    shift = current_shift(rotation, now)
    if shift.person is None:
        print(f"now   nobody: the rotation starts {_when(shift.next_handoff)}")
    else:
        assert shift.since is not None
        print(f"now   {one_line(shift.person)} (since {_when(shift.since)})")
    print(f"next  {one_line(shift.next_person)} from {_when(shift.next_handoff)}")
    return 0
