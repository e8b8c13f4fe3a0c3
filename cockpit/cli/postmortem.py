"""`cockpit postmortem ...`: show and edit the post-mortem (`cockpit export` writes it out).

Everything the post-mortem screen does can be scripted here (fields, action items, stars,
completion), through the same store methods the app calls. `cockpit.postmortem` is imported
inside the handlers: every command loads this module to register it, and the report renderer is
not light.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from cockpit.cli.context import (
    READ,
    Context,
    UsageError,
    id_argument,
    incident_option,
    postmortem_incident,
    read_stdin,
    usage_error,
)
from cockpit.cli.lines import due_text, item_line
from cockpit.domain import (
    NAME_TEXT,
    POSTMORTEM_TEXT,
    TITLE_TEXT,
    format_local,
    one_line,
    unreadable_note,
)

ITEM_NUMBER = id_argument("an action item number")


def register(sub: Any) -> None:
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
    incident_option(p)
    p.add_argument("field")
    p.add_argument(
        "text",
        help=f"the new text, or - to read standard input (at most {POSTMORTEM_TEXT.chars:,} "
        "characters)",
    )
    p.set_defaults(handler=cmd_set)

    p = actions.add_parser("complete", help="mark the post-mortem complete (--undo reopens it)")
    incident_option(p)
    p.add_argument("--undo", action="store_true")
    p.set_defaults(handler=cmd_complete)

    p = actions.add_parser("item", help="add, edit or remove action items")
    items = p.add_subparsers(dest="item_command", metavar="ACTION", required=True)
    q = items.add_parser("add", help="add an action item; prints its number")
    incident_option(q)
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


def cmd_show(ctx: Context) -> int:
    from cockpit.domain import FIELD_LABELS, FIELDS
    from cockpit.postmortem.due import postmortem_due_at

    store, now = ctx.store, ctx.clock()
    target = postmortem_incident(ctx, ctx.args.incident)
    incident = store.incident(target)
    pm = store.postmortem(target)
    state = "complete" if pm.completed_at else "draft"
    head = f"{incident.ref} post-mortem ({state}): {one_line(incident.title)}"
    due = postmortem_due_at(incident, ctx.config.postmortem.due_hours)
    if due is not None and pm.completed_at is None:
        head += f"  ·  {due_text(due, now)}"
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


def _read_text(ctx: Context, raw: str) -> str:
    return read_stdin(POSTMORTEM_TEXT) if raw == "-" else raw


def cmd_set(ctx: Context) -> int:
    from cockpit.domain import FIELD_LABELS, field_value, normalize_field_name

    with usage_error():
        name = normalize_field_name(ctx.args.field)
    text = _read_text(ctx, ctx.args.text)
    target = postmortem_incident(ctx, ctx.args.incident)
    ctx.store.set_postmortem(target, ctx.config.author, {name: field_value(name, text)})
    print(f"{ctx.ref(target)}: {FIELD_LABELS[name].lower()} saved")
    return 0


def cmd_complete(ctx: Context) -> int:
    target = postmortem_incident(ctx, ctx.args.incident)
    ctx.store.set_postmortem(target, ctx.config.author, completed=not ctx.args.undo)
    print(f"{ctx.ref(target)}: post-mortem {'reopened' if ctx.args.undo else 'complete'}")
    return 0


def _deadline(ctx: Context, raw: str) -> date | None:
    from cockpit.domain import parse_deadline

    with usage_error():
        deadline = parse_deadline(raw, ctx.clock())
    return deadline


def cmd_item_add(ctx: Context) -> int:
    deadline = _deadline(ctx, ctx.args.deadline) if ctx.args.deadline else None
    target = postmortem_incident(ctx, ctx.args.incident)
    item = ctx.store.add_action_item(
        target, ctx.args.title, owner=ctx.args.owner, deadline=deadline
    )
    print(f"#{item.id}")
    return 0


def cmd_item_edit(ctx: Context) -> int:
    from cockpit.domain import parse_item_state

    changes: dict[str, object] = {}
    if ctx.args.title is not None:
        changes["title"] = ctx.args.title
    if ctx.args.owner is not None:
        changes["owner"] = ctx.args.owner
    if ctx.args.deadline is not None:
        changes["deadline"] = _deadline(ctx, ctx.args.deadline)
    if ctx.args.state is not None:
        with usage_error():
            changes["state"] = parse_item_state(ctx.args.state)
    if not changes:
        raise UsageError("nothing to change (give --title, --owner, --deadline or --state)")
    item = ctx.store.update_action_item(ctx.args.item, **changes)
    print(item_line(item, ctx.clock()))
    return 0


def cmd_item_state(ctx: Context) -> int:
    from cockpit.domain import ItemState

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
