"""Reading the incident's Slack thread: a message as `conversations.replies` returns it becomes
entries.

- A message from the cockpit's own Slack app (matched by app id or bot id) carries entries in
  its metadata; those are the only messages that can change the incident's state.
- A person's message becomes a `note` with its original time and the author's Slack name.
- Another bot's message (an alert) becomes an `external` entry named after the bot.
- An edit becomes a correction, a deletion (a tombstone, or a message gone on a rescan) a
  correction saying so. Metadata on anything but our own app's messages is ignored.

Every entry made from a Slack message is *derived*: its uid, clock value and times come from the
message alone, so every laptop that reads the message makes the same entry. Its clock value is
the time of the text version it holds (the message `ts`, or the edit's), so a laptop that saw
the original keeps it when a later reader's copy (made from the edited text) meets it: the fold
keeps the copy with the smaller clock (`fold.preference`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from cockpit.domain import Kind
from cockpit.sync.entry import SyncEntry
from cockpit.sync.hlc import Hlc
from cockpit.sync.ids import SLACK_NODE, slack_deleted_uid, slack_edit_uid, slack_message_uid
from cockpit.sync.wire import EVENT_TYPES, WireEntry, WireError, decode

SLACK_AUTHOR = "Slack"
"""The author of a deletion: Slack does not say who deleted a message."""

NameLookup = Callable[[str], str | None]
"""A Slack id to a display name (cached `users.info`); None when unknown. Never raises."""

# Subtypes that are channel housekeeping, not something anyone said about the incident.
_HOUSEKEEPING = frozenset(
    {
        "channel_join",
        "channel_leave",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "group_join",
        "group_leave",
        "group_topic",
        "group_purpose",
        "group_name",
        "pinned_item",
        "unpinned_item",
        "reminder_add",
    }
)
_TS = re.compile(r"([0-9]{1,10})\.([0-9]{6})")
_EPOCH_START = datetime(1970, 1, 1, tzinfo=UTC)


def _nobody(_: str) -> str | None:
    return None


# ---- Slack's markup to plain text --------------------------------------------------------

_TOKEN = re.compile(r"<([^<>]*)>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")
_EPOCH = re.compile(r"[0-9]{1,11}")
_BROADCASTS = frozenset({"here", "channel", "everyone"})


def _entities(text: str) -> str:
    return _ENTITY.sub(lambda match: _ENTITIES[match.group(1)], text)


def decode_slack_text(
    text: str, user_name: NameLookup = _nobody, channel_name: NameLookup = _nobody
) -> str:
    """Slack message text as a person reads it: `<@U…>` → `@name`, `<#C…|name>` → `#name`,
    `<url|label>` → `label (url)`, `<!here>` → `@here`, `<!subteam^…|@team>` → `@team`,
    `<!date^…|fallback>` → the fallback, and `&amp;`, `&lt;`, `&gt;` decoded (once)."""
    parts: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        parts.append(_entities(text[position : match.start()]))
        parts.append(_token(match.group(1), user_name, channel_name))
        position = match.end()
    parts.append(_entities(text[position:]))
    return "".join(parts)


def _token(content: str, user_name: NameLookup, channel_name: NameLookup) -> str:
    target, _, label = content.partition("|")
    label = _entities(label)
    if target.startswith("@"):
        return "@" + (user_name(target[1:]) or label.lstrip("@") or target[1:])
    if target.startswith("#"):
        return "#" + (label or channel_name(target[1:]) or target[1:])
    if target.startswith("!"):
        word, _, rest = target[1:].partition("^")
        if word in _BROADCASTS:
            return "@" + word
        if word == "subteam":
            return label if label.startswith("@") else "@" + (label or rest)
        if word == "date":
            return label or _date(rest)
        return label or "@" + word
    url = _entities(target)
    if _SCHEME.match(url) is None:
        return f"<{_entities(content)}>"  # not Slack markup: show what was there
    if not label:
        return _bare(url) if url.startswith("mailto:") else url
    if label in (url, _bare(url)):
        return label  # Slack's own link around what was typed: `<http://x.io|x.io>`
    return f"{label} ({url})"


def _bare(url: str) -> str:
    for prefix in ("https://", "http://", "mailto:"):
        if url.startswith(prefix):
            return url[len(prefix) :]
    return url


def _date(rest: str) -> str:
    seconds = rest.partition("^")[0]
    if _EPOCH.fullmatch(seconds) is None:
        return "(a date)"
    return f"{datetime.fromtimestamp(int(seconds), UTC):%Y-%m-%d %H:%M} UTC"


# ---- Slack timestamps --------------------------------------------------------------------


def is_ts(value: object) -> bool:
    """True for a Slack message timestamp (`1732849200.123456`)."""
    return isinstance(value, str) and _TS.fullmatch(value) is not None


def ts_time(ts: str) -> datetime:
    """A Slack `ts` as an aware UTC datetime, in whole milliseconds (the precision of entries)."""
    return _EPOCH_START + timedelta(milliseconds=ts_ms(ts))


def ts_ms(ts: str) -> int:
    """A Slack `ts` in whole milliseconds since the epoch (for clock-skew measures)."""
    match = _TS.fullmatch(ts)
    if match is None:
        raise ValueError(f"not a Slack timestamp: {ts[:40]!r} (expected 1732849200.123456)")
    return int(match.group(1)) * 1000 + int(match.group(2)) // 1000


# ---- messages to entries -----------------------------------------------------------------


@dataclass(frozen=True)
class ThreadSource:
    """Where messages are read: the incident, its channel, and who "we" are on Slack (the
    cockpit's own app and bot ids, from `auth.test`), with name lookups for people."""

    gid: str
    channel: str
    app_id: str
    bot_id: str
    user_name: NameLookup = _nobody
    channel_name: NameLookup = _nobody

    def is_ours(self, message: Mapping[str, object]) -> bool:
        """True when the cockpit's own Slack app posted `message`."""
        profile = message.get("bot_profile")
        app_ids = [message.get("app_id")]
        if isinstance(profile, Mapping):
            app_ids.append(profile.get("app_id"))
        return (bool(self.app_id) and self.app_id in app_ids) or (
            bool(self.bot_id) and message.get("bot_id") == self.bot_id
        )


@dataclass(frozen=True)
class Imported:
    """What one message gives: entries, the reasons some could not be read, and the declarer's
    `INC-n` when it is the incident's root."""

    entries: tuple[WireEntry, ...] = ()
    problems: tuple[str, ...] = ()
    ref: str | None = None


def message_entries(message: object, source: ThreadSource) -> Imported:
    """The entries one message of the thread gives (see the module docstring)."""
    if not isinstance(message, Mapping):
        return Imported(problems=("a message that is not an object",))
    ts = message.get("ts")
    if not is_ts(ts):
        return Imported(problems=(f"a message without a valid ts ({str(ts)[:40]!r})",))
    assert isinstance(ts, str)
    subtype = _text_field(message, "subtype")
    if subtype in _HOUSEKEEPING:
        return Imported()
    if subtype == "tombstone":
        return Imported((WireEntry(deletion_entry(source.gid, source.channel, ts)),))
    if source.is_ours(message):
        return _our_message(message, source)
    return _said(message, ts, source)


def _our_message(message: Mapping[str, object], source: ThreadSource) -> Imported:
    metadata = message.get("metadata")
    event_type = metadata.get("event_type") if isinstance(metadata, Mapping) else None
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        return Imported()  # our own rendering (a status update, the headline): no entries
    try:
        received = decode(metadata, origin="slack")
    except WireError as exc:
        return Imported(problems=(str(exc),))
    if received.gid != source.gid:
        return Imported(problems=(f"{received.event_type}: entries of another incident",))
    return Imported(received.entries, received.rejected, received.ref)


def _said(message: Mapping[str, object], ts: str, source: ThreadSource) -> Imported:
    """A person's or another bot's message: a note or an external entry, and its edit."""
    bot = _text_field(message, "bot_id") or message.get("subtype") == "bot_message"
    user = _text_field(message, "user")
    if bot:
        kind, author = Kind.EXTERNAL, _bot_name(message)
        meta: dict[str, object] = {
            "source": "slack",
            "ts": ts,
            "bot_id": _text_field(message, "bot_id"),
        }
    else:
        kind, author = Kind.NOTE, _person_name(message, user, source)
        meta = {"source": "slack", "ts": ts, "user": user}
    text = _message_text(message, source)
    edited = message.get("edited")
    if not isinstance(edited, Mapping):
        edited = {}
    edited_ts = edited.get("ts")
    problems: tuple[str, ...] = ()
    if edited_ts is not None and not is_ts(edited_ts):
        problems = (f"message {ts}: an edit without a valid ts; imported as unedited",)
        edited_ts = None
    at = ts_time(ts)
    base_uid = slack_message_uid(source.gid, source.channel, ts)
    version = edited_ts if isinstance(edited_ts, str) else ts
    if version != ts:
        meta["edited_ts"] = version  # this copy holds the edited text: the original went unseen
    base = SyncEntry(
        uid=base_uid,
        hlc=Hlc(ts_ms(version), 0, SLACK_NODE),
        at=at,
        written_at=at,
        kind=kind,
        author=author,
        text=text,
        meta=meta,
        node=SLACK_NODE,
        origin="slack",
    )
    if version == ts:
        return Imported((WireEntry(base),), problems)
    editor = edited.get("user")
    edit_meta = {**meta, "edited_ts": version}
    if isinstance(editor, str) and editor and editor != user and not bot:
        edit_meta["edited_by"] = editor
    edit_at = ts_time(version)
    correction = replace(
        base,
        uid=slack_edit_uid(source.gid, source.channel, ts, version),
        at=edit_at,
        written_at=edit_at,
        meta=edit_meta,
        reason="edited in Slack",
        corrects_uid=base_uid,
    )
    return Imported((WireEntry(base), WireEntry(correction)), problems)


def deletion_entry(gid: str, channel: str, ts: str) -> SyncEntry:
    """The correction saying the message `ts` was deleted in Slack (a tombstone read, or a
    rescan that no longer finds a message this laptop imported). Dated at the message, since
    Slack does not say when it was deleted, so every laptop makes the same entry."""
    at = ts_time(ts)
    return SyncEntry(
        uid=slack_deleted_uid(gid, channel, ts),
        hlc=Hlc(ts_ms(ts), 0, SLACK_NODE),
        at=at,
        written_at=at,
        kind=Kind.SYSTEM,
        author=SLACK_AUTHOR,
        text="message deleted in Slack",
        meta={"source": "slack", "event": "deleted", "ts": ts},
        reason="deleted in Slack",
        corrects_uid=slack_message_uid(gid, channel, ts),
        node=SLACK_NODE,
        origin="slack",
    )


def _text_field(message: Mapping[str, object], key: str) -> str:
    value = message.get(key)
    return value if isinstance(value, str) else ""


def _person_name(message: Mapping[str, object], user: str, source: ThreadSource) -> str:
    name = source.user_name(user) if user else None
    if name:
        return name
    profile = message.get("user_profile")
    if isinstance(profile, Mapping):
        for key in ("display_name", "real_name", "name"):
            value = profile.get(key)
            if isinstance(value, str) and value.strip():
                return value
    return user or "someone on Slack"


def _bot_name(message: Mapping[str, object]) -> str:
    profile = message.get("bot_profile")
    if isinstance(profile, Mapping):
        name = profile.get("name")
        if isinstance(name, str) and name.strip():
            return name
    return _text_field(message, "username") or _text_field(message, "bot_id") or "a bot"


def _message_text(message: Mapping[str, object], source: ThreadSource) -> str:
    """The message's text, else its attachments' (alerts often have only those), plus the
    names of shared files."""
    parts = [_text_field(message, "text")]
    attachments = message.get("attachments")
    if not parts[0].strip() and isinstance(attachments, list):
        for attachment in attachments:
            if isinstance(attachment, Mapping):
                for key in ("fallback", "pretext", "title", "text"):
                    value = attachment.get(key)
                    if isinstance(value, str) and value.strip():
                        parts.append(value)
                        break
    text = decode_slack_text(
        "\n".join(p for p in parts if p.strip()), source.user_name, source.channel_name
    )
    files = message.get("files")
    if isinstance(files, list):
        names = [
            f.get("name") or f.get("title")
            for f in files
            if isinstance(f, Mapping) and isinstance(f.get("name") or f.get("title"), str)
        ]
        if names:
            text = (text + " " if text else "") + f"(files: {', '.join(str(n) for n in names)})"
    return text if text.strip() else "(a message without text)"
