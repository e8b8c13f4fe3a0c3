"""Text people give and text shown to them: limits, terminal safety, storable UTF-8, and how
unreadable stored values are flagged."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


def unreadable_note(unreadable: Mapping[str, str]) -> str:
    """How a row with stored values cockpit cannot read is flagged wherever it is shown."""
    if not unreadable:
        return ""
    return "⚠ unreadable " + ", ".join(
        f"{name}={raw if len(raw) <= 40 else raw[:39] + '…'!r}" for name, raw in unreadable.items()
    )


_UNSAFE = r"\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u206f"
_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI sequences (colours, cursor moves)
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC sequences (titles, hyperlinks)
    rf"|[{_UNSAFE}]"
)
_LINE_SEPARATORS = re.compile("[\u2028\u2029]")
UNSAFE_CHARACTER = re.compile(f"[{_UNSAFE}]")
"""One character `strip_control` removes: what must never reach a terminal raw."""


def strip_control(text: str) -> str:
    """Text made safe for a terminal: escape sequences, control characters and bidirectional
    controls removed; U+2028/U+2029 become newlines.

    Newlines and tabs are kept; callers that need one line replace them. Every path that
    writes text people or files provided to a terminal goes through this (or `one_line`).
    """
    return _LINE_SEPARATORS.sub("\n", _CONTROL.sub("", text))


def escape_unsafe(text: str) -> str:
    """`text` with each character `strip_control` would remove written as a `\\uXXXX` escape:
    for JSON (whose strings may hold C1 and bidi controls raw, which terminals obey) and any
    output whose reader must see exactly what was stored."""
    return UNSAFE_CHARACTER.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def storable(text: str) -> str:
    """Text that can be stored as UTF-8: lone surrogates (from undecodable input) become U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def one_line(text: str) -> str:
    """Terminal-safe single line: control characters removed, line breaks shown as ' ⏎ '."""
    return strip_control(text).replace("\r\n", "\n").replace("\n", " ⏎ ").replace("\t", " ")


# ---- limits on text people give -------------------------------------------------------------


@dataclass(frozen=True)
class TextLimit:
    """The most characters one kind of text may have. Longer text is refused whole, with one
    line that says so; it is never cut silently."""

    what: str  # "a timeline entry"
    chars: int

    def refusal(self, length: int | None = None, what: str | None = None) -> str:
        """The one line that refuses text of `length` characters (None: more than the limit)."""
        got = f"{length:,}" if length is not None else "more than that"
        return (
            f"{what or self.what} is limited to {self.chars:,} characters (got {got}); "
            "nothing was stored"
        )


ENTRY_TEXT = TextLimit("a timeline entry", 1_048_576)
"""Notes, actions, decisions and captured command output (`cockpit log -`)."""
UPDATE_TEXT = TextLimit("a status update", 25_000)
"""What customers read: Statuspage's limit, the largest any target accepts."""
POSTMORTEM_TEXT = TextLimit("a post-mortem field", 1_048_576)
"""Each post-mortem field (summary, impact, the whys together, …)."""
TITLE_TEXT = TextLimit("a title", 500)
"""Incident and action-item titles."""
NAME_TEXT = TextLimit("a name", 200)
"""People (role holders, owners, the author), services."""
REASON_TEXT = TextLimit("a reason", 2_000)
"""Why an entry is backdated."""


def is_file_stem(name: str) -> bool:
    """Whether `name` can only name a file in the folder it is looked up in (a runbook, a
    scenario): not empty, no separator, no NUL, not `.` or `..`. Names that arrive from another
    laptop or a hand-edited database are checked before they become a path."""
    stripped = name.strip()
    return bool(stripped) and stripped not in (".", "..") and not any(c in name for c in "/\\\0")


def closest(wanted: str, names: Iterable[str], *, prefix: bool = False) -> str | None:
    """The name `wanted` was probably meant to be: with `prefix`, the first name it begins
    (a key typed short), else the closest spelling; None when nothing is close."""
    names = list(names)
    if prefix:
        for name in names:
            if name.startswith(wanted.lower()):
                return name
    import difflib  # only to say which name was meant: `cockpit log` never loads it

    close = difflib.get_close_matches(wanted, names, n=1)
    return close[0] if close else None


def no_such_name(what: str, wanted: str, names: Iterable[str], see: str = "") -> str:
    """ "no runbook named 'x'; did you mean 'y'? (known: …)" for a lookup by file name."""
    names = list(names)
    close = closest(wanted, names)
    hint = f"; did you mean {close!r}?" if close else ""
    known = ", ".join(names) if names else "none"
    return f"no {what} named {wanted!r}{hint} (known: {known}{see})"
