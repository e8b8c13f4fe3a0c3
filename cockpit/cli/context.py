"""What every subcommand gets and shares: the `Context` (arguments, configuration, store), the
access modes, `UsageError`, the incident resolvers and the argument types.

One floor below the subcommand modules, which import it; it imports none of them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.comms.events import configure
from cockpit.config import Config, database_path, find_config, load_config
from cockpit.domain import (
    Clock,
    TextLimit,
    incident_ref,
    parse_drill_ref,
    parse_id,
    parse_incident_ref,
    parse_moment,
    system_clock,
)
from cockpit.store import Store, TextTooLong
from cockpit.store.drills import DrillStore

if TYPE_CHECKING:
    from cockpit.drills.play import Drill


class UsageError(Exception):
    """Bad arguments (exit status 2)."""


@contextmanager
def usage_error() -> Iterator[None]:
    """What was typed, refused by the core with a ValueError, becomes a UsageError (exit 2)."""
    try:
        yield
    except ValueError as exc:
        raise UsageError(str(exc)) from None


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
    drill: Drill | None = field(default=None, repr=False)
    """The drill the command names (`--incident DRILL-n`): the store is then the drills
    database and `clock` the drill's clock. Only an explicit drill id ever sets it."""

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
            self._store = configure(store, self.config)
        return self._store

    def enter_drill(self) -> None:
        """When the command names a drill (`DRILL-n` as its incident), play on it: the drills
        database, on the drill's clock, with what has arrived by now written first."""
        raw = getattr(self.args, "incident", None)
        if not isinstance(raw, str):
            return
        with usage_error():
            drill_id = parse_drill_ref(raw)
        if drill_id is None:
            return
        from cockpit.drills.play import drills_database, inject_due, open_drill

        store = DrillStore.open(
            drills_database(self.db_path),
            clock=self.clock,
            busy_timeout_ms=self.config.database.busy_timeout_ms,
            create=False,
            read_only=self.access == READ,
        )
        try:
            configure(store, self.config)
            self.drill = open_drill(store, self.config, drill_id, self.clock)
            if not store.read_only:
                inject_due(store, self.drill)
        except BaseException:
            store.close()
            raise
        self._store, self.clock = store, self.drill.clock

    def record_drill_deliveries(self) -> None:
        """In a drill, the sink takes what the command queued, at once: the outbox then shows
        each target's delivery as recorded (the drill's worker never sends anything)."""
        store = self._store
        if self.drill is None or store is None or store.read_only:
            return
        import asyncio

        from cockpit.comms.worker import DeliveryWorker  # deferred: httpx, never used here

        asyncio.run(DeliveryWorker(store, self.config, clock=self.clock).run(until_idle=True))

    def ref(self, incident_id: int) -> str:
        """How the command names the incident it acted on: `INC-n`, or `DRILL-n` in a drill."""
        return self.drill.ref if self.drill is not None else incident_ref(incident_id)

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


# ---- which incident ------------------------------------------------------------------------


def incident_option(parser: argparse.ArgumentParser, help: str = "INC-n") -> None:
    """The `--incident/-i ID` option of the commands that act on one incident."""
    parser.add_argument("--incident", "-i", metavar="ID", help=help)


def incident_id(ctx: Context, raw: str | None) -> int:
    """The incident a command means: `--incident`, else the only open one."""
    if ctx.drill is not None:
        return ctx.drill.id
    explicit = None
    if raw is not None:
        with usage_error():
            explicit = parse_incident_ref(raw)
    return ctx.store.resolve_incident_id(explicit)


def postmortem_incident(ctx: Context, raw: str | None) -> int:
    """The incident a post-mortem command means: the one named, else the only open one, else
    the latest resolved."""
    store = ctx.store
    if ctx.drill is not None:
        return ctx.drill.id
    if raw is not None:
        with usage_error():
            named = store.resolve_incident_id(parse_incident_ref(raw))
        return named
    if store.incidents(open_only=True):
        return store.resolve_incident_id(None)
    resolved = [i for i in store.incidents() if i.resolved_at is not None]
    if not resolved:
        return store.resolve_incident_id(None)  # raises: nothing to write about
    return max(resolved, key=lambda i: (i.resolved_at or i.declared_at, i.id)).id


# ---- what was typed ------------------------------------------------------------------------


def moment(ctx: Context, raw: str) -> datetime:
    """A time typed on the command line (`10m ago`, ISO-8601), relative to the context's clock."""
    with usage_error():
        parsed = parse_moment(raw, ctx.clock())
    return parsed


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
