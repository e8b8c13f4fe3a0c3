"""`cockpit doctor`: check the set-up before the incident, one line per check with a fix.

Checks run in order: configuration, database and disk, runbooks, clipboard, then the service
checks the caller passes in (`cockpit doctor` passes the comms layer's harmless authenticated
call to every configured service; the core never imports the comms layer).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cockpit.config import (
    PACKAGE_RUNBOOKS,
    Config,
    ConfigError,
    database_path,
    find_config,
    load_config,
)
from cockpit.store import SCHEMA_VERSION, DatabaseDamaged, Store, StoreError, recovery_advice

MIN_FREE_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True)
class Check:
    """The outcome of one check: what was checked, whether it passed, and how to fix it."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False  # passed, but worth a look

    def line(self) -> str:
        mark = "ok  " if self.ok and not self.warning else ("warn" if self.ok else "FAIL")
        text = f"{mark}  {self.name:<14} {self.detail}"
        if self.fix:
            text += f" — {self.fix}"
        return text


def check_config(explicit: str | None) -> tuple[Check, Config | None]:
    try:
        path = find_config(explicit)
        config = load_config(path)
    except ConfigError as exc:
        return Check("config", False, str(exc), "fix the key named, or run `cockpit init`"), None
    if path is None:
        return Check(
            "config", True, "no file: built-in defaults (nothing is sent anywhere)"
        ), config
    mode = path.stat().st_mode
    if mode & 0o077:
        detail = f"{path} is readable by others (mode {mode & 0o777:o})"
        return Check("config", True, detail, f"chmod 600 {path}", warning=True), config
    return Check("config", True, f"{path}"), config


MAX_ROWS_LISTED = 20
"""Unreadable rows named one per line; beyond this, a count."""


def check_database(config: Config, explicit: str | None) -> Iterator[Check]:
    """The database read-only (nothing created, nothing written), then the room to write it."""
    try:
        path = database_path(config, explicit)
    except ConfigError as exc:
        yield Check("database", False, str(exc), "check the path (--db, $COCKPIT_DB)")
        return
    if not path.exists():
        yield Check(
            "database",
            True,
            f"{path}: no database yet",
            "`cockpit declare` or opening the app creates it",
            warning=True,
        )
    else:
        yield from _check_contents(config, path)
    folder = _nearest_folder(path)
    free = shutil.disk_usage(folder).free
    if free < MIN_FREE_BYTES:
        yield Check(
            "disk",
            False,
            f"{free // (1024 * 1024)} MiB free next to {path}",
            "free some space: a full disk stops every write",
        )
    else:
        yield Check("disk", True, f"{free // (1024 * 1024 * 1024)} GiB free")
    if not os.access(folder, os.W_OK):
        yield Check("database", False, f"{folder} is not writable", "fix the permissions")
    elif path.exists() and not os.access(path, os.W_OK):
        yield Check("database", False, f"{path} is not writable", f"chmod u+w {path}")


def _check_contents(config: Config, path: Path) -> Iterator[Check]:
    try:
        store = Store.open(path, busy_timeout_ms=config.database.busy_timeout_ms, read_only=True)
    except StoreError as exc:
        fix = "" if isinstance(exc, DatabaseDamaged) else "check the path (--db, $COCKPIT_DB)"
        yield Check("database", False, str(exc), fix)
        return
    with store:
        try:
            integrity = store.integrity_check()
            version = store.schema_version()
            unreadable = store.unreadable_rows()
        except StoreError as exc:
            yield Check("database", False, str(exc))
            return
        if integrity != "ok":
            yield Check(
                "database",
                False,
                f"{path}: integrity check failed: {integrity}",
                recovery_advice(path),
            )
            return
        yield Check("database", True, f"{path}: integrity ok, schema {version}/{SCHEMA_VERSION}")
        if store.notice:
            yield Check("database", True, f"{path}: {store.notice}", warning=True)
        for row in unreadable[:MAX_ROWS_LISTED]:
            fix = (
                "shown flagged; entries are append-only, so it stays as written"
                if row.what == "entry"
                else "shown flagged; correct it with sqlite3 if it matters"
            )
            yield Check("stored value", True, row.describe(), fix, warning=True)
        if len(unreadable) > MAX_ROWS_LISTED:
            more = len(unreadable) - MAX_ROWS_LISTED
            yield Check("stored value", True, f"… and {more} more rows like these", warning=True)


def _nearest_folder(path: Path) -> Path:
    """The database's folder, or its nearest ancestor that exists (before it is created)."""
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def check_runbooks(config: Config) -> Iterator[Check]:
    from cockpit.runbooks import hidden_runbooks, load_runbooks

    runbooks, errors = load_runbooks(config.runbook_dirs)
    for error in errors:
        yield Check("runbook", False, str(error), "fix the file, or move it out of the folder")
    for hidden, used in hidden_runbooks(config.runbook_dirs):
        if hidden.parent == PACKAGE_RUNBOOKS:
            continue  # replacing a bundled runbook is what a runbook of the same name is for
        yield Check(
            "runbook",
            True,
            f"{hidden} is hidden by {used} (the same name; the first folder wins)",
            "rename one of them",
            warning=True,
        )
    for folder in config.runbook_dirs:
        if not Path(folder).is_dir():
            yield Check(
                "runbooks", False, f"{folder}: no such folder", "fix [runbooks] dirs in config"
            )
    yield Check("runbooks", True, f"{len(runbooks)} runbooks, {len(errors)} with errors")


def check_clipboard(env: dict[str, str] | None = None) -> Check:
    """Copying a runbook command uses OSC 52: the terminal must allow it."""
    env = dict(os.environ) if env is None else env
    if env.get("TMUX"):
        return Check(
            "clipboard",
            True,
            "inside tmux: copying works when tmux passes OSC 52 through",
            "add `set -g set-clipboard on` to ~/.tmux.conf",
            warning=True,
        )
    term = env.get("TERM_PROGRAM") or env.get("TERM", "")
    if not term or term == "dumb":
        return Check("clipboard", False, "no terminal detected", "run cockpit in a real terminal")
    known = ("iTerm", "WezTerm", "kitty", "alacritty", "foot", "vscode", "ghostty", "Apple")
    if any(name.lower() in term.lower() for name in known):
        return Check("clipboard", True, f"{term} supports OSC 52 copying")
    return Check(
        "clipboard",
        True,
        f"{term}: copying uses OSC 52, which most modern terminals allow",
        "if `c` does not copy, enable clipboard access in your terminal's settings",
        warning=True,
    )


ServiceChecks = Callable[[Config], Iterable[Check]]
"""The checks of the configured services, given the loaded configuration."""


def run_doctor(
    config_path: str | None, db_path: str | None, services: ServiceChecks | None = None
) -> list[Check]:
    """Every check, in order, then `services`; a broken configuration stops the checks that
    need it (the services' among them)."""
    first, config = check_config(config_path)
    checks = [first]
    if config is None:
        return checks
    checks.extend(check_database(config, db_path))
    checks.extend(check_runbooks(config))
    checks.append(check_clipboard())
    if services is not None:
        checks.extend(services(config))
    return checks
