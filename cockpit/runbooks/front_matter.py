"""TOML front matter between `+++` lines: the one splitter for runbooks and drill scenarios
(both are Markdown with TOML front matter), and the check of a runbook's fields."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cockpit.domain import MAX_CADENCE_MINUTES, closest, one_line
from cockpit.runbooks.model import FIELDS, RunbookError

FRONT_MATTER_FENCE = "+++"


def split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str, int]:
    """(front matter table, body, number of lines before the body)."""
    lines = text.split("\n")
    first = lines[0].strip() if lines else ""
    yaml_close = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), 0)
    if first == "---" and any(re.match(r"^\w[\w-]*:(\s|$)", ln) for ln in lines[1:yaml_close]):
        raise RunbookError(
            path, "front matter must be TOML between +++ lines (found YAML-style --- fences)"
        )
    if first != FRONT_MATTER_FENCE:
        return {}, text, 0
    for index in range(1, len(lines)):
        if lines[index].strip() == FRONT_MATTER_FENCE:
            break
    else:
        raise RunbookError(path, "front matter opened with +++ on line 1 is never closed")
    source = "\n".join(lines[1:index])
    try:
        meta = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        # tomllib counts lines from the start of the front matter; point at the file's line.
        message = re.sub(r"line (\d+)", lambda m: f"line {int(m.group(1)) + 1}", str(exc), count=1)
        raise RunbookError(path, f"front matter: TOML syntax error: {message}") from None
    return meta, "\n".join(lines[index + 1 :]), index + 1


def check_front_matter(meta: Mapping[str, Any], path: Path) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in meta.items():
        if key not in FIELDS:
            close = closest(key, FIELDS, prefix=True)
            hint = f"did you mean {close}?" if close else f"expected one of {', '.join(FIELDS)}"
            raise RunbookError(path, f"front matter: {key}: unknown key ({hint})")
        fields[key] = _check_field(key, value, path)
    if fields.get("escalate_after_minutes") is not None and not fields.get("escalate_to"):
        raise RunbookError(
            path, "front matter: escalate_to: missing (say who escalate_after_minutes escalates to)"
        )
    if fields.get("escalate_to") and fields.get("escalate_after_minutes") is None:
        raise RunbookError(
            path, "front matter: escalate_after_minutes: missing (say when to escalate)"
        )
    return fields


def _check_field(key: str, value: Any, path: Path) -> Any:
    def wrong() -> RunbookError:
        return RunbookError(
            path, f"front matter: {key}: expected {FIELDS[key]}, got {type_name(value)}"
        )

    if key == "tags":
        if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
            raise wrong()
        return [one_line(tag).strip() for tag in value if tag.strip()]
    if key.endswith("_minutes"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong()
        if not 1 <= value <= MAX_CADENCE_MINUTES:
            raise RunbookError(
                path,
                f"front matter: {key}: expected minutes from 1 to {MAX_CADENCE_MINUTES:,} "
                f"(a week), got {value}",
            )
        return value
    if not isinstance(value, str):
        raise wrong()
    value = one_line(value).strip()
    if key == "title" and not value:
        raise RunbookError(path, "front matter: title: is empty (remove it or give a title)")
    if key == "severity":
        return value or None
    return value


def type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list" if all(isinstance(v, str) for v in value) else "a list with non-strings"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__
