"""A fake Atlassian Statuspage REST API v1 (external-apis.md §3 and §7).

`Authorization: OAuth <key>` exactly, else 401 `{"message": ...}`; POST creates (201, a
12-character lower-case id, `incident_updates[0]` from `body`), PATCH adds an update per
`body`; 404 for unknown pages and incidents; 422 for bad enums, a body over 25,000
characters or metadata whose values are not objects; an optional rate limit (requests per
60 s per key) answered with 420 or 429 and `Retry-After: 60`.
"""

from __future__ import annotations

import copy
import string
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tests.fakes.server import FakeServer, Request, Response, json_response

STATUSES = ("investigating", "identified", "monitoring", "resolved")
IMPACTS = ("none", "maintenance", "minor", "major", "critical")
COMPONENT_STATUSES = (
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "",
)
BODY_LIMIT = 25_000


class FakeStatuspage(FakeServer):
    """One page with components; `incidents` by id, in creation order."""

    def __init__(
        self,
        *,
        api_key: str = "sp-fake-api-key-0123456789abcdef",
        page_id: str = "pg0fake0page",
        components: tuple[str, ...] = ("cmpapi000001", "cmpweb000002"),
        rate_limit: int | None = None,
        rate_status: int = 420,
        clock: Callable[[], datetime] | None = None,
        seed: int = 7,
    ) -> None:
        super().__init__(clock, seed)
        self.api_key = api_key
        self.page_id = page_id
        self.components = {cid: "operational" for cid in components}
        self.incidents: dict[str, dict[str, Any]] = {}
        self.rate_limit = rate_limit
        self.rate_status = rate_status
        self._recent: list[datetime] = []

    @property
    def api_url(self) -> str:
        return self.url + "/v1"

    def route(self, request: Request) -> str:
        parts = request.path.strip("/").split("/")
        # v1 / pages / {page} / incidents [/ {id} | unresolved]
        if len(parts) == 4 and parts[3] == "incidents":
            return "create" if request.method == "POST" else "list"
        if len(parts) == 5 and parts[3] == "incidents":
            if parts[4] == "unresolved":
                return "unresolved"
            return "update" if request.method in ("PATCH", "PUT") else "get"
        return "unknown"

    def handle(self, route: str, request: Request) -> Response:
        if request.headers.get("authorization") != f"OAuth {self.api_key}":
            return json_response(401, {"message": "Could not authenticate"})
        if self._limited():
            return json_response(
                self.rate_status, {"message": "Rate limit exceeded"}, {"Retry-After": "60"}
            )
        parts = request.path.strip("/").split("/")
        if route == "unknown" or parts[0] != "v1" or parts[1] != "pages":
            return json_response(404, {"message": "Not found"})
        if parts[2] != self.page_id:
            return json_response(404, {"message": "Page not found"})
        if route == "create":
            return self._create(request)
        if route == "list":
            return self._list(request, unresolved=False)
        if route == "unresolved":
            return self._list(request, unresolved=True)
        incident = self.incidents.get(parts[4])
        if incident is None:
            return json_response(404, {"message": "Incident not found"})
        if route == "get":
            return json_response(200, incident)
        return self._update(incident, request)

    def _limited(self) -> bool:
        if not self.rate_limit:
            return False
        now = self.clock()
        self._recent = [t for t in self._recent if now - t < timedelta(seconds=60)]
        if len(self._recent) >= self.rate_limit:
            return True
        self._recent.append(now)
        return False

    def _fields(self, request: Request) -> dict[str, Any] | Response:
        try:
            body = request.json
        except ValueError:
            return json_response(400, {"message": "Bad request: body is not JSON"})
        if not isinstance(body, dict) or not isinstance(body.get("incident"), dict):
            return json_response(400, {"message": "Bad request: expected an incident object"})
        fields: dict[str, Any] = body["incident"]
        problems = []
        if "status" in fields and fields["status"] not in STATUSES:
            problems.append(f"Status is not included in the list ({fields['status']})")
        if "impact_override" in fields and fields["impact_override"] not in IMPACTS:
            problems.append("Impact override is not included in the list")
        for cid, status in (fields.get("components") or {}).items():
            if cid not in self.components:
                problems.append(f"Component {cid} not found")
            elif status not in COMPONENT_STATUSES:
                problems.append(f"Component status {status} is not included in the list")
        for cid in fields.get("component_ids") or []:
            if cid not in self.components:
                problems.append(f"Component {cid} not found")
        if len(fields.get("body") or "") > BODY_LIMIT:
            problems.append(f"Body is too long (maximum is {BODY_LIMIT} characters)")
        if len(fields.get("name") or "") > 255:
            problems.append("Name is too long (maximum is 255 characters)")
        meta = fields.get("metadata")
        if meta is not None and (
            not isinstance(meta, dict) or not all(isinstance(v, dict) for v in meta.values())
        ):
            problems.append("Metadata values must be objects")
        if problems:
            return json_response(422, {"message": "; ".join(problems)})
        return fields

    def _new_id(self) -> str:
        alphabet = string.ascii_lowercase + string.digits
        return "".join(self.rng.choice(alphabet) for _ in range(12))

    def _stamp(self) -> str:
        return self.clock().strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _add_update(self, incident: dict[str, Any], fields: dict[str, Any]) -> None:
        incident["incident_updates"].insert(
            0,
            {
                "id": self._new_id(),
                "incident_id": incident["id"],
                "status": incident["status"],
                "body": fields["body"],
                "created_at": self._stamp(),
                "deliver_notifications": fields.get("deliver_notifications", True),
            },
        )

    def _apply(self, incident: dict[str, Any], fields: dict[str, Any]) -> None:
        for key in ("name", "status", "impact_override"):
            if key in fields:
                incident[key] = fields[key]
        if "impact_override" in fields:
            incident["impact"] = fields["impact_override"]
        if "metadata" in fields:
            incident["metadata"] = {
                **incident.get("metadata", {}),
                **copy.deepcopy(fields["metadata"]),
            }
        for cid in fields.get("component_ids") or []:
            if cid not in incident["component_ids"]:
                incident["component_ids"].append(cid)
        for cid, status in (fields.get("components") or {}).items():
            self.components[cid] = status
            if cid not in incident["component_ids"]:
                incident["component_ids"].append(cid)
        incident["components"] = [
            {"id": cid, "status": self.components[cid]} for cid in incident["component_ids"]
        ]
        if incident["status"] == "resolved" and not incident.get("resolved_at"):
            incident["resolved_at"] = self._stamp()
        incident["updated_at"] = self._stamp()

    def _create(self, request: Request) -> Response:
        fields = self._fields(request)
        if isinstance(fields, Response):
            return fields
        if not fields.get("name"):
            return json_response(422, {"message": "Name can't be blank"})
        incident_id = self._new_id()
        incident: dict[str, Any] = {
            "id": incident_id,
            "page_id": self.page_id,
            "name": "",
            "status": "investigating",
            "impact": "none",
            "shortlink": f"https://stspg.io/{incident_id[:6]}",
            "created_at": self._stamp(),
            "resolved_at": None,
            "component_ids": [],
            "components": [],
            "incident_updates": [],
            "metadata": {},
        }
        self._apply(incident, fields)
        if fields.get("body"):
            self._add_update(incident, fields)
        self.incidents[incident_id] = incident
        return json_response(201, incident)

    def _update(self, incident: dict[str, Any], request: Request) -> Response:
        fields = self._fields(request)
        if isinstance(fields, Response):
            return fields
        self._apply(incident, fields)
        if fields.get("body"):
            self._add_update(incident, fields)
        return json_response(200, incident)

    def _list(self, request: Request, *, unresolved: bool) -> Response:
        listed = list(reversed(self.incidents.values()))
        if unresolved:
            listed = [i for i in listed if i["status"] != "resolved"]
        query = (request.query.get("q") or "").lower()
        if query:
            listed = [
                i
                for i in listed
                if query in i["name"].lower()
                or any(query in u["body"].lower() for u in i["incident_updates"])
            ]
        limit = int(request.query.get("limit") or request.query.get("per_page") or 100)
        return json_response(200, listed[:limit])
