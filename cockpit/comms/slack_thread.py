"""The Slack Web API calls team sync makes, each ending in an answer or a `SlackFailure`.

Six methods (team-sync.md §2): `auth.test` (who we are, and the token's scopes from the
`x-oauth-scopes` header), `chat.postMessage` (the root and the echoes, with metadata),
`chat.getPermalink`, `conversations.replies` (every page), `conversations.history` (to find a
root that may have landed) and `users.info` (cached by the caller). A metadata warning is a
failure: Slack posted the text but dropped the entries (§1.3), which must never count as sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cockpit.comms.scrubber import Scrubber
from cockpit.comms.slack import SlackBot
from cockpit.comms.target import (
    Credential,
    Retry,
    retry_after,
    scrubber_for,
    service_error,
    transport_outcome,
)
from cockpit.config import SlackConfig
from cockpit.domain import Clock, one_line

if TYPE_CHECKING:
    import httpx

SYNC_SCOPES = ("chat:write", "channels:history", "groups:history", "users:read")
"""The bot scopes sync needs: post, read threads in public and private channels, people's
names. Metadata comes with `include_all_metadata`; `metadata.message:read` is only for Events
API subscriptions, which cockpit does not use (it polls)."""

MAX_PAGES = 50
"""Pages of 1000 read at most per thread scan: far beyond any incident."""
PAGE_SIZE = 1000
THROTTLED_AFTER = 30.0
"""A read that must wait this long means the app gets one read a minute (not internal)."""
_RATE_LIMITED = {"ratelimited", "rate_limited", "message_limit_exceeded"}
_TRANSIENT = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
_METADATA_WARNINGS = {"invalid_metadata_schema", "invalid_metadata_format"}


class SlackFailure(Exception):
    """A call that did not give an answer: why (one line), how long Slack asked us to wait,
    whether a post may have landed anyway, and whether retrying can help."""

    def __init__(
        self,
        reason: str,
        *,
        error: str = "",
        after: float | None = None,
        maybe_landed: bool = False,
        permanent: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error  # Slack's error code, when it gave one
        self.after = after
        self.maybe_landed = maybe_landed
        self.permanent = permanent

    @property
    def throttled(self) -> bool:
        """Slack asked for a wait that only a non-internal app's read limit explains."""
        return self.after is not None and self.after >= THROTTLED_AFTER


@dataclass(frozen=True)
class Identity:
    """Who the token is on Slack: the bot's ids, and its scopes (None if Slack did not say)."""

    bot_id: str
    user_id: str
    app_id: str
    scopes: frozenset[str] | None

    def missing_scopes(self) -> list[str]:
        """The scopes sync needs that the token lacks (none when unknown)."""
        if self.scopes is None:
            return []
        return [scope for scope in SYNC_SCOPES if scope not in self.scopes]


class SlackThreadApi:
    """The calls of one cockpit's sync, with its bot token, over a shared HTTP client."""

    def __init__(
        self,
        config: SlackConfig,
        http: httpx.AsyncClient,
        clock: Clock,
        redactor: Scrubber | None = None,
    ) -> None:
        self.config = config
        self.redactor = redactor or scrubber_for([SlackBot(config)])
        """Masks the secrets in every failure's text (every configured target's, ideally: a
        server may echo any of them)."""
        self.http = http
        self.clock = clock
        self.api = config.api_url.rstrip("/")
        self._token = Credential("slack.token", config.token, config.token_env, header=True)
        self.calls: dict[str, int] = {}
        """Calls made per method (for `cockpit sync` and the campaign's budget figures)."""

    async def call(self, method: str, body: Mapping[str, Any], *, read: bool) -> dict[str, Any]:
        """One Web API call: the answer when `ok`; otherwise `SlackFailure`, whose reason
        never holds a secret (a hostile or echoing server may send one back in its error)."""
        try:
            return await self._call(method, body, read=read)
        except SlackFailure as exc:
            raise SlackFailure(
                self.scrub(exc.reason),
                error=self.scrub(exc.error),
                after=exc.after,
                maybe_landed=exc.maybe_landed,
                permanent=exc.permanent,
            ) from None

    def scrub(self, text: str) -> str:
        """`text` without the secrets, in any encoding."""
        return self.redactor.scrub(text)

    async def _call(self, method: str, body: Mapping[str, Any], *, read: bool) -> dict[str, Any]:
        import httpx

        headers = {"Authorization": f"Bearer {self._token.value()}"}
        url = f"{self.api}/{method}"
        timeout = httpx.Timeout(
            self.config.timeout_seconds, connect=min(5.0, self.config.timeout_seconds)
        )
        self.calls[method] = self.calls.get(method, 0) + 1
        try:
            if read:
                response = await self.http.get(
                    url, params=dict(body), headers=headers, timeout=timeout
                )
            else:
                headers["Content-Type"] = "application/json; charset=utf-8"
                response = await self.http.post(
                    url, content=json.dumps(body).encode(), headers=headers, timeout=timeout
                )
        except httpx.TransportError as exc:
            retry: Retry = transport_outcome(exc, self.config.timeout_seconds)
            raise SlackFailure(
                f"Slack {method}: {retry.reason}", maybe_landed=retry.maybe_landed and not read
            ) from None
        return self._answer(method, response, read)

    def _answer(self, method: str, response: httpx.Response, read: bool) -> dict[str, Any]:
        landed = not read
        if response.status_code == 429:
            after = retry_after(response, self.clock())
            raise SlackFailure(f"Slack {method}: rate limited (HTTP 429)", after=after)
        if response.status_code >= 500:
            raise SlackFailure(f"Slack {method}: {service_error(response)}", maybe_landed=landed)
        if response.status_code != 200:
            raise SlackFailure(f"Slack {method}: {service_error(response)}", permanent=True)
        try:
            data = response.json()
        except (ValueError, RecursionError):
            raise SlackFailure(f"Slack {method}: not a JSON answer", maybe_landed=landed) from None
        if not isinstance(data, dict):
            raise SlackFailure(f"Slack {method}: unexpected answer", maybe_landed=landed)
        if data.get("ok") is True:
            scopes = response.headers.get("x-oauth-scopes")
            if scopes is not None:
                data["_scopes"] = scopes
            return data
        error = one_line(str(data.get("error") or "unknown_error"))[:80]
        if error in _RATE_LIMITED:
            after = retry_after(response, self.clock())
            raise SlackFailure(f"Slack {method}: {error}", error=error, after=after)
        if error in _TRANSIENT:
            raise SlackFailure(f"Slack {method}: {error}", error=error, maybe_landed=landed)
        detail = error
        if error == "missing_scope" and isinstance(data.get("needed"), str):
            detail += f" (needs {one_line(data['needed'])[:80]})"
        raise SlackFailure(f"Slack {method}: {detail}", error=error, permanent=True)

    async def identity(self) -> Identity:
        """`auth.test`: the bot's ids and the token's scopes."""
        data = await self.call("auth.test", {}, read=True)
        raw = data.get("_scopes")
        scopes = (
            frozenset(s.strip() for s in raw.split(",") if s.strip())
            if isinstance(raw, str)
            else None
        )
        return Identity(
            bot_id=_string(data, "bot_id"),
            user_id=_string(data, "user_id"),
            app_id=_string(data, "app_id"),
            scopes=scopes,
        )

    async def post(
        self, channel: str, text: str, metadata: Mapping[str, Any], thread_ts: str | None = None
    ) -> str:
        """Post a message with metadata; its `ts`. Dropped metadata is a (permanent) failure."""
        body: dict[str, Any] = {
            "channel": channel,
            "text": text,
            "metadata": metadata,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread_ts:
            body["thread_ts"] = thread_ts
        data = await self.call("chat.postMessage", body, read=False)
        ts = data.get("ts")
        if not isinstance(ts, str) or not ts:
            raise SlackFailure(
                "Slack chat.postMessage: answer without the message ts", maybe_landed=True
            )
        warnings = _table(data, "response_metadata").get("warnings")
        dropped = sorted(_METADATA_WARNINGS & set(warnings if isinstance(warnings, list) else []))
        if dropped:
            raise SlackFailure(
                f"Slack kept message {self.scrub(one_line(ts))[:40]} but dropped its metadata "
                f"({dropped[0]}); "
                "this is a cockpit bug",
                error=dropped[0],
                permanent=True,
            )
        return ts

    async def permalink(self, channel: str, ts: str) -> str | None:
        """The link people copy for a message (None if Slack gave none)."""
        data = await self.call(
            "chat.getPermalink", {"channel": channel, "message_ts": ts}, read=True
        )
        link = data.get("permalink")
        return link if isinstance(link, str) and link.startswith("https://") else None

    async def replies(
        self, channel: str, root_ts: str, oldest: str | None = None
    ) -> list[dict[str, Any]]:
        """The thread (the root first), every page, from `oldest` when given."""
        query: dict[str, str] = {
            "channel": channel,
            "ts": root_ts,
            "include_all_metadata": "true",
            "limit": str(PAGE_SIZE),
        }
        if oldest:
            query["oldest"] = oldest
            query["inclusive"] = "true"
        return await self._pages("conversations.replies", query)

    async def recent_roots(self, channel: str, limit: int = 200) -> list[dict[str, Any]]:
        """The channel's latest messages (one page), to find a root that may have landed."""
        query = {"channel": channel, "include_all_metadata": "true", "limit": str(limit)}
        data = await self.call("conversations.history", query, read=True)
        messages = data.get("messages")
        return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []

    async def user_name(self, user: str) -> str | None:
        """A person's display name from `users.info` (None when Slack does not know them)."""
        try:
            data = await self.call("users.info", {"user": user}, read=True)
        except SlackFailure as exc:
            if exc.error in ("user_not_found", "user_not_visible"):
                return None
            raise
        found = _table(data, "user")
        profile = _table(found, "profile")
        for value in (
            profile.get("display_name"),
            profile.get("real_name"),
            found.get("real_name"),
            found.get("name"),
        ):
            if isinstance(value, str) and value.strip():
                return one_line(value)[:80]
        return None

    async def _pages(self, method: str, query: dict[str, str]) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        cursor = ""
        for _ in range(MAX_PAGES):
            if cursor:
                query["cursor"] = cursor
            data = await self.call(method, query, read=True)
            page = data.get("messages")
            messages += [m for m in page if isinstance(m, dict)] if isinstance(page, list) else []
            cursor = _string(_table(data, "response_metadata"), "next_cursor")
            if not cursor:
                return messages
        raise SlackFailure(f"Slack {method}: more than {MAX_PAGES} pages; read stopped")


def _table(value: Any, key: str) -> dict[str, Any]:
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, dict) else {}


def _string(value: Mapping[str, Any], key: str) -> str:
    found = value.get(key)
    return found if isinstance(found, str) else ""
