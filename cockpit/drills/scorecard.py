"""The scorecard of a played drill: its checks, its score, and how it is written down.

Written as GitHub-flavoured Markdown (`drill-<scenario>-<date>.md`) with the post-mortem's
escaping, so every name people typed shows as typed and cannot break the document, and as a
JSON-able dict (`cockpit drill score --json`).

The score counts every area the same: it is the average, over the areas scored, of the share
of that area's checks met, out of 100 (rounded). An area that does not apply is listed as not
scored rather than counted as met.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cockpit.domain import format_utc
from cockpit.drills.clock import format_speed
from cockpit.markdown import md_cell, md_heading, md_table
from cockpit.postmortem.export import slug

AREAS = (
    "acknowledge",
    "updates",
    "roles",
    "runbook",
    "escalation",
    "resolution",
    "mitigate",
    "resolve",
    "severity",
)
"""The areas a drill is scored on, in the order the scorecard lists them."""
AREA_NAMES = {
    "acknowledge": "acknowledgement",
    "updates": "update deadlines",
    "roles": "roles",
    "runbook": "runbook",
    "escalation": "escalation",
    "resolution": "resolution update",
    "mitigate": "mitigation",
    "resolve": "resolution",
    "severity": "severity",
}


def minutes_between(start: datetime, end: datetime) -> float:
    """Drill minutes from `start` to `end`."""
    return (end - start) / timedelta(minutes=1)


def minutes(value: float) -> str:
    """`12 min`, `2.5 min`: a span of drill minutes, to one decimal."""
    return f"{round(value, 1):g} min"


def minute(value: float) -> str:
    """`minute 12`: a drill moment, in minutes after the page."""
    return f"minute {round(value, 1):g}"


@dataclass(frozen=True)
class Check:
    """One thing the drill is scored on: what was expected, what happened, met or not."""

    id: str  # stable: "acknowledge", "update-2", "role-communicator", ...
    area: str  # one of AREAS
    name: str
    expected: str
    actual: str
    passed: bool
    detail: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "area": self.area,
            "name": self.name,
            "expected": self.expected,
            "actual": self.actual,
            "passed": self.passed,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class NotScored:
    """An area left out of the score, and why."""

    area: str
    reason: str


@dataclass(frozen=True)
class Scorecard:
    """A played drill, scored."""

    drill: str  # "DRILL-3"
    scenario: str  # the scenario's name
    title: str
    speed: float
    played_at: datetime  # the wall moment the drill started
    started_at: datetime  # drill time zero (the page)
    ended_at: datetime  # the drill moment it was resolved, or abandoned
    resolved: bool
    checks: tuple[Check, ...]
    not_scored: tuple[NotScored, ...] = ()
    acknowledge_minutes: float | None = None  # page to the first status update
    deadlines_missed: int = 0
    mitigate_minutes: float | None = None
    resolve_minutes: float | None = None

    @property
    def score(self) -> int:
        """0 to 100: the mean, over the areas scored, of the share of their checks met."""
        shares = []
        for area in AREAS:
            checks = [check for check in self.checks if check.area == area]
            if checks:
                shares.append(sum(check.passed for check in checks) / len(checks))
        return round(100 * sum(shares) / len(shares)) if shares else 0

    @property
    def duration_minutes(self) -> float:
        return minutes_between(self.started_at, self.ended_at)

    def check(self, check_id: str) -> Check:
        """The check with this id; LookupError otherwise."""
        for check in self.checks:
            if check.id == check_id:
                return check
        raise LookupError(f"no check {check_id!r} on this scorecard")

    def to_json(self) -> dict[str, object]:
        """The stable JSON shape of `cockpit drill score --json`."""
        return {
            "drill": self.drill,
            "scenario": self.scenario,
            "title": self.title,
            "speed": self.speed,
            "played_at": format_utc(self.played_at),
            "started_at": format_utc(self.started_at),
            "ended_at": format_utc(self.ended_at),
            "duration_minutes": round(self.duration_minutes, 1),
            "resolved": self.resolved,
            "score": self.score,
            "checks": [check.to_json() for check in self.checks],
            "not_scored": [{"area": n.area, "reason": n.reason} for n in self.not_scored],
            "figures": {
                "acknowledge_minutes": _rounded(self.acknowledge_minutes),
                "deadlines_missed": self.deadlines_missed,
                "mitigate_minutes": _rounded(self.mitigate_minutes),
                "resolve_minutes": _rounded(self.resolve_minutes),
            },
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def scorecard_filename(card: Scorecard) -> str:
    """`drill-api-high-error-rate-2026-11-27.md` (the date the drill was played, UTC)."""
    return f"drill-{slug(card.scenario)}-{format_utc(card.played_at)[:10]}.md"


SCORE_NOTE = (
    "Every area counts the same: the score is the average, over the areas scored, of the share "
    "of that area's checks met. Times are drill minutes after the page. This was a drill: "
    "nothing was sent to anyone."
)


def _inline(text: str) -> str:
    # One line, escaped: a line break in a list item could start a new block.
    return md_heading(text)


def render_markdown(card: Scorecard) -> str:
    """The scorecard as GitHub-flavoured Markdown; every name people typed is escaped."""
    played = format_utc(card.played_at)
    ended = f"{minute(card.duration_minutes)}, " + (
        "resolved" if card.resolved else "abandoned before it was resolved"
    )
    lines = [
        f"# Drill scorecard: {md_heading(card.title)}",
        "",
        f"- **Drill:** {_inline(card.drill)}, scenario {_inline(card.scenario)}",
        f"- **Played:** {played[:10]} {played[11:16]} UTC at {format_speed(card.speed)}",
        f"- **Ended:** {ended}",
        f"- **Score:** {card.score} / 100",
        "",
        "## Checks",
        "",
    ]
    rows = [
        [
            "✅ met" if check.passed else "❌ missed",
            md_cell(check.name),
            md_cell(check.expected),
            md_cell(check.actual),
            md_cell(check.detail),
        ]
        for check in card.checks
    ]
    lines.append(md_table(["Result", "Check", "Expected", "Actual", "Detail"], rows))
    if card.not_scored:
        lines += ["", "## Not scored", ""]
        lines += [
            f"- {AREA_NAMES.get(n.area, n.area).capitalize()}: {_inline(n.reason)}"
            for n in card.not_scored
        ]
    lines += ["", "## How the score is computed", "", SCORE_NOTE, ""]
    return "\n".join(lines)
