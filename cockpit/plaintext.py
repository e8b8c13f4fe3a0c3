"""Typed text made fit for another service's plain-text fields: control characters out, one line
cut with an ellipsis, a long text cut with a visible marker, Slack's three entities escaped.

Pure functions, below both the delivery layer (`comms`, which adds each service's limits and
Slack's Block Kit sections) and the sync core (the Slack wire format and its echo lines).
"""

from __future__ import annotations

from cockpit.domain import strip_control


def clean(text: str) -> str:
    """User text without terminal escapes, control characters (newlines and tabs kept) or
    bidirectional controls (`strip_control`), and without trailing blank space."""
    return strip_control(text).rstrip()


def visible(text: str) -> bool:
    """Whether `text` has anything a target would show (not only space and controls)."""
    return bool(clean(text).strip())


def clean_line(text: str, limit: int) -> str:
    """One line of cleaned text (titles, names), cut to `limit` characters with an ellipsis."""
    line = " ".join(clean(text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def slack_escape(text: str) -> str:
    """Escape exactly `&`, `<` and `>` (in that order), so text can't ping or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_unescape(text: str) -> str:
    """What a person sees in Slack for escaped text (previews)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def truncation_marker(omitted: int) -> str:
    """The visible end of a cut text: how many characters were left out."""
    return f"… [truncated: {omitted:,} more characters]"


def truncate(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else a prefix and a marker within `limit`."""
    if len(text) <= limit:
        return text
    keep = limit - len(truncation_marker(len(text))) - 1
    return text[:keep].rstrip() + "\n" + truncation_marker(len(text) - keep)
