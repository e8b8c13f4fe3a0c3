"""A webhook receiver that does what the README asks of one: verify the signature over the
raw body the way a receiver computes it, and drop repeats by the event `id` (delivery is
at-least-once). Answers 204; a bad signature gets 401."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tests.fakes.server import FakeServer, Request, Response, text_response


def verify(secret: str, raw: bytes, header: str | None) -> bool:
    """What a receiver runs: HMAC-SHA256 of the raw body, compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


class FakeWebhookReceiver(FakeServer):
    """Every POST to `/hook` is received; `events` holds each distinct event once."""

    def __init__(
        self,
        *,
        secret: str = "",
        clock: Callable[[], datetime] | None = None,
        seed: int = 7,
    ) -> None:
        super().__init__(clock, seed)
        self.secret = secret
        self.received: list[Request] = []
        self.events: list[dict[str, Any]] = []

    @property
    def hook_url(self) -> str:
        return self.url + "/hook"

    def route(self, request: Request) -> str:
        return "receive" if request.path == "/hook" and request.method == "POST" else "unknown"

    def handle(self, route: str, request: Request) -> Response:
        if route == "unknown":
            return text_response(404, "no such hook")
        self.received.append(request)
        if self.secret and not verify(
            self.secret, request.raw, request.headers.get("x-cockpit-signature")
        ):
            return text_response(401, "bad signature")
        event = json.loads(request.raw)
        if all(seen["id"] != event["id"] for seen in self.events):
            self.events.append(event)
        return Response(204)
