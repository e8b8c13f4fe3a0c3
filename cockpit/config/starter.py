"""The starter config.toml `cockpit init` writes: the defaults spelled out with tomli-w, each
table under a comment, private to its owner."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from cockpit.config.fields import ConfigError
from cockpit.config.tables import (
    NOT_IN_FILE,
    OPEN_TABLES,
    TEMPLATE_FIELDS,
    Config,
    SeverityConfig,
    UserConfig,
)
from cockpit.domain import DEFAULT_SEVERITIES
from cockpit.files import FileProblem, write_text

_COMMENTS: dict[str, str] = {
    "user": "Who you are: the author of every entry you write. Empty = your login name.",
    "database": "Where the SQLite file lives. Empty path = your user data directory.",
    "roles": "The roles an incident can have, in the order the roles pane shows them.",
    "severity": (
        "The severity taxonomy, most severe first. Minutes drive the update countdown:\n"
        "first update within first_update_minutes of declaring, then every\n"
        "update_every_minutes until resolved. Leave both out for no cadence."
    ),
    "declare": "Defaults for declaring an incident (the severity must be one defined above).",
    "templates": (
        "Status-update texts. Placeholders: "
        + ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
        + "."
    ),
    "runbooks": "Directories with runbook Markdown files, searched before the bundled ones.",
    "drills": "Directories with drill scenarios (Markdown), searched before the bundled ones.",
    "postmortem": "Where `cockpit export` writes, and hours after resolution a post-mortem is due.",
    "oncall": "A weekly on-call rotation: people in order, first hand-off date, day, time, zone.",
    "slack": (
        "Slack. Webhook mode: webhook_url_env names the variable holding the webhook URL.\n"
        "Bot mode: token_env (a variable holding xoxb-...) and channel (its id)."
    ),
    "statuspage": "Atlassian Statuspage: page_id, api_key_env, component_ids, severity -> impact.",
    "sync": (
        "Team sync through the incident's Slack thread (bot mode; on by default there).\n"
        "Seconds between reads of the thread while busy, and when idle."
    ),
}


def starter_config(author: str = "") -> Config:
    """The configuration `cockpit init` writes: the defaults, spelled out."""
    return Config(
        user=UserConfig(name=author),
        severity=[
            SeverityConfig(
                s.name,
                s.label,
                s.description,
                s.first_update_minutes,
                s.update_every_minutes,
                list(s.required_roles),
            )
            for s in DEFAULT_SEVERITIES
        ],
    )


def config_to_toml(config: Config) -> str:
    """Serialise with tomli-w, one table at a time, each preceded by a comment."""
    import tomli_w

    chunks = [
        "# cockpit configuration. Every key is documented in config.toml.example.\n"
        "# Secrets are never written here: name environment variables with *_env keys.\n"
    ]
    for fld in dataclasses.fields(config):
        if fld.name in NOT_IN_FILE:
            continue
        value = _plain(getattr(config, fld.name))
        if fld.name in OPEN_TABLES:
            value = value["bindings"]
        if value in (None, [], {}):
            continue
        comment = _COMMENTS.get(fld.name, "")
        text = "".join(f"# {line}\n" for line in comment.splitlines())
        text += tomli_w.dumps({fld.name: value}, multiline_strings=True)
        chunks.append(text)
    return "\n".join(chunks)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not None
        }
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def write_starter(path: Path, force: bool = False, author: str = "") -> Path:
    """Write a starter config.toml (mode 0600); refuses to overwrite unless `force`.

    A symlink is written through to its target, never replaced (`cockpit.files.write_text`).
    """
    if path.exists() and not force:
        raise ConfigError(f"{path}: already exists (use --force to overwrite)")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return write_text(path, config_to_toml(starter_config(author)), private=True)
    except FileProblem as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror}") from None
