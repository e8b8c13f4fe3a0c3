"""`cockpit list`: the open incidents (or all), then post-mortems and action items falling due."""

from __future__ import annotations

from typing import Any

from cockpit.cli.context import READ, Context
from cockpit.cli.lines import due_text, item_line
from cockpit.domain import format_duration, one_line, unreadable_note


def register(sub: Any) -> None:
    p = sub.add_parser("list", help="list open incidents (--all for every one)")
    p.add_argument("--all", action="store_true")
    p.set_defaults(handler=cmd_list, access=READ)


def cmd_list(ctx: Context) -> int:
    now = ctx.clock()
    incidents = ctx.store.incidents(open_only=not ctx.args.all)
    if not incidents:
        print("no open incidents" if not ctx.args.all else "no incidents")
    for incident in incidents:
        age = format_duration((incident.resolved_at or now) - incident.declared_at)
        flag = f"  {one_line(unreadable_note(incident.unreadable))}" if incident.unreadable else ""
        print(
            f"{incident.ref:<8} {one_line(incident.severity):<6} {incident.status.value:<13} "
            f"{age:>10}  {one_line(incident.title)}{flag}"
        )
    pending = pending_lines(ctx)
    if pending:
        print("\n" + "\n".join(pending))
    return 0


def pending_lines(ctx: Context) -> list[str]:
    """What `cockpit list` adds: post-mortems due or overdue, action items past deadline."""
    from cockpit.postmortem.due import pending  # deferred: the report renderer is not light

    now = ctx.clock()
    found = pending(ctx.store, ctx.config.postmortem.due_hours, now)
    lines = []
    for due in found.postmortems:
        incident = due.incident
        lines.append(
            f"{incident.ref:<8} {incident.severity:<6} {'resolved':<13} "
            f"{due_text(due.due_at, now)}  {one_line(incident.title)}"
        )
    for incident, item in found.items:
        lines.append(f"{incident.ref:<8} action item past deadline: {item_line(item, now)}")
    return lines
