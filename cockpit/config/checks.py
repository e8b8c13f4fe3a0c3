"""The rules between keys of the people tables: severity and role names, the default severity,
the on-call rotation, the templates' placeholders and the `[keys]` bindings."""

from __future__ import annotations

import re
import string
from typing import Any

from cockpit.config.coerce import type_name
from cockpit.config.fields import ConfigError
from cockpit.config.tables import TEMPLATE_FIELDS, Config, KeysConfig, OncallConfig
from cockpit.domain import closest, name_key
from cockpit.keymap import DEFAULT_KEYS, parse_keys
from cockpit.oncall import parse_clock_time, parse_weekday


def check_semantics(config: Config, where: str) -> None:
    names: dict[str, str] = {}
    for index, sev in enumerate(config.severity):
        key = f"severity[{index}]"
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,31}", sev.name):
            raise ConfigError(
                f"{where}: {key}.name: expected a short name like 'SEV-1', got {sev.name!r}"
            )
        same = names.get(name_key(sev.name))
        if same == sev.name:
            raise ConfigError(f"{where}: {key}.name: severity {sev.name!r} is defined twice")
        if same is not None:
            raise ConfigError(
                f"{where}: {key}.name: {sev.name!r} and {same!r} are the same severity to "
                "`--severity` (case, spaces, - and _ are ignored); rename one"
            )
        names[name_key(sev.name)] = sev.name
        for role in sev.required_roles:
            if role not in config.roles.names:
                raise ConfigError(
                    f"{where}: {key}.required_roles: unknown role {role!r} "
                    f"(expected one of {', '.join(config.roles.names)})"
                )
    known = [s.name for s in config.severities]
    if config.declare.default_severity not in known:
        raise ConfigError(
            f"{where}: declare.default_severity: unknown severity "
            f"{config.declare.default_severity!r} (expected one of {', '.join(known)})"
        )
    roles: dict[str, str] = {}
    for role in config.roles.names:
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", role):
            raise ConfigError(f"{where}: roles.names: expected lower-case role names, got {role!r}")
        same = roles.get(name_key(role))
        if same == role:
            raise ConfigError(f"{where}: roles.names: role {role!r} is listed twice")
        if same is not None:
            raise ConfigError(
                f"{where}: roles.names: {role!r} and {same!r} are the same role to "
                "`cockpit assign` (- and _ are ignored); rename one"
            )
        roles[name_key(role)] = role
    _check_oncall(config.oncall, where)
    for name in ("acknowledge", "update", "resolution"):
        check_template(getattr(config.templates, name), f"{where}: templates.{name}")


def keys_config(table: Any, where: str) -> KeysConfig:
    """`[keys]` as binding id -> normalised keys. Dotted ids may be quoted (`"cockpit.note"`)
    or written as TOML dotted keys (`cockpit.note`); a list of keys is accepted too."""
    if not isinstance(table, dict):
        raise ConfigError(f'{where}: keys: expected a table of "binding id" = "keys"')
    flat: dict[str, Any] = {}

    def walk(prefix: str, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if isinstance(value, dict):
                walk(f"{prefix}{name}.", value)
            elif f"{prefix}{name}" in flat:
                raise ConfigError(f'{where}: keys."{prefix}{name}": set twice')
            else:
                flat[f"{prefix}{name}"] = value

    walk("", table)
    bindings: dict[str, str] = {}
    for binding_id, value in flat.items():
        key = f'keys."{binding_id}"'
        if binding_id not in DEFAULT_KEYS:
            close = closest(binding_id, DEFAULT_KEYS)
            hint = f" (did you mean {close!r}?)" if close else ""
            raise ConfigError(
                f"{where}: {key}: unknown binding id{hint}; config.toml.example lists them all"
            )
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            value = ",".join(value)
        if not isinstance(value, str):
            raise ConfigError(
                f'{where}: {key}: expected keys as a string like "n,ctrl+n", got {type_name(value)}'
            )
        try:
            bindings[binding_id] = parse_keys(value)
        except ValueError as exc:
            raise ConfigError(
                f"{where}: {key}: {exc} (write keys like n, ctrl+n, f5, shift+up, space, "
                "slash; several separated by commas)"
            ) from None
    return KeysConfig(bindings)


def _check_oncall(oncall: OncallConfig, where: str) -> None:
    if not oncall.people:
        return
    if oncall.start is None:
        raise ConfigError(f"{where}: oncall.start: missing (the date of the first hand-off)")
    for key, parse in (("handoff_day", parse_weekday), ("handoff_time", parse_clock_time)):
        try:
            parse(getattr(oncall, key))
        except ValueError as exc:
            raise ConfigError(f"{where}: oncall.{key}: {exc}") from None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(oncall.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{where}: oncall.timezone: unknown time zone {oncall.timezone!r} "
            "(expected an IANA name like 'Europe/Berlin')"
        ) from None


def check_template(text: str, where: str) -> None:
    """Raise ConfigError if `text` uses a placeholder we cannot fill (no `{oops}` to customers)."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ConfigError(
            f"{where}: bad braces in template ({exc}); write {{{{ for a literal {{"
        ) from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in TEMPLATE_FIELDS:
            raise ConfigError(
                f"{where}: unknown placeholder {{{name}}} "
                f"(expected one of {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)})"
            )
        if spec or conversion:
            raise ConfigError(f"{where}: placeholder {{{name}}} takes no format options")


def check_sync(config: Config, where: str) -> None:
    """`[sync] enabled = true` needs what sharing reads the thread with: Slack in bot mode."""
    if config.sync.enabled and not config.sync_enabled:
        raise ConfigError(
            f"{where}: sync.enabled: sharing reads the incident's Slack thread, which needs "
            "[slack] in bot mode (token_env and channel); set them or sync.enabled = false"
        )
