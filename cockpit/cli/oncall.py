"""Set-up commands: `cockpit oncall` (who holds the pager) and `cockpit doctor` (check it all)."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cockpit.cli import READ
from cockpit.domain import one_line
from cockpit.oncall import current_shift

if TYPE_CHECKING:
    from cockpit.cli import Context


def register(sub: Any) -> None:
    p = sub.add_parser("oncall", help="who is on call now and next (from [oncall])")
    p.add_argument("--at", metavar="TIME", help="ask about another moment (ISO-8601)")
    p.set_defaults(handler=cmd_oncall, access=READ)

    p = sub.add_parser("doctor", help="check config, database, runbooks and services")
    p.set_defaults(handler=cmd_doctor)


def _when(moment: datetime) -> str:
    return moment.strftime("%a %Y-%m-%d %H:%M %Z")


def cmd_oncall(ctx: Context) -> int:
    from cockpit.cli import UsageError
    from cockpit.domain import parse_moment

    rotation = ctx.config.rotation
    if rotation is None:
        print(
            "cockpit: no on-call rotation configured "
            "(add people and start to [oncall] in config.toml)",
            file=sys.stderr,
        )
        return 1
    now = ctx.clock()
    if ctx.args.at:
        try:
            now = parse_moment(ctx.args.at, now)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    shift = current_shift(rotation, now)
    if shift.person is None:
        print(f"now   nobody: the rotation starts {_when(shift.next_handoff)}")
    else:
        assert shift.since is not None
        print(f"now   {one_line(shift.person)} (since {_when(shift.since)})")
    print(f"next  {one_line(shift.next_person)} from {_when(shift.next_handoff)}")
    return 0


def cmd_doctor(ctx: Context) -> int:
    from cockpit.doctor import run_doctor

    checks = run_doctor(ctx.args.config, ctx.args.db)
    for check in checks:
        print(one_line(check.line()))
    failed = [c for c in checks if not c.ok]
    print(f"{len(checks) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0
