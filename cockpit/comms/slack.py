"""Slack: incoming-webhook mode and bot mode (root message, thread replies, `chat.update`).

Webhook mode cannot read anything back, so it cannot tell whether a post that timed out
landed: it is at-least-once (a retry after a timeout or a 5xx may post twice). Bot mode tags
every message with `metadata` carrying the delivery key and, before posting again after an
attempt that may have landed, looks for that key in the channel history and the thread.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cockpit.comms.render import (
    SLACK_FALLBACK_LIMIT,
    SLACK_SECTION_LIMIT,
    slack_excerpt,
    slack_sections,
)
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
    Target,
    retry_after,
    service_error,
)
from cockpit.config import SlackConfig
from cockpit.plaintext import clean_line, slack_escape, slack_unescape
from cockpit.sync.wire import EVENT_ENTRY, encode_entry

if TYPE_CHECKING:
    import httpx

EVENT_TYPE = "cockpit_update"
LABELS = {"acknowledge": "Acknowledged", "update": "Update", "resolution": "Resolved"}

# Errors after which Slack may have done the work anyway ("some aspect of the operation
# succeeded before the error was raised").
_TRANSIENT = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
_RATE_LIMITED = {"ratelimited", "rate_limited", "message_limit_exceeded"}
_HISTORY_PAGES = 5
_REPLY_PAGES = 50


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _headline(message: Message) -> str:
    incident = message.incident
    title = slack_escape(clean_line(incident.title, 150))
    severity = slack_escape(clean_line(incident.severity, 32))
    return f"*{severity} · {incident.ref} · {title}*"


def _update_blocks(message: Message) -> list[dict[str, Any]]:
    label = LABELS.get(message.phase, "Update")
    blocks = [_section(f"{_headline(message)}\n{label} · status: *{message.status.value}*")]
    blocks += [_section(chunk) for chunk in slack_sections(message.text)]
    blocks.append(_context(f"{message.at:%Y-%m-%d %H:%M} UTC · posted by cockpit"))
    return blocks


def _fallback(message: Message) -> str:
    incident = message.incident
    lead = f"[{incident.severity}] {incident.ref} {clean_line(incident.title, 150)}"
    return slack_excerpt(f"{lead} ({message.status.value}): {message.text}", SLACK_FALLBACK_LIMIT)


def _shown(blocks: list[Mapping[str, Any]]) -> str:
    """Blocks as a person reads them in Slack (for previews)."""
    lines: list[str] = []
    for block in blocks:
        if block.get("text"):
            lines.append(slack_unescape(block["text"]["text"]))
        for fld in block.get("fields", []):
            lines.append(slack_unescape(fld["text"]).replace("\n", ": ", 1))
        for element in block.get("elements", []):
            lines.append(slack_unescape(element["text"]))
    return "\n".join(lines)


class SlackWebhook(Target):
    """One message per update through an incoming webhook (at-least-once)."""

    name = "slack"
    at_least_once = True

    def __init__(self, config: SlackConfig) -> None:
        super().__init__(config.timeout_seconds)
        self.config = config
        self._url = Credential(
            "slack.webhook_url", config.webhook_url, config.webhook_url_env, url=True
        )

    def url(self) -> str:
        return self._url.value()

    def credentials(self) -> list[Credential]:
        return [self._url]

    def render(self, message: Message) -> dict[str, Any]:
        return {
            "key": message.key,
            "phase": message.phase,
            "message": {"text": _fallback(message), "blocks": _update_blocks(message)},
        }

    def describe(self, payload: Mapping[str, Any], *, continuing: bool) -> Preview:
        return Preview(
            self.name, "Slack webhook · a new message", _shown(payload["message"]["blocks"])
        )

    async def post(self, http: httpx.AsyncClient, attempt: Attempt) -> Outcome:
        response = await http.post(
            self.url(),
            content=json.dumps(attempt.payload["message"]).encode(),
            headers={"Content-Type": "application/json; charset=utf-8"},
            timeout=self.timeouts(),
        )
        body = response.text.strip()
        if response.status_code == 200 and body == "ok":
            return Sent()
        if response.status_code == 429:
            return Retry("rate limited by Slack (HTTP 429)", retry_after(response, attempt.now()))
        if response.status_code >= 500:
            return Retry(f"Slack: {service_error(response)}", maybe_landed=True)
        return Permanent(f"Slack webhook: {service_error(response)}")

    async def probe(self, http: httpx.AsyncClient) -> Outcome | None:
        """A webhook only posts: there is no harmless call. Only check its URL is set."""
        self.url()  # raises MissingSecret naming the variable
        return None


class SlackBot(KeyedTarget):
    """Bot mode: a root message per incident kept current, each update a reply in its thread."""

    name = "slack"
    can_check = True

    def __init__(self, config: SlackConfig) -> None:
        token = Credential("slack.token", config.token, config.token_env, header=True)
        super().__init__(config.timeout_seconds, token, config.api_url)
        self.config = config
        self.channel = config.channel.strip()
        self.api = config.api_url.rstrip("/")

    # -- rendering

    def render(self, message: Message) -> dict[str, Any]:
        incident = message.incident
        fields = [
            ("Status", message.status.value),
            ("Severity", incident.severity),
            ("Commander", incident.roles.get("commander") or "—"),
            ("Service", incident.service or "—"),
        ]
        head = _section(_headline(message))
        head["fields"] = [
            {"type": "mrkdwn", "text": f"*{name}*\n{slack_escape(clean_line(value, 200))}"}
            for name, value in fields
        ]
        latest = f"*Latest update* · {message.at:%H:%M} UTC\n"
        root_blocks = [
            head,
            _section(latest + slack_excerpt(message.text, SLACK_SECTION_LIMIT - len(latest))),
        ]
        label = LABELS.get(message.phase, "Update")
        reply_blocks = [_section(f"*{label}* · status: *{message.status.value}*")]
        reply_blocks += [_section(chunk) for chunk in slack_sections(message.text)]
        reply_blocks.append(_context(f"{message.at:%Y-%m-%d %H:%M} UTC · posted by cockpit"))
        root_text = slack_escape(
            f"[{incident.severity}] {incident.ref} {clean_line(incident.title, 150)}: "
            f"{message.status.value}"
        )
        return {
            "key": message.key,
            "phase": message.phase,
            "incident": incident.ref,
            "root": {"text": root_text, "blocks": root_blocks},
            "reply": {"text": _fallback(message), "blocks": reply_blocks},
            "broadcast": message.phase == "resolution" and self.config.broadcast_resolution,
        }

    def describe(self, payload: Mapping[str, Any], *, continuing: bool) -> Preview:
        where = f"#{self.channel}"
        if continuing:
            heading = f"Slack {where} · reply in the incident thread, headline refreshed"
        else:
            heading = f"Slack {where} · new headline message, this update in its thread"
        if payload.get("broadcast"):
            heading += ", also sent to the channel"
        return Preview(self.name, heading, _shown(payload["reply"]["blocks"]))

    # -- sending

    def _root_ref(self) -> str:
        return f"root_ts:{self.channel}"

    def continuing_ref(self) -> str | None:
        return self._root_ref()

    def _metadata(self, attempt: Attempt, part: str) -> dict[str, Any]:
        """The delivery's tag (what a retry looks for); with team sync on, the reply also
        carries the update's entry, so the thread holds the update once: the sync counts it
        sent, and the other laptops import it from this message."""
        tag = {
            "delivery": attempt.key,
            "part": part,
            "incident": attempt.payload.get("incident", ""),
        }
        carried = attempt.carried() if part == "reply" else None
        if carried is None:
            return {"event_type": EVENT_TYPE, "event_payload": tag}
        metadata = encode_entry(carried.gid, carried.entry)
        payload = metadata["event_payload"]
        assert isinstance(payload, dict)
        payload.update(tag)
        return metadata

    async def post(self, http: httpx.AsyncClient, attempt: Attempt) -> Outcome:
        payload = attempt.payload
        root = attempt.ref(self._root_ref())
        if root is None:
            result = await self._call(
                http,
                "chat.postMessage",
                attempt,
                {
                    "channel": self.channel,
                    **payload["root"],
                    "unfurl_links": False,
                    "metadata": self._metadata(attempt, "root"),
                },
            )
            if not isinstance(result, dict):
                return result
            root = _posted_ts(result)
            if root is None:
                return Retry("Slack chat.postMessage: answer without the message ts", None, True)
            attempt.set_ref(self._root_ref(), root)
            attempt.set_ref(f"root_key:{self.channel}", attempt.key)
        body: dict[str, Any] = {
            "channel": self.channel,
            "thread_ts": root,
            **payload["reply"],
            "unfurl_links": False,
            "metadata": self._metadata(attempt, "reply"),
        }
        if payload.get("broadcast"):
            body["reply_broadcast"] = True
        result = await self._call(http, "chat.postMessage", attempt, body)
        if not isinstance(result, dict):
            return result
        ts = _posted_ts(result)
        if ts is None:
            return Retry("Slack chat.postMessage: answer without the message ts", None, True)
        attempt.landed(ts)
        return await self.finish(http, attempt, ts)

    async def finish(self, http: httpx.AsyncClient, attempt: Attempt, remote_id: str) -> Outcome:
        attempt.in_thread(self.channel, remote_id)  # the reply carries the entry (team sync)
        root = attempt.ref(self._root_ref())
        if root is None or attempt.ref(f"root_key:{self.channel}") == attempt.key:
            return Sent(remote_id)  # this delivery posted the root: it is already current
        newer = attempt.superseded_by
        if newer is not None:
            # History in the thread; the headline keeps the newer update's status.
            return Sent(
                remote_id,
                note=f"headline kept: {newer.author}'s update of {newer.at:%H:%M:%S} UTC is newer",
            )
        result = await self._call(
            http,
            "chat.update",
            attempt,
            {"channel": self.channel, "ts": root, **attempt.payload["root"]},
        )
        if isinstance(result, Retry):
            return result
        if isinstance(result, Permanent):
            return Sent(remote_id, note=f"headline not refreshed: {result.error}")
        return Sent(remote_id)

    async def find_previous(self, http: httpx.AsyncClient, attempt: Attempt) -> Found:
        root = attempt.ref(self._root_ref())
        if root is None:
            found = await self._search(http, attempt, "conversations.history", {}, "root")
            if not isinstance(found, str):
                return found  # not found means nothing landed: the root is posted first
            root = found
            attempt.set_ref(self._root_ref(), root)
            attempt.set_ref(f"root_key:{self.channel}", attempt.key)
        return await self._search(http, attempt, "conversations.replies", {"ts": root}, "reply")

    async def _search(
        self,
        http: httpx.AsyncClient,
        attempt: Attempt,
        method: str,
        params: dict[str, str],
        part: str,
    ) -> Found:
        """Page through history or a thread for our message with this delivery's key."""
        cursor = ""
        pages = _HISTORY_PAGES if method == "conversations.history" else _REPLY_PAGES
        for _ in range(pages):
            query = {
                "channel": self.channel,
                "include_all_metadata": "true",
                "limit": "200",
                **params,
            }
            if cursor:
                query["cursor"] = cursor
            result = await self._call(http, method, attempt, query, read=True)
            if not isinstance(result, dict):
                return result
            messages = result.get("messages")
            for message in messages if isinstance(messages, list) else []:
                meta = _table(message, "metadata")
                tag = _table(meta, "event_payload")
                if (
                    meta.get("event_type") in (EVENT_TYPE, EVENT_ENTRY)
                    and tag.get("delivery") == attempt.key
                    and tag.get("part") == part
                    and _posted_ts(message) is not None
                ):
                    return _posted_ts(message)
            cursor = _table(result, "response_metadata").get("next_cursor") or ""
            if not isinstance(cursor, str) or not cursor:
                return None
        return Retry(f"Slack: could not find out whether the earlier {part} post landed")

    async def _call(
        self,
        http: httpx.AsyncClient,
        method: str,
        attempt: Attempt | None,
        body: dict[str, Any],
        *,
        read: bool = False,
    ) -> dict[str, Any] | Outcome:
        """One Web API call: the decoded answer when `ok`, otherwise the outcome it means
        (`attempt` is None for a probe, which never waits for a Retry-After)."""
        headers = {"Authorization": f"Bearer {self.secret()}"}
        url = f"{self.api}/{method}"
        if read:
            response = await http.get(url, params=body, headers=headers, timeout=self.timeouts())
        else:
            headers["Content-Type"] = "application/json; charset=utf-8"
            response = await http.post(
                url, content=json.dumps(body).encode(), headers=headers, timeout=self.timeouts()
            )
        landed = not read
        if response.status_code == 429:
            after = _after(response, attempt)
            return Retry(f"rate limited by Slack ({method}, HTTP 429)", after)
        if response.status_code >= 500:
            return Retry(f"Slack {method}: {service_error(response)}", maybe_landed=landed)
        if response.status_code != 200:
            return Permanent(f"Slack {method}: {service_error(response)}")
        try:
            data = response.json()
        except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
            return Retry(f"Slack {method}: not a JSON answer", maybe_landed=landed)
        if not isinstance(data, dict):
            return Retry(f"Slack {method}: unexpected answer", maybe_landed=landed)
        if data.get("ok") is True:
            return data
        error = str(data.get("error") or "unknown_error")
        if error in _RATE_LIMITED:
            return Retry(f"Slack {method}: {error}", _after(response, attempt))
        if error in _TRANSIENT:
            return Retry(f"Slack {method}: {error}", maybe_landed=landed)
        if error == "missing_scope" and data.get("needed"):
            error += f" (needs {data['needed']})"
        return Permanent(f"Slack {method}: {error}")

    async def probe(self, http: httpx.AsyncClient) -> Outcome | None:
        """`auth.test`: reads who the token belongs to; posts nothing."""
        result = await self._call(http, "auth.test", None, {}, read=True)
        if not isinstance(result, dict):
            return result
        who = clean_line(str(result.get("user") or "the bot"), 60)
        team = clean_line(str(result.get("team") or "its workspace"), 60)
        return Sent(
            note=f"bot token accepted (auth.test: {who} in {team}); posts to {self.channel}"
        )


def _table(value: Any, key: str) -> dict[str, Any]:
    """`value[key]` if both are JSON objects, else an empty one (answers may be malformed)."""
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, dict) else {}


def _posted_ts(message: Mapping[str, Any]) -> str | None:
    ts = message.get("ts")
    return ts if isinstance(ts, str) and ts else None


def _after(response: httpx.Response, attempt: Attempt | None) -> float | None:
    return retry_after(response, attempt.now() if attempt is not None else None)
