"""Loading config.toml: read it (size-capped, UTF-8, tomllib), build the tables and run every
check, so a bad file is one `ConfigError` line naming the file and the key."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from cockpit.config.checks import check_semantics, check_sync, keys_config
from cockpit.config.coerce import build
from cockpit.config.fields import ConfigError
from cockpit.config.service_checks import check_secrets, check_services, check_targets
from cockpit.config.tables import NOT_IN_FILE, OPEN_TABLES, Config
from cockpit.files import MiB, read_limited

CONFIG_MAX_BYTES = 1 * MiB
"""The largest configuration file read (a real one is a few KiB)."""


def load_config(path: Path | None) -> Config:
    """The configuration in `path`, or the built-in defaults when `path` is None."""
    if path is None:
        return Config()
    import tomllib  # only when there is a file to read: keeps `cockpit log` start-up short

    try:
        raw = read_limited(path, CONFIG_MAX_BYTES, "a configuration file")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file (run `cockpit init`)") from None
    except OSError as exc:  # a FIFO, a device, a directory, too large, unreadable
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: TOML syntax error: {exc}") from None
    return config_from_dict(data, path)


def config_from_dict(data: dict[str, Any], path: Path | None = None) -> Config:
    """Validate parsed TOML into a `Config`; raises ConfigError naming file and key."""
    where = str(path) if path else "<config>"
    fixed = {key: value for key, value in data.items() if key not in OPEN_TABLES}
    config: Config = build(Config, fixed, "", where, skip=NOT_IN_FILE | OPEN_TABLES)
    keys = keys_config(data.get("keys", {}), where)
    config = dataclasses.replace(config, source=path, keys=keys)
    check_semantics(config, where)
    check_targets(config, where, path)
    check_sync(config, where)
    check_services(config, where, path)
    check_secrets(config, where, path)
    return config
