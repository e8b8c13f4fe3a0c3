"""The wire format: entries in Slack message metadata, and the line each echo shows people.

One entry travels as `event_type: cockpit_entry`, several as `cockpit_entries` (an array of flat
entry objects), and the thread's root message as `cockpit_incident` (the declared entry plus the
declarer's `INC-n`). Slack allows payload values that are strings, numbers, booleans, flat
objects or arrays of flat objects, so every entry field is a string or a whole number and `meta`
travels as a JSON string. `v` is the format's version; a newer one is refused with a reason.

Strings travel as themselves unless they hold a character that JSON or Slack may not carry
intact: lone surrogates (UTF-8 cannot encode them: httpx's `json=` raises UnicodeEncodeError,
and what Slack does with a `\\ud800` escape is undocumented), C0 and C1 controls other than tab and
newline, and U+FFFE/U+FFFF. Such a field is sent escaped (`\\\\` for a backslash, `\\uXXXX` for
those characters) and named in the entry's `x` field, so every text round-trips exactly and
everything else stays readable.

Text is capped at `TEXT_CAP_BYTES` with a visible marker, until Slack's unpublished metadata
limit is measured; a cut entry carries the full length and a SHA-256 so a receiver knows its copy
is incomplete (`WireEntry.truncated`).

The file exchange (`cockpit sync export | import`) carries the same metadata objects as JSON lines.
"""

from __future__ import annotations

import hashlib
import json
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate

from cockpit.domain import Kind, format_utc, parse_utc, storable
from cockpit.plaintext import clean_line, slack_escape, truncation_marker
from cockpit.sync.entry import Origin, SyncEntry, entry_problem, is_declared, is_stamp
from cockpit.sync.hlc import parse_hlc
from cockpit.sync.ids import is_id

EVENT_INCIDENT = "cockpit_incident"
EVENT_ENTRY = "cockpit_entry"
EVENT_ENTRIES = "cockpit_entries"
EVENT_TYPES = frozenset({EVENT_INCIDENT, EVENT_ENTRY, EVENT_ENTRIES})
VERSION = 1

TEXT_CAP_BYTES = 8000
"""UTF-8 bytes of an entry's text on the wire (after escaping), marker included."""
BATCH_CAP_BYTES = 16_000
"""Bytes of one `cockpit_entries` payload as JSON; an entry larger on its own goes alone."""
BATCH_MAX_ENTRIES = 50
ECHO_TEXT_LIMIT = 300
"""Characters of an entry's text in the line people read in the thread."""

Metadata = dict[str, object]
"""Slack's `metadata` object: `{"event_type": …, "event_payload": {…}}`."""


class WireError(ValueError):
    """A payload that cannot be imported, with the reason in one line."""


@dataclass(frozen=True)
class Truncation:
    """The text was cut for the wire: its full length (characters) and SHA-256 (hex)."""

    length: int
    sha256: str


@dataclass(frozen=True)
class WireEntry:
    """One decoded entry; `truncated` is set when its text is only the start of the original."""

    entry: SyncEntry
    truncated: Truncation | None = None


@dataclass(frozen=True)
class Received:
    """What one message's metadata held: the incident's gid, its entries, the reasons for the
    entries of a batch that could not be read, and the declarer's `INC-n` for a root message."""

    event_type: str
    gid: str
    entries: tuple[WireEntry, ...]
    rejected: tuple[str, ...] = ()
    ref: str | None = None


# ---- strings that survive JSON and Slack ---------------------------------------------------

_AWKWARD = "\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
_NEEDS_ESCAPE = re.compile(f"[{_AWKWARD}]")
_ESCAPABLE = re.compile(f"[{_AWKWARD}\\\\]")
_ESCAPE = re.compile(r"\\(?:(\\)|u([0-9a-f]{4}))?")
_ESCAPED_FIELDS = ("author", "text", "reason", "meta")
_SHA256 = re.compile("[0-9a-f]{64}")
_REQUIRED = ("uid", "node", "hlc", "at", "written_at", "kind", "author", "text", "meta")
_EXAMPLE_TIME = "2026-11-27T02:14:05.123Z"


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return "\\\\" if char == "\\" else f"\\u{ord(char):04x}"


def _wire_str(value: str) -> tuple[str, bool]:
    """`value` as sent, and whether it had to be escaped."""
    if _NEEDS_ESCAPE.search(value) is None:
        return value, False
    return _ESCAPABLE.sub(_escape_char, value), True


def _unescape(value: str, name: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return "\\"
        if match.group(2):
            return chr(int(match.group(2), 16))
        raise WireError(f"{name}: a backslash that starts no escape")

    return _ESCAPE.sub(replace, value)


def text_digest(text: str) -> str:
    """SHA-256 (hex) of a text as the wire counts it (UTF-8, lone surrogates kept)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _cap(text: str) -> tuple[str, bool, Truncation | None]:
    """The text's wire form within `TEXT_CAP_BYTES`, whether escaped, and how it was cut."""
    wire, escaped = _wire_str(text)
    if len(wire.encode()) <= TEXT_CAP_BYTES:
        return wire, escaped, None
    marker = "\n" + truncation_marker(len(text))  # the longest marker this text can need
    costs = accumulate(_char_cost(char, escaped) for char in text)
    keep = bisect_right(list(costs), TEXT_CAP_BYTES - len(marker.encode()))
    cut = text[:keep] + "\n" + truncation_marker(len(text) - keep)
    wire, escaped = _wire_str(cut)
    return wire, escaped, Truncation(len(text), text_digest(text))


def _char_cost(char: str, escaped: bool) -> int:
    if escaped and char == "\\":
        return 2
    if escaped and _NEEDS_ESCAPE.match(char):
        return 6
    return len(char.encode("utf-8", "surrogatepass"))


# ---- encoding ------------------------------------------------------------------------------


def _entry_fields(entry: SyncEntry) -> dict[str, object]:
    problem = entry_problem(entry)
    if problem:
        raise ValueError(f"entry {entry.uid!r} cannot be sent: {problem}")
    try:
        meta = json.dumps(
            entry.meta, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"entry {entry.uid}: meta is not JSON ({exc})") from None
    text, text_escaped, truncated = _cap(entry.text)
    fields: dict[str, object] = {
        "uid": entry.uid,
        "node": entry.node,
        "hlc": str(entry.hlc),
        "at": format_utc(entry.at),
        "written_at": format_utc(entry.written_at),
        "kind": entry.kind.value,
    }
    escaped = ["text"] if text_escaped else []
    for name, value in (("author", entry.author), ("meta", meta), ("reason", entry.reason)):
        if value is not None:
            fields[name], was_escaped = _wire_str(value)
            if was_escaped:
                escaped.append(name)
    fields["text"] = text
    if truncated:
        fields["text_len"] = truncated.length
        fields["text_sha256"] = truncated.sha256
    if entry.corrects_uid:
        fields["corrects_uid"] = entry.corrects_uid
    if entry.supersedes:
        fields["supersedes"] = entry.supersedes
    if escaped:
        fields["x"] = ",".join(sorted(escaped))
    return fields


def _check_gid(gid: str) -> None:
    if not is_id(gid):
        raise ValueError(f"not an incident gid: {gid!r}")


def encode_entry(gid: str, entry: SyncEntry) -> Metadata:
    """One entry of incident `gid` as message metadata."""
    _check_gid(gid)
    payload = {"v": VERSION, "gid": gid, **_entry_fields(entry)}
    return {"event_type": EVENT_ENTRY, "event_payload": payload}


def encode_batches(
    gid: str,
    entries: Iterable[SyncEntry],
    budget: int = BATCH_CAP_BYTES,
    most: int = BATCH_MAX_ENTRIES,
) -> list[Metadata]:
    """Entries of incident `gid` as few messages' metadata, in the order given: each batch
    within `budget` bytes of JSON and `most` entries (a single entry travels as `cockpit_entry`)."""
    _check_gid(gid)
    envelope = len(json.dumps({"v": VERSION, "gid": gid, "entries": []}).encode())
    batches: list[list[dict[str, object]]] = []
    size = 0
    for entry in entries:
        fields = _entry_fields(entry)
        cost = len(json.dumps(fields, ensure_ascii=False).encode()) + len(", ")
        if not batches or len(batches[-1]) >= most or size + cost > budget:
            batches.append([])
            size = envelope
        batches[-1].append(fields)
        size += cost
    encoded: list[Metadata] = []
    for batch in batches:
        if len(batch) == 1:
            payload: dict[str, object] = {"v": VERSION, "gid": gid, **batch[0]}
            encoded.append({"event_type": EVENT_ENTRY, "event_payload": payload})
        else:
            payload = {"v": VERSION, "gid": gid, "entries": batch}
            encoded.append({"event_type": EVENT_ENTRIES, "event_payload": payload})
    return encoded


def encode_incident(gid: str, declared: SyncEntry, ref: str) -> Metadata:
    """The thread root's metadata: the declared entry, readable copies of its title, service
    and severity, and the declarer's local `INC-n`."""
    _check_gid(gid)
    if not is_declared(declared):
        raise ValueError("the root message carries the entry that declared the incident")
    payload: dict[str, object] = {"v": VERSION, "gid": gid, "ref": ref}
    for name in ("title", "service", "severity"):
        payload[name] = _wire_str(str(declared.meta.get(name, "")))[0]
    payload.update(_entry_fields(declared))
    return {"event_type": EVENT_INCIDENT, "event_payload": payload}


# ---- decoding ------------------------------------------------------------------------------


def decode(metadata: object, *, origin: Origin = "slack") -> Received:
    """A message's metadata (or a line of a sync file) back to entries.

    Raises `WireError` for anything this version cannot read; in a batch, an unreadable entry
    is skipped and its reason listed in `rejected`. Never raises anything else.
    """
    if not isinstance(metadata, Mapping):
        raise WireError("metadata is not an object")
    event_type = metadata.get("event_type")
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        raise WireError(f"not a cockpit payload (event_type {_shown(event_type)})")
    payload = metadata.get("event_payload")
    if not isinstance(payload, Mapping):
        raise WireError(f"{event_type}: event_payload is not an object")
    version = payload.get("v")
    if not _is_int(version):
        raise WireError(f"{event_type}: no format version (v)")
    if version != VERSION:
        raise WireError(f"{event_type}: format version {version}; this cockpit reads {VERSION}")
    gid = payload.get("gid")
    if not is_id(gid):
        raise WireError(f"{event_type}: gid {_shown(gid)} is not 32 hex digits")
    assert isinstance(gid, str)
    if event_type == EVENT_ENTRIES:
        return _decode_batch(gid, payload, origin)
    entry = _decode_entry(payload, origin, event_type)
    if event_type == EVENT_ENTRY:
        return Received(event_type, gid, (entry,))
    return Received(event_type, gid, (entry,), ref=_decode_root(payload, entry.entry))


def _decode_batch(gid: str, payload: Mapping[str, object], origin: Origin) -> Received:
    items = payload.get("entries")
    if not isinstance(items, list) or not items:
        raise WireError(f"{EVENT_ENTRIES}: entries is not a non-empty array")
    entries: list[WireEntry] = []
    rejected: list[str] = []
    for index, item in enumerate(items):
        try:
            entries.append(_decode_entry(item, origin, f"{EVENT_ENTRIES}[{index}]"))
        except WireError as exc:
            rejected.append(str(exc))
    return Received(EVENT_ENTRIES, gid, tuple(entries), tuple(rejected))


def _decode_root(payload: Mapping[str, object], declared: SyncEntry) -> str:
    if not is_declared(declared):
        raise WireError(f"{EVENT_INCIDENT}: the root does not carry the declared entry")
    ref = payload.get("ref")
    if not isinstance(ref, str):
        raise WireError(f"{EVENT_INCIDENT}: ref is not a string")
    for name in ("title", "service", "severity"):
        copy = payload.get(name)
        if copy is not None and copy != _wire_str(str(declared.meta.get(name, "")))[0]:
            raise WireError(f"{EVENT_INCIDENT}: {name} disagrees with the declared entry")
    return ref


def _decode_entry(item: object, origin: Origin, where: str) -> WireEntry:
    if not isinstance(item, Mapping):
        raise WireError(f"{where}: not an object")
    fields = _Fields(item, where)
    escaped = set((fields.optional("x") or "").split(",")) - {""}
    unknown = escaped - set(_ESCAPED_FIELDS)
    if unknown:
        raise WireError(f"{where}: x names fields that are never escaped: {sorted(unknown)}")

    raw = {name: fields.text(name) for name in _REQUIRED}  # each missing one named in order
    for name in ("reason", "corrects_uid", "supersedes"):
        value = fields.optional(name)
        if value is not None:
            raw[name] = value
    for name in escaped & raw.keys():
        raw[name] = _unescape(raw[name], f"{where}.{name}")
    try:
        meta = json.loads(raw["meta"], parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise WireError(f"{where}.meta is not JSON ({str(exc)[:80]})") from None
    if not isinstance(meta, dict):
        raise WireError(f"{where}.meta is not a JSON object")
    if not (is_stamp(raw["at"]) and is_stamp(raw["written_at"])):
        raise WireError(f"{where}: at and written_at must be UTC times like {_EXAMPLE_TIME}")
    try:
        hlc = parse_hlc(raw["hlc"])
        kind = Kind(raw["kind"])
    except ValueError as exc:
        raise WireError(f"{where}: {exc}") from None
    entry = SyncEntry(
        uid=raw["uid"],
        hlc=hlc,
        at=parse_utc(raw["at"]),
        written_at=parse_utc(raw["written_at"]),
        kind=kind,
        author=raw["author"],
        text=raw["text"],
        meta=meta,
        reason=raw.get("reason"),
        corrects_uid=raw.get("corrects_uid"),
        supersedes=raw.get("supersedes"),
        node=raw["node"],
        origin=origin,
    )
    problem = entry_problem(entry)
    if problem:
        raise WireError(f"{where}: {problem}")
    return WireEntry(entry, _truncation(fields, entry.text, where))


def _truncation(fields: _Fields, text: str, where: str) -> Truncation | None:
    length = fields.item.get("text_len")
    digest = fields.item.get("text_sha256")
    if length is None and digest is None:
        return None
    if not _is_int(length) or not isinstance(digest, str):
        raise WireError(f"{where}: a cut text needs both text_len and text_sha256")
    assert isinstance(length, int)
    if length < 1 or _SHA256.fullmatch(digest) is None:
        raise WireError(f"{where}: text_len or text_sha256 does not describe a cut text")
    return Truncation(length, digest)


class _Fields:
    """Typed reads of one payload object, each failure a `WireError` naming the field."""

    def __init__(self, item: Mapping[object, object], where: str) -> None:
        self.item = item
        self.where = where

    def text(self, name: str) -> str:
        value = self.item.get(name)
        if not isinstance(value, str):
            raise WireError(f"{self.where}.{name} is {_kind_of(value)}, not a string")
        return value

    def optional(self, name: str) -> str | None:
        """A string field that may be absent (or null)."""
        return None if self.item.get(name) is None else self.text(name)


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON allows")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind_of(value: object) -> str:
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    return "an object" if isinstance(value, dict) else f"a {type(value).__name__}"


def _shown(value: object) -> str:
    return repr(value)[:60]


# ---- the file exchange --------------------------------------------------------------------


def dumps_line(metadata: Metadata) -> str:
    """One line of a sync file (no newline at the end)."""
    return json.dumps(metadata, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def loads_line(line: str) -> object:
    """A line of a sync file back to metadata for `decode`; WireError when it is not JSON."""
    try:
        return json.loads(line, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise WireError(f"not a JSON line ({str(exc)[:80]})") from None


# ---- what people read in the thread -------------------------------------------------------


def echo_line(entry: SyncEntry) -> str:
    """ "02:14 · action · dave: rolled back api v142" as Slack mrkdwn: the time is a Slack date
    token (each reader sees local time; the fallback is UTC) and user text is escaped."""
    seconds = int(entry.at.timestamp())
    when = f"<!date^{seconds}^{{time}}|{entry.at:%H:%M} UTC>"
    kind = entry.kind.value + (" (correction)" if entry.corrects_uid else "")
    # Slack's text field must be valid UTF-8: lone surrogates become U+FFFD here (only here).
    author = slack_escape(clean_line(storable(entry.author), 80)) or "?"
    text = slack_escape(clean_line(storable(entry.text), ECHO_TEXT_LIMIT))
    return f"{when} · {kind} · {author}: {text}"


def echo_text(entries: Sequence[SyncEntry]) -> str:
    """The text of one echo message: a line per entry."""
    return "\n".join(echo_line(entry) for entry in entries)
