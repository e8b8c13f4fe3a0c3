"""Lines several subcommands print alike: what a change queued, the escalations they recorded,
how to send an owed resolution update, an action item, when a post-mortem is due, and where a
Markdown document was written."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.cli.context import Context
from cockpit.domain import format_duration, one_line, unreadable_note
from cockpit.store import Store, StoreError

if TYPE_CHECKING:
    from cockpit.domain import ActionItem, Entry


def say_queued(ctx: Context, incident: int, entry_id: int | None) -> None:
    """Tell (on stderr, stdout stays the id for scripts) what the change queued: pages and
    webhook events go out when `cockpit deliver` or the open app runs."""
    queued = [
        f"{d.target} {d.action}"
        for d in ctx.store.deliveries(incident)
        if entry_id is None or d.entry_id == entry_id
    ]
    if queued:
        print(f"queued {', '.join(queued)}; {sent_by(ctx)}", file=sys.stderr)


def say_change(ctx: Context, target: int, entry: Entry | None, unchanged: str) -> None:
    """The timeline line a change wrote (and what it queued), or `unchanged` when the incident
    already stood so and nothing was written."""
    if entry is None:
        print(unchanged)
        return
    print(one_line(entry.text))
    say_queued(ctx, target, entry.id)


def record_escalations(ctx: Context) -> None:
    """Record every runbook escalation now due on an open incident, as the open app does (once,
    whichever process sees it first), and say each on stderr. A command that only reads the
    database opens it for writing for this; where it cannot be written, a note says so and
    the escalation waits for a process that can."""
    # Deferred: the runbook library, which `cockpit log` never needs.
    from cockpit.runbook_policy import due_escalations, record_due_escalations

    store, config = ctx.store, ctx.config
    if not due_escalations(store, config, ctx.clock()):
        return
    writer = store
    try:
        if store.read_only:
            writer = Store.open(
                store.path,
                clock=ctx.clock,
                busy_timeout_ms=config.database.busy_timeout_ms,
                create=False,
            )
        entries = record_due_escalations(writer, config, config.author)
    except StoreError as exc:
        print(
            f"cockpit: note: a runbook escalation is due and could not be recorded: "
            f"{one_line(str(exc))}",
            file=sys.stderr,
        )
        return
    finally:
        if writer is not store:
            writer.close()
    for entry in entries:
        print(f"{ctx.ref(entry.incident_id)}: {one_line(entry.text)}", file=sys.stderr)


def sent_by(ctx: Context) -> str:
    """Who sends what a command queued: the deliverer, or in a drill the sink (nobody)."""
    if ctx.drill is not None:
        return "a drill: the sink records it as it would have gone out, nothing is sent"
    return "`cockpit deliver` or the open app sends it"


def resolution_hint(ref: str) -> str:
    """How to send an owed resolution update (the incident is named, `INC-n` or `DRILL-n`:
    it is no longer open)."""
    return f"send it with `cockpit update --incident {ref} --template resolution`"


def due_text(due: datetime, now: datetime) -> str:
    """`post-mortem due in 1d 02:00:00`, or `post-mortem OVERDUE by 03:00:00`."""
    if now > due:
        return f"post-mortem OVERDUE by {format_duration(now - due)}"
    return f"post-mortem due in {format_duration(due - now)}"


def item_line(item: ActionItem, now: datetime) -> str:
    """`#3 [open] Alert on pool usage · carol · 2026-12-04 (past deadline)`."""
    parts = [f"#{item.id} [{item.state.label}] {one_line(item.title)}"]
    parts.append(one_line(item.owner) or "no owner")
    deadline = item.deadline.isoformat() if item.deadline else "no deadline"
    if item.past_deadline(now):
        deadline += " (past deadline)"
    parts.append(deadline)
    if item.unreadable:
        parts.append(one_line(unreadable_note(item.unreadable)))
    return " · ".join(parts)


def write_document(path: Path, text: str) -> int:
    """Write an exported Markdown document and print where (not when the path is a stream such
    as `/dev/stdout`: the path would land in the document); the exit status."""
    from cockpit.files import is_stream
    from cockpit.postmortem.export import (
        write_export,  # deferred: the report, which `log` never needs
    )

    streaming = is_stream(path)
    try:
        written = write_export(path, text)
    except OSError as exc:
        print(f"cockpit: {one_line(f'{path}: cannot write: {exc.strerror}')}", file=sys.stderr)
        return 1
    if not streaming:
        print(one_line(str(written)))
    return 0
