"""Regenerate docs/drill-api-high-error-rate-2026-11-27.md: a drill of the bundled API scenario.

Run: .venv/bin/python docs/make_sample_scorecard.py [OUTPUT]

Plays `api-high-error-rate` at 10× on a throwaway drills database with a fixed wall clock,
through the same core calls the app and `cockpit --incident DRILL-n` make (injections written
as they fall due), the way a fair first try goes: acknowledged in time, the deploy found and
rolled back in the runbook's order, but no communicator after going to SEV-1, an update late,
and the escalation never recorded (no app was open to record it when it fell due).
Deterministic, so `tests/drills/test_sample_scorecard.py` can check the committed file.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cockpit.comms.publish import publish  # noqa: E402
from cockpit.config import Config, UserConfig  # noqa: E402
from cockpit.domain import Kind, Status  # noqa: E402
from cockpit.drills import play  # noqa: E402
from cockpit.drills.scorecard import render_markdown  # noqa: E402
from cockpit.runbooks import find_runbook, set_step  # noqa: E402
from cockpit.store.drills import DrillStore  # noqa: E402

OUTPUT = ROOT / "docs" / "drill-api-high-error-rate-2026-11-27.md"
WALL_START = datetime(2026, 11, 27, 2, 14, tzinfo=UTC)
SPEED = 10.0


class Wall:
    def __init__(self) -> None:
        self.now = WALL_START

    def __call__(self) -> datetime:
        return self.now

    def at_minute(self, minute: float) -> None:
        """Move the wall clock to the moment drill time reaches `minute`."""
        self.now = WALL_START + timedelta(minutes=minute) / SPEED


def play_sample(path: Path) -> str:
    config = Config(user=UserConfig(name="alice"))
    wall = Wall()
    with DrillStore.open(path, clock=wall) as store:
        drill = play.start(store, config, play.find(config, "api-high-error-rate"), wall=wall)
        runbook = find_runbook(config.runbook_dirs, drill.scenario.runbook)

        def at(minute: float) -> None:
            wall.at_minute(minute)
            play.inject_due(store, drill)

        at(2)
        store.assign(drill.id, "commander", "alice", "alice")
        set_step(store, drill.id, runbook, 1, True, "alice")
        at(4)
        store.append(drill.id, Kind.NOTE, "api v142 went out at 02:01, errors since 02:03", "alice")
        set_step(store, drill.id, runbook, 2, True, "alice")
        at(6)
        store.set_severity(drill.id, "SEV-1", "alice")
        at(9)
        publish(
            store, config, drill.id, "We are investigating failed checkouts.", None, "alice", wall
        )
        at(11)
        store.append(drill.id, Kind.ACTION, "rollout undo deploy/api (back to v141)", "alice")
        set_step(store, drill.id, runbook, 6, True, "alice")
        at(19)
        store.set_status(drill.id, Status.MONITORING, "alice")
        at(31)
        store.set_status(drill.id, Status.IDENTIFIED, "alice")
        at(42)
        publish(store, config, drill.id, "Checkout works again.", None, "alice", wall)
        set_step(store, drill.id, runbook, 9, True, "alice")
        at(44)
        publish(
            store,
            config,
            drill.id,
            "Resolved.",
            Status.RESOLVED,
            "alice",
            wall,
            template="resolution",
        )
        store.set_status(drill.id, Status.RESOLVED, "alice")
        drill = play.settle(store, config, drill)
        return render_markdown(play.score(store, config, drill))


def main() -> None:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT
    with tempfile.TemporaryDirectory() as tmp:
        text = play_sample(Path(tmp) / "sample-drills.db")
    output.write_text(text, encoding="utf-8")
    print(output)


if __name__ == "__main__":
    main()
