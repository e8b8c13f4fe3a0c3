"""Atlassian Statuspage: one public incident per cockpit incident, kept in step with it.

The first delivery creates the incident, later ones PATCH status and body, the resolution
resolves it and returns its components to operational. Every create and PATCH tags the
incident's `metadata` with the delivery key, so a retry after a timeout can look (among
unresolved incidents, or at the known incident) before it creates or adds an update again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

from cockpit.comms.render import STATUSPAGE_BODY_LIMIT, STATUSPAGE_NAME_LIMIT
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
    retry_after,
    service_error,
)
from cockpit.config import StatuspageConfig
from cockpit.domain import DEFAULT_SEVERITIES, Severity, Status, severity_rank
from cockpit.plaintext import clean, clean_line
from cockpit.plaintext import truncate as truncate_text

if TYPE_CHECKING:
    import httpx

META_KEY = "cockpit"
BY_RANK = (
    ("critical", "major_outage"),
    ("major", "partial_outage"),
    ("minor", "degraded_performance"),
)
"""Impact and component status for severities the configuration does not map, by rank."""


class Statuspage(KeyedTarget):
    """The Statuspage REST API v1 (`Authorization: OAuth <key>`)."""

    name = "statuspage"
    can_check = True
    follows_status = True
    shared_refs = frozenset({"incident"})

    def __init__(self, config: StatuspageConfig, severities: Sequence[Severity] = ()) -> None:
        key = Credential("statuspage.api_key", config.api_key, config.api_key_env, header=True)
        super().__init__(config.timeout_seconds, key, config.api_url)
        self.config = config
        self.severities = tuple(severities) or DEFAULT_SEVERITIES
        self.page_url = f"{config.api_url.rstrip('/')}/pages/{config.page_id}"
        self.base = f"{self.page_url}/incidents"

    # -- rendering

    def render(self, message: Message) -> dict[str, Any]:
        incident = message.incident
        resolved = message.status is Status.RESOLVED
        rank = severity_rank(self.severities, incident.severity)
        impact, broken = BY_RANK[rank] if rank < len(BY_RANK) else ("none", None)
        impact = self.config.impact.get(incident.severity, impact)
        broken = self.config.component_status.get(incident.severity, broken)
        components = {
            cid: "operational" if resolved else broken
            for cid in self.config.component_ids
            if resolved or broken
        }
        return {
            "key": message.key,
            "phase": message.phase,
            "incident": incident.ref,
            "gid": incident.gid,
            "name": clean_line(incident.title, STATUSPAGE_NAME_LIMIT),
            "status": message.status.value,
            "body": truncate_text(clean(message.text), STATUSPAGE_BODY_LIMIT),
            "impact_override": impact,
            "component_ids": list(self.config.component_ids),
            "components": components,
            "deliver_notifications": self.config.deliver_notifications,
        }

    def describe(self, payload: Mapping[str, Any], *, continuing: bool) -> Preview:
        status = payload["status"]
        if not continuing:
            heading = f"Statuspage · new incident “{payload['name']}” ({status}"
            if payload.get("impact_override"):
                heading += f", impact {payload['impact_override']}"
            heading += ")"
        elif status == Status.RESOLVED.value:
            heading = "Statuspage · resolve the incident"
        else:
            heading = f"Statuspage · update the incident (status {status})"
        if payload.get("components"):
            states = sorted(set(payload["components"].values()))
            heading += f"; components → {', '.join(states)}"
        return Preview(self.name, heading, payload["body"])

    # -- sending

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"OAuth {self.secret()}",
            "Content-Type": "application/json",
        }

    def _incident_body(self, attempt: Attempt, create: bool) -> dict[str, Any]:
        payload = attempt.payload
        body: dict[str, Any] = {
            "status": payload["status"],
            "body": payload["body"],
            "deliver_notifications": payload["deliver_notifications"],
            "metadata": {
                META_KEY: {
                    "delivery": attempt.key,
                    "incident": payload["incident"],
                    "gid": payload.get("gid", ""),
                }
            },
        }
        if create:
            body["name"] = payload["name"]
        if payload.get("impact_override"):
            body["impact_override"] = payload["impact_override"]
        if payload.get("component_ids"):
            body["component_ids"] = payload["component_ids"]
        if payload.get("components"):
            body["components"] = payload["components"]
        return {"incident": body}

    async def post(self, http: httpx.AsyncClient, attempt: Attempt) -> Outcome:
        known = attempt.ref("incident")
        if known is None and attempt.carried() is not None:
            # A teammate's laptop may have created it and the thread not brought its id yet.
            found = await self._search(http, attempt, self._same_incident)
            if found is not None and not isinstance(found, str):
                return found
            if found is not None:
                known = found
        if known is None:
            response = await http.post(
                self.base,
                content=json.dumps(self._incident_body(attempt, create=True)).encode(),
                headers=self._headers(),
                timeout=self.timeouts(),
            )
        else:
            response = await http.patch(
                f"{self.base}/{known}",
                content=json.dumps(self._incident_body(attempt, create=False)).encode(),
                headers=self._headers(),
                timeout=self.timeouts(),
            )
        answer = self._classify(response, attempt, write=True)
        if not isinstance(answer, dict):
            return answer
        remote = str(answer.get("id") or known or "")
        if not remote:
            return Permanent("Statuspage: the answer carried no incident id")
        if known is None:
            attempt.set_ref("incident", remote)
        attempt.landed(remote)
        return Sent(remote)

    async def find_previous(self, http: httpx.AsyncClient, attempt: Attempt) -> Found:
        known = attempt.ref("incident")
        if known is not None:
            response = await http.get(
                f"{self.base}/{known}", headers=self._headers(), timeout=self.timeouts()
            )
            found = self._classify(response, attempt, write=False)
            if not isinstance(found, dict):
                return found
            return known if self._ours(found, attempt) else None
        return await self._search(http, attempt, self._ours)

    async def _search(
        self,
        http: httpx.AsyncClient,
        attempt: Attempt,
        match: Callable[[Mapping[str, Any], Attempt], bool],
    ) -> Found:
        """The id of an incident on the page that `match`es (remembered), None if none."""
        searches: list[tuple[str, dict[str, str]]] = [(f"{self.base}/unresolved", {})]
        if attempt.payload["status"] == Status.RESOLVED.value:
            # Created already resolved: it is not among the unresolved ones.
            searches.append((self.base, {"q": attempt.payload["name"], "limit": "100"}))
        for url, params in searches:
            response = await http.get(
                url, params=params, headers=self._headers(), timeout=self.timeouts()
            )
            listed = self._classify(response, attempt, write=False, expect=list)
            if not isinstance(listed, list):
                return listed
            for incident in listed:
                if isinstance(incident, dict) and match(incident, attempt) and incident.get("id"):
                    remote = str(incident["id"])
                    attempt.set_ref("incident", remote)
                    return remote
        return None

    @staticmethod
    def _tag(incident: Mapping[str, Any]) -> Mapping[str, Any]:
        meta = incident.get("metadata") or {}
        tag = meta.get(META_KEY) if isinstance(meta, dict) else None
        return tag if isinstance(tag, dict) else {}

    @classmethod
    def _ours(cls, incident: Mapping[str, Any], attempt: Attempt) -> bool:
        """Made by this delivery (an earlier attempt that may have landed)."""
        return cls._tag(incident).get("delivery") == attempt.key

    @classmethod
    def _same_incident(cls, incident: Mapping[str, Any], attempt: Attempt) -> bool:
        """Made for the same cockpit incident, by any laptop (tagged with its gid)."""
        gid = attempt.payload.get("gid")
        return bool(gid) and cls._tag(incident).get("gid") == gid

    @overload
    def _classify(
        self, response: httpx.Response, attempt: Attempt | None, *, write: bool
    ) -> dict[str, Any] | Outcome: ...

    @overload
    def _classify(
        self,
        response: httpx.Response,
        attempt: Attempt | None,
        *,
        write: bool,
        expect: type[list[Any]],
    ) -> list[Any] | Outcome: ...

    def _classify(
        self,
        response: httpx.Response,
        attempt: Attempt | None,
        *,
        write: bool,
        expect: type[dict[str, Any]] | type[list[Any]] = dict,
    ) -> dict[str, Any] | list[Any] | Outcome:
        """The decoded answer (of the `expect`ed shape), or the outcome the response means."""
        status = response.status_code
        if status in (420, 429):
            after = retry_after(response, attempt.now() if attempt else None)
            return Retry(f"rate limited by Statuspage (HTTP {status})", after)
        if status >= 500:
            return Retry(f"Statuspage: {self._error(response)}", maybe_landed=write)
        if status not in (200, 201):
            return Permanent(f"Statuspage: {self._error(response)}")
        try:
            data = response.json()
        except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
            return Retry("Statuspage: not a JSON answer", maybe_landed=write)
        if not isinstance(data, expect):
            return Retry("Statuspage: unexpected answer", maybe_landed=write)
        return data

    @staticmethod
    def _error(response: httpx.Response) -> str:
        data = error_object(response)
        if data is not None:
            message = data.get("message") or data.get("error")
            if isinstance(message, list):
                message = "; ".join(str(m) for m in message)
            if message:
                return f"HTTP {response.status_code} {clean_line(str(message), 200)}"
        return service_error(response)

    async def probe(self, http: httpx.AsyncClient) -> Outcome | None:
        """Read the page (GET /pages/{id}): proves the key and the page id; changes nothing."""
        response = await http.get(self.page_url, headers=self._headers(), timeout=self.timeouts())
        page = self._classify(response, None, write=False)
        if not isinstance(page, dict):
            return page
        name = clean_line(str(page.get("name") or self.config.page_id), 80)
        return Sent(note=f"API key reads the page “{name}”")
