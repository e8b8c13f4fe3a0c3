"""`cockpit show`: one incident as people read it (or `--json` for scripts): roles, runbook
checklist and escalation, the next update, the timeline and the deliveries."""

from __future__ import annotations

import codecs
import json
import sys
from typing import TYPE_CHECKING, Any

from cockpit.cli.context import READ, Context, incident_id
from cockpit.cli.lines import record_escalations, resolution_hint
from cockpit.domain import (
    escape_unsafe,
    format_countdown,
    format_duration,
    format_local,
    one_line,
    unreadable_note,
)

if TYPE_CHECKING:
    from cockpit.board import Board


def register(sub: Any) -> None:
    p = sub.add_parser("show", help="show one incident (--json for scripts)")
    p.add_argument("incident", nargs="?", metavar="ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_show, access=READ)


def cmd_show(ctx: Context) -> int:
    # Deferred: the board reads runbooks, which `cockpit log` never needs.
    from cockpit.board import build_board, incident_json

    target = incident_id(ctx, ctx.args.incident)
    record_escalations(ctx)
    now = ctx.clock()
    board = build_board(ctx.store, ctx.config, target, now)
    if ctx.args.json:
        print(json_text(incident_json(ctx.store, board)))
        return 0
    incident = board.incident
    print(f"{incident.ref}  {one_line(incident.severity)}  {one_line(incident.title)}")
    if incident.unreadable:
        print(f"  {one_line(unreadable_note(incident.unreadable))} (see cockpit doctor)")
    print(f"  status     {incident.status.value}")
    if incident.service:
        print(f"  service    {one_line(incident.service)}")
    print(
        f"  declared   {format_local(incident.declared_at, now)} "
        f"({format_duration(board.since_declared)} ago)"
    )
    for role in ctx.config.role_names:
        holder = incident.roles.get(role, "")
        flag = "  ⚠ required" if role in board.missing_roles else ""
        print(f"  {role:<12} {one_line(holder) or '—'}{flag}")
    if incident.runbook:
        print_checklist(ctx, board)
    if board.deadline:
        state = "OVERDUE" if board.overdue else "due"
        print(f"  next update {state} at {format_local(board.deadline.due_at, now)}")
    if board.resolution_update_owed:
        print(f"  resolution update owed: {resolution_hint(incident.ref)}")
    print()
    for entry in ctx.store.entries(target):
        flag = f"{one_line(unreadable_note(entry.unreadable))}: " if entry.unreadable else ""
        when = "??:??" if "at" in entry.unreadable else format_local(entry.at, now)
        print(
            f"  {when}  {entry.kind.value:<10} {one_line(entry.author):<12} "
            f"{flag}{one_line(entry.text)}"
        )
    deliveries = ctx.store.deliveries(target)
    if deliveries:
        print()
        for d in deliveries:
            error = f"  {one_line(d.last_error)}" if d.last_error else ""
            flag = f"  {one_line(unreadable_note(d.unreadable))}" if d.unreadable else ""
            print(
                f"  delivery #{d.id} {one_line(d.target):<12} {d.state:<9} "
                f"attempts={d.attempts}{error}{flag}"
            )
    return 0


def print_checklist(ctx: Context, board: Board) -> None:
    """The runbook lines: title, each step ticked or not, and escalation."""
    from cockpit.runbook_policy import ESCALATION_ALERT  # deferred with the board
    from cockpit.runbooks import step_state

    incident = board.incident
    now = board.now
    runbook = board.runbook
    if runbook is None:
        problem = board.runbook_problem
        note = f" (cannot be used: {one_line(problem)})" if problem else ""
        print(f"  runbook    {one_line(incident.runbook or '')}{note}")
        return
    print(f"  runbook    {runbook.name} · {one_line(runbook.title)}")
    done = step_state(ctx.store, incident.id, runbook.name)
    for step in runbook.steps:
        mark = "x" if step.number in done else " "
        print(f"             [{mark}] {step.number} {one_line(step.title)}")
    escalation = board.escalation
    if escalation is None:
        return
    if escalation.recorded_at is not None and now - escalation.recorded_at >= ESCALATION_ALERT:
        state = (
            f"escalated to {one_line(escalation.to)} at {format_local(escalation.recorded_at, now)}"
        )
    elif escalation.due(now):
        late = format_countdown(now - escalation.due_at)
        state = f"ESCALATE to {one_line(escalation.to)} now (due {late} ago)"
    else:
        left = format_countdown(escalation.remaining(now))
        state = (
            f"escalate to {one_line(escalation.to)} at "
            f"{format_local(escalation.due_at, now)} (in {left})"
        )
    print(f"  escalation {state}")


def json_text(value: Any) -> str:
    """JSON for a script that may be a terminal: UTF-8 where standard output can take it
    (ASCII escapes where it cannot), and the C1 and bidirectional controls that JSON allows
    raw (U+009B, U+202E, ...) always escaped as `\\u009b`, so a terminal shows them inert."""
    encoding = codecs.lookup(getattr(sys.stdout, "encoding", None) or "ascii").name
    text = json.dumps(value, indent=2, ensure_ascii=not encoding.startswith("utf"))
    return escape_unsafe(text)
