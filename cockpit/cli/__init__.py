"""The `cockpit` command: global options, the subcommands' parsers, errors as one line.

`cockpit X` lives in `cockpit/cli/X.py` (`app.py` is `cockpit` alone, opening the app); each
exposes `register(subparsers)`. What they share (`Context`, `UsageError`, the incident
resolvers, argument types) is `context.py`, one floor below them. Only the module of the
command given is imported to build the parser (every one for help), and each keeps its
module-level imports light (standard library, config, store, domain); heavy modules (Textual,
httpx, the report renderer, the runbook parser) are imported inside the handlers that need
them, so `cockpit log` starts as fast as the store allows.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from cockpit import __version__
from cockpit.cli.context import WRITE, Context, UsageError
from cockpit.config import Config, ConfigError
from cockpit.domain import Clock, one_line, system_clock
from cockpit.store import StoreError, TextTooLong, UnknownRole

COMMANDS = {
    "init": "init",
    "declare": "declare",
    "log": "log",
    "status": "status",
    "severity": "severity",
    "assign": "assign",
    "list": "list",
    "show": "show",
    "demo": "demo",
    "runbooks": "runbooks",
    "drill": "drill",
    "update": "update",
    "deliver": "deliver",
    "outbox": "outbox",
    "export": "export",
    "postmortem": "postmortem",
    "oncall": "oncall",
    "join": "join",
    "sync": "sync",
    "slack-manifest": "slack_manifest",
    "doctor": "doctor",
}
"""Each subcommand's name -> its module under `cockpit.cli`, in the order `cockpit --help`
lists them. Only the module of the command given is imported (all of them for help or a name
that is none of these): `cockpit log` loads one command module, not twenty. Importing
`cockpit.cli.list` makes `list` an attribute of this package: this module never calls the
builtin `list` by name."""

_GLOBAL_OPTIONS = ("--config", "--db")
"""The options before the command that take a value (`cockpit --db X log`)."""


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(f"cockpit.cli.{COMMANDS[name]}")


def _commands_needed(argv: Sequence[str]) -> list[str]:
    """The subcommands to build parsers for: the one `argv` names; none for `cockpit` alone
    (the app); every one for help, a mistake (argparse then lists them) or an unknown name."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _GLOBAL_OPTIONS:
            skip = True
        elif arg.startswith("-"):
            if arg.split("=", 1)[0] not in _GLOBAL_OPTIONS:
                return [*COMMANDS]  # --help, --version, or a mistake
        else:
            return [arg] if arg in COMMANDS else [*COMMANDS]
    return [] if not skip else [*COMMANDS]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        # Arguments echoed back may hold control characters (a stray \r would hide the line).
        self.exit(2, f"cockpit: error: {one_line(message)}\n")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser: with `argv`, only the subcommand it names (when it names
    one), so a command imports its own module and no other."""
    parser = _Parser(
        prog="cockpit",
        description="A terminal incident cockpit. Without a command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"cockpit {__version__}")
    parser.add_argument(
        "--config", metavar="FILE", help="configuration file (default: $COCKPIT_CONFIG or user dir)"
    )
    parser.add_argument(
        "--db", metavar="FILE", help="database file (default: $COCKPIT_DB or user data dir)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS if argv is None else _commands_needed(argv):
        _command_module(name).register(subparsers)
    _accept_global_options_anywhere(parser)
    return parser


def _accept_global_options_anywhere(parser: argparse.ArgumentParser) -> None:
    """Let `cockpit list --db X` work as well as `cockpit --db X list`."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in set(action.choices.values()):
                for flag in ("--config", "--db"):
                    if flag not in child._option_string_actions:
                        child.add_argument(flag, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
                _accept_global_options_anywhere(child)


def main(argv: Sequence[str] | None = None, *, clock: Clock = system_clock) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failure, 2 usage).

    Whatever happens is one line on stderr: an unexpected exception says it is a bug and
    where its traceback was written.
    """
    _usable_standard_streams()
    try:
        return _run(argv, clock)
    except BrokenPipeError:  # the reader left (`| head -1`): stop quietly
        _discard_stdout()
        return 1
    except KeyboardInterrupt:
        print("cockpit: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        return report_bug(exc)


def _run(argv: Sequence[str] | None, clock: Clock) -> int:
    given = sys.argv[1:] if argv is None else [*argv]
    parser = build_parser(given)
    args = parser.parse_args(given)
    ctx = Context(args, clock=clock, access=getattr(args, "access", WRITE))
    handler = getattr(args, "handler", None)
    try:
        ctx.enter_drill()
        if handler is None:
            from cockpit.cli.app import open_app  # `cockpit` alone: the app

            return open_app(ctx)
        status = int(handler(ctx) or 0)
        ctx.record_drill_deliveries()
        return status
    except (UsageError, TextTooLong, UnknownRole) as exc:
        print(f"cockpit: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except (ConfigError, StoreError) as exc:
        print(f"cockpit: {one_line(str(exc))}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        raise
    except OSError as exc:  # the environment, not a bug: unreadable stdin, missing file, ...
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"cockpit: {one_line(where + str(exc.strerror or exc))}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: reported with the configuration's secrets masked
        return report_bug(exc, ctx.config_for_report())
    finally:
        ctx.close()


def _usable_standard_streams() -> None:
    """Closed standard streams read as empty and write to nowhere (and a database can never be
    opened as descriptor 1 or 2); text the output encoding cannot show is escaped, not fatal."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDWR)  # the lowest free descriptor: this one
    if sys.stdin is None:
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
        elif isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")


def _discard_stdout() -> None:
    # Later writes (and the flush at exit) would raise again and print "Exception ignored".
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def report_bug(exc: BaseException, config: Config | None = None) -> int:
    """One line for an unexpected exception: it is a bug, and where its traceback went.

    The traceback (never with local variables: they may hold secrets) goes to a private file
    in the user's log directory; if that cannot be written, to stderr. Every credential the
    configuration holds is masked in it; when masking is impossible, exception messages are
    left out.
    """
    details = _crash_details(exc, config)
    name = type(exc).__name__
    saved = _save_crash_report(details)
    if saved is None:
        sys.stderr.write(details)
        where = "the traceback is above"
    else:
        where = f"details in {saved}"
    print(
        f"cockpit: unexpected {name}: a bug in cockpit, not in what you typed; {where} "
        "(please report it)",
        file=sys.stderr,
    )
    return 1


def _crash_details(exc: BaseException, config: Config | None) -> str:
    import traceback

    details = "".join(traceback.format_exception(exc))
    if config is None:
        return details
    try:
        # Deferred: every service adapter, loaded only to mask a crash report's secrets.
        from cockpit.comms.target import scrubber_for
        from cockpit.comms.targets import configured_targets

        return scrubber_for(configured_targets(config).values()).scrub(details)
    except Exception:  # the frames alone: a message could hold a secret nobody can mask now
        frames = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
        return f"{frames}{type(exc).__name__}: (message left out: secrets could not be masked)\n"


def _save_crash_report(details: str) -> Path | None:
    import platform
    import secrets
    import time

    from platformdirs import user_log_dir

    try:
        folder = Path(user_log_dir("cockpit", appauthor=False))
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        path = folder / f"crash-{stamp}-{secrets.token_hex(3)}.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(
                f"cockpit {__version__}, Python {platform.python_version()}, "
                f"{platform.platform()}\n\n{details}"
            )
    except Exception:  # reporting a bug must not raise another
        return None
    return path
