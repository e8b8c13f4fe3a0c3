"""A fake Better Stack Uptime API for status-page reports (external-apis.md §4.2 and §7).

`Authorization: Bearer <token>` else 401 `{"errors": "Invalid Team API Token"}` (error body
and statuses are undocumented: modelled, not observed). JSON:API envelopes (`data`,
`included`, `pagination`); creating a report answers 201 and so does adding a status update.
`notify_subscribers` defaults differ as documented: true for a new report, false for an added
update; what was applied is recorded. `affected_resources` is required on updates, statuses
are `resolved`, `degraded` or `downtime`. Lists paginate with `page` (`page_size` per page).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from tests.fakes.server import FakeServer, Request, Response, json_response

RESOURCE_STATUSES = ("resolved", "degraded", "downtime")


def errors(status: int, *messages: str) -> Response:
    return json_response(status, {"errors": list(messages) if len(messages) > 1 else messages[0]})


class FakeBetterstack(FakeServer):
    """One status page with resources; `reports` by id, in creation order."""

    def __init__(
        self,
        *,
        token: str = "bs-fake-team-token-0123456789abcd",
        status_page_id: str = "123456",
        resources: tuple[str, ...] = ("8000001", "8000002"),
        page_size: int = 50,
        clock: Callable[[], datetime] | None = None,
        seed: int = 7,
    ) -> None:
        super().__init__(clock, seed)
        self.token = token
        self.status_page_id = status_page_id
        self.resources = set(resources)
        self.page_size = page_size
        self.reports: dict[str, dict[str, Any]] = {}
        self._next_id = 4000

    def route(self, request: Request) -> str:
        parts = request.path.strip("/").split("/")
        # api / v2 / status-pages / {id} [/ status-reports [/ {rid} [/ status-updates]]]
        if len(parts) == 4:
            return "page"
        if len(parts) == 5 and parts[4] == "status-reports":
            return "create_report" if request.method == "POST" else "list_reports"
        if len(parts) == 6 and parts[4] == "status-reports":
            return "report"
        if len(parts) == 7 and parts[6] == "status-updates":
            return "add_update" if request.method == "POST" else "list_updates"
        return "unknown"

    def handle(self, route: str, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return errors(401, "Invalid Team API Token")
        parts = request.path.strip("/").split("/")
        if route == "unknown" or parts[:3] != ["api", "v2", "status-pages"]:
            return errors(404, "Resource type not found")
        if parts[3] != self.status_page_id:
            return errors(404, "Status page not found")
        if route == "page":
            attributes = {"company_name": "Fake Co", "subdomain": "fake-co"}
            return json_response(
                200,
                {
                    "data": {
                        "id": self.status_page_id,
                        "type": "status_page",
                        "attributes": attributes,
                    }
                },
            )
        if route == "create_report":
            return self._create(request)
        if route == "list_reports":
            return self._paged(request, [self._report_json(r) for r in self.reports.values()])
        report = self.reports.get(parts[5])
        if report is None:
            return errors(404, "Status report not found")
        if route == "report":
            return json_response(200, {"data": self._report_json(report)})
        if route == "add_update":
            return self._add_update(report, request)
        return self._paged(request, [self._update_json(u) for u in report["updates"]])

    def _id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def _resources(
        self, body: dict[str, Any], *, required: bool
    ) -> list[dict[str, Any]] | Response:
        resources = body.get("affected_resources")
        if resources is None:
            if required:
                return errors(422, "Affected resources can't be blank")
            return []
        for item in resources:
            if str(item.get("status_page_resource_id")) not in self.resources:
                return errors(
                    422, f"Status page resource {item.get('status_page_resource_id')} not found"
                )
            if item.get("status") not in RESOURCE_STATUSES:
                return errors(422, f"Status {item.get('status')!r} is not included in the list")
        return list(resources)

    def _stamp(self) -> str:
        now = self.clock()
        return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"

    def _create(self, request: Request) -> Response:
        body = request.json
        if not isinstance(body, dict) or not body.get("title") or not body.get("message"):
            return errors(422, "Title can't be blank", "Message can't be blank")
        resources = self._resources(body, required=False)
        if isinstance(resources, Response):
            return resources
        report = {
            "id": self._id(),
            "title": body["title"],
            "report_type": body.get("report_type", "manual"),
            "starts_at": body.get("starts_at") or self._stamp(),
            "affected_resources": resources,
            "updates": [],
        }
        self._update(report, body, resources, notify_default=True)
        self.reports[report["id"]] = report
        included = [self._update_json(u) for u in report["updates"]]
        return json_response(201, {"data": self._report_json(report), "included": included})

    def _add_update(self, report: dict[str, Any], request: Request) -> Response:
        body = request.json
        if not isinstance(body, dict) or not body.get("message"):
            return errors(422, "Message can't be blank")
        resources = self._resources(body, required=True)
        if isinstance(resources, Response):
            return resources
        update = self._update(report, body, resources, notify_default=False)
        return json_response(201, {"data": self._update_json(update)})

    def _update(
        self,
        report: dict[str, Any],
        body: dict[str, Any],
        resources: list[Any],
        *,
        notify_default: bool,
    ) -> dict[str, Any]:
        update = {
            "id": self._id(),
            "message": body["message"],
            "published_at": body.get("published_at") or self._stamp(),
            "notify_subscribers": body.get("notify_subscribers", notify_default),
            "status_report_id": int(report["id"]),
            "affected_resources": resources,
        }
        report["updates"].append(update)
        if resources:
            report["affected_resources"] = resources
        return update

    def _report_json(self, report: dict[str, Any]) -> dict[str, Any]:
        states = {r["status"] for r in report["affected_resources"]}
        aggregate = (
            "downtime"
            if "downtime" in states
            else "degraded"
            if "degraded" in states
            else "operational"
        )
        return {
            "id": report["id"],
            "type": "status_report",
            "attributes": {
                "title": report["title"],
                "report_type": report["report_type"],
                "starts_at": report["starts_at"],
                "ends_at": None,
                "status_page_id": int(self.status_page_id),
                "affected_resources": report["affected_resources"],
                "aggregate_state": aggregate,
            },
            "relationships": {
                "status_updates": {
                    "data": [{"id": u["id"], "type": "status_update"} for u in report["updates"]]
                }
            },
        }

    @staticmethod
    def _update_json(update: dict[str, Any]) -> dict[str, Any]:
        attributes = {k: v for k, v in update.items() if k != "id"}
        return {"id": update["id"], "type": "status_update", "attributes": attributes}

    def _paged(self, request: Request, items: list[dict[str, Any]]) -> Response:
        page = int(request.query.get("page") or 1)
        size = self.page_size
        last = max((len(items) + size - 1) // size, 1)
        base = f"{self.url}{request.path}?page="
        return json_response(
            200,
            {
                "data": items[(page - 1) * size : page * size],
                "pagination": {
                    "first": f"{base}1",
                    "last": f"{base}{last}",
                    "prev": f"{base}{page - 1}" if page > 1 else None,
                    "next": f"{base}{page + 1}" if page < last else None,
                },
            },
        )

    def updates(self) -> list[dict[str, Any]]:
        """Every status update on the page, in the order they were made."""
        return [u for report in self.reports.values() for u in report["updates"]]
