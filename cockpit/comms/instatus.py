"""Instatus: one incident per cockpit incident, an incident update per later status update.

The first delivery creates the incident (`POST /v1/{page}/incidents`), later ones add
incident updates, which Instatus requires to name the affected components and their
statuses; the resolution is an update with status RESOLVED and every component OPERATIONAL.
Statuses are upper-case. Errors come as `{"error": {"code", "message"}}`.

Instatus has no idempotency key and no metadata on incidents, but it can be read back (GET
the incident list, GET one incident with its `updates[]`), and both calls take a `started`
time we choose. We send the update's publication time there, so a retry after a timeout
looks for an incident with our name and `started` (or an update with our message and
`started`) before it creates again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cockpit.comms.target import (
    Attempt,
    Credential,
    Found,
    KeyedTarget,
    Message,
    Outcome,
    Permanent,
    Preview,
    Retry,
    Sent,
    error_object,
    http_outcome,
    json_answer,
    landed_in,
    same_moment,
    service_error,
)
from cockpit.config import InstatusConfig
from cockpit.domain import Status, format_utc, system_clock
from cockpit.plaintext import clean, clean_line, truncate

if TYPE_CHECKING:
    import httpx

SERVICE = "Instatus"
NAME_LIMIT = 255
MESSAGE_LIMIT = 25_000  # undocumented; Statuspage's limit, to stay well clear of any
_LIST_PAGES = 5  # of 100 incidents: a retry looks this far back for what it created


class Instatus(KeyedTarget):
    """The Instatus REST API (`Authorization: Bearer <key>`)."""

    name = "instatus"
    can_check = True
    follows_status = True
    shared_refs = frozenset({"incident"})

    def __init__(self, config: InstatusConfig) -> None:
        key = Credential("instatus.api_key", config.api_key, config.api_key_env, header=True)
        super().__init__(config.timeout_seconds, key, config.api_url)
        self.config = config
        self.base = f"{config.api_url.rstrip('/')}/v1/{config.page_id}"

    # -- rendering

    def render(self, message: Message) -> dict[str, Any]:
        resolved = message.status is Status.RESOLVED
        broken = self.config.component_status.get(message.incident.severity, "")
        component = "OPERATIONAL" if resolved else broken
        return {
            "key": message.key,
            "phase": message.phase,
            "incident": message.incident.ref,
            "gid": message.incident.gid,
            "name": clean_line(message.incident.title, NAME_LIMIT),
            "status": message.status.value.upper(),
            "message": truncate(clean(message.text), MESSAGE_LIMIT),
            "started": format_utc(message.at),
            "components": list(self.config.component_ids),
            "statuses": [
                {"id": cid, "status": component} for cid in self.config.component_ids if component
            ],
            "notify": self.config.notify,
        }

    def describe(self, payload: Mapping[str, Any], *, continuing: bool) -> Preview:
        status = payload["status"]
        if not continuing:
            heading = f"Instatus · new incident “{payload['name']}” ({status})"
        elif status == "RESOLVED":
            heading = "Instatus · resolve the incident"
        else:
            heading = f"Instatus · incident update ({status})"
        states = sorted({s["status"] for s in payload.get("statuses", [])})
        if states:
            heading += f"; components → {', '.join(states)}"
        heading += "; subscribers notified" if payload.get("notify") else "; no notification"
        return Preview(self.name, heading, payload["message"])

    # -- sending

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret()}", "Content-Type": "application/json"}

    async def post(self, http: httpx.AsyncClient, attempt: Attempt) -> Outcome:
        payload = attempt.payload
        known = attempt.ref("incident")
        body: dict[str, Any] = {
            "message": payload["message"],
            "status": payload["status"],
            "components": payload["components"],
            "statuses": payload["statuses"],
            "notify": payload["notify"],
            "started": payload["started"],
        }
        if known is None:
            url = f"{self.base}/incidents"
            body["name"] = payload["name"]
        else:
            url = f"{self.base}/incidents/{known}/incident-updates"
        response = await http.post(
            url, content=json.dumps(body).encode(), headers=self._headers(), timeout=self.timeouts()
        )
        answer = self._answer(response, attempt, write=True)
        if isinstance(answer, list):
            return Retry("Instatus: unexpected answer", maybe_landed=True)
        if not isinstance(answer, dict):
            return answer
        return landed_in(attempt, "incident", known, answer, SERVICE)

    async def find_previous(self, http: httpx.AsyncClient, attempt: Attempt) -> Found:
        payload = attempt.payload
        known = attempt.ref("incident")
        if known is not None:
            response = await http.get(
                f"{self.base}/incidents/{known}", headers=self._headers(), timeout=self.timeouts()
            )
            incident = self._answer(response, attempt, write=False)
            if isinstance(incident, list):
                return Retry("Instatus: unexpected answer")
            if not isinstance(incident, dict):
                return incident
            for update in incident.get("updates") or []:
                if (
                    isinstance(update, dict)
                    and str(update.get("message", "")).strip() == payload["message"].strip()
                    and same_moment(payload["started"], update.get("started"))
                ):
                    return known
            return None
        for page in range(1, _LIST_PAGES + 1):
            response = await http.get(
                f"{self.base}/incidents",
                params={"page": str(page), "per_page": "100"},
                headers=self._headers(),
                timeout=self.timeouts(),
            )
            listed = self._answer(response, attempt, write=False, expect=list)
            if isinstance(listed, dict):
                return Retry("Instatus: unexpected answer")
            if not isinstance(listed, list):
                return listed
            for incident in listed:
                if (
                    isinstance(incident, dict)
                    and incident.get("name") == payload["name"]
                    and same_moment(payload["started"], incident.get("started"))
                ):
                    remote = str(incident["id"])
                    attempt.set_ref("incident", remote)
                    return remote
            if len(listed) < 100:
                return None
        return Retry("Instatus: could not find out whether the earlier incident was created")

    async def probe(self, http: httpx.AsyncClient) -> Outcome | None:
        """List the page's components: the key works and the configured ids exist."""
        response = await http.get(
            f"{self.base}/components",
            params={"per_page": "100"},
            headers=self._headers(),
            timeout=self.timeouts(),
        )
        failed = http_outcome(response, system_clock(), SERVICE, write=False, error=_error)
        if failed is not None:
            return failed
        listed = json_answer(response, SERVICE, write=False)
        if not isinstance(listed, list):
            return Retry("Instatus: unexpected answer listing components")
        found = {str(c.get("id")) for c in listed if isinstance(c, dict)}
        missing = [cid for cid in self.config.component_ids if cid not in found]
        if missing and len(listed) < 100:
            return Permanent(
                f"Instatus: component {missing[0]} is not on page {self.config.page_id} "
                "(instatus.component_ids)"
            )
        return Sent(note=f"page {self.config.page_id}: {len(listed)} components listed")

    def _answer(
        self, response: httpx.Response, attempt: Attempt, *, write: bool, expect: type = dict
    ) -> dict[str, Any] | list[Any] | Outcome:
        """The decoded answer of the `expect`ed shape, or the Outcome the response means."""
        failed = http_outcome(response, attempt.now(), SERVICE, write=write, error=_error)
        if failed is not None:
            return failed
        data = json_answer(response, SERVICE, write=write)
        if isinstance(data, Retry) or (isinstance(data, dict | list) and isinstance(data, expect)):
            return data
        return Retry("Instatus: unexpected answer", maybe_landed=write)


def _error(response: httpx.Response) -> str:
    """`{"error": {"code", "message"}}` as `HTTP 403 forbidden: Not authorized`."""
    data = error_object(response)
    error = data.get("error") if data is not None else None
    if isinstance(error, dict):
        code = clean_line(str(error.get("code") or ""), 60)
        text = clean_line(str(error.get("message") or ""), 200)
        words = f"{code}: {text}" if code and text else code or text
        if words:
            return f"HTTP {response.status_code} {words}"
    if isinstance(error, str) and error.strip():
        return f"HTTP {response.status_code} {clean_line(error, 200)}"
    return service_error(response)
