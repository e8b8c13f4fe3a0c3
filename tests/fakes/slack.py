"""A fake Slack: incoming webhooks and the Web API methods cockpit uses.

Follows external-apis.md §1–2 and §7: webhook answers are bare strings (`ok`, or an error
code with a 4xx status); Web API logical errors are HTTP 200 `{"ok": false}`; `not_authed`
/ `invalid_auth` without the right bearer token; `missing_charset` warning; Block Kit limits
enforced (`invalid_blocks` with json-pointers, `msg_blocks_too_long`); text over 40,000
truncated with a warning; chat.update over 4,000 → `msg_too_long`; per-channel rate limit
(optional) → 429 + Retry-After; history and replies with cursor pagination whose pages are
sometimes shorter than `limit`; metadata returned only with `include_all_metadata`.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tests.fakes.server import FakeServer, Request, Response, json_response, text_response

SECTION_LIMIT = 3000
BLOCKS_TEXT_LIMIT = 12_000
TEXT_LIMIT = 40_000
UPDATE_TEXT_LIMIT = 4000


def block_errors(blocks: Any) -> list[str]:
    """Block Kit validation errors, in Slack's words (empty when valid)."""
    if not isinstance(blocks, list):
        return ["must be an array [json-pointer:/blocks]"]
    errors = []
    if len(blocks) > 50:
        errors.append("no more than 50 items allowed [json-pointer:/blocks]")
    for index, block in enumerate(blocks):
        where = f"/blocks/{index}"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "section":
            text = (block.get("text") or {}).get("text", "")
            if block.get("text") is not None and not 1 <= len(text) <= SECTION_LIMIT:
                errors.append(
                    f"must be between 1 and {SECTION_LIMIT} characters "
                    f"[json-pointer:{where}/text/text]"
                )
            fields = block.get("fields") or []
            if len(fields) > 10:
                errors.append(f"no more than 10 items allowed [json-pointer:{where}/fields]")
            for i, fld in enumerate(fields):
                if not 1 <= len(fld.get("text", "")) <= 2000:
                    errors.append(
                        f"must be at most 2000 characters [json-pointer:{where}/fields/{i}]"
                    )
        elif kind == "context":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= 10:
                errors.append(f"must have 1 to 10 elements [json-pointer:{where}/elements]")
        elif kind == "header":
            if len((block.get("text") or {}).get("text", "")) > 150:
                errors.append(f"must be at most 150 characters [json-pointer:{where}/text/text]")
        else:
            errors.append(f"unknown block type [json-pointer:{where}/type]")
    return errors


def blocks_text_length(blocks: list[dict[str, Any]]) -> int:
    total = 0
    for block in blocks:
        total += len((block.get("text") or {}).get("text", ""))
        total += sum(len(f.get("text", "")) for f in block.get("fields") or [])
        total += sum(len(e.get("text", "")) for e in block.get("elements") or [])
    return total


class FakeSlack(FakeServer):
    """Webhook at `webhook_url`, Web API at `api_url`; `messages[channel]` holds every post."""

    def __init__(
        self,
        *,
        token: str = "xoxb-fake-0123456789-secrettoken",
        channels: tuple[str, ...] = ("C0INCIDENT",),
        webhook_secret: str = "whsecretAbCdEf0123456789",
        rate_per_second: float | None = None,
        clock: Callable[[], datetime] | None = None,
        seed: int = 7,
    ) -> None:
        super().__init__(clock, seed)
        self.token = token
        self.webhook_path = f"/services/T0FAKE/B0FAKE/{webhook_secret}"
        self.messages: dict[str, list[dict[str, Any]]] = {c: [] for c in channels}
        self.webhook_messages: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.rate_per_second = rate_per_second
        self._last_post: dict[str, datetime] = {}
        self._last_ts = 0.0

    @property
    def webhook_url(self) -> str:
        return self.url + self.webhook_path

    @property
    def api_url(self) -> str:
        return self.url + "/api"

    # -- inspection

    def roots(self, channel: str = "C0INCIDENT") -> list[dict[str, Any]]:
        return [m for m in self.messages[channel] if m.get("thread_ts") in (None, m["ts"])]

    def replies(self, root_ts: str, channel: str = "C0INCIDENT") -> list[dict[str, Any]]:
        found = [
            m
            for m in self.messages[channel]
            if m.get("thread_ts") == root_ts and m["ts"] != root_ts
        ]
        return sorted(found, key=lambda m: float(m["ts"]))

    # -- routing

    def route(self, request: Request) -> str:
        if request.path.startswith("/services/"):
            return "webhook"
        if request.path.startswith("/api/"):
            return request.path.removeprefix("/api/")
        return "unknown"

    def handle(self, route: str, request: Request) -> Response:
        if route == "webhook":
            return self._webhook(request)
        methods = {
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
        }
        if route not in methods:
            return json_response(404, {"ok": False, "error": "unknown_method"})
        auth = request.headers.get("authorization", "")
        if not auth:
            return json_response(200, {"ok": False, "error": "not_authed"})
        if auth != f"Bearer {self.token}":
            return json_response(200, {"ok": False, "error": "invalid_auth"})
        if request.method == "POST":
            try:
                body = request.json
            except ValueError:
                return json_response(200, {"ok": False, "error": "invalid_json"})
        else:
            body = dict(request.query)
        answer = methods[route](body)
        if isinstance(answer, Response):
            return answer
        if request.method == "POST" and "charset" not in request.headers.get("content-type", ""):
            answer["warning"] = "missing_charset"
        return json_response(200, answer)

    # -- webhook

    def _webhook(self, request: Request) -> Response:
        if request.path != self.webhook_path:
            return text_response(404, "no_service")
        if self._limited("webhook"):
            return text_response(429, "rate_limited", {"Retry-After": "1"})
        try:
            body = request.json
        except ValueError:
            return text_response(400, "invalid_payload")
        if not isinstance(body, dict):
            return text_response(400, "invalid_payload")
        if not body.get("text") and not body.get("blocks") and not body.get("attachments"):
            return text_response(400, "missing_text_or_fallback_or_attachments")
        if "blocks" in body and (
            block_errors(body["blocks"]) or blocks_text_length(body["blocks"]) > BLOCKS_TEXT_LIMIT
        ):
            return text_response(400, "invalid_blocks")
        self.webhook_messages.append(body)
        return text_response(200, "ok")

    # -- Web API

    def _limited(self, key: str) -> bool:
        if not self.rate_per_second:
            return False
        now = self.clock()
        last = self._last_post.get(key)
        if last is not None and now - last < timedelta(seconds=1 / self.rate_per_second):
            return True
        self._last_post[key] = now
        return False

    def _next_ts(self, channel: str) -> str:
        """Monotonic per channel, like Slack's (also past messages a test put there)."""
        latest = max((float(m["ts"]) for m in self.messages[channel]), default=0.0)
        stamp = max(self.clock().timestamp(), self._last_ts + 0.000001, latest + 0.000001)
        self._last_ts = stamp
        return f"{stamp:.6f}"

    def _check_message(self, body: dict[str, Any]) -> dict[str, Any] | None:
        if body.get("channel") not in self.messages:
            return {"ok": False, "error": "channel_not_found"}
        if not body.get("text") and not body.get("blocks"):
            return {"ok": False, "error": "no_text"}
        if "blocks" in body:
            errors = block_errors(body["blocks"])
            if errors:
                return {
                    "ok": False,
                    "error": "invalid_blocks",
                    "errors": errors,
                    "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
                }
            if blocks_text_length(body["blocks"]) > BLOCKS_TEXT_LIMIT:
                return {"ok": False, "error": "msg_blocks_too_long"}
        return None

    def _post_message(self, body: dict[str, Any]) -> dict[str, Any] | Response:
        problem = self._check_message(body)
        if problem:
            return problem
        channel = body["channel"]
        if self._limited(channel):
            return json_response(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
        thread_ts = body.get("thread_ts")
        if thread_ts and not any(m["ts"] == thread_ts for m in self.roots(channel)):
            return {"ok": False, "error": "thread_not_found"}
        warnings = []
        text = body.get("text", "")
        if len(text) > TEXT_LIMIT:
            text = text[:TEXT_LIMIT]
            warnings.append("message_truncated")
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "bot_message",
            "bot_id": "B0FAKEBOT",
            "ts": self._next_ts(channel),
            "text": text,
        }
        for key in ("blocks", "metadata", "reply_broadcast"):
            if key in body:
                message[key] = copy.deepcopy(body[key])
        if thread_ts:
            message["thread_ts"] = thread_ts
            parent = next(m for m in self.roots(channel) if m["ts"] == thread_ts)
            parent["thread_ts"] = thread_ts
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            # The parent keeps `thread_ts == ts`; replies are told apart by ts != thread_ts.
        self.messages[channel].append(message)
        answer: dict[str, Any] = {
            "ok": True,
            "channel": channel,
            "ts": message["ts"],
            "message": _public(message, with_metadata=True),
        }
        if warnings:
            answer["response_metadata"] = {"warnings": warnings}
        return answer

    def _update(self, body: dict[str, Any]) -> dict[str, Any]:
        problem = self._check_message(body)
        if problem:
            return problem
        channel = body["channel"]
        message = next((m for m in self.messages[channel] if m["ts"] == body.get("ts")), None)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if len(body.get("text", "")) > UPDATE_TEXT_LIMIT:
            return {"ok": False, "error": "msg_too_long"}
        for key in ("text", "blocks"):
            if key in body:
                message[key] = copy.deepcopy(body[key])
        self.updates.append(copy.deepcopy(body))
        return {"ok": True, "channel": channel, "ts": message["ts"], "text": message["text"]}

    def _page(self, items: list[dict[str, Any]], query: dict[str, Any]) -> dict[str, Any] | None:
        try:
            limit = max(1, min(int(query.get("limit") or 100), 999))
            start = int(base64.b64decode(query["cursor"]).decode()) if query.get("cursor") else 0
        except (ValueError, KeyError):
            return None
        # Pages are sometimes shorter than `limit` even when more follow (as documented).
        size = max(1, limit - 1) if (start // max(limit, 1)) % 2 else limit
        page = items[start : start + size]
        end = start + len(page)
        more = end < len(items)
        with_meta = str(query.get("include_all_metadata", "")).lower() in ("true", "1")
        return {
            "ok": True,
            "messages": [_public(m, with_meta) for m in page],
            "has_more": more,
            "response_metadata": {
                "next_cursor": base64.b64encode(str(end).encode()).decode() if more else ""
            },
        }

    def _history(self, query: dict[str, Any]) -> dict[str, Any]:
        channel = query.get("channel")
        if channel not in self.messages:
            return {"ok": False, "error": "channel_not_found"}
        visible = [
            m
            for m in self.messages[channel]
            if m.get("thread_ts") in (None, m["ts"]) or m.get("reply_broadcast")
        ]
        visible.sort(key=lambda m: float(m["ts"]), reverse=True)
        return self._page(visible, query) or {"ok": False, "error": "invalid_cursor"}

    def _replies(self, query: dict[str, Any]) -> dict[str, Any]:
        channel = query.get("channel")
        if channel not in self.messages:
            return {"ok": False, "error": "channel_not_found"}
        parent = next((m for m in self.roots(channel) if m["ts"] == query.get("ts")), None)
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        thread = [parent, *self.replies(parent["ts"], channel)]
        return self._page(thread, query) or {"ok": False, "error": "invalid_cursor"}


def _public(message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
    shown = {k: v for k, v in message.items() if k != "metadata"}
    if with_metadata and "metadata" in message:
        shown["metadata"] = message["metadata"]
    return shown
