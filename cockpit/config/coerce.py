"""The generic reader of a TOML table into a table dataclass: unknown and missing keys, each
value coerced to its field's type, then the field's declared range, text limit or file name."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import types
import typing
from typing import Any

from cockpit.config.fields import Bounds, ConfigError
from cockpit.domain import TextLimit, check_day
from cockpit.files import FileProblem, user_path


def build(cls: type[Any], table: Any, prefix: str, where: str, skip: set[str] = set()) -> Any:  # noqa: B006
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: {prefix.rstrip('.') or 'top level'}: expected a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
    for key in table:
        if key not in fields:
            expected = ", ".join(fields)
            raise ConfigError(f"{where}: {prefix}{key}: unknown key (expected one of {expected})")
    values: dict[str, Any] = {}
    for name, fld in fields.items():
        if name not in table:
            if fld.default is dataclasses.MISSING and fld.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{where}: {prefix}{name}: missing (required)")
            continue
        values[name] = _coerce(hints[name], table[name], f"{prefix}{name}", where)
        _check_field(fld, values[name], f"{prefix}{name}", where)
    return cls(**values)


def _check_field(fld: dataclasses.Field[Any], value: Any, key: str, where: str) -> None:
    """What the field's metadata declares: bounds for numbers, a length for text, a path."""
    items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
    for index, item in items:
        name = key if index is None else f"{key}[{index}]"
        bounds: Bounds | None = fld.metadata.get("bounds")
        if bounds is not None and item is not None:
            bounds.check(item, name, where)
        limit: TextLimit | None = fld.metadata.get("text")
        if limit is not None and len(item) > limit.chars:
            raise ConfigError(
                f"{where}: {name}: {len(item):,} characters, over the limit of {limit.chars:,} "
                f"for {limit.what}"
            )
        if fld.metadata.get("path") and item:
            try:
                user_path(item)
            except FileProblem as exc:
                raise ConfigError(f"{where}: {name}: {exc.strerror}") from None


def _coerce(hint: Any, value: Any, key: str, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, key, where)
    if dataclasses.is_dataclass(hint):
        return build(hint, value, f"{key}.", where)  # type: ignore[arg-type]
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: {key}: expected a list, got {type_name(value)}")
        return [_coerce(args[0], item, f"{key}[{i}]", where) for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: {key}: expected a table, got {type_name(value)}")
        return {k: _coerce(args[1], v, f"{key}.{k}", where) for k, v in value.items()}
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {key}: expected true or false, got {type_name(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: {key}: expected a whole number, got {type_name(value)}")
        return value  # its range is the field's `_within`, checked by `_check_field`
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: {key}: expected a number, got {type_name(value)}")
        try:
            return float(value)
        except OverflowError:  # an integer beyond any float: no field's bounds reach it
            raise ConfigError(f"{where}: {key}: the number {value} is far too large") from None
    if hint is dt.date:
        day: dt.date | None = None
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            day = value
        elif isinstance(value, str):
            with contextlib.suppress(ValueError):
                day = dt.date.fromisoformat(value)
        if day is None:
            raise ConfigError(f"{where}: {key}: expected a date like 2026-11-02, got {value!r}")
        try:
            return check_day(day)
        except ValueError as exc:
            raise ConfigError(f"{where}: {key}: {exc}") from None
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key}: expected a string, got {type_name(value)}")
        return value
    raise TypeError(f"unsupported config type {hint!r} for {key}")  # a bug, not user input


def type_name(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)
