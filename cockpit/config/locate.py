"""Where the files are: the configuration (`--config`, `$COCKPIT_CONFIG`, the user config
directory) and the database (`--db`, `$COCKPIT_DB`, `[database] path`, the user data directory)."""

from __future__ import annotations

import os
import stat
import typing
from pathlib import Path

from cockpit.config.fields import ConfigError
from cockpit.config.tables import Config
from cockpit.files import FileProblem, kind_of, user_path


def user_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("cockpit", appauthor=False)) / "config.toml"


def user_data_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("cockpit", appauthor=False)) / "cockpit.db"


def find_config(explicit: str | None, env: typing.Mapping[str, str] | None = None) -> Path | None:
    """`--config`, then `$COCKPIT_CONFIG`, then the user config directory; None = defaults."""
    env = os.environ if env is None else env
    if explicit:
        return _named_path(explicit, "--config")
    if env.get("COCKPIT_CONFIG"):
        return _named_path(env["COCKPIT_CONFIG"], "$COCKPIT_CONFIG")
    candidate = user_config_path()
    return candidate if candidate.is_file() else None


def database_path(
    config: Config, explicit: str | None, env: typing.Mapping[str, str] | None = None
) -> Path:
    """`--db`, then `$COCKPIT_DB`, then `[database] path`, then the user data directory.

    A name that exists as a FIFO (it would hang the opening), a device or a socket is refused
    here, naming where it came from; the store explains a directory.
    """
    env = os.environ if env is None else env
    if explicit:
        path, source = _named_path(explicit, "--db"), "--db"
    elif env.get("COCKPIT_DB"):
        path, source = _named_path(env["COCKPIT_DB"], "$COCKPIT_DB"), "$COCKPIT_DB"
    elif config.database.path:
        source = f"{config.source or '<config>'}: database.path"
        path = _named_path(config.database.path, source)
        if not path.is_absolute() and config.source is not None:
            path = config.source.parent / path
    else:
        return user_data_path()
    try:
        mode = path.stat().st_mode
    except OSError:
        return path  # not there yet (created on first write), or the store explains
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        raise ConfigError(f"{source} {path}: is {kind_of(mode)}, not a database file")
    return path


def _named_path(text: str, source: str) -> Path:
    try:
        return user_path(text)
    except FileProblem as exc:
        raise ConfigError(f"{source} {exc.filename}: {exc.strerror}") from None
