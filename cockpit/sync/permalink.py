"""`cockpit join PERMALINK`: the incident's thread from the link of its root message.

Slack's "Copy link" gives `https://<workspace>.slack.com/archives/<channel>/p<ts without the
dot>`; the link of a reply adds `?thread_ts=<root ts>&cid=<channel>`. Both name the thread
without an API call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

_CHANNEL = re.compile(r"[CG][A-Z0-9]{2,20}")
_MESSAGE = re.compile(r"p([0-9]{10})([0-9]{6})")
_TS = re.compile(r"[0-9]{10}\.[0-9]{6}")
_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+slack\.com")
_EXPECTED = "expected https://<workspace>.slack.com/archives/<channel>/p<16 digits>"


@dataclass(frozen=True)
class ThreadRef:
    """A thread: its channel id and the `ts` of its root message."""

    channel: str
    root_ts: str


def parse_permalink(link: str) -> ThreadRef:
    """The thread a message link points into; ValueError with a one-line reason otherwise."""
    text = link.strip().removeprefix("<").removesuffix(">")
    try:
        parts = urlsplit(text)
    except ValueError:
        raise ValueError(f"not a Slack message link: {_short(link)} ({_EXPECTED})") from None
    if parts.scheme.lower() != "https" or _HOST.fullmatch(parts.hostname or "") is None:
        raise ValueError(f"not a Slack message link: {_short(link)} ({_EXPECTED})")
    segments = parts.path.strip("/").split("/")
    if len(segments) != 3 or segments[0] != "archives":
        raise ValueError(f"not a link to a Slack message: {_short(link)} ({_EXPECTED})")
    channel, message = segments[1], segments[2]
    if _CHANNEL.fullmatch(channel) is None:
        raise ValueError(f"{channel!r} in {_short(link)} is not a channel id (C… or G…)")
    match = _MESSAGE.fullmatch(message)
    if match is None:
        raise ValueError(f"{message!r} in {_short(link)} is not a message (p and 16 digits)")
    root = f"{match.group(1)}.{match.group(2)}"
    query = parse_qs(parts.query)
    thread = query.get("thread_ts", [])
    cid = query.get("cid", [])
    if len(thread) > 1 or (thread and _TS.fullmatch(thread[0]) is None):
        raise ValueError(f"the thread_ts in {_short(link)} is not a Slack timestamp")
    if len(cid) > 1 or (cid and cid[0] != channel):
        raise ValueError(f"the link {_short(link)} names two different channels")
    return ThreadRef(channel, thread[0] if thread else root)


def _short(link: str) -> str:
    return repr(link if len(link) <= 120 else link[:117] + "...")
