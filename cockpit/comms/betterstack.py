"""Better Stack status pages: a status report per cockpit incident, a status update each.

The first delivery creates the report (`POST …/status-reports`, JSON:API answers), later ones
add status updates, which Better Stack requires to name the affected resources; resolving is
an update that sets every resource to `resolved`. Subscriber notification defaults differ
(true when a report is created, false for its updates), so cockpit sends the configured
`notify_subscribers` on every call and never relies on either default.

There is no idempotency key, but reports and their updates can be listed, and both carry a
time we choose (`starts_at` of the report, `published_at` of an update). A retry after a
timeout looks for a report with our title and start (or an update with our message and
publication time) before it creates again.
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
from cockpit.config import BetterstackConfig
from cockpit.domain import Status, format_utc, system_clock
from cockpit.plaintext import clean, clean_line, truncate

if TYPE_CHECKING:
    import httpx

SERVICE = "Better Stack"
TITLE_LIMIT = 255
MESSAGE_LIMIT = 25_000  # undocumented; Statuspage's limit, to stay well clear of any
_LIST_PAGES = 20  # a retry looks this many pages back for what it created


class Betterstack(KeyedTarget):
    """The Better Stack Uptime API v2 (`Authorization: Bearer <token>`)."""

    name = "betterstack"
    can_check = True
    follows_status = True
    shared_refs = frozenset({"report"})

    def __init__(self, config: BetterstackConfig) -> None:
        key = Credential("betterstack.api_key", config.api_key, config.api_key_env, header=True)
        super().__init__(config.timeout_seconds, key, config.api_url)
        self.config = config
        self.page = f"{config.api_url.rstrip('/')}/api/v2/status-pages/{config.status_page_id}"
        self.reports = f"{self.page}/status-reports"

    # -- rendering

    def render(self, message: Message) -> dict[str, Any]:
        resolved = message.status is Status.RESOLVED
        broken = self.config.resource_status.get(message.incident.severity, "degraded")
        return {
            "key": message.key,
            "phase": message.phase,
            "incident": message.incident.ref,
            "gid": message.incident.gid,
            "title": clean_line(message.incident.title, TITLE_LIMIT),
            "message": truncate(clean(message.text), MESSAGE_LIMIT),
            "published_at": format_utc(message.at),
            "affected_resources": [
                {"status_page_resource_id": rid, "status": "resolved" if resolved else broken}
                for rid in self.config.resource_ids
            ],
            "notify_subscribers": bool(self.config.notify_subscribers),
        }

    def describe(self, payload: Mapping[str, Any], *, continuing: bool) -> Preview:
        states = sorted({r["status"] for r in payload["affected_resources"]})
        if not continuing:
            heading = f"Better Stack · new status report “{payload['title']}”"
        elif states == ["resolved"]:
            heading = "Better Stack · resolve the status report"
        else:
            heading = "Better Stack · status update"
        heading += f"; resources → {', '.join(states)}"
        heading += (
            "; subscribers notified" if payload["notify_subscribers"] else "; no notification"
        )
        return Preview(self.name, heading, payload["message"])

    # -- sending

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret()}", "Content-Type": "application/json"}

    async def post(self, http: httpx.AsyncClient, attempt: Attempt) -> Outcome:
        payload = attempt.payload
        known = attempt.ref("report")
        body: dict[str, Any] = {
            "message": payload["message"],
            "affected_resources": payload["affected_resources"],
            "notify_subscribers": payload["notify_subscribers"],
            "published_at": payload["published_at"],
        }
        if known is None:
            url = self.reports
            body |= {
                "title": payload["title"],
                "report_type": "manual",
                "starts_at": payload["published_at"],
            }
        else:
            url = f"{self.reports}/{known}/status-updates"
        response = await http.post(
            url, content=json.dumps(body).encode(), headers=self._headers(), timeout=self.timeouts()
        )
        data = self._data(response, attempt, write=True)
        if not isinstance(data, dict):
            return data if not isinstance(data, list) else _unexpected(True)
        return landed_in(attempt, "report", known, data, SERVICE)

    async def find_previous(self, http: httpx.AsyncClient, attempt: Attempt) -> Found:
        payload = attempt.payload
        known = attempt.ref("report")
        url = self.reports if known is None else f"{self.reports}/{known}/status-updates"
        for page in range(1, _LIST_PAGES + 1):
            response = await http.get(
                url, params={"page": str(page)}, headers=self._headers(), timeout=self.timeouts()
            )
            failed = http_outcome(response, attempt.now(), SERVICE, write=False, error=_error)
            if failed is not None:
                return failed
            answer = json_answer(response, SERVICE, write=False)
            if isinstance(answer, Retry):
                return answer
            listed = answer.get("data") if isinstance(answer, dict) else None
            if not isinstance(listed, list):
                return _unexpected(False)
            for item in listed:
                attributes = item.get("attributes") if isinstance(item, dict) else None
                if not isinstance(attributes, dict) or not _ours(attributes, payload, known):
                    continue
                if known is None:
                    known = str(item["id"])
                    attempt.set_ref("report", known)
                return known
            if not (answer.get("pagination") or {}).get("next"):
                return None
        return Retry("Better Stack: could not find out whether the earlier post landed")

    async def probe(self, http: httpx.AsyncClient) -> Outcome | None:
        """Read the status page: the token works and the page id is right."""
        response = await http.get(self.page, headers=self._headers(), timeout=self.timeouts())
        failed = http_outcome(response, system_clock(), SERVICE, write=False, error=_error)
        if failed is not None:
            return failed
        answer = json_answer(response, SERVICE, write=False)
        data = answer.get("data") if isinstance(answer, dict) else None
        attributes = data.get("attributes") if isinstance(data, dict) else None
        if not isinstance(attributes, dict):
            return _unexpected(False)
        shown = attributes.get("company_name") or attributes.get("subdomain") or "?"
        return Sent(note=f"status page {self.config.status_page_id} ({clean_line(str(shown), 60)})")

    def _data(
        self, response: httpx.Response, attempt: Attempt, *, write: bool
    ) -> dict[str, Any] | list[Any] | Outcome:
        """The JSON:API `data` of a 2xx answer, or the Outcome the response means."""
        failed = http_outcome(response, attempt.now(), SERVICE, write=write, error=_error)
        if failed is not None:
            return failed
        answer = json_answer(response, SERVICE, write=write)
        if isinstance(answer, Retry):
            return answer
        data = answer.get("data") if isinstance(answer, dict) else None
        if isinstance(data, dict | list):
            return data
        return _unexpected(write)


def _ours(attributes: Mapping[str, Any], payload: Mapping[str, Any], report: str | None) -> bool:
    """Our report (title and start), or within a known report our update (message and time)."""
    if report is None:
        return attributes.get("title") == payload["title"] and same_moment(
            payload["published_at"], attributes.get("starts_at")
        )
    return str(attributes.get("message", "")).strip() == payload["message"].strip() and (
        same_moment(payload["published_at"], attributes.get("published_at"))
    )


def _unexpected(write: bool) -> Retry:
    return Retry("Better Stack: unexpected answer", maybe_landed=write)


def _error(response: httpx.Response) -> str:
    """Better Stack's error body (undocumented: `errors` as a string, list or object)."""
    data = error_object(response)
    if data is None:
        return service_error(response)
    found = data.get("errors") or data.get("error") or data.get("message")
    if isinstance(found, list):
        parts = [
            str(e.get("detail") or e.get("title") or e) if isinstance(e, dict) else str(e)
            for e in found
        ]
        found = "; ".join(parts)
    elif isinstance(found, dict):
        found = "; ".join(f"{k} {v}" for k, v in found.items())
    if found:
        return f"HTTP {response.status_code} {clean_line(str(found), 200)}"
    return service_error(response)
