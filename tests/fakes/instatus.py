"""A fake Instatus API (external-apis.md §4.1 and §7).

`Authorization: Bearer <key>` else 403 `{"error": {"code": "forbidden", "message": "Not
authorized"}}` (the documented body; the status is undocumented). Incidents are created with
`name` and an upper-case `status`; incident updates require `status`, `components` and
`statuses`, whose ids must also be in `components`; every error uses the documented `{"error":
{"code", "message"}}` shape with 400 or 404 (statuses undocumented). Listing pages through
`page`/`per_page`, newest first; an optional rate limit answers 429 with `Retry-After`.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tests.fakes.server import FakeServer, Request, Response, json_response

STATUSES = ("INVESTIGATING", "IDENTIFIED", "MONITORING", "RESOLVED")
COMPONENT_STATUSES = (
    "OPERATIONAL",
    "UNDERMAINTENANCE",
    "DEGRADEDPERFORMANCE",
    "PARTIALOUTAGE",
    "MAJOROUTAGE",
)


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response(status, {"error": {"code": code, "message": message}}, headers)


class FakeInstatus(FakeServer):
    """One status page with components; `incidents` by id, in creation order."""

    def __init__(
        self,
        *,
        api_key: str = "inst-fake-api-key-0123456789abcdef",
        page_id: str = "ckfakepage0001",
        components: tuple[str, ...] = ("ckcompapi0001", "ckcompweb0002"),
        rate_limit: int | None = None,
        clock: Callable[[], datetime] | None = None,
        seed: int = 7,
    ) -> None:
        super().__init__(clock, seed)
        self.api_key = api_key
        self.page_id = page_id
        self.components = {cid: "OPERATIONAL" for cid in components}
        self.incidents: dict[str, dict[str, Any]] = {}
        self.rate_limit = rate_limit
        self._recent: list[datetime] = []

    def route(self, request: Request) -> str:
        parts = request.path.strip("/").split("/")
        # v1 / {page} / incidents [/ {id} [/ incident-updates]] | components
        if len(parts) == 3 and parts[2] == "components":
            return "components"
        if len(parts) == 3 and parts[2] == "incidents":
            return "create" if request.method == "POST" else "list"
        if len(parts) == 4 and parts[2] == "incidents":
            return "get" if request.method == "GET" else "edit"
        if len(parts) == 5 and parts[2] == "incidents" and parts[4] == "incident-updates":
            return "add_update"
        return "unknown"

    def handle(self, route: str, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return error(403, "forbidden", "Not authorized")
        if self._limited():
            return error(429, "rate_limited", "Too many requests", {"Retry-After": "60"})
        parts = request.path.strip("/").split("/")
        if route == "unknown" or parts[0] != "v1":
            return error(404, "not_found", "Not found")
        if parts[1] != self.page_id:
            return error(404, "not_found", "Status page not found")
        if route == "components":
            listed = [{"id": cid, "name": cid, "status": s} for cid, s in self.components.items()]
            return json_response(200, listed)
        if route == "create":
            return self._create(request)
        if route == "list":
            return self._list(request)
        incident = self.incidents.get(parts[3])
        if incident is None:
            return error(404, "not_found", "Incident not found")
        if route == "get":
            return json_response(200, incident)
        if route == "add_update":
            return self._add_update(incident, request)
        return error(400, "unsupported", "Editing incidents is not part of this fake")

    def _limited(self) -> bool:
        if not self.rate_limit:
            return False
        now = self.clock()
        self._recent = [t for t in self._recent if now - t < timedelta(seconds=60)]
        if len(self._recent) >= self.rate_limit:
            return True
        self._recent.append(now)
        return False

    def _new_id(self) -> str:
        return "ck" + "".join(
            self.rng.choice(string.ascii_lowercase + string.digits) for _ in range(12)
        )

    def _stamp(self) -> str:
        return (
            self.clock().strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.clock().microsecond // 1000:03d}Z"
        )

    def _check(self, body: Any, *, update: bool) -> Response | None:
        if not isinstance(body, dict):
            return error(400, "invalid_body", "Body must be a JSON object")
        required = ("status", "components", "statuses") if update else ("name", "status")
        for key in required:
            if key not in body:
                return error(400, "validation_error", f"{key} is required")
        if body["status"] not in STATUSES:
            return error(400, "validation_error", f"Invalid status {body['status']!r}")
        components = body.get("components") or []
        for cid in components:
            if cid not in self.components:
                return error(404, "not_found", f"Component {cid} not found")
        for item in body.get("statuses") or []:
            if item.get("id") not in components:
                return error(400, "validation_error", "statuses ids must also be in components")
            if item.get("status") not in COMPONENT_STATUSES:
                return error(
                    400, "validation_error", f"Invalid component status {item.get('status')!r}"
                )
        return None

    def _apply(self, incident: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        incident["status"] = body["status"]
        for item in body.get("statuses") or []:
            self.components[item["id"]] = item["status"]
        incident["components"] = [
            {"id": cid, "name": cid, "status": self.components[cid]}
            for cid in dict.fromkeys(
                [c["id"] for c in incident["components"]] + list(body.get("components") or [])
            )
        ]
        if body["status"] == "RESOLVED" and not incident["resolved"]:
            incident["resolved"] = self._stamp()
        update = {
            "id": self._new_id(),
            "message": body.get("message", ""),
            "status": body["status"],
            "notify": bool(body.get("notify", False)),
            "started": body.get("started") or self._stamp(),
            "createdAt": self._stamp(),
        }
        incident["updates"].append(update)
        return update

    def _create(self, request: Request) -> Response:
        body = request.json
        problem = self._check(body, update=False)
        if problem is not None:
            return problem
        incident: dict[str, Any] = {
            "id": self._new_id(),
            "name": body["name"],
            "status": body["status"],
            "started": body.get("started") or self._stamp(),
            "resolved": None,
            "duration": None,
            "updates": [],
            "components": [],
        }
        self._apply(incident, body)
        self.incidents[incident["id"]] = incident
        return json_response(200, incident)

    def _add_update(self, incident: dict[str, Any], request: Request) -> Response:
        body = request.json
        problem = self._check(body, update=True)
        if problem is not None:
            return problem
        update = self._apply(incident, body)
        brief = {k: incident[k] for k in ("id", "name", "started", "status")}
        return json_response(200, {**update, "incident": brief})

    def _list(self, request: Request) -> Response:
        listed = list(reversed(self.incidents.values()))
        page = int(request.query.get("page") or 1)
        per_page = min(int(request.query.get("per_page") or 50), 100)
        return json_response(200, listed[(page - 1) * per_page : page * per_page])

    def updates(self) -> list[dict[str, Any]]:
        """Every incident update on the page, in the order they were made."""
        return [u for incident in self.incidents.values() for u in incident["updates"]]
