"""Database errors as one line a person can act on: the error classes, the text limit check,
and how SQLite's errors are explained (a damaged file comes with how to recover it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cockpit.domain.text import TextLimit


class StoreError(Exception):
    """A problem with the database, as one line a person can act on."""


class IncidentNotFound(StoreError):
    pass


class IncidentResolved(StoreError):
    """A change a resolved incident does not take (`cockpit.domain.resolved`): reopen it first."""


class UnknownRole(StoreError, ValueError):
    """A role name outside the configured roles (a ValueError: the CLI treats it as bad usage)."""


class TextTooLong(StoreError):
    """Text over its limit (`cockpit.domain.TextLimit`): refused whole, nothing written."""


def fits(text: str, limit: TextLimit, what: str | None = None) -> str:
    """`text` if it is within `limit`; TextTooLong (one line, naming `what`) otherwise."""
    if len(text) > limit.chars:
        raise TextTooLong(limit.refusal(len(text), what))
    return text


class DatabaseDamaged(StoreError):
    """The file is damaged (a corrupt page): the message says how to recover it."""


class DatabaseReplaced(StoreError):
    """The file at the path is no longer the database this store opened."""


class CannotWrite(StoreError):
    """The database cannot be written here (permissions, a full disk, a failing device)."""


def error_code(exc: sqlite3.Error) -> int:
    """SQLite's primary result code of an error (0 if it carries none)."""
    return int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


DAMAGED = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB (a valid header, a broken file)
CANNOT_WRITE = {3, 8, 10, 13, 14}  # PERM, READONLY, IOERR, FULL, CANTOPEN: the -shm is out of reach


def damage_report(path: Path, detail: str) -> str:
    """The one line for a damaged database: what is wrong, and how to recover what it holds."""
    return (
        f"{path}: the database is damaged ({detail}); cockpit writes nothing more to it. "
        f"{recovery_advice(path)}"
    )


def recovery_advice(path: Path) -> str:
    """How to get what a damaged database holds into a new file, naming both files."""
    import shlex

    new = path.with_name(f"{path.stem}-recovered{path.suffix}")
    old_arg, new_arg = shlex.quote(str(path)), shlex.quote(str(new))
    return (
        f"Recover what it holds with `sqlite3 {old_arg} .recover | sqlite3 {new_arg}` and use "
        f"that (--db {new_arg}); the damaged file stays at {path}"
    )


def store_error(path: Path, exc: BaseException) -> StoreError:
    """The one-line StoreError for a database error (DatabaseDamaged for a corrupt file)."""
    if isinstance(exc, sqlite3.Error) and error_code(exc) in DAMAGED:
        return DatabaseDamaged(_explain(path, exc))
    if isinstance(exc, sqlite3.Error) and error_code(exc) in CANNOT_WRITE:
        return CannotWrite(_explain(path, exc))
    return StoreError(_explain(path, exc))


def _explain(path: Path, exc: BaseException) -> str:
    message = str(exc)
    lowered = message.lower()
    if isinstance(exc, sqlite3.Error) and error_code(exc) in DAMAGED:
        return damage_report(path, message)
    if isinstance(exc, OSError):
        return f"{path}: {exc.strerror or message}"
    if "locked" in lowered or "busy" in lowered:
        return (
            f"{path}: database is locked by another process; nothing was written, try again "
            "(or close the other writer)"
        )
    if "disk is full" in lowered or "disk i/o" in lowered:
        return f"{path}: disk full or failing ({message}); nothing was written, free space"
    if "readonly" in lowered or "read-only" in lowered:
        return f"{path}: database is read-only ({message}); check the file and folder permissions"
    if "unable to open" in lowered:
        return f"{path}: cannot open database ({message}); check the path and permissions"
    return f"{path}: database error: {message}"
