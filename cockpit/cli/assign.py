"""`cockpit assign`: give a role (commander, communicator, ...) to a person, or clear it."""

from __future__ import annotations

from typing import Any

from cockpit.cli.context import Context, incident_id, incident_option
from cockpit.cli.lines import say_change
from cockpit.domain import NAME_TEXT, one_line


def register(sub: Any) -> None:
    p = sub.add_parser("assign", help="give a role to a person ('' clears it)")
    incident_option(p, "INC-n (default: the open one)")
    p.add_argument("role")
    p.add_argument("person", help=f"at most {NAME_TEXT.chars:,} characters")
    p.set_defaults(handler=cmd_assign)


def cmd_assign(ctx: Context) -> int:
    role = ctx.store.role(ctx.args.role)  # the configured roles: UnknownRole is bad usage
    target = incident_id(ctx, ctx.args.incident)
    entry = ctx.store.assign(target, role, ctx.args.person, ctx.config.author)
    person = one_line(ctx.args.person.strip()) or "nobody"
    say_change(ctx, target, entry, f"{role} is already {person}")
    return 0
