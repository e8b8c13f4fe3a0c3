"""`cockpit sync`: one round of sending this laptop's entries to the incidents' Slack threads
and reading them (`--wait`: rounds until settled; `--follow`: until stopped, what the open app
does in the background). `cockpit sync export` and `cockpit sync import`: an incident's shared
entries as JSON lines (the same payloads the Slack thread carries), for when Slack is down.

Import is idempotent (entries are kept by uid), creates an incident this laptop does not have
from its declared entry, and never queues a delivery, a page or a webhook event.
"""

from __future__ import annotations

import sys
from typing import Any

from cockpit.cli.context import (
    CREATE,
    READ,
    WRITE,
    Context,
    UsageError,
    incident_id,
    incident_option,
    seconds_argument,
)
from cockpit.config import ConfigError
from cockpit.domain import incident_ref, one_line
from cockpit.files import FileProblem, is_stream, read_limited, user_path, write_text

MAX_WAIT_SECONDS = 86_400
SYNC_FILE_LIMIT = 256 * 1024 * 1024
"""The largest sync file read (a 50,000-entry incident is about 30 MB)."""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "sync",
        help="share incidents with teammates' cockpits through the Slack thread",
        description="One round: post this laptop's unsent entries to each open incident's "
        "Slack thread and import what teammates wrote. Exit 1 if Slack could not be reached.",
    )
    incident_option(p, "INC-n (default: every open incident)")
    timing = p.add_mutually_exclusive_group()
    timing.add_argument(
        "--wait",
        type=seconds_argument(MAX_WAIT_SECONDS),
        metavar="SECONDS",
        help="rounds until nothing is left to send and a read brings nothing new; "
        "exit 1 if that takes longer than SECONDS",
    )
    timing.add_argument(
        "--follow",
        action="store_true",
        help="keep syncing until interrupted (what the open app does in the background)",
    )
    p.set_defaults(handler=cmd_sync, access=WRITE)
    actions = p.add_subparsers(dest="sync_command", metavar="ACTION")
    e = actions.add_parser(
        "export",
        help="write an incident's shared entries as JSON lines",
        description="Write every shared entry of an incident as JSON lines (the payloads the "
        "Slack thread carries). Another laptop reads them with `cockpit sync import`.",
    )
    incident_option(e, "INC-n (default: the open one)")
    e.add_argument(
        "-o", "--output", metavar="FILE", help="where to write (default: standard output)"
    )
    e.set_defaults(handler=cmd_export, access=READ)
    i = actions.add_parser(
        "import",
        help="add the entries of a sync file this laptop has not got",
        description="Read a file written by `cockpit sync export` ('-' for standard input) and "
        "add what is new; importing again changes nothing. Imported entries queue no "
        "deliveries, pages or webhook events.",
    )
    i.add_argument("file", metavar="FILE")
    i.set_defaults(handler=cmd_import, access=CREATE)


def cmd_sync(ctx: Context) -> int:
    import asyncio

    return asyncio.run(_sync(ctx))


async def _sync(ctx: Context) -> int:
    import asyncio
    import time

    from cockpit.comms import transport
    from cockpit.comms.sync import shared_incidents, thread_sync
    from cockpit.comms.sync_messages import Round
    from cockpit.comms.target import MissingSecret

    if ctx.args.incident is not None:
        chosen = [incident_id(ctx, ctx.args.incident)]
    else:
        chosen = shared_incidents(ctx.store)
    async with transport.client() as http:
        sync = thread_sync(ctx.store, ctx.config, http, clock=ctx.clock)
        try:
            if ctx.args.follow:
                await sync.run(lambda: chosen if ctx.args.incident else shared_incidents(ctx.store))
            deadline = time.monotonic() + (ctx.args.wait or 0.0)
            last: dict[int, Round] = {}
            sent: dict[int, int] = {}
            read: dict[int, int] = {}
            while True:
                for incident in chosen:
                    done = await sync.round(incident, full=incident not in last)
                    last[incident] = done
                    sent[incident] = sent.get(incident, 0) + done.sent
                    read[incident] = read.get(incident, 0) + len(done.imported)
                settled = all(
                    done.quiet and not ctx.store.sync_pending(incident)
                    for incident, done in last.items()
                )
                if ctx.args.wait is None or settled or time.monotonic() >= deadline:
                    break
                await asyncio.sleep(min(sync.poll_seconds, max(deadline - time.monotonic(), 0)))
        except MissingSecret as exc:
            raise ConfigError(str(exc)) from None
    failed = False
    for incident, done in last.items():
        status = sync.status(incident)
        ref = incident_ref(incident)
        print(
            f"{ref}: {sent[incident]} sent, {read[incident]} new from the thread; "
            f"{status.describe()}"
        )
        for problem in done.problems[:5]:
            print(f"{ref}: skipped a message: {one_line(problem)}", file=sys.stderr)
        failed = failed or done.failure is not None
        if ctx.args.wait is not None and (status.pending or not done.quiet):
            failed = True
            print(f"cockpit: {ref} not settled after {ctx.args.wait:g} s", file=sys.stderr)
    if not last:
        print("no open incident to sync")
    return 1 if failed else 0


def cmd_export(ctx: Context) -> int:
    from cockpit.sync.wire import dumps_line, encode_entry

    target = incident_id(ctx, ctx.args.incident)
    gid = ctx.store.incident(target).gid
    lines = [dumps_line(encode_entry(gid, entry)) for entry in ctx.store.sync_entries(target)]
    text = "".join(line + "\n" for line in lines)
    output = ctx.args.output
    if output is None or output == "-":
        sys.stdout.write(text)
        return 0
    path = user_path(output)
    try:
        write_text(path, text)
    except OSError as exc:
        raise FileProblem(path, f"cannot write: {exc.strerror or exc}") from None
    if not is_stream(path):
        print(f"{len(lines)} entries of {incident_ref(target)} written to {one_line(str(path))}")
    return 0


def cmd_import(ctx: Context) -> int:
    from cockpit.sync.entry import SyncEntry
    from cockpit.sync.wire import WireError, decode, loads_line

    name = ctx.args.file
    if name == "-":
        data = sys.stdin.buffer.read(SYNC_FILE_LIMIT + 1)
        if len(data) > SYNC_FILE_LIMIT:
            raise UsageError("standard input is too large for a sync file")
        where = "standard input"
    else:
        path = user_path(name)
        data = read_limited(path, SYNC_FILE_LIMIT, "a sync file")
        where = str(path)
    text = data.decode("utf-8", errors="surrogateescape")
    by_gid: dict[str, list[SyncEntry]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            received = decode(loads_line(line), origin="file")
        except WireError as exc:
            raise UsageError(
                f"{where}, line {number}: {exc}; nothing was imported "
                "(is it a file from `cockpit sync export`?)"
            ) from None
        if received.rejected:
            problem = received.rejected[0]
            raise UsageError(f"{where}, line {number}: {problem}; nothing was imported")
        by_gid.setdefault(received.gid, []).extend(w.entry for w in received.entries)
    if not by_gid:
        raise UsageError(f"{where}: no entries in it; nothing was imported")
    for gid, entries in by_gid.items():
        added = ctx.store.import_entries(gid, entries, "file")
        incident = ctx.store.incident_by_gid(gid)
        print(
            f"{incident.ref}: {len(added)} new entries imported, "
            f"{len(entries) - len(added)} already here"
        )
    return 0
