"""A generic webhook: one signed JSON event per published update and per incident change.

Events (the schema is in the README): `incident.declared`, `incident.severity_changed`,
`incident.status_changed`, `incident.resolved` and `incident.update_published`. The body is
compact UTF-8 JSON; with a secret, `X-Cockpit-Signature: sha256=<hex>` carries the
HMAC-SHA256 of those exact bytes. `X-Cockpit-Event` repeats the type and `X-Cockpit-Delivery`
the event id.

Delivery is at-least-once: a generic receiver cannot be asked whether an event arrived, so
after a timeout or a 5xx the same event (same id, same bytes, same signature) is sent again.
Receivers drop repeats by the event `id`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from cockpit.comms.target import (
    Attempt,
    Credential,
    Message,
    Outcome,
    Preview,
    Sent,
    Target,
    http_outcome,
)
from cockpit.config import WebhookConfig
from cockpit.domain import Incident, Status, format_utc
from cockpit.plaintext import clean, clean_line

if TYPE_CHECKING:
    from datetime import datetime

    import httpx

    from cockpit.store import IncidentEvent

SCHEMA = "cockpit.event.v1"
SIGNATURE_HEADER = "X-Cockpit-Signature"
SERVICE = "Webhook"


def incident_json(incident: Incident) -> dict[str, Any]:
    """The incident as every event carries it."""

    def moment(value: datetime | None) -> str | None:
        return format_utc(value) if value else None

    return {
        "id": incident.ref,
        "gid": incident.gid,
        "number": incident.id,
        "title": clean_line(incident.title, 1000),
        "service": clean_line(incident.service, 1000),
        "severity": incident.severity,
        "status": incident.status.value,
        "impact_started_at": moment(incident.impact_started_at),
        "declared_at": moment(incident.declared_at),
        "acknowledged_at": moment(incident.acknowledged_at),
        "mitigated_at": moment(incident.mitigated_at),
        "resolved_at": moment(incident.resolved_at),
        "declared_by": incident.declared_by,
        "roles": dict(incident.roles),
    }


def body_bytes(event: Mapping[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact, keys sorted, UTF-8."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def signature(secret_value: str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 of the raw body with the shared secret."""
    digest = hmac.new(secret_value.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class Webhook(Target):
    """POST a JSON event to one URL, signed when a secret is configured (at-least-once)."""

    name = "webhook"
    at_least_once = True

    def __init__(self, config: WebhookConfig) -> None:
        super().__init__(config.timeout_seconds)
        self.config = config
        # The URL is a credential however it is given: receivers put their key in it.
        self._url = Credential("webhook.url", config.url, config.url_env, url=True)
        self._secret = (
            Credential("webhook.secret", config.secret, config.secret_env)
            if config.secret or config.secret_env
            else None
        )

    def url(self) -> str:
        return self._url.value()

    def shared_secret(self) -> str:
        return self._secret.value() if self._secret is not None else ""

    def credentials(self) -> list[Credential]:
        return [self._url] if self._secret is None else [self._url, self._secret]

    # -- rendering

    def render(self, message: Message) -> dict[str, Any]:
        event = {
            "schema": SCHEMA,
            "id": message.key,
            "type": "incident.update_published",
            "occurred_at": format_utc(message.at),
            "incident": incident_json(message.incident),
            "update": {
                "text": clean(message.text),
                "phase": message.phase,
                "status": message.status.value,
            },
        }
        return {"key": message.key, "phase": message.phase, "event": event}

    def render_event(self, event: IncidentEvent) -> list[tuple[str, dict[str, Any]]]:
        if event.name == "declared":
            action, kind, change = "declared", "incident.declared", None
        elif event.name == "severity":
            action, kind = "severity", "incident.severity_changed"
            change = {"field": "severity", "from": event.meta["from"], "to": event.meta["to"]}
        elif event.name == "status":
            resolved = event.meta["to"] == Status.RESOLVED.value
            action = "resolved" if resolved else "status"
            kind = "incident.resolved" if resolved else "incident.status_changed"
            change = {"field": "status", "from": event.meta["from"], "to": event.meta["to"]}
        else:
            return []
        key = uuid4().hex
        body: dict[str, Any] = {
            "schema": SCHEMA,
            "id": key,
            "type": kind,
            "occurred_at": format_utc(event.at),
            "incident": incident_json(event.incident),
        }
        if change is not None:
            body["change"] = change
        return [(action, {"key": key, "event": body})]

    def describe(self, payload: Mapping[str, Any], *, continuing: bool) -> Preview:
        event = payload["event"]
        heading = f"Webhook · {event['type']} event"
        heading += ", signed" if (self.config.secret or self.config.secret_env) else ", unsigned"
        if "update" in event:
            text = event["update"]["text"]
        elif "change" in event:
            change = event["change"]
            text = f"{event['incident']['id']} {change['field']} {change['from']} → {change['to']}"
        else:
            incident = event["incident"]
            text = f"{incident['id']} declared {incident['severity']}: {incident['title']}"
        return Preview(self.name, heading, text)

    # -- sending

    async def post(self, http: httpx.AsyncClient, attempt: Attempt) -> Outcome:
        event = attempt.payload["event"]
        body = body_bytes(event)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Cockpit-Event": str(event["type"]),
            "X-Cockpit-Delivery": str(event["id"]),
        }
        shared = self.shared_secret()
        if shared:
            headers[SIGNATURE_HEADER] = signature(shared, body)
        response = await http.post(
            self.url(), content=body, headers=headers, timeout=self.timeouts()
        )
        failed = http_outcome(response, attempt.now(), SERVICE, write=True)
        return failed if failed is not None else Sent()

    async def probe(self, http: httpx.AsyncClient) -> Outcome | None:
        """None: a receiver offers no harmless call, and any event we sent would be acted on
        (an automation triggered, an alert raised); `cockpit doctor` checks the config only."""
        return None
