"""A fake Slack: incoming webhooks and the Web API methods cockpit uses.

Follows external-apis.md §1–2 and §7: webhook answers are bare strings (`ok`, or an error
code with a 4xx status); Web API logical errors are HTTP 200 `{"ok": false}`; `not_authed`
/ `invalid_auth` without the right bearer token; `missing_charset` warning; Block Kit limits
enforced (`invalid_blocks` with json-pointers, `msg_blocks_too_long`); text over 40,000
truncated with a warning; chat.update over 4,000 → `msg_too_long`; per-channel rate limit
(optional) → 429 + Retry-After; history and replies with cursor pagination whose pages are
sometimes shorter than `limit`; metadata returned only with `include_all_metadata`.

For team sync (team-sync.md §6) it also models: `conversations.replies` with `oldest`, `latest`
and `inclusive` (the root returned even when outside the range, unless `root_outside_range` is
off), pages of at most 1000; a per-method budget shared by every client of the token
(`read_limits`, calls per minute → 429 + `Retry-After`), and the 2025 non-Marketplace mode
(`non_marketplace`: 1 read per minute, pages of at most 15); metadata rules (a bad `event_type`
→ the `invalid_metadata_schema` warning and the metadata dropped; nested values →
`invalid_metadata_format`; `metadata_cap_bytes` → `metadata_too_large`); people's and other
bots' messages with edits and deletions (gone, or a tombstone); `users.info`;
`chat.getPermalink`; visibility lag (a message shows in reads some time after it is posted, so a
higher `ts` can show first); and outages switched on for a while (`outage`).
"""

from __future__ import annotations

import base64
import copy
import json
import math
import re
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tests.fakes.server import (
    Action,
    Drop,
    FakeServer,
    Reply,
    Request,
    Response,
    json_response,
    text_response,
)

SECTION_LIMIT = 3000
BLOCKS_TEXT_LIMIT = 12_000
TEXT_LIMIT = 40_000
UPDATE_TEXT_LIMIT = 4000
PAGE_LIMIT = 1000
NON_MARKETPLACE_PAGE_LIMIT = 15
BOT_ID = "B0FAKEBOT"
BOT_USER = "U0FAKEBOT"
APP_ID = "A0FAKEAPP"
TEAM_URL = "https://fake-team.slack.com"
SYNC_SCOPES = ("chat:write", "channels:history", "groups:history", "users:read")
READS = ("conversations.history", "conversations.replies")
_EVENT_TYPE = re.compile(r"[A-Za-z0-9_-]+")
_LAPTOP_PREFIX = re.compile(r"^/as/[a-z0-9]+(?=/api/)")
_SCALARS = (str, int, float, bool)


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
        read_limits: dict[str, int] | None = None,
        non_marketplace: bool = False,
        metadata_cap_bytes: int | None = None,
        visibility_lag: float = 0.0,
        root_outside_range: bool = True,
        scopes: tuple[str, ...] = SYNC_SCOPES,
    ) -> None:
        super().__init__(clock, seed)
        self.token = token
        self.webhook_path = f"/services/T0FAKE/B0FAKE/{webhook_secret}"
        self.messages: dict[str, list[dict[str, Any]]] = {c: [] for c in channels}
        self.webhook_messages: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.rate_per_second = rate_per_second
        self.read_limits = dict(read_limits or {})
        """Calls per minute per method, shared by every client of the token (Tier 3: 50)."""
        self.non_marketplace = non_marketplace
        self.metadata_cap_bytes = metadata_cap_bytes
        self.visibility_lag = visibility_lag
        """Seconds after posting before a message shows in reads (each message draws its own
        lag in [0, visibility_lag], so a later message may show first)."""
        self.root_outside_range = root_outside_range
        self.scopes = scopes
        self.users: dict[str, dict[str, Any]] = {}
        self.down_until: datetime | None = None
        self.outage_mode = "503"
        self.throttled: list[tuple[str, datetime]] = []  # (method, when) of every 429 answered
        self._calls: dict[str, deque[datetime]] = defaultdict(deque)
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

    def thread(self, root_ts: str, channel: str = "C0INCIDENT") -> list[dict[str, Any]]:
        """The root and its replies, as stored (hidden fields included)."""
        root = [m for m in self.messages[channel] if m["ts"] == root_ts]
        return root + self.replies(root_ts, channel)

    # -- what people and other bots do

    def add_user(self, user_id: str, name: str, real_name: str = "") -> None:
        """A person `users.info` knows."""
        with self.lock:
            self.users[user_id] = {
                "id": user_id,
                "name": name.lower(),
                "real_name": real_name or name,
                "profile": {"display_name": name, "real_name": real_name or name},
            }

    def say(
        self, user: str, text: str, thread_ts: str | None, channel: str = "C0INCIDENT"
    ) -> dict[str, Any]:
        """A person writes `text` in the thread."""
        with self.lock:
            message = {"type": "message", "user": user, "text": text}
            return self._store(channel, message, thread_ts)

    def bot_says(
        self,
        name: str,
        text: str,
        thread_ts: str | None,
        channel: str = "C0INCIDENT",
        bot_id: str = "B0ALERTS",
    ) -> dict[str, Any]:
        """Another app (an alerting bot) posts `text` in the thread."""
        with self.lock:
            message = {
                "type": "message",
                "subtype": "bot_message",
                "bot_id": bot_id,
                "username": name,
                "bot_profile": {"id": bot_id, "name": name, "app_id": "A0" + bot_id[2:]},
                "text": text,
            }
            return self._store(channel, message, thread_ts)

    def edit(self, ts: str, text: str, channel: str = "C0INCIDENT") -> dict[str, Any]:
        """Its author edits a message: new text, `edited {user, ts}`."""
        with self.lock:
            message = self._find(channel, ts)
            message["text"] = text
            message["edited"] = {
                "user": message.get("user") or message.get("bot_id"),
                "ts": self._next_ts(channel),
            }
            return message

    def delete(self, ts: str, channel: str = "C0INCIDENT", *, tombstone: bool = False) -> None:
        """A message is deleted: gone, or (a root with replies) left as a tombstone."""
        with self.lock:
            message = self._find(channel, ts)
            if tombstone:
                for key in ("user", "bot_id", "bot_profile", "app_id", "metadata", "blocks"):
                    message.pop(key, None)
                message.update(subtype="tombstone", text="This message was deleted.", hidden=True)
            else:
                self.messages[channel].remove(message)

    def outage(self, seconds: float, mode: str = "503") -> None:
        """Refuse every request for `seconds` (of the fake's clock): `503` answers an HTML
        error page, `drop` closes the connection without an answer."""
        with self.lock:
            self.down_until = self.clock() + timedelta(seconds=seconds)
            self.outage_mode = mode

    def restore(self) -> None:
        """End an outage now."""
        with self.lock:
            self.down_until = None

    def _find(self, channel: str, ts: str) -> dict[str, Any]:
        for message in self.messages[channel]:
            if message["ts"] == ts:
                return message
        raise KeyError(f"no message {ts} in {channel}")

    def _store(
        self, channel: str, message: dict[str, Any], thread_ts: str | None
    ) -> dict[str, Any]:
        message["ts"] = self._next_ts(channel)
        lag = self.visibility_lag * self.rng.random() if self.visibility_lag else 0.0
        message["_visible_at"] = self.clock() + timedelta(seconds=lag)
        if thread_ts:
            message["thread_ts"] = thread_ts
            parent = next(m for m in self.roots(channel) if m["ts"] == thread_ts)
            parent["thread_ts"] = thread_ts
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            # The parent keeps `thread_ts == ts`; replies are told apart by ts != thread_ts.
        self.messages[channel].append(message)
        return message

    def _visible(self, message: dict[str, Any]) -> bool:
        shown_at = message.get("_visible_at")
        return shown_at is None or shown_at <= self.clock()

    # -- routing

    def route(self, request: Request) -> str:
        if request.path.startswith("/services/"):
            return "webhook"
        # `/as/NAME/api/...` is the Web API too: the multi-process harness gives each laptop its
        # own prefix so calls can be counted per laptop (`calls_by`); the budget stays shared.
        path = _LAPTOP_PREFIX.sub("", request.path)
        if path.startswith("/api/"):
            return path.removeprefix("/api/")
        return "unknown"

    def calls_by(self, route: str, name: str) -> int:
        """Calls to `route` made through the `/as/NAME/api` prefix."""
        return sum(1 for r in self.calls(route) if r.path.startswith(f"/as/{name}/"))

    def _next_action(self, route: str) -> Action:
        with self.lock:
            if self.down_until is not None and self.clock() < self.down_until:
                if self.outage_mode == "drop":
                    return Drop()
                page = "<html><body>Slack is having trouble</body></html>"
                return Reply(503, page, {"Content-Type": "text/html"})
        return super()._next_action(route)

    def handle(self, route: str, request: Request) -> Response:
        if route == "webhook":
            return self._webhook(request)
        methods = {
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.getPermalink": self._permalink,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "users.info": self._user_info,
            "auth.test": self._auth_test,
        }
        if route not in methods:
            return json_response(404, {"ok": False, "error": "unknown_method"})
        auth = request.headers.get("authorization", "")
        if not auth:
            return json_response(200, {"ok": False, "error": "not_authed"})
        if auth != f"Bearer {self.token}":
            return json_response(200, {"ok": False, "error": "invalid_auth"})
        wait = self._over_budget(route)
        if wait is not None:
            return json_response(
                429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}
            )
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
        return json_response(200, answer, {"x-oauth-scopes": ",".join(self.scopes)})

    def _over_budget(self, method: str) -> int | None:
        """Seconds to wait when `method` has used its budget for the last minute, else None
        (the call is counted). Shared by every client of the token, as Slack's is per app."""
        limit = self.read_limits.get(method)
        if self.non_marketplace and method in READS:
            limit = 1
        if limit is None:
            return None
        now = self.clock()
        calls = self._calls[method]
        while calls and now - calls[0] >= timedelta(minutes=1):
            calls.popleft()
        if len(calls) >= limit:
            self.throttled.append((method, now))
            return max(1, math.ceil((calls[0] + timedelta(minutes=1) - now).total_seconds()))
        calls.append(now)
        return None

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
            self.throttled.append(("chat.postMessage", self.clock()))
            return json_response(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
        thread_ts = body.get("thread_ts")
        if thread_ts and not any(m["ts"] == thread_ts for m in self.roots(channel)):
            return {"ok": False, "error": "thread_not_found"}
        warnings = []
        metadata, problem = self._check_metadata(body.get("metadata"))
        if problem in ("invalid_metadata_format", "metadata_too_large"):
            return {"ok": False, "error": problem}
        if problem:
            warnings.append(problem)
        text = body.get("text", "")
        if len(text) > TEXT_LIMIT:
            text = text[:TEXT_LIMIT]
            warnings.append("message_truncated")
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "bot_profile": {"id": BOT_ID, "name": "cockpit", "app_id": APP_ID},
            "text": text,
        }
        for key in ("blocks", "reply_broadcast"):
            if key in body:
                message[key] = copy.deepcopy(body[key])
        if metadata is not None:
            message["metadata"] = metadata
        self._store(channel, message, thread_ts)
        answer: dict[str, Any] = {
            "ok": True,
            "channel": channel,
            "ts": message["ts"],
            "message": _public(message, with_metadata=True),
        }
        if warnings:
            answer["response_metadata"] = {"warnings": warnings}
        return answer

    def _check_metadata(self, metadata: Any) -> tuple[dict[str, Any] | None, str | None]:
        """The metadata kept, and the error or warning it earns (Slack's rules, §1.3)."""
        if metadata is None:
            return None, None
        if not isinstance(metadata, dict) or not isinstance(metadata.get("event_payload"), dict):
            return None, "invalid_metadata_format"
        event_type = metadata.get("event_type")
        if not isinstance(event_type, str) or not _EVENT_TYPE.fullmatch(event_type):
            return None, "invalid_metadata_schema"  # a warning: the post goes, without it
        if not all(_flat_value(v) for v in metadata["event_payload"].values()):
            return None, "invalid_metadata_format"
        size = len(json.dumps(metadata, ensure_ascii=False).encode())
        if self.metadata_cap_bytes is not None and size > self.metadata_cap_bytes:
            return None, "metadata_too_large"
        return copy.deepcopy(metadata), None

    def _permalink(self, query: dict[str, Any]) -> dict[str, Any]:
        channel, ts = query.get("channel"), query.get("message_ts")
        if channel not in self.messages:
            return {"ok": False, "error": "channel_not_found"}
        message = next((m for m in self.messages[channel] if m["ts"] == ts), None)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        link = f"{TEAM_URL}/archives/{channel}/p{str(ts).replace('.', '')}"
        root = message.get("thread_ts")
        if root and root != ts:
            link += f"?thread_ts={root}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _user_info(self, query: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(query.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": copy.deepcopy(user)}

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

    def _auth_test(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake-team.slack.com/",
            "team": "Fake Team",
            "user": "cockpit",
            "team_id": "T0FAKE",
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
        }

    def _page(
        self, items: list[dict[str, Any]], query: dict[str, Any], newest_first: bool
    ) -> dict[str, Any] | None:
        """A page of `items` (already in reading order). The cursor names the last `ts` read
        and the page number, so messages that become visible meanwhile are not skipped."""
        try:
            cap = NON_MARKETPLACE_PAGE_LIMIT if self.non_marketplace else PAGE_LIMIT
            limit = max(1, min(int(query.get("limit") or 100), cap))
            if query.get("cursor"):
                last, number = base64.b64decode(query["cursor"]).decode().split(":")
                after, page_no = float(last), int(number)
            else:
                after, page_no = None, 0
        except (ValueError, KeyError):
            return None
        if after is not None:
            items = [
                m
                for m in items
                if (float(m["ts"]) < after if newest_first else float(m["ts"]) > after)
            ]
        # Pages are sometimes shorter than `limit` even when more follow (as documented).
        size = max(1, limit - 1) if page_no % 2 else limit
        page = items[:size]
        more = len(items) > len(page)
        with_meta = str(query.get("include_all_metadata", "")).lower() in ("true", "1")
        cursor = f"{page[-1]['ts']}:{page_no + 1}" if more else ""
        return {
            "ok": True,
            "messages": [_public(m, with_meta) for m in page],
            "has_more": more,
            "response_metadata": {
                "next_cursor": base64.b64encode(cursor.encode()).decode() if more else ""
            },
        }

    def _history(self, query: dict[str, Any]) -> dict[str, Any]:
        channel = query.get("channel")
        if channel not in self.messages:
            return {"ok": False, "error": "channel_not_found"}
        visible = [
            m
            for m in self.messages[channel]
            if (m.get("thread_ts") in (None, m["ts"]) or m.get("reply_broadcast"))
            and self._visible(m)
        ]
        visible.sort(key=lambda m: float(m["ts"]), reverse=True)
        return self._page(visible, query, True) or {"ok": False, "error": "invalid_cursor"}

    def _replies(self, query: dict[str, Any]) -> dict[str, Any]:
        channel = query.get("channel")
        if channel not in self.messages:
            return {"ok": False, "error": "channel_not_found"}
        parent = next((m for m in self.roots(channel) if m["ts"] == query.get("ts")), None)
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        try:
            oldest = float(query.get("oldest") or 0)
            latest = float(query.get("latest") or math.inf)
        except ValueError:
            return {"ok": False, "error": "invalid_ts_oldest"}
        inclusive = str(query.get("inclusive", "")).lower() in ("true", "1")

        def in_range(message: dict[str, Any]) -> bool:
            ts = float(message["ts"])
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        replies = [m for m in self.replies(parent["ts"], channel) if self._visible(m)]
        thread = [m for m in replies if in_range(m)]
        if self.root_outside_range or in_range(parent):
            thread.insert(0, parent)
        return self._page(thread, query, False) or {"ok": False, "error": "invalid_cursor"}


def _flat_value(value: Any) -> bool:
    """What Slack allows in an event payload: scalars, flat objects, arrays of those."""
    if isinstance(value, _SCALARS) or value is None:
        return True
    if isinstance(value, dict):
        return all(isinstance(v, _SCALARS) or v is None for v in value.values())
    if isinstance(value, list):
        return all(
            isinstance(item, _SCALARS)
            or (isinstance(item, dict) and all(isinstance(v, _SCALARS) for v in item.values()))
            for item in value
        )
    return False


def _public(message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
    shown = {k: v for k, v in message.items() if k != "metadata" and not k.startswith("_")}
    if with_metadata and "metadata" in message:
        shown["metadata"] = message["metadata"]
    return shown
