"""The configuration's tables as frozen dataclasses, `Config` their root: who types, the
database, severities, roles, declaring, templates, runbooks, post-mortems, on-call and keys.
A new section is one dataclass and one field on `Config`."""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import dataclass, field
from pathlib import Path

import cockpit.config.services as services
from cockpit.config.fields import CADENCE, file_name, text_limit, within
from cockpit.domain import DEFAULT_SEVERITIES, MAX_CADENCE_MINUTES, NAME_TEXT, UPDATE_TEXT, Severity
from cockpit.oncall import Rotation, parse_clock_time, parse_weekday

PACKAGE_RUNBOOKS = Path(__file__).parent.parent / "bundled_runbooks"


@dataclass(frozen=True)
class UserConfig:
    """Who is typing: the author of entries written from this machine."""

    name: str = field(default="", metadata=text_limit(NAME_TEXT))


@dataclass(frozen=True)
class DatabaseConfig:
    """Where the SQLite file lives ("" = the platform's user data directory)."""

    path: str = field(default="", metadata=file_name())
    busy_timeout_ms: int = field(default=5000, metadata=within(0, 60_000, "milliseconds"))


@dataclass(frozen=True)
class SeverityConfig:
    """One severity level and its communication policy (minutes; omit for no cadence)."""

    name: str
    label: str = ""
    description: str = ""
    first_update_minutes: int | None = field(
        default=None, metadata=within(0, MAX_CADENCE_MINUTES, "minutes")
    )
    update_every_minutes: int | None = field(default=None, metadata=CADENCE)
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
    default_service: str = field(default="", metadata=text_limit(NAME_TEXT))


@dataclass(frozen=True)
class TemplatesConfig:
    """Status-update texts; placeholders in braces are filled from the incident."""

    acknowledge: str = field(
        default=DEFAULT_TEMPLATES["acknowledge"], metadata=text_limit(UPDATE_TEXT)
    )
    update: str = field(default=DEFAULT_TEMPLATES["update"], metadata=text_limit(UPDATE_TEXT))
    resolution: str = field(
        default=DEFAULT_TEMPLATES["resolution"], metadata=text_limit(UPDATE_TEXT)
    )


@dataclass(frozen=True)
class RunbooksConfig:
    """Directories searched for runbook Markdown files (`~` expanded), before the bundled ones."""

    dirs: list[str] = field(default_factory=list, metadata=file_name())
    include_bundled: bool = True


@dataclass(frozen=True)
class DrillsConfig:
    """Directories searched for drill scenarios (`~` expanded), before the bundled ones."""

    dirs: list[str] = field(default_factory=list, metadata=file_name())


@dataclass(frozen=True)
class PostmortemConfig:
    """Where exports go and when the post-mortem is due after resolution."""

    dir: str = field(default=".", metadata=file_name())
    due_hours: int = field(default=48, metadata=within(0, 24 * 366, "hours"))


@dataclass(frozen=True)
class OncallConfig:
    """A weekly on-call rotation; empty `people` means no rotation."""

    people: list[str] = field(default_factory=list, metadata=text_limit(NAME_TEXT))
    start: dt.date | None = None
    handoff_day: str = "monday"
    handoff_time: str = "09:00"
    timezone: str = "UTC"


@dataclass(frozen=True)
class KeysConfig:
    """`[keys]`: binding id -> keys, over the app's defaults (`"cockpit.note" = "n,ctrl+n"`).

    Ids and key names are checked on load (`cockpit.keymap`); keys are kept as Textual's
    keymap takes them (`ctrl+/` becomes `ctrl+slash`). Clashes are checked by the app, which
    knows which bindings are active together.
    """

    bindings: dict[str, str] = field(default_factory=dict)


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
    drills: DrillsConfig = field(default_factory=DrillsConfig)
    postmortem: PostmortemConfig = field(default_factory=PostmortemConfig)
    oncall: OncallConfig = field(default_factory=OncallConfig)
    keys: KeysConfig = field(default_factory=KeysConfig)
    slack: services.SlackConfig | None = None
    statuspage: services.StatuspageConfig | None = None
    instatus: services.InstatusConfig | None = None
    betterstack: services.BetterstackConfig | None = None
    webhook: services.WebhookConfig | None = None
    pagerduty: services.PagerdutyConfig | None = None
    sync: services.SyncConfig = field(default_factory=services.SyncConfig)
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


NOT_IN_FILE = {"source"}
OPEN_TABLES = {"keys"}
"""Tables whose keys are not field names (binding ids): read by their own function."""


def login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "responder"
