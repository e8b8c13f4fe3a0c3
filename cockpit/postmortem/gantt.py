"""The phases chart: a Mermaid gantt of the response, the statuses and the severities."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from cockpit.postmortem.report import Report
from cockpit.postmortem.times import utc_time


def gantt(r: Report) -> str:
    """The ```mermaid block: response phases, then a bar per status and per severity (UTC)."""
    m = r.metrics
    stamp = "YYYY-MM-DD HH:mm:ss"
    multi_day = m.end - m.impact_started_at > timedelta(hours=20)
    lines = [
        "```mermaid",
        "gantt",
        f"    title {r.incident.ref} phases (UTC)",
        f"    dateFormat {stamp}",
        f"    axisFormat {'%m-%d %H:%M' if multi_day else '%H:%M'}",
        "    section Response",
    ]
    ongoing = "" if m.is_resolved else " (ongoing)"
    phases = [
        ("Detection", m.impact_started_at, m.declared_at, "done"),
        ("Response to mitigation", m.declared_at, m.mitigated_at or m.end, "active"),
        ("Recovery", m.mitigated_at, m.end if m.mitigated_at else None, "active"),
    ]
    count = 0
    for label, start, end, tag in phases:
        if start is None or end is None or end <= start:
            continue
        if end == m.end:
            label += ongoing
        count += 1
        lines.append(f"    {label} :{tag}, p{count}, {_bar(start, end)}")
    for section, spans, tags in (
        ("Status", m.statuses, {}),
        ("Severity", m.severities, {m.peak_severity: "crit, "}),
    ):
        lines.append(f"    section {section}")
        for index, span in enumerate(spans, 1):
            tag = tags.get(span.value, "")
            ident = f"{section[:2].lower()}{index}"
            label = _mermaid_label(span.value)
            lines.append(f"    {label} :{tag}{ident}, {_bar(span.start, span.end)}")
    lines.append("```")
    return "\n".join(lines)


# Words Mermaid's gantt lexer reads as a statement (in any case) when a line starts with them:
# a task named so would break the chart or silently vanish from it.
_MERMAID_KEYWORD = re.compile(
    r"^(?:acc(?:title|descr|description)|call|click|href|gantt|dateformat|inclusiveenddates"
    r"|topaxis|axisformat|tickinterval|includes|excludes|todaymarker|weekday|weekend|title"
    r"|section)(?![a-z0-9])|^\d{4}-\d\d-\d\d(?![a-z0-9_])",
    re.IGNORECASE,
)


def _mermaid_label(text: str) -> str:
    """A task name Mermaid shows as it is: letters, digits, spaces and `._()+/-` only (`:`
    ends a name, `#` and `;` end a task, `%` starts a comment), quoted when it starts like a
    statement."""
    label = " ".join(re.sub(r"[^\w .()+/-]", " ", text).split()) or "-"
    return f'"{label}"' if _MERMAID_KEYWORD.match(label) else label


def _bar(start: datetime, end: datetime) -> str:
    """`start, end` to the second, the end at least a second after the start: a bar whose
    end equals its start is drawn as nothing."""
    first = start.replace(microsecond=0)
    last = max(end.replace(microsecond=0), first + timedelta(seconds=1))
    return f"{utc_time(first)}, {utc_time(last)}"
