"""config.toml: find it, load it with tomllib, validate it, and write a starter with tomli-w.

Every mistake is reported as one `ConfigError` line naming the file, the key and what was
expected. Tables are plain dataclasses; `_build` checks a TOML table against a dataclass's
fields, so a new section is one dataclass and one field on `Config`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import getpass
import os
import re
import stat
import string
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cockpit.domain import (
    DEFAULT_SEVERITIES,
    MAX_CADENCE_MINUTES,
    NAME_TEXT,
    UPDATE_TEXT,
    Severity,
    TextLimit,
    check_day,
    name_key,
)
from cockpit.files import FileProblem, MiB, kind_of, read_limited, user_path, write_text
from cockpit.keymap import DEFAULT_KEYS, parse_keys
from cockpit.oncall import Rotation, parse_clock_time, parse_weekday
from cockpit.secrets import credential_problem, has_credentials, url_problem, without_credentials

PACKAGE_RUNBOOKS = Path(__file__).parent / "bundled_runbooks"
CONFIG_MAX_BYTES = 1 * MiB
"""The largest configuration file read (a real one is a few KiB)."""


class ConfigError(Exception):
    """A configuration problem, as one line a person can act on."""


# ---- what a key may hold, declared beside it -------------------------------------------------


@dataclass(frozen=True)
class Bounds:
    """The values a number may take, and what it counts (for the message)."""

    low: float
    high: float
    unit: str

    def check(self, value: float, key: str, where: str) -> None:
        if not self.low <= value <= self.high:  # also refuses nan
            raise ConfigError(
                f"{where}: {key}: expected {self.unit} from {self.low:,} to {self.high:,}, "
                f"got {value!r}"
            )


def _within(low: float, high: float, unit: str) -> dict[str, Any]:
    """Field metadata: every number the key holds must be in [low, high]."""
    return {"bounds": Bounds(low, high, unit)}


def _text(limit: TextLimit) -> dict[str, Any]:
    """Field metadata: the string (or each string of the list) fits `limit`."""
    return {"text": limit}


def _path() -> dict[str, Any]:
    """Field metadata: a file or folder name (`~` expanded); checked when loading."""
    return {"path": True}


_TIMEOUT = _within(0.1, 300, "seconds")
_CADENCE = _within(1, MAX_CADENCE_MINUTES, "minutes")


# ---- the tables ----------------------------------------------------------------------------


@dataclass(frozen=True)
class UserConfig:
    """Who is typing: the author of entries written from this machine."""

    name: str = field(default="", metadata=_text(NAME_TEXT))


@dataclass(frozen=True)
class DatabaseConfig:
    """Where the SQLite file lives ("" = the platform's user data directory)."""

    path: str = field(default="", metadata=_path())
    busy_timeout_ms: int = field(default=5000, metadata=_within(0, 60_000, "milliseconds"))


@dataclass(frozen=True)
class SeverityConfig:
    """One severity level and its communication policy (minutes; omit for no cadence)."""

    name: str
    label: str = ""
    description: str = ""
    first_update_minutes: int | None = field(
        default=None, metadata=_within(0, MAX_CADENCE_MINUTES, "minutes")
    )
    update_every_minutes: int | None = field(default=None, metadata=_CADENCE)
    required_roles: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RolesConfig:
    """The roles an incident can have, in display order."""

    names: list[str] = field(default_factory=lambda: ["commander", "communicator"])


DEFAULT_TEMPLATES: dict[str, str] = {
    "acknowledge": (
        "We are aware of an issue affecting {service}. Our engineering team is investigating. "
        "We will provide an update within {next_update_minutes} minutes."
    ),
    "update": (
        "{title}: we are still working on the issue affecting {service} (status: {status}). "
        "{summary} Next update within {next_update_minutes} minutes."
    ),
    "resolution": (
        "The issue affecting {service} has been resolved as of {time}. {summary} "
        "We will follow up with a full post-mortem within 48 hours."
    ),
}

TEMPLATE_FIELDS = (
    "id",
    "title",
    "service",
    "severity",
    "status",
    "next_update_minutes",
    "time",
    "summary",
    "commander",
    "communicator",
    "duration",
)
"""The placeholders a template may use."""


@dataclass(frozen=True)
class DeclareConfig:
    """Defaults when declaring an incident without saying otherwise."""

    default_severity: str = "SEV-2"
    default_service: str = field(default="", metadata=_text(NAME_TEXT))


@dataclass(frozen=True)
class TemplatesConfig:
    """Status-update texts; placeholders in braces are filled from the incident."""

    acknowledge: str = field(default=DEFAULT_TEMPLATES["acknowledge"], metadata=_text(UPDATE_TEXT))
    update: str = field(default=DEFAULT_TEMPLATES["update"], metadata=_text(UPDATE_TEXT))
    resolution: str = field(default=DEFAULT_TEMPLATES["resolution"], metadata=_text(UPDATE_TEXT))


@dataclass(frozen=True)
class RunbooksConfig:
    """Directories searched for runbook Markdown files (`~` expanded), before the bundled ones."""

    dirs: list[str] = field(default_factory=list, metadata=_path())
    include_bundled: bool = True


@dataclass(frozen=True)
class PostmortemConfig:
    """Where exports go and when the post-mortem is due after resolution."""

    dir: str = field(default=".", metadata=_path())
    due_hours: int = field(default=48, metadata=_within(0, 24 * 366, "hours"))


@dataclass(frozen=True)
class OncallConfig:
    """A weekly on-call rotation; empty `people` means no rotation."""

    people: list[str] = field(default_factory=list, metadata=_text(NAME_TEXT))
    start: dt.date | None = None
    handoff_day: str = "monday"
    handoff_time: str = "09:00"
    timezone: str = "UTC"


SECRET = "secret"
"""Field metadata: how the field may hold a secret. `header`/`text`: the credential itself
(sent in an HTTP header / in a body or a signature); `url`: a URL that is a credential;
`endpoint`: a URL that may carry a user, password or query; `env`: the name of the variable
holding one (a secret is pasted there by mistake). None of them is ever in a `repr`."""


def _secret(kind: str, default: str = "") -> Any:
    """A field that may hold a secret: left out of `repr` (tracebacks, logs, debuggers)."""
    return field(default=default, repr=False, metadata={SECRET: kind})


@dataclass(frozen=True)
class KeysConfig:
    """`[keys]`: binding id -> keys, over the app's defaults (`"cockpit.note" = "n,ctrl+n"`).

    Ids and key names are checked on load (`cockpit.keymap`); keys are kept as Textual's
    keymap takes them (`ctrl+/` becomes `ctrl+slash`). Clashes are checked by the app, which
    knows which bindings are active together.
    """

    bindings: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SlackConfig:
    """Slack: webhook mode (`webhook_url`/`webhook_url_env`) or bot mode (`token_env`, `channel`).

    Secrets come from the environment variable a `*_env` key names, or literally from a
    config file that only its owner can read.
    """

    webhook_url: str = _secret("url")
    webhook_url_env: str = _secret("env")
    token: str = _secret("header")
    token_env: str = _secret("env")
    channel: str = ""
    api_url: str = _secret("endpoint", "https://slack.com/api")
    broadcast_resolution: bool = True
    timeout_seconds: float = field(default=10.0, metadata=_TIMEOUT)

    @property
    def mode(self) -> str:
        """`webhook` or `bot`."""
        return "webhook" if (self.webhook_url or self.webhook_url_env) else "bot"


STATUSPAGE_IMPACTS = ("none", "maintenance", "minor", "major", "critical")
STATUSPAGE_COMPONENT_STATUSES = (
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
)


@dataclass(frozen=True)
class StatuspageConfig:
    """Atlassian Statuspage: one incident per cockpit incident, kept in step with it."""

    page_id: str
    api_key: str = _secret("header")
    api_key_env: str = _secret("env")
    api_url: str = _secret("endpoint", "https://api.statuspage.io/v1")
    component_ids: list[str] = field(default_factory=list)
    # Severity name -> impact / component status. Severities left out follow their rank:
    # the most severe critical / major_outage, then major / partial_outage, then minor /
    # degraded_performance, then none (so a custom taxonomy needs no mapping).
    impact: dict[str, str] = field(default_factory=dict)
    component_status: dict[str, str] = field(default_factory=dict)
    deliver_notifications: bool = True
    timeout_seconds: float = field(default=10.0, metadata=_TIMEOUT)


INSTATUS_COMPONENT_STATUSES = (
    "OPERATIONAL",
    "UNDERMAINTENANCE",
    "DEGRADEDPERFORMANCE",
    "PARTIALOUTAGE",
    "MAJOROUTAGE",
)


@dataclass(frozen=True)
class InstatusConfig:
    """Instatus: one incident per cockpit incident; every update names its components."""

    page_id: str
    api_key: str = _secret("header")
    api_key_env: str = _secret("env")
    api_url: str = _secret("endpoint", "https://api.instatus.com")
    component_ids: list[str] = field(default_factory=list)
    component_status: dict[str, str] = field(
        default_factory=lambda: {
            "SEV-1": "MAJOROUTAGE",
            "SEV-2": "PARTIALOUTAGE",
            "SEV-3": "DEGRADEDPERFORMANCE",
        }
    )
    notify: bool = True
    timeout_seconds: float = field(default=10.0, metadata=_TIMEOUT)


BETTERSTACK_RESOURCE_STATUSES = ("resolved", "degraded", "downtime")


@dataclass(frozen=True)
class BetterstackConfig:
    """Better Stack status page: a status report per cockpit incident, a status update each.

    `notify_subscribers` has no default on purpose: Better Stack's own defaults differ (true
    for a new report, false for its updates), so the file must say, and cockpit sends it on
    every call.
    """

    status_page_id: str
    notify_subscribers: bool | None = None
    api_key: str = _secret("header")
    api_key_env: str = _secret("env")
    api_url: str = _secret("endpoint", "https://uptime.betterstack.com")
    resource_ids: list[str] = field(default_factory=list)
    resource_status: dict[str, str] = field(
        default_factory=lambda: {"SEV-1": "downtime", "SEV-2": "degraded", "SEV-3": "degraded"}
    )
    timeout_seconds: float = field(default=10.0, metadata=_TIMEOUT)


@dataclass(frozen=True)
class WebhookConfig:
    """A generic webhook: a signed JSON event per published update and per incident change."""

    url: str = _secret("url")
    url_env: str = _secret("env")
    secret: str = _secret("text")
    secret_env: str = _secret("env")
    timeout_seconds: float = field(default=10.0, metadata=_TIMEOUT)


@dataclass(frozen=True)
class PagerdutyConfig:
    """PagerDuty Events API v2: page when an incident is (or becomes) this severe."""

    routing_key: str = _secret("text")
    routing_key_env: str = _secret("env")
    events_url: str = _secret("endpoint", "https://events.pagerduty.com/v2/enqueue")
    page_severities: list[str] = field(default_factory=lambda: ["SEV-1"])
    source: str = "cockpit"
    timeout_seconds: float = field(default=10.0, metadata=_TIMEOUT)


@dataclass(frozen=True)
class SyncConfig:
    """`[sync]`: share incidents with teammates' cockpits through the Slack thread (bot mode).

    `enabled` left out means on when `[slack]` is in bot mode. `poll_seconds` is how often the
    thread is read while the incident moves, `idle_poll_seconds` when nothing has for a while.
    """

    enabled: bool | None = None
    poll_seconds: float = field(default=5.0, metadata=_within(0.05, 600, "seconds"))
    idle_poll_seconds: float = field(default=15.0, metadata=_within(0.05, 3600, "seconds"))


@dataclass(frozen=True)
class Config:
    """The whole configuration; `source` is the file it came from (None for built-in)."""

    user: UserConfig = field(default_factory=UserConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    severity: list[SeverityConfig] = field(default_factory=list)
    roles: RolesConfig = field(default_factory=RolesConfig)
    declare: DeclareConfig = field(default_factory=DeclareConfig)
    templates: TemplatesConfig = field(default_factory=TemplatesConfig)
    runbooks: RunbooksConfig = field(default_factory=RunbooksConfig)
    postmortem: PostmortemConfig = field(default_factory=PostmortemConfig)
    oncall: OncallConfig = field(default_factory=OncallConfig)
    keys: KeysConfig = field(default_factory=KeysConfig)
    slack: SlackConfig | None = None
    statuspage: StatuspageConfig | None = None
    instatus: InstatusConfig | None = None
    betterstack: BetterstackConfig | None = None
    webhook: WebhookConfig | None = None
    pagerduty: PagerdutyConfig | None = None
    sync: SyncConfig = field(default_factory=SyncConfig)
    source: Path | None = None

    @property
    def sync_enabled(self) -> bool:
        """Whether incidents are shared through the Slack thread: `[sync] enabled`, else on
        exactly when `[slack]` is in bot mode (the only mode that can read the thread)."""
        bot = self.slack is not None and self.slack.mode == "bot"
        return bot if self.sync.enabled is None else self.sync.enabled and bot

    @property
    def author(self) -> str:
        """The name entries are written under: configured, else the login name."""
        return self.user.name or login_name()

    @property
    def severities(self) -> tuple[Severity, ...]:
        if not self.severity:
            return DEFAULT_SEVERITIES
        return tuple(
            Severity(
                s.name,
                s.label,
                s.description,
                s.first_update_minutes,
                s.update_every_minutes,
                tuple(s.required_roles),
            )
            for s in self.severity
        )

    @property
    def runbook_dirs(self) -> list[Path]:
        dirs = [Path(d).expanduser() for d in self.runbooks.dirs]
        if self.runbooks.include_bundled:
            dirs.append(PACKAGE_RUNBOOKS)
        return dirs

    @property
    def role_names(self) -> list[str]:
        return list(self.roles.names)

    @property
    def rotation(self) -> Rotation | None:
        """The on-call rotation, or None when `[oncall] people` is empty (validated on load)."""
        oncall = self.oncall
        if not oncall.people or oncall.start is None:
            return None
        from zoneinfo import ZoneInfo

        return Rotation(
            tuple(oncall.people),
            oncall.start,
            parse_weekday(oncall.handoff_day),
            parse_clock_time(oncall.handoff_time),
            ZoneInfo(oncall.timezone),
        )


_NOT_IN_FILE = {"source"}
_OPEN_TABLES = {"keys"}
"""Tables whose keys are not field names (binding ids): read by their own function."""


def login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "responder"


# ---- locating -------------------------------------------------------------------------------


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


# ---- loading and validating ---------------------------------------------------------------


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
    fixed = {key: value for key, value in data.items() if key not in _OPEN_TABLES}
    config: Config = _build(Config, fixed, "", where, skip=_NOT_IN_FILE | _OPEN_TABLES)
    keys = _keys_config(data.get("keys", {}), where)
    config = dataclasses.replace(config, source=path, keys=keys)
    _check_semantics(config, where)
    _check_targets(config, where, path)
    _check_sync(config, where)
    _check_services(config, where, path)
    _check_secrets(config, where, path)
    return config


def _check_semantics(config: Config, where: str) -> None:
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


def _keys_config(table: Any, where: str) -> KeysConfig:
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
            import difflib  # only to say which id was meant: `cockpit log` never loads it

            close = difflib.get_close_matches(binding_id, DEFAULT_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"{where}: {key}: unknown binding id{hint}; config.toml.example lists them all"
            )
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            value = ",".join(value)
        if not isinstance(value, str):
            raise ConfigError(
                f'{where}: {key}: expected keys as a string like "n,ctrl+n", got {_tname(value)}'
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


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _check_sync(config: Config, where: str) -> None:
    if config.sync.enabled and not config.sync_enabled:
        raise ConfigError(
            f"{where}: sync.enabled: sharing reads the incident's Slack thread, which needs "
            "[slack] in bot mode (token_env and channel); set them or sync.enabled = false"
        )


def _check_targets(config: Config, where: str, path: Path | None) -> None:
    """Validate `[slack]` and `[statuspage]`. Never echo a value: it may be a secret."""
    literal_secrets: list[str] = []
    slack = config.slack
    if slack is not None:
        webhook = bool(slack.webhook_url or slack.webhook_url_env)
        bot = bool(slack.token or slack.token_env or slack.channel)
        if webhook and bot:
            raise ConfigError(
                f"{where}: slack: choose webhook mode (webhook_url_env) or bot mode "
                "(token_env and channel), not both"
            )
        if not webhook and not bot:
            raise ConfigError(
                f"{where}: slack: set webhook_url_env (webhook mode) or token_env and channel "
                "(bot mode)"
            )
        if slack.webhook_url and slack.webhook_url_env:
            raise ConfigError(f"{where}: slack: set webhook_url or webhook_url_env, not both")
        if slack.token and slack.token_env:
            raise ConfigError(f"{where}: slack: set token or token_env, not both")
        if bot and not (slack.token or slack.token_env):
            raise ConfigError(f"{where}: slack.token_env: missing (bot mode needs a token)")
        if bot and not slack.channel.strip():
            raise ConfigError(f"{where}: slack.channel: missing (the channel id, like C0123ABC)")
        if slack.webhook_url and not _is_http_url(slack.webhook_url):
            raise ConfigError(f"{where}: slack.webhook_url: expected an https:// URL")
        if slack.webhook_url:
            _check_port(slack.webhook_url, "slack.webhook_url", where)
        _check_url(slack.api_url, "slack.api_url", where)
        _check_env_name(slack.webhook_url_env, "slack.webhook_url_env", where)
        _check_env_name(slack.token_env, "slack.token_env", where)
        literal_secrets += [f"slack.{k}" for k in ("webhook_url", "token") if getattr(slack, k)]
    page = config.statuspage
    if page is not None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", page.page_id):
            raise ConfigError(
                f"{where}: statuspage.page_id: expected the page id, like gytm4qzbx9t6"
            )
        if not (page.api_key or page.api_key_env):
            raise ConfigError(f"{where}: statuspage.api_key_env: missing (the API key's variable)")
        if page.api_key and page.api_key_env:
            raise ConfigError(f"{where}: statuspage: set api_key or api_key_env, not both")
        _check_url(page.api_url, "statuspage.api_url", where)
        _check_env_name(page.api_key_env, "statuspage.api_key_env", where)
        severities = [s.name for s in config.severities]
        for table, allowed in (
            ("impact", STATUSPAGE_IMPACTS),
            ("component_status", STATUSPAGE_COMPONENT_STATUSES),
        ):
            for sev, value in getattr(page, table).items():
                if sev not in severities:
                    raise ConfigError(
                        f"{where}: statuspage.{table}.{sev}: unknown severity "
                        f"(expected one of {', '.join(severities)})"
                    )
                if value not in allowed:
                    raise ConfigError(
                        f"{where}: statuspage.{table}.{sev}: expected one of "
                        f"{', '.join(allowed)}, got {value!r}"
                    )
        if page.api_key:
            literal_secrets.append("statuspage.api_key")
    if literal_secrets and path is not None:
        _check_private(path, literal_secrets[0], where)


def _check_services(config: Config, where: str, path: Path | None) -> None:
    """Validate `[instatus]`, `[betterstack]`, `[webhook]` and `[pagerduty]`; never echo a
    value that may be a secret."""
    literal_secrets: list[str] = []
    severities = [s.name for s in config.severities]

    def secret_pair(table: str, key: str, literal: str, env_name: str, what: str) -> None:
        if not (literal or env_name):
            raise ConfigError(f"{where}: {table}.{key}_env: missing ({what})")
        if literal and env_name:
            raise ConfigError(f"{where}: {table}: set {key} or {key}_env, not both")
        _check_env_name(env_name, f"{table}.{key}_env", where)
        if literal:
            literal_secrets.append(f"{table}.{key}")

    def mapping(table: str, key: str, values: dict[str, str], allowed: tuple[str, ...]) -> None:
        for sev, value in values.items():
            if sev not in severities:
                raise ConfigError(
                    f"{where}: {table}.{key}.{sev}: unknown severity "
                    f"(expected one of {', '.join(severities)})"
                )
            if value not in allowed:
                raise ConfigError(
                    f"{where}: {table}.{key}.{sev}: expected one of {', '.join(allowed)}, "
                    f"got {value!r}"
                )

    def ids(table: str, key: str, values: list[str], why: str) -> None:
        if not values:
            raise ConfigError(f"{where}: {table}.{key}: missing ({why})")
        for index, value in enumerate(values):
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
                raise ConfigError(f"{where}: {table}.{key}[{index}]: expected an id, got {value!r}")

    instatus = config.instatus
    if instatus is not None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", instatus.page_id):
            raise ConfigError(f"{where}: instatus.page_id: expected the page id")
        secret_pair("instatus", "api_key", instatus.api_key, instatus.api_key_env, "the API key")
        _check_url(instatus.api_url, "instatus.api_url", where)
        ids(
            "instatus",
            "component_ids",
            instatus.component_ids,
            "Instatus requires the affected components on every incident update",
        )
        mapping(
            "instatus", "component_status", instatus.component_status, INSTATUS_COMPONENT_STATUSES
        )
    better = config.betterstack
    if better is not None:
        if not re.fullmatch(r"[0-9A-Za-z_-]{1,64}", better.status_page_id):
            raise ConfigError(f"{where}: betterstack.status_page_id: expected the status page id")
        if better.notify_subscribers is None:
            raise ConfigError(
                f"{where}: betterstack.notify_subscribers: missing; choose true or false "
                "(Better Stack's own defaults differ: true for a new report, false for updates)"
            )
        secret_pair("betterstack", "api_key", better.api_key, better.api_key_env, "the API token")
        _check_url(better.api_url, "betterstack.api_url", where)
        ids(
            "betterstack",
            "resource_ids",
            better.resource_ids,
            "Better Stack requires the affected resources on every status update",
        )
        mapping(
            "betterstack",
            "resource_status",
            better.resource_status,
            BETTERSTACK_RESOURCE_STATUSES[1:],
        )
    hook = config.webhook
    if hook is not None:
        if not (hook.url or hook.url_env):
            raise ConfigError(f"{where}: webhook.url: missing (where to POST events)")
        if hook.url and hook.url_env:
            raise ConfigError(f"{where}: webhook: set url or url_env, not both")
        if hook.url and not _is_http_url(hook.url):
            raise ConfigError(f"{where}: webhook.url: expected an http(s):// URL")
        if hook.url:
            _check_port(hook.url, "webhook.url", where)
        _check_env_name(hook.url_env, "webhook.url_env", where)
        if hook.secret and hook.secret_env:
            raise ConfigError(f"{where}: webhook: set secret or secret_env, not both")
        _check_env_name(hook.secret_env, "webhook.secret_env", where)
        if hook.secret:
            literal_secrets.append("webhook.secret")
    pager = config.pagerduty
    if pager is not None:
        secret_pair(
            "pagerduty",
            "routing_key",
            pager.routing_key,
            pager.routing_key_env,
            "the integration's routing key",
        )
        _check_url(pager.events_url, "pagerduty.events_url", where)
        if not pager.page_severities:
            raise ConfigError(
                f"{where}: pagerduty.page_severities: empty; name the severities that page "
                '(like ["SEV-1"]) or remove the [pagerduty] table'
            )
        for index, sev in enumerate(pager.page_severities):
            if sev not in severities:
                raise ConfigError(
                    f"{where}: pagerduty.page_severities[{index}]: unknown severity {sev!r} "
                    f"(expected one of {', '.join(severities)})"
                )
        if not pager.source.strip():
            raise ConfigError(f"{where}: pagerduty.source: empty (the name PagerDuty shows)")
    if literal_secrets and path is not None:
        _check_private(path, literal_secrets[0], where)


def _check_secrets(config: Config, where: str, path: Path | None) -> None:
    """Every field that may hold a secret (`SECRET` metadata), whatever its table: a literal
    credential cockpit could not keep out of what it stores and shows is refused, and a URL
    carrying a user, password or query makes the file one that must be private."""
    tables = [(f.name, getattr(config, f.name)) for f in dataclasses.fields(config)]
    found = [(name, table) for name, table in tables if dataclasses.is_dataclass(table)]
    private: list[str] = []
    for name, table in found:
        for fld in dataclasses.fields(table):
            kind = fld.metadata.get(SECRET)
            value = getattr(table, fld.name)
            if kind not in ("header", "text", "url", "endpoint") or not value:
                continue
            key = f"{name}.{fld.name}"
            if kind in ("url", "endpoint"):
                problem = url_problem(value)
                if has_credentials(value):
                    private.append(key)
            else:
                problem = credential_problem(value, header=kind == "header")
            if problem:
                raise ConfigError(f"{where}: {key}: {problem}")
    if private and path is not None:
        _check_private(path, private[0], where)


def _is_http_url(value: str) -> bool:
    return re.match(r"https?://[^\s/]+", value) is not None


def _check_url(value: str, key: str, where: str) -> None:
    if not _is_http_url(value):
        shown = without_credentials(value)  # the rest may be a password or a token
        raise ConfigError(f"{where}: {key}: expected an http(s):// URL, got {shown!r}")
    _check_port(value, key, where)


def _check_port(url: str, key: str, where: str) -> None:
    """A port out of 1-65535 would fail every delivery; the URL is not echoed (it may hold a
    token)."""
    from urllib.parse import urlsplit

    try:
        port = urlsplit(url).port
    except ValueError:
        port = 0
    if port == 0:
        raise ConfigError(f"{where}: {key}: the URL's port must be a number from 1 to 65535")


def _check_env_name(value: str, key: str, where: str) -> None:
    if value and (not _ENV_NAME.fullmatch(value) or _looks_like_a_secret(value)):
        # Never echo it: people paste the secret itself here by mistake.
        example = key.removesuffix("_env").replace(".", "_").upper()
        raise ConfigError(
            f"{where}: {key}: expected the name of an environment variable (like {example}), "
            "not the secret itself; put the secret in that variable and name it here"
        )


def _looks_like_a_secret(name: str) -> bool:
    """A valid variable name that is more likely a pasted credential (a hex routing key, an
    API token): long, no underscore between words, digits among the letters."""
    return len(name) >= 16 and "_" not in name and any(ch.isdigit() for ch in name)


def _check_private(path: Path, key: str, where: str) -> None:
    """A literal secret is allowed only in a file that no one but its owner can read."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & 0o077:
        raise ConfigError(
            f"{where}: {key}: holds a secret but the file can be read by others; run "
            f"`chmod 600 {path}` or name an environment variable with {key}_env instead"
        )


def _build(cls: type[Any], table: Any, prefix: str, where: str, skip: set[str] = set()) -> Any:  # noqa: B006
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
        return _build(hint, value, f"{key}.", where)  # type: ignore[arg-type]
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: {key}: expected a list, got {_tname(value)}")
        return [_coerce(args[0], item, f"{key}[{i}]", where) for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: {key}: expected a table, got {_tname(value)}")
        return {k: _coerce(args[1], v, f"{key}.{k}", where) for k, v in value.items()}
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {key}: expected true or false, got {_tname(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: {key}: expected a whole number, got {_tname(value)}")
        return value  # its range is the field's `_within`, checked by `_check_field`
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: {key}: expected a number, got {_tname(value)}")
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
            raise ConfigError(f"{where}: {key}: expected a string, got {_tname(value)}")
        return value
    raise TypeError(f"unsupported config type {hint!r} for {key}")  # a bug, not user input


def _tname(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


# ---- writing a starter file ------------------------------------------------------------------

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
        if fld.name in _NOT_IN_FILE:
            continue
        value = _plain(getattr(config, fld.name))
        if fld.name in _OPEN_TABLES:
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
