"""`cockpit log`: append a timeline entry, from words or a pipe.

The command scripts pipe into, so it starts fast: this module imports only the context, the
domain and (through the context) the configuration and store; nothing of Textual, httpx or rich.
"""

from __future__ import annotations

import sys
from typing import Any

from cockpit.cli.context import (
    Context,
    UsageError,
    incident_id,
    incident_option,
    moment,
    read_stdin,
)
from cockpit.domain import ENTRY_TEXT, REASON_TEXT, USER_KINDS, Kind


def register(sub: Any) -> None:
    p = sub.add_parser("log", help="append a timeline entry ('-' reads standard input)")
    incident_option(p, "INC-n (default: the open one)")
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


def cmd_log(ctx: Context) -> int:
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
    at = moment(ctx, ctx.args.at) if ctx.args.at else None
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
        print(f"logged {entry.kind.value} #{entry.id} on {ctx.ref(target)}")
    return 0
