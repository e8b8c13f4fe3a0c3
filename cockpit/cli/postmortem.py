"""Subcommands for the post-mortem: `cockpit export` and `cockpit postmortem ...`.

Everything the post-mortem screen does can be scripted here (fields, action items, stars,
completion), through the same store methods the app calls.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from cockpit.cli import READ, id_argument, read_stdin
from cockpit.domain import (
    NAME_TEXT,
    POSTMORTEM_TEXT,
    TITLE_TEXT,
    format_duration,
    format_local,
    one_line,
    parse_incident_ref,
    unreadable_note,
)
from cockpit.files import is_stream, user_path

if TYPE_CHECKING:
    from cockpit.cli import Context
    from cockpit.postmortem import ActionItem

ITEM_NUMBER = id_argument("an action item number")


def register(sub: Any) -> None:
    p = sub.add_parser("export", help="write the post-mortem as Markdown")
    p.add_argument("incident", nargs="?", metavar="ID", help="INC-n (default: see below)")
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="where to write ('-' for standard output; default: "
        "[postmortem] dir / postmortem-INC-n-<slug>.md)",
    )
    p.add_argument("--tz", metavar="ZONE", help="time zone of the local-time column (IANA name)")
    p.set_defaults(handler=cmd_export, access=READ)

    pm = sub.add_parser(
        "postmortem",
        help="edit the post-mortem: fields, action items, starred entries",
        description="Without --incident: the only open incident, else the latest resolved one.",
    )
    actions = pm.add_subparsers(dest="postmortem_command", metavar="ACTION", required=True)

    p = actions.add_parser("show", help="print the post-mortem fields, items and stars")
    p.add_argument("incident", nargs="?", metavar="ID")
    p.add_argument("--timeline", action="store_true", help="also list every entry with its id")
    p.set_defaults(handler=cmd_show, access=READ)

    p = actions.add_parser(
        "set",
        help="set a field ('-' reads standard input; '' clears)",
        description="Fields: summary, impact, root-cause (one why per line), "
        "contributing-factors, went-well, went-poorly, lessons.",
    )
    _incident_option(p)
    p.add_argument("field")
    p.add_argument(
        "text",
        help=f"the new text, or - to read standard input (at most {POSTMORTEM_TEXT.chars:,} "
        "characters)",
    )
    p.set_defaults(handler=cmd_set)

    p = actions.add_parser("complete", help="mark the post-mortem complete (--undo reopens it)")
    _incident_option(p)
    p.add_argument("--undo", action="store_true")
    p.set_defaults(handler=cmd_complete)

    p = actions.add_parser("item", help="add, edit or remove action items")
    items = p.add_subparsers(dest="item_command", metavar="ACTION", required=True)
    q = items.add_parser("add", help="add an action item; prints its number")
    _incident_option(q)
    q.add_argument("title", help=f"at most {TITLE_TEXT.chars:,} characters")
    q.add_argument("--owner", default="", help=f"at most {NAME_TEXT.chars:,} characters")
    q.add_argument("--deadline", metavar="DATE", help="YYYY-MM-DD, +7d or 2w")
    q.set_defaults(handler=cmd_item_add)
    q = items.add_parser("edit", help="change an action item")
    q.add_argument("item", type=ITEM_NUMBER, metavar="N")
    q.add_argument("--title")
    q.add_argument("--owner")
    q.add_argument("--deadline", metavar="DATE", help="YYYY-MM-DD, +7d, 2w or '' to clear")
    q.add_argument("--state", help="open, done or won't do")
    q.set_defaults(handler=cmd_item_edit)
    for state, text in (("done", "mark done"), ("reopen", "mark open"), ("wontdo", "won't do")):
        q = items.add_parser(state, help=f"{text}: shorthand for edit N --state")
        q.add_argument("item", type=ITEM_NUMBER, metavar="N")
        q.set_defaults(handler=cmd_item_state, new_state=state)
    q = items.add_parser("rm", help="delete an action item added by mistake")
    q.add_argument("item", type=ITEM_NUMBER, metavar="N")
    q.set_defaults(handler=cmd_item_rm)

    for name, text in (("star", "mark entries as key moments"), ("unstar", "remove the mark")):
        p = actions.add_parser(name, help=f"{text} (entry ids: postmortem show --timeline)")
        p.add_argument("entries", nargs="+", type=id_argument("an entry id"), metavar="ENTRY")
        p.set_defaults(handler=cmd_star, star=name == "star")


def _incident_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--incident", "-i", metavar="ID", help="INC-n")


def target_incident(ctx: Context, raw: str | None) -> int:
    """The incident meant: the one named, else the only open one, else the latest resolved."""
    from cockpit.cli import UsageError

    store = ctx.store
    if raw is not None:
        try:
            return store.resolve_incident_id(parse_incident_ref(raw))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if store.incidents(open_only=True):
        return store.resolve_incident_id(None)
    resolved = [i for i in store.incidents() if i.resolved_at is not None]
    if not resolved:
        return store.resolve_incident_id(None)  # raises: nothing to write about
    return max(resolved, key=lambda i: (i.resolved_at or i.declared_at, i.id)).id


def _zone(ctx: Context) -> tzinfo | None:
    from cockpit.cli import UsageError

    name = ctx.args.tz
    if not name:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"unknown time zone {name!r} (use an IANA name like Europe/Paris)"
        ) from None


def cmd_export(ctx: Context) -> int:
    from cockpit.postmortem import export_markdown, export_path, write_export

    target = target_incident(ctx, ctx.args.incident)
    text = export_markdown(ctx.store, ctx.config, target, ctx.clock(), tz=_zone(ctx))
    if ctx.args.output == "-":
        sys.stdout.write(text)
        return 0
    path = (
        user_path(ctx.args.output)
        if ctx.args.output
        else export_path(ctx.config, ctx.store.incident(target))
    )
    streaming = is_stream(path)  # `-o /dev/stdout`: the path would land in the document
    try:
        written = write_export(path, text)
    except OSError as exc:
        print(f"cockpit: {one_line(f'{path}: cannot write: {exc.strerror}')}", file=sys.stderr)
        return 1
    if not streaming:
        print(one_line(str(written)))
    return 0


def cmd_show(ctx: Context) -> int:
    from cockpit.postmortem import FIELD_LABELS, FIELDS, postmortem_due_at

    store, now = ctx.store, ctx.clock()
    target = target_incident(ctx, ctx.args.incident)
    incident = store.incident(target)
    pm = store.postmortem(target)
    state = "complete" if pm.completed_at else "draft"
    head = f"{incident.ref} post-mortem ({state}): {one_line(incident.title)}"
    due = postmortem_due_at(incident, ctx.config.postmortem.due_hours)
    if due is not None and pm.completed_at is None:
        head += f"  ·  {_due_text(due, now)}"
    print(head)
    for flagged in (incident, pm):
        if flagged.unreadable:
            print(f"  {one_line(unreadable_note(flagged.unreadable))} (see cockpit doctor)")
    for name in FIELDS:
        print(f"\n{FIELD_LABELS[name]}:")
        text = pm.text_of(name)
        if not text.strip():
            print("  (empty)")
            continue
        lines = text.splitlines()
        for number, line in enumerate(lines, 1):
            prefix = f"{number}. " if name == "root_cause" else ""
            print(f"  {prefix}{one_line(line)}")
    print("\nAction items:")
    items = store.action_items(target)
    if not items:
        print("  (none)")
    for item in items:
        print(f"  {item_line(item, now)}")
    starred = store.starred(target)
    entries = store.entries(target)
    shown = entries if ctx.args.timeline else [e for e in entries if e.id in starred]
    print("\nTimeline:" if ctx.args.timeline else "\nStarred entries:")
    if not shown:
        print("  (none)")
    for entry in shown:
        mark = "★" if entry.id in starred else " "
        flag = f"{one_line(unreadable_note(entry.unreadable))}: " if entry.unreadable else ""
        when = "??:??" if "at" in entry.unreadable else format_local(entry.at, now)
        print(
            f"  {mark} #{entry.id:<5} {when}  {entry.kind.value:<10} "
            f"{one_line(entry.author):<12} {flag}{one_line(entry.text)}"
        )
    return 0


def _due_text(due: datetime, now: datetime) -> str:
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


def _read_text(ctx: Context, raw: str) -> str:
    return read_stdin(POSTMORTEM_TEXT) if raw == "-" else raw


def cmd_set(ctx: Context) -> int:
    from cockpit.cli import UsageError
    from cockpit.postmortem import FIELD_LABELS, field_value, normalize_field_name

    try:
        name = normalize_field_name(ctx.args.field)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    text = _read_text(ctx, ctx.args.text)
    target = target_incident(ctx, ctx.args.incident)
    ctx.store.set_postmortem(target, ctx.config.author, {name: field_value(name, text)})
    print(f"INC-{target}: {FIELD_LABELS[name].lower()} saved")
    return 0


def cmd_complete(ctx: Context) -> int:
    target = target_incident(ctx, ctx.args.incident)
    ctx.store.set_postmortem(target, ctx.config.author, completed=not ctx.args.undo)
    print(f"INC-{target}: post-mortem {'reopened' if ctx.args.undo else 'complete'}")
    return 0


def _deadline(ctx: Context, raw: str) -> Any:
    from cockpit.cli import UsageError
    from cockpit.postmortem import parse_deadline

    try:
        return parse_deadline(raw, ctx.clock())
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_item_add(ctx: Context) -> int:
    deadline = _deadline(ctx, ctx.args.deadline) if ctx.args.deadline else None
    target = target_incident(ctx, ctx.args.incident)
    item = ctx.store.add_action_item(
        target, ctx.args.title, owner=ctx.args.owner, deadline=deadline
    )
    print(f"#{item.id}")
    return 0


def cmd_item_edit(ctx: Context) -> int:
    from cockpit.cli import UsageError
    from cockpit.postmortem import parse_item_state

    changes: dict[str, object] = {}
    if ctx.args.title is not None:
        changes["title"] = ctx.args.title
    if ctx.args.owner is not None:
        changes["owner"] = ctx.args.owner
    if ctx.args.deadline is not None:
        changes["deadline"] = _deadline(ctx, ctx.args.deadline)
    if ctx.args.state is not None:
        try:
            changes["state"] = parse_item_state(ctx.args.state)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if not changes:
        raise UsageError("nothing to change (give --title, --owner, --deadline or --state)")
    item = ctx.store.update_action_item(ctx.args.item, **changes)
    print(item_line(item, ctx.clock()))
    return 0


def cmd_item_state(ctx: Context) -> int:
    from cockpit.postmortem import ItemState

    state = {"done": ItemState.DONE, "reopen": ItemState.OPEN, "wontdo": ItemState.WONT_DO}[
        ctx.args.new_state
    ]
    item = ctx.store.update_action_item(ctx.args.item, state=state)
    print(item_line(item, ctx.clock()))
    return 0


def cmd_item_rm(ctx: Context) -> int:
    ctx.store.remove_action_item(ctx.args.item)
    print(f"#{ctx.args.item} removed")
    return 0


def cmd_star(ctx: Context) -> int:
    store, author = ctx.store, ctx.config.author
    for entry_id in ctx.args.entries:
        changed = store.star(entry_id, author) if ctx.args.star else store.unstar(entry_id)
        verb = "starred" if ctx.args.star else "unstarred"
        print(f"#{entry_id} {verb}" if changed else f"#{entry_id} already {verb}")
    return 0


def pending_lines(ctx: Context) -> list[str]:
    """What `cockpit list` adds: post-mortems due or overdue, action items past deadline."""
    from cockpit.postmortem import pending

    now = ctx.clock()
    found = pending(ctx.store, ctx.config.postmortem.due_hours, now)
    lines = []
    for due in found.postmortems:
        incident = due.incident
        lines.append(
            f"{incident.ref:<8} {incident.severity:<6} {'resolved':<13} "
            f"{_due_text(due.due_at, now)}  {one_line(incident.title)}"
        )
    for incident, item in found.items:
        lines.append(f"{incident.ref:<8} action item past deadline: {item_line(item, now)}")
    return lines
