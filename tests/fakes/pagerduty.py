"""A fake PagerDuty Events API v2 (external-apis.md §5.1).

`POST /v2/enqueue`, no auth header: the 32-character `routing_key` in the body authenticates.
202 `{"status": "success", "message": "Event processed", "dedup_key": …}` when accepted;
400 `{"status": "invalid event", "message": "Event object is invalid", "errors": [...]}`
otherwise (the exact 400 body is unverified). Dedup as documented: a trigger whose key has an
open alert joins it; a resolve closes it; after that, resolves are dropped and a new trigger
opens a new alert. An optional limit per key per minute answers 429 "429 - Request Limit
Exceeded".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tests.fakes.server import FakeServer, Request, Response, json_response, text_response

SEVERITIES = ("critical", "error", "warning", "info")


def invalid(*problems: str) -> Response:
    body = {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": list(problems),
    }
    return json_response(400, body)


class FakePagerDuty(FakeServer):
    """One integration; `alerts` in the order they were opened."""

    def __init__(
        self,
        *,
        routing_key: str = "R0UT1NGKEY0123456789abcdefABCDEF",
        rate_limit: int | None = None,
        clock: Callable[[], datetime] | None = None,
        seed: int = 7,
    ) -> None:
        super().__init__(clock, seed)
        assert len(routing_key) == 32
        self.routing_key = routing_key
        self.alerts: list[dict[str, Any]] = []
        self.rate_limit = rate_limit
        self._recent: list[datetime] = []

    @property
    def events_url(self) -> str:
        return self.url + "/v2/enqueue"

    def route(self, request: Request) -> str:
        return (
            "enqueue" if request.path == "/v2/enqueue" and request.method == "POST" else "unknown"
        )

    def handle(self, route: str, request: Request) -> Response:
        if route == "unknown":
            return text_response(404, "Not Found")
        try:
            event = request.json
        except ValueError:
            return invalid("Event object is not valid JSON")
        if not isinstance(event, dict):
            return invalid("Event object must be an object")
        key = str(event.get("routing_key") or "")
        if len(key) != 32:
            return invalid("Length of 'routing_key' is incorrect (should be 32 characters)")
        if key != self.routing_key:
            return invalid("Invalid routing key")
        if self._limited():
            return text_response(429, "429 - Request Limit Exceeded")
        action = event.get("event_action")
        if action not in ("trigger", "acknowledge", "resolve"):
            return invalid(
                "'event_action' is invalid (must be one of trigger, acknowledge, resolve)"
            )
        dedup = event.get("dedup_key")
        if dedup is not None and len(str(dedup)) > 255:
            return invalid("'dedup_key' is too long (maximum is 255 characters)")
        if action == "trigger":
            payload = event.get("payload") or {}
            problems = [
                f"'payload.{f}' is missing or blank"
                for f in ("summary", "source", "severity")
                if not payload.get(f)
            ]
            if payload.get("severity") and payload["severity"] not in SEVERITIES:
                problems.append(
                    "'payload.severity' is invalid (must be one of critical, error, warning, info)"
                )
            if len(str(payload.get("summary") or "")) > 1024:
                problems.append("'payload.summary' is too long (maximum is 1024 characters)")
            if problems:
                return invalid(*problems)
            dedup = str(dedup or f"generated-{len(self.alerts) + 1}")
            alert = self.open_alert(dedup)
            if alert is None:
                alert = {
                    "dedup_key": dedup,
                    "status": "triggered",
                    "summary": payload["summary"],
                    "events": [],
                }
                self.alerts.append(alert)
            alert["events"].append(event)
        elif dedup is not None:
            alert = self.open_alert(str(dedup))
            if alert is not None:  # otherwise dropped, as PagerDuty does
                alert["status"] = "resolved" if action == "resolve" else "acknowledged"
                alert["events"].append(event)
        return json_response(
            202, {"status": "success", "message": "Event processed", "dedup_key": dedup}
        )

    def open_alert(self, dedup_key: str) -> dict[str, Any] | None:
        for alert in self.alerts:
            if alert["dedup_key"] == dedup_key and alert["status"] != "resolved":
                return alert
        return None

    def _limited(self) -> bool:
        if not self.rate_limit:
            return False
        now = self.clock()
        self._recent = [t for t in self._recent if now - t < timedelta(seconds=60)]
        if len(self._recent) >= self.rate_limit:
            return True
        self._recent.append(now)
        return False
