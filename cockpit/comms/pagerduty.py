"""PagerDuty Events API v2: page when an incident is declared at, raised into, or reopened at
a paging severity; resolve the alert when the incident is resolved.

Pages are incident events, not status updates: the store's event hook queues them in the
transaction that declares or changes the incident. The incident's gid (the id every laptop
sharing it knows; `INC-7` is only one database's alias) is the `dedup_key`, so PagerDuty itself
makes a repeated trigger harmless, and a teammate resolving the incident resolves the page:
events with the key of an open alert apply to that alert instead of opening another. That is
why a retry after a timeout needs no check (and the Events API has nothing to check with: it
is write-only). Whether each page went out, and how it ended, is written to the incident's timeline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from cockpit.comms.target import (
    Attempt,
    Credential,
    KeyedTarget,
    Message,
    Outcome,
    Permanent,
    Preview,
    Retry,
    Sent,
    error_object,
    http_outcome,
    retry_after,
    service_error,
)
from cockpit.config import PagerdutyConfig
from cockpit.domain import Incident, Severity, Status, format_utc
from cockpit.plaintext import clean_line

if TYPE_CHECKING:
    import httpx

    from cockpit.store import IncidentEvent

SERVICE = "PagerDuty"
SUMMARY_LIMIT = 1024
DEFAULT_WAIT = 30.0
"""PagerDuty suggests retrying a 429 after 30 s when it says nothing else."""


class PagerDuty(KeyedTarget):
    """Trigger and resolve one alert per incident (`dedup_key` = the incident's gid)."""

    name = "pagerduty"
    receives_updates = False

    def __init__(self, config: PagerdutyConfig, severities: Sequence[Severity] = ()) -> None:
        key = Credential("pagerduty.routing_key", config.routing_key, config.routing_key_env)
        super().__init__(config.timeout_seconds, key, config.events_url)
        self.config = config
        self.most_severe = severities[0].name if severities else ""

    # -- rendering

    def render(self, message: Message) -> dict[str, Any]:
        raise TypeError("PagerDuty takes incident events, not status updates")

    def render_event(self, event: IncidentEvent) -> list[tuple[str, dict[str, Any]]]:
        incident = event.incident
        pages = set(self.config.page_severities)
        reason = ""
        if event.name == "declared" and incident.severity in pages:
            reason = f"declared {incident.severity}"
        elif (
            event.name == "severity"
            and event.meta["to"] in pages
            and event.meta["from"] not in pages
            and incident.is_open
        ):
            reason = f"severity raised from {event.meta['from']} to {event.meta['to']}"
        elif event.name == "status" and event.meta["to"] == Status.RESOLVED.value:
            # Paged here, or maybe on a teammate's laptop (the incident was at a paging
            # severity there): the key is the gid, so this resolves that page too. Resolving
            # a key PagerDuty has no open alert for does nothing.
            if (self.name, "trigger") in event.queued or pages & set(event.severities):
                return [("resolve", self._event("resolve", dedup_key(incident)))]
            return []
        elif (
            event.name == "status"
            and event.meta["from"] == Status.RESOLVED.value
            and incident.severity in pages
        ):
            reason = f"reopened at {incident.severity}"
        if not reason:
            return []
        title = f"[{incident.severity}] {incident.ref} {incident.title}"
        if incident.service:
            title += f" ({incident.service})"
        details = {
            "incident": incident.ref,
            "gid": incident.gid,
            "title": incident.title,
            "severity": incident.severity,
            "status": incident.status.value,
            "service": incident.service,
            "commander": incident.roles.get("commander", ""),
            "declared_at": format_utc(incident.declared_at),
            "reason": reason,
        }
        body = {
            "summary": clean_line(title, SUMMARY_LIMIT),
            "source": self.config.source,
            "severity": "critical" if incident.severity == self.most_severe else "error",
            "timestamp": format_utc(event.at),
            "custom_details": details,
        }
        if incident.service:
            body["component"] = clean_line(incident.service, 255)
        return [("trigger", self._event("trigger", dedup_key(incident), body))]

    @staticmethod
    def _event(action: str, dedup_key: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        event: dict[str, Any] = {
            "key": uuid4().hex,
            "event_action": action,
            "dedup_key": dedup_key,
        }
        if body is not None:
            event["payload"] = body
        return event

    def describe(self, payload: Mapping[str, Any], *, continuing: bool) -> Preview:
        if payload["event_action"] == "trigger":
            body = payload["payload"]
            heading = f"PagerDuty · page: trigger {payload['dedup_key']} ({body['severity']})"
            return Preview(self.name, heading, body["summary"])
        heading = f"PagerDuty · resolve the alert {payload['dedup_key']}"
        return Preview(self.name, heading, "")

    def timeline_text(
        self, action: str, payload: Mapping[str, Any], outcome: Outcome
    ) -> str | None:
        key = payload.get("dedup_key", "")
        if isinstance(outcome, Sent):
            if action == "trigger":
                return f"PagerDuty page sent (dedup key {key}): {payload['payload']['summary']}"
            return f"PagerDuty alert resolved (dedup key {key})"
        if isinstance(outcome, Permanent):
            what = "page" if action == "trigger" else "resolve"
            return f"PagerDuty {what} failed: {outcome.error}; page people by hand"
        return None

    # -- sending

    async def post(self, http: httpx.AsyncClient, attempt: Attempt) -> Outcome:
        payload = attempt.payload
        body: dict[str, Any] = {
            "routing_key": self.secret(),
            "event_action": payload["event_action"],
            "dedup_key": payload["dedup_key"],
            "client": "cockpit",
        }
        if "payload" in payload:
            body["payload"] = payload["payload"]
        response = await http.post(
            self.config.events_url,
            content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            timeout=self.timeouts(),
        )
        if response.status_code == 429:
            wait = retry_after(response, attempt.now())
            return Retry("rate limited by PagerDuty (HTTP 429)", wait or DEFAULT_WAIT)
        failed = http_outcome(response, attempt.now(), SERVICE, write=True, error=_error)
        if failed is not None:
            return failed
        try:
            answer = response.json()
        except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
            answer = {}
        dedup = answer.get("dedup_key") if isinstance(answer, dict) else None
        return Sent(str(dedup or payload["dedup_key"]))

    async def probe(self, http: httpx.AsyncClient) -> Outcome | None:
        """No call: the Events API is write-only and an accepted event acts (a test trigger
        pages someone). Only the routing key's shape is checked, without the network."""
        key = self.secret()
        if len(key) != 32:
            return Permanent(
                f"PagerDuty: the routing key is {len(key)} characters, an integration key "
                "has 32 (pagerduty.routing_key_env)"
            )
        return None


def _error(response: httpx.Response) -> str:
    """`{"status", "message", "errors": [...]}` as one line."""
    data = error_object(response)
    if data is None:
        return service_error(response)
    message = str(data.get("message") or data.get("status") or "").strip()
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        message = (
            f"{message}: {'; '.join(str(e) for e in errors)}"
            if message
            else "; ".join(str(e) for e in errors)
        )
    if message:
        return f"HTTP {response.status_code} {clean_line(message, 300)}"
    return service_error(response)


def dedup_key(incident: Incident) -> str:
    """The alert's key: the incident's gid (its local `INC-n` only for an incident without one,
    built by hand rather than read from a store)."""
    return incident.gid or incident.ref
