"""Global identities: an incident's `gid`, an entry's `uid`, a database's `node`.

Random ids are 16 random bytes in hex (no `uuid` import: it costs `cockpit log` ~5 ms). Events
that several laptops may each record (an escalation, a Slack message read by everyone) get a
*derived* uid, a hash of the incident's gid and a name, so any number of writers make one entry.
"""

from __future__ import annotations

import os
import re

ID = re.compile(r"[0-9a-f]{32}")
"""A gid or uid: 32 lowercase hex digits."""
NODE = re.compile(r"[0-9a-f]{8,32}")
"""A node id: 8 to 32 lowercase hex digits (`new_node` makes 16)."""


def new_gid() -> str:
    """A fresh incident id, made once at declaration."""
    return os.urandom(16).hex()


def new_uid() -> str:
    """A fresh entry id for a local write."""
    return os.urandom(16).hex()


def new_node() -> str:
    """A fresh node id, made once per database (not the hostname: two laptops may share it)."""
    return os.urandom(8).hex()


def is_id(text: object) -> bool:
    """True for a well-formed gid or uid."""
    return isinstance(text, str) and ID.fullmatch(text) is not None


def is_node(text: object) -> bool:
    """True for a well-formed node id."""
    return isinstance(text, str) and NODE.fullmatch(text) is not None


def derived_uid(gid: str, name: str) -> str:
    """The uid every laptop computes for the event `name` of incident `gid` (hash of both)."""
    import hashlib  # here, not at the top: OpenSSL's start-up is not `cockpit log`'s to pay

    # The gid is hex, so a newline cannot occur in it: "gid\nname" is unambiguous.
    data = f"{gid}\n{name}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:32]


def escalation_uid(gid: str, runbook: str) -> str:
    """The escalation of `runbook` on incident `gid` (whichever laptop sees it due first)."""
    return derived_uid(gid, f"escalation:{runbook}")


def slack_message_uid(gid: str, channel: str, ts: str) -> str:
    """The entry a Slack message in the incident's thread becomes."""
    return derived_uid(gid, f"slack:{channel}:{ts}")


def slack_edit_uid(gid: str, channel: str, ts: str, edited_ts: str) -> str:
    """The correction one edit of a Slack message becomes."""
    return derived_uid(gid, f"slack:{channel}:{ts}:edit:{edited_ts}")


def slack_deleted_uid(gid: str, channel: str, ts: str) -> str:
    """The correction saying a Slack message was deleted."""
    return derived_uid(gid, f"slack:{channel}:{ts}:deleted")


SLACK_NODE = "0" * 16
"""The node of entries derived from Slack messages: no laptop wrote them, every laptop derives
them."""
