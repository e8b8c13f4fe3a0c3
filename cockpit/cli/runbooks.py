"""`cockpit runbooks`: list the runbooks (and the files that cannot be used), and draft a new
one from what was logged during an incident. The runbook library is imported inside the
handlers: every command loads this module to register it, and parsing runbooks is not light."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cockpit.cli.context import READ, Context, UsageError, incident_id
from cockpit.domain import one_line
from cockpit.files import user_path


def register(sub: Any) -> None:
    p = sub.add_parser(
        "runbooks",
        help="list runbooks (title, trigger, path) and malformed files",
        description="List the runbooks in the configured directories and the bundled ones; "
        "files that cannot be used are listed with their error.",
    )
    p.add_argument(
        "--check", action="store_true", help="exit with status 1 if any file is malformed"
    )
    p.set_defaults(handler=cmd_runbooks, access=READ)
    actions = p.add_subparsers(dest="runbooks_command", metavar="ACTION")
    d = actions.add_parser(
        "draft",
        help="write a runbook skeleton from an incident's timeline; prints its path",
        description="Write a new runbook from what was logged on an incident: the trigger from "
        "its title, actions and decisions as steps, commands from captured `cockpit log -` "
        "output. It goes into the first configured runbook directory (or the current one).",
    )
    d.add_argument("incident", metavar="ID", help="INC-n")
    d.add_argument("--dir", metavar="DIR", help="write it here instead")
    d.set_defaults(handler=cmd_draft, access=READ)


def cmd_runbooks(ctx: Context) -> int:
    from cockpit.runbooks import hidden_runbooks, load_runbooks

    dirs = ctx.config.runbook_dirs
    runbooks, errors = load_runbooks(dirs)
    if not runbooks and not errors:
        print("no runbooks (add directories under [runbooks] dirs in the configuration)")
    for runbook in runbooks:
        severity = f"  [{one_line(runbook.severity)}]" if runbook.severity else ""
        print(f"{one_line(runbook.name)} · {one_line(runbook.title)}{severity}")
        if runbook.trigger:
            print(f"    trigger  {one_line(runbook.trigger)}")
        rules = [f"{len(runbook.steps)} steps"]
        if runbook.update_every_minutes is not None:
            rules.append(f"updates every {runbook.update_every_minutes} min")
        if runbook.escalate_after_minutes is not None:
            rules.append(
                f"escalate to {one_line(runbook.escalate_to)} after "
                f"{runbook.escalate_after_minutes} min"
            )
        print(f"    rules    {' · '.join(rules)}")
        print(f"    path     {one_line(str(runbook.path))}")
    hidden = hidden_runbooks(dirs)
    if hidden:
        print()
        for path, used in hidden:
            print(
                f"hidden: {one_line(str(path))} (same name as {one_line(str(used))}, used instead)"
            )
    missing = [d for d in dirs if not d.exists()]
    if errors:
        if runbooks:
            print()
        print(f"cannot use {len(errors)} file{'s' if len(errors) != 1 else ''}:")
        for error in errors:
            print(f"  {one_line(str(error))}")
    if missing:
        print()
        for directory in missing:
            print(f"no such runbook directory: {one_line(str(directory))} (see [runbooks] dirs)")
    return 1 if (errors or missing) and ctx.args.check else 0


def cmd_draft(ctx: Context) -> int:
    from cockpit.runbooks import Runbook, draft_name, draft_runbook, linked_runbook

    target = incident_id(ctx, ctx.args.incident)
    incident = ctx.store.incident(target)
    followed = linked_runbook(ctx.config.runbook_dirs, incident.runbook)
    followed_runbook = followed if isinstance(followed, Runbook) else None
    text = draft_runbook(incident, ctx.store.entries(target), followed_runbook)
    directory = _draft_dir(ctx)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{directory}: cannot create directory: {exc.strerror}") from None
    name = draft_name(incident)
    for attempt in range(1, 100):
        path = directory / (f"{name}.md" if attempt == 1 else f"{name}-{attempt}.md")
        try:
            with path.open("x", encoding="utf-8") as handle:  # never overwrite a runbook
                handle.write(text)
        except FileExistsError:
            continue
        except OSError as exc:
            raise UsageError(f"{path}: cannot write: {exc.strerror}") from None
        print(one_line(str(path)))
        return 0
    raise UsageError(f"{directory}: too many drafts named {name}-N.md; tidy them up first")


def _draft_dir(ctx: Context) -> Path:
    if ctx.args.dir:
        return user_path(ctx.args.dir)
    dirs = ctx.config.runbooks.dirs
    if dirs:
        path = Path(dirs[0]).expanduser()
        if not path.is_absolute() and ctx.config.source is not None:
            path = ctx.config.source.parent / path
        return path
    return Path.cwd()
