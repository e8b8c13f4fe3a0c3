"""`cockpit export`: the post-mortem as a Markdown file (or on standard output with `-o -`)."""

from __future__ import annotations

import sys
from datetime import tzinfo
from typing import Any

from cockpit.cli.context import READ, Context, UsageError, postmortem_incident
from cockpit.cli.lines import write_document
from cockpit.files import user_path


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


def _zone(ctx: Context) -> tzinfo | None:
    name = ctx.args.tz
    if not name:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # deferred: only --tz needs it

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"unknown time zone {name!r} (use an IANA name like Europe/Paris)"
        ) from None


def cmd_export(ctx: Context) -> int:
    # Deferred: the report renderer is not light.
    from cockpit.postmortem.export import export_markdown, export_path

    target = postmortem_incident(ctx, ctx.args.incident)
    text = export_markdown(ctx.store, ctx.config, target, ctx.clock(), tz=_zone(ctx))
    if ctx.args.output == "-":
        sys.stdout.write(text)
        return 0
    path = (
        user_path(ctx.args.output)
        if ctx.args.output
        else export_path(ctx.config, ctx.store.incident(target))
    )
    return write_document(path, text)
