"""Each service's size limits, and user text as Slack Block Kit sections within them.

Pure functions over `cockpit.plaintext` (cleaning, escaping, the truncation marker): Block Kit
and Statuspage limits respected by truncating with a visible marker instead of being rejected.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

from cockpit.plaintext import clean, slack_escape, truncation_marker

SLACK_SECTION_LIMIT = 3000
"""Characters in one section block's text (Block Kit rejects more)."""
SLACK_BLOCKS_BUDGET = 10_000
"""Characters of update text across all blocks; Slack rejects ~12,000 (msg_blocks_too_long)."""
SLACK_FALLBACK_LIMIT = 3000
"""The notification `text` beside blocks; chat.update rejects more than 4,000."""
STATUSPAGE_BODY_LIMIT = 25_000
STATUSPAGE_NAME_LIMIT = 255

_SLACK_COST = {"&": 5, "<": 4, ">": 4}


def slack_sections(
    text: str, *, limit: int = SLACK_SECTION_LIMIT, budget: int = SLACK_BLOCKS_BUDGET
) -> list[str]:
    """Cleaned text as escaped mrkdwn chunks, each within `limit`, together within `budget`.

    Lengths are measured after escaping and a chunk never ends inside an entity. Text over
    the budget is cut and ends with a truncation marker.
    """
    raw = clean(text)
    costs = list(accumulate(_SLACK_COST.get(ch, 1) for ch in raw))
    note = ""
    if costs and costs[-1] > budget:
        room = budget - len(truncation_marker(len(raw))) - 1
        keep = bisect_right(costs, room)
        note = truncation_marker(len(raw) - keep)
        raw, costs = raw[:keep], costs[:keep]
    chunks: list[str] = []
    start, spent = 0, 0
    while start < len(raw):
        end = bisect_right(costs, spent + limit, lo=start)
        if end < len(raw):
            # Prefer to break at a line or word boundary in the second half of the chunk.
            cut = max(raw.rfind("\n", start, end), raw.rfind(" ", start, end))
            if cut > start + (end - start) // 2:
                end = cut + 1
        piece = slack_escape(raw[start:end]).strip()
        if piece:
            chunks.append(piece)
        spent = costs[end - 1]
        start = end
    if note:
        if chunks and len(chunks[-1]) + 1 + len(note) <= limit:
            chunks[-1] += "\n" + note
        else:
            chunks.append(note)
    return chunks or ["(no text)"]


def slack_excerpt(text: str, limit: int) -> str:
    """The start of `text` as one escaped chunk within `limit` (fallbacks, root messages)."""
    return slack_sections(text, limit=limit, budget=limit)[0]
