"""The `cockpit` command: global options, subcommand registry, errors as one line.

Each subcommand module exposes `register(subparsers)` and keeps its module-level imports light
(standard library, config, store, domain); heavy modules (Textual, httpx) are imported inside
the handlers that need them, so `cockpit log` starts as fast as the store allows.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cockpit import __version__
from cockpit.config import Config, ConfigError, database_path, find_config, load_config
from cockpit.domain import Clock, system_clock
from cockpit.store import Store, StoreError


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

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def _modules() -> list[object]:
    from cockpit.cli import app, incident, postmortem, runbooks, setup, updates

    return [incident, app, runbooks, updates, postmortem, setup]


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


def main(argv: Sequence[str] | None = None, *, clock: Clock = system_clock) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failure, 2 usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    ctx = Context(args, clock=clock, access=getattr(args, "access", WRITE))
    handler = getattr(args, "handler", None)
    try:
        if handler is None:
            from cockpit.cli.incident import open_app

            return open_app(ctx)
        return int(handler(ctx) or 0)
    except UsageError as exc:
        print(f"cockpit: error: {exc}", file=sys.stderr)
        return 2
    except (ConfigError, StoreError) as exc:
        print(f"cockpit: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 1
    except OSError as exc:  # the environment, not a bug: unreadable stdin, missing file, ...
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"cockpit: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cockpit: interrupted", file=sys.stderr)
        return 130
    finally:
        ctx.close()
