"""The team's trend across drills: time to acknowledge, deadlines missed and the score.

Pure: it reads scorecards (or the JSON the store keeps of them) and compares the latest drill
with the average of the ones before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from cockpit.domain import format_utc, parse_utc
from cockpit.drills.scorecard import Scorecard


@dataclass(frozen=True)
class DrillResult:
    """What the history keeps of one drill."""

    drill: str
    scenario: str
    played_at: datetime
    score: int
    acknowledge_minutes: float | None  # None: never acknowledged
    deadlines_missed: int
    resolved: bool

    @classmethod
    def of(cls, card: Scorecard) -> DrillResult:
        return cls(
            card.drill,
            card.scenario,
            card.played_at,
            card.score,
            card.acknowledge_minutes,
            card.deadlines_missed,
            card.resolved,
        )

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> DrillResult:
        """From `Scorecard.to_json()`; ValueError naming the field that is missing or wrong."""
        figures = data.get("figures")
        if not isinstance(figures, Mapping):
            raise ValueError("drill result: figures: missing")
        ack = figures.get("acknowledge_minutes")
        if ack is not None and (isinstance(ack, bool) or not isinstance(ack, int | float)):
            raise ValueError("drill result: figures.acknowledge_minutes: expected a number")
        played = _text(data, "played_at")
        try:
            played_at = parse_utc(played)
        except ValueError:
            raise ValueError(f"drill result: played_at: not a time: {played!r}") from None
        return cls(
            drill=_text(data, "drill"),
            scenario=_text(data, "scenario"),
            played_at=played_at,
            score=_whole(data.get("score"), "score"),
            acknowledge_minutes=None if ack is None else float(ack),
            deadlines_missed=_whole(figures.get("deadlines_missed"), "figures.deadlines_missed"),
            resolved=data.get("resolved") is True,
        )


def _text(data: Mapping[str, object], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise ValueError(f"drill result: {name}: expected a string")
    return value


def _whole(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"drill result: {name}: expected a whole number")
    return value


@dataclass(frozen=True)
class Trend:
    """One figure across drills: the latest against the average of the earlier ones."""

    values: tuple[float | None, ...]  # oldest first; None where the drill has no figure
    lower_is_better: bool

    @property
    def latest(self) -> float | None:
        return self.values[-1] if self.values else None

    @property
    def earlier_average(self) -> float | None:
        earlier = [value for value in self.values[:-1] if value is not None]
        return sum(earlier) / len(earlier) if earlier else None

    @property
    def direction(self) -> str:
        """ "better", "worse", "same", or "n/a" with fewer than two figures to compare."""
        latest, before = self.latest, self.earlier_average
        if latest is None or before is None:
            return "n/a"
        if abs(latest - before) < 0.05:
            return "same"
        improved = latest < before if self.lower_is_better else latest > before
        return "better" if improved else "worse"


@dataclass(frozen=True)
class History:
    """Drills oldest first, and the trend of the figures that matter."""

    drills: tuple[DrillResult, ...]

    @property
    def acknowledge(self) -> Trend:
        return Trend(tuple(d.acknowledge_minutes for d in self.drills), lower_is_better=True)

    @property
    def deadlines_missed(self) -> Trend:
        return Trend(tuple(float(d.deadlines_missed) for d in self.drills), lower_is_better=True)

    @property
    def score(self) -> Trend:
        return Trend(tuple(float(d.score) for d in self.drills), lower_is_better=False)

    def to_json(self) -> dict[str, object]:
        def trend(t: Trend) -> dict[str, object]:
            average = t.earlier_average
            return {
                "latest": t.latest,
                "earlier_average": None if average is None else round(average, 1),
                "direction": t.direction,
            }

        return {
            "drills": [
                {
                    "drill": d.drill,
                    "scenario": d.scenario,
                    "played_at": format_utc(d.played_at),
                    "score": d.score,
                    "acknowledge_minutes": d.acknowledge_minutes,
                    "deadlines_missed": d.deadlines_missed,
                    "resolved": d.resolved,
                }
                for d in self.drills
            ],
            "trend": {
                "acknowledge_minutes": trend(self.acknowledge),
                "deadlines_missed": trend(self.deadlines_missed),
                "score": trend(self.score),
            },
        }


def drill_history(
    results: Iterable[DrillResult | Scorecard], scenario: str | None = None
) -> History:
    """The drills (of one scenario, if named) in the order they were played."""
    drills: Sequence[DrillResult] = [
        result if isinstance(result, DrillResult) else DrillResult.of(result) for result in results
    ]
    if scenario is not None:
        drills = [d for d in drills if d.scenario == scenario]
    return History(tuple(sorted(drills, key=lambda d: (d.played_at, d.drill))))
