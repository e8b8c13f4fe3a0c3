"""The tables of the services cockpit delivers to: Slack, Statuspage, Instatus, Better Stack,
a webhook and PagerDuty (their values are checked by `cockpit.config.service_checks`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cockpit.config.fields import TIMEOUT, secret_field, within


@dataclass(frozen=True)
class SlackConfig:
    """Slack: webhook mode (`webhook_url`/`webhook_url_env`) or bot mode (`token_env`, `channel`).

    Secrets come from the environment variable a `*_env` key names, or literally from a
    config file that only its owner can read.
    """

    webhook_url: str = secret_field("url")
    webhook_url_env: str = secret_field("env")
    token: str = secret_field("header")
    token_env: str = secret_field("env")
    channel: str = ""
    api_url: str = secret_field("endpoint", "https://slack.com/api")
    broadcast_resolution: bool = True
    timeout_seconds: float = field(default=10.0, metadata=TIMEOUT)

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
class PageKeys:
    """What Statuspage and Instatus tables both begin with: the page and its API key."""

    page_id: str
    api_key: str = secret_field("header")
    api_key_env: str = secret_field("env")


@dataclass(frozen=True)
class StatuspageConfig(PageKeys):
    """Atlassian Statuspage: one incident per cockpit incident, kept in step with it."""

    api_url: str = secret_field("endpoint", "https://api.statuspage.io/v1")
    component_ids: list[str] = field(default_factory=list)
    # Severity name -> impact / component status. Severities left out follow their rank:
    # the most severe critical / major_outage, then major / partial_outage, then minor /
    # degraded_performance, then none (so a custom taxonomy needs no mapping).
    impact: dict[str, str] = field(default_factory=dict)
    component_status: dict[str, str] = field(default_factory=dict)
    deliver_notifications: bool = True
    timeout_seconds: float = field(default=10.0, metadata=TIMEOUT)


INSTATUS_COMPONENT_STATUSES = (
    "OPERATIONAL",
    "UNDERMAINTENANCE",
    "DEGRADEDPERFORMANCE",
    "PARTIALOUTAGE",
    "MAJOROUTAGE",
)


@dataclass(frozen=True)
class InstatusConfig(PageKeys):
    """Instatus: one incident per cockpit incident; every update names its components."""

    api_url: str = secret_field("endpoint", "https://api.instatus.com")
    component_ids: list[str] = field(default_factory=list)
    component_status: dict[str, str] = field(
        default_factory=lambda: {
            "SEV-1": "MAJOROUTAGE",
            "SEV-2": "PARTIALOUTAGE",
            "SEV-3": "DEGRADEDPERFORMANCE",
        }
    )
    notify: bool = True
    timeout_seconds: float = field(default=10.0, metadata=TIMEOUT)


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
    api_key: str = secret_field("header")
    api_key_env: str = secret_field("env")
    api_url: str = secret_field("endpoint", "https://uptime.betterstack.com")
    resource_ids: list[str] = field(default_factory=list)
    resource_status: dict[str, str] = field(
        default_factory=lambda: {"SEV-1": "downtime", "SEV-2": "degraded", "SEV-3": "degraded"}
    )
    timeout_seconds: float = field(default=10.0, metadata=TIMEOUT)


@dataclass(frozen=True)
class WebhookConfig:
    """A generic webhook: a signed JSON event per published update and per incident change."""

    url: str = secret_field("url")
    url_env: str = secret_field("env")
    secret: str = secret_field("text")
    secret_env: str = secret_field("env")
    timeout_seconds: float = field(default=10.0, metadata=TIMEOUT)


@dataclass(frozen=True)
class PagerdutyConfig:
    """PagerDuty Events API v2: page when an incident is (or becomes) this severe."""

    routing_key: str = secret_field("text")
    routing_key_env: str = secret_field("env")
    events_url: str = secret_field("endpoint", "https://events.pagerduty.com/v2/enqueue")
    page_severities: list[str] = field(default_factory=lambda: ["SEV-1"])
    source: str = "cockpit"
    timeout_seconds: float = field(default=10.0, metadata=TIMEOUT)


@dataclass(frozen=True)
class SyncConfig:
    """`[sync]`: share incidents with teammates' cockpits through the Slack thread (bot mode).

    `enabled` left out means on when `[slack]` is in bot mode. `poll_seconds` is how often the
    thread is read while the incident moves, `idle_poll_seconds` when nothing has for a while.
    """

    enabled: bool | None = None
    poll_seconds: float = field(default=5.0, metadata=within(0.05, 600, "seconds"))
    idle_poll_seconds: float = field(default=15.0, metadata=within(0.05, 3600, "seconds"))
