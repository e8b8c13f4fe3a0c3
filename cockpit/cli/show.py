"""Subcommands that create and change incidents: init, declare, log, status, severity, assign,
list and show. Each is a thin call into the store, the same call the app makes."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from cockpit.cli import CREATE, READ
from cockpit.config import user_config_path, write_starter
from cockpit.domain import (
    ENTRY_TEXT,
    NAME_TEXT,
    REASON_TEXT,
    TITLE_TEXT,
    USER_KINDS,
    Kind,
    Status,
    escape_unsafe,
    find_role,
    find_severity,
    format_duration,
    format_local,
    one_line,
    parse_incident_ref,
    parse_moment,
    parse_status,
    unreadable_note,
)
from cockpit.files import user_path

if TYPE_CHECKING:
    from cockpit.cli import Context


def register(sub: Any) -> None:
    p = sub.add_parser("init", help="write a starter config.toml")
    p.add_argument("path", nargs="?", help="where to write it (default: the user config dir)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser("declare", help="declare an incident; prints its id")
    p.add_argument("title", help=f"what is broken (at most {TITLE_TEXT.chars:,} characters)")
    p.add_argument("--severity", "-s", metavar="SEV-n", help="default: [declare] default_severity")
    p.add_argument(
        "--service",
        help=f"default: [declare] default_service (at most {NAME_TEXT.chars:,} characters)",
    )
    p.add_argument("--runbook", metavar="NAME", help="runbook file name without .md")
    p.add_argument("--commander", metavar="PERSON")
    p.add_argument("--communicator", metavar="PERSON")
    p.add_argument("--at", metavar="TIME", help="when impact started (backdates it)")
    p.set_defaults(handler=cmd_declare, access=CREATE)

    p = sub.add_parser("log", help="append a timeline entry ('-' reads standard input)")
    _incident_option(p)
    p.add_argument("--kind", "-k", default="note", choices=[k.value for k in USER_KINDS])
    p.add_argument("--at", metavar="TIME", help="when it happened (backdates; needs --reason)")
    p.add_argument(
        "--reason",
        metavar="TEXT",
        help=f"why the entry is backdated (at most {REASON_TEXT.chars:,} characters)",
    )
    p.add_argument(
        "text",
        nargs="+",
        help=f"the text, or - to read standard input (at most {ENTRY_TEXT.chars:,} characters; "
        "more is refused, never cut)",
    )
    p.set_defaults(handler=cmd_log)

    p = sub.add_parser("status", help="change the incident status")
    _incident_option(p)
    p.add_argument("status", help="investigating, identified, monitoring or resolved")
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser("severity", help="change the incident severity")
    _incident_option(p)
    p.add_argument("severity", metavar="SEV-n")
    p.set_defaults(handler=cmd_severity)

    p = sub.add_parser("assign", help="give a role to a person ('' clears it)")
    _incident_option(p)
    p.add_argument("role")
    p.add_argument("person", help=f"at most {NAME_TEXT.chars:,} characters")
    p.set_defaults(handler=cmd_assign)

    p = sub.add_parser("list", help="list open incidents (--all for every one)")
    p.add_argument("--all", action="store_true")
    p.set_defaults(handler=cmd_list, access=READ)

    p = sub.add_parser("show", help="show one incident (--json for scripts)")
    p.add_argument("incident", nargs="?", metavar="ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_show, access=READ)


def _incident_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--incident", "-i", metavar="ID", help="INC-n (default: the open one)")


def incident_id(ctx: Context, raw: str | None) -> int:
    """The incident a command means: `--incident`, else the only open one."""
    from cockpit.cli import UsageError

    explicit = None
    if raw is not None:
        try:
            explicit = parse_incident_ref(raw)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return ctx.store.resolve_incident_id(explicit)


def _moment(ctx: Context, raw: str) -> Any:
    from cockpit.cli import UsageError

    try:
        return parse_moment(raw, ctx.clock())
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_init(ctx: Context) -> int:
    path = user_path(ctx.args.path) if ctx.args.path else user_config_path()
    write_starter(path, force=ctx.args.force)
    print(one_line(str(path)))
    return 0


def cmd_declare(ctx: Context) -> int:
    from cockpit.cli import UsageError

    config = ctx.config
    try:
        severity = find_severity(
            config.severities, ctx.args.severity or config.declare.default_severity
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    impact = _moment(ctx, ctx.args.at) if ctx.args.at else None
    runbook = ctx.args.runbook
    if runbook:
        runbook = _check_runbook(ctx, runbook)
    roles = {"commander": ctx.args.commander or "", "communicator": ctx.args.communicator or ""}
    incident = ctx.store.declare(
        ctx.args.title,
        severity.name,
        config.author,
        service=config.declare.default_service if ctx.args.service is None else ctx.args.service,
        runbook=runbook,
        impact_started_at=impact,
        roles=roles,
    )
    print(incident.ref)
    _say_queued(ctx, incident.id, None)
    return 0


def _check_runbook(ctx: Context, name: str) -> str:
    """Validate a runbook name against the configured directories (when runbooks are loaded)."""
    from importlib import import_module

    from cockpit.cli import UsageError

    try:
        find_runbook = import_module("cockpit.runbooks").find_runbook
    except ImportError:  # runbook support not built yet: accept the name as given
        return name
    try:
        return str(find_runbook(ctx.config.runbook_dirs, name).name)
    except LookupError as exc:
        raise UsageError(str(exc)) from None


def cmd_log(ctx: Context) -> int:
    from cockpit.cli import UsageError, read_stdin

    words: list[str] = ctx.args.text
    meta: dict[str, Any] | None = None
    if words == ["-"]:
        # Over the limit is refused whole (exit 2, nothing stored), never cut.
        text = read_stdin(ENTRY_TEXT).rstrip("\n")
        meta = {"captured": True}
    else:
        text = " ".join(words)
    if not text.strip():
        raise UsageError("nothing to log (empty text)")
    at = _moment(ctx, ctx.args.at) if ctx.args.at else None
    if ctx.args.reason and at is None:
        raise UsageError("--reason goes with --at")
    if at is not None and not (ctx.args.reason or "").strip():
        raise UsageError("a backdated entry needs --reason (say why it is logged late)")
    target = incident_id(ctx, ctx.args.incident)
    entry = ctx.store.append(
        target,
        Kind(ctx.args.kind),
        text,
        ctx.config.author,
        at=at,
        reason=ctx.args.reason,
        meta=meta,
    )
    if sys.stdout.isatty():
        print(f"logged {entry.kind.value} #{entry.id} on INC-{target}")
    return 0


def cmd_status(ctx: Context) -> int:
    from cockpit.cli import UsageError

    try:
        status = parse_status(ctx.args.status)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    target = incident_id(ctx, ctx.args.incident)
    entry = ctx.store.set_status(target, status, ctx.config.author)
    print(one_line(entry.text) if entry else f"INC-{target} is already {status.value}")
    if entry:
        _say_queued(ctx, target, entry.id)
    if status is Status.RESOLVED:
        _say_resolution_owed(ctx, target)
    return 0


def resolution_hint(incident: int) -> str:
    """How to send an owed resolution update (the incident is named: it is no longer open)."""
    return f"send it with `cockpit update --incident INC-{incident} --template resolution`"


def _say_resolution_owed(ctx: Context, incident: int) -> None:
    """One line on stderr when resolving left the resolution update owed."""
    from cockpit.board import build_board

    board = build_board(ctx.store, ctx.config, incident, ctx.clock())
    if board.resolution_update_owed:
        print(
            f"INC-{incident}: a resolution update is owed; {resolution_hint(incident)}",
            file=sys.stderr,
        )


def cmd_severity(ctx: Context) -> int:
    from cockpit.cli import UsageError

    try:
        severity = find_severity(ctx.config.severities, ctx.args.severity)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    target = incident_id(ctx, ctx.args.incident)
    entry = ctx.store.set_severity(target, severity.name, ctx.config.author)
    print(one_line(entry.text) if entry else f"INC-{target} is already {severity.name}")
    if entry:
        _say_queued(ctx, target, entry.id)
    return 0


def _say_queued(ctx: Context, incident: int, entry_id: int | None) -> None:
    """Tell (on stderr, stdout stays the id for scripts) what the change queued: pages and
    webhook events go out when `cockpit deliver` or the open app runs."""
    queued = [
        f"{d.target} {d.action}"
        for d in ctx.store.deliveries(incident)
        if entry_id is None or d.entry_id == entry_id
    ]
    if queued:
        print(
            f"queued {', '.join(queued)}; `cockpit deliver` or the open app sends it",
            file=sys.stderr,
        )


def cmd_assign(ctx: Context) -> int:
    from cockpit.cli import UsageError

    try:
        role = find_role(ctx.config.role_names, ctx.args.role.strip())
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    target = incident_id(ctx, ctx.args.incident)
    entry = ctx.store.assign(target, role, ctx.args.person, ctx.config.author)
    person = one_line(ctx.args.person.strip()) or "nobody"
    print(one_line(entry.text) if entry else f"{role} is already {person}")
    return 0


def cmd_list(ctx: Context) -> int:
    now = ctx.clock()
    from cockpit.cli.postmortem import pending_lines

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


def cmd_show(ctx: Context) -> int:
    from cockpit.board import build_board, incident_json

    target = incident_id(ctx, ctx.args.incident)
    now = ctx.clock()
    board = build_board(ctx.store, ctx.config, target, now, **_board_options(ctx, target))
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
        from cockpit.cli.runbooks import print_checklist

        print_checklist(ctx, board)
    if board.deadline:
        state = "OVERDUE" if board.overdue else "due"
        print(f"  next update {state} at {format_local(board.deadline.due_at, now)}")
    if board.resolution_update_owed:
        print(f"  resolution update owed: {resolution_hint(incident.id)}")
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


def json_text(value: Any) -> str:
    """JSON for a script that may be a terminal: UTF-8 where standard output can take it
    (ASCII escapes where it cannot), and the C1 and bidirectional controls that JSON allows
    raw (U+009B, U+202E, ...) always escaped as `\\u009b`, so a terminal shows them inert."""
    import codecs

    encoding = codecs.lookup(getattr(sys.stdout, "encoding", None) or "ascii").name
    text = json.dumps(value, indent=2, ensure_ascii=not encoding.startswith("utf"))
    return escape_unsafe(text)


def _board_options(ctx: Context, incident: int) -> dict[str, Any]:
    """Extra inputs to the board that later modules provide (runbook cadence override)."""
    return {}


def open_app(ctx: Context) -> int:
    """`cockpit` with no subcommand: the Textual app."""
    from importlib import import_module

    try:
        run_app = import_module("cockpit.tui.app").run_app
    except ImportError:
        print("cockpit: the terminal app is not built yet; see `cockpit --help`", file=sys.stderr)
        return 1
    return int(run_app(ctx.config, ctx.db_path, clock=ctx.clock))
