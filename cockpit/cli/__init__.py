"""The `cockpit` command: global options, subcommand registry, errors as one line.

Each subcommand module exposes `register(subparsers)` and keeps its module-level imports light
(standard library, config, store, domain); heavy modules (Textual, httpx) are imported inside
the handlers that need them, so `cockpit log` starts as fast as the store allows.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cockpit import __version__
from cockpit.config import Config, ConfigError, database_path, find_config, load_config
from cockpit.domain import Clock, TextLimit, one_line, parse_id, system_clock
from cockpit.store import Store, StoreError, TextTooLong


class UsageError(Exception):
    """Bad arguments (exit status 2)."""


READ, WRITE, CREATE = "read", "write", "create"
"""How a subcommand opens the database, chosen where it registers (`set_defaults(access=...)`):
READ opens it read-only (works on a read-only file, folder or a full disk), WRITE needs it to
exist, CREATE (declare) may start a new one."""


@dataclass
class Context:
    """What every subcommand gets: the parsed arguments, configuration and store, opened lazily."""

    args: argparse.Namespace
    clock: Clock = system_clock
    access: str = WRITE
    """READ, WRITE or CREATE; a handler may change it before it first touches `store`."""
    _config: Config | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(find_config(self.args.config))
        return self._config

    @property
    def db_path(self) -> Path:
        return database_path(self.config, self.args.db)

    @property
    def store(self) -> Store:
        if self._store is None:
            store = Store.open(
                self.db_path,
                clock=self.clock,
                busy_timeout_ms=self.config.database.busy_timeout_ms,
                create=self.access == CREATE,
                read_only=self.access == READ,
            )
            if store.notice:
                print(f"cockpit: note: {store.path}: {store.notice}", file=sys.stderr)
            if not store.read_only:
                from cockpit.comms.events import hook_for  # light: config and store only

                store.events = hook_for(self.config)
            self._store = store
        return self._store

    def config_for_report(self) -> Config | None:
        """The configuration, for a crash report to mask its secrets; None if it cannot load."""
        try:
            return self.config
        except Exception:  # the report of one bug must not raise another
            return None

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def _modules() -> list[object]:
    from cockpit.cli import demo, oncall, postmortem, runbooks, show, update

    return [show, demo, runbooks, update, postmortem, oncall]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        from cockpit.domain import one_line

        self.print_usage(sys.stderr)
        # Arguments echoed back may hold control characters (a stray \r would hide the line).
        self.exit(2, f"cockpit: error: {one_line(message)}\n")


def build_parser() -> argparse.ArgumentParser:
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
    for module in _modules():
        module.register(subparsers)  # type: ignore[attr-defined]
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


def id_argument(what: str) -> Callable[[str], int]:
    """An argparse `type` for a stored row's id ("a delivery id"): 1 to 2**63-1, one line."""

    def parse(text: str) -> int:
        try:
            return parse_id(text, what)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def seconds_argument(most: float) -> Callable[[str], float]:
    """An argparse `type` for a duration in seconds from 0 to `most` (nan and inf refused)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0 <= value <= most:
            raise argparse.ArgumentTypeError(f"expected seconds from 0 to {most:,g}, got {text!r}")
        return value

    return parse


def read_stdin(limit: TextLimit, what: str | None = None) -> str:
    """Standard input as text (invalid UTF-8 replaced), refused whole when it is over `limit`.

    At most 4 bytes per allowed character are read, so a pipe that never ends costs nothing;
    the store checks the exact length of what is kept.
    """
    most = limit.chars * 4
    data = sys.stdin.buffer.read(most + 1)
    if len(data) > most:
        raise TextTooLong(limit.refusal(None, what))
    return data.decode("utf-8", errors="replace")


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
    parser = build_parser()
    args = parser.parse_args(argv)
    ctx = Context(args, clock=clock, access=getattr(args, "access", WRITE))
    handler = getattr(args, "handler", None)
    try:
        if handler is None:
            from cockpit.cli.show import open_app

            return open_app(ctx)
        return int(handler(ctx) or 0)
    except (UsageError, TextTooLong) as exc:
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
