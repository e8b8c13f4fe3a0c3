"""What a person sees: every shipped runbook as a checklist at 80×24, and the runbook picker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from cockpit.config import PACKAGE_RUNBOOKS, Config, UserConfig
from cockpit.domain import frozen_clock
from cockpit.runbooks import find_runbook, set_step
from cockpit.store import Store
from cockpit.tui.app import CockpitApp, make_app

DECLARED = datetime(2026, 11, 27, 2, 14, tzinfo=UTC)
NOW = DECLARED + timedelta(minutes=12, seconds=30)
BUNDLED = sorted(path.stem for path in PACKAGE_RUNBOOKS.glob("*.md"))


def runbook_app(tmp_path: Path, name: str | None, ticked: tuple[int, ...] = ()) -> CockpitApp:
    """A SEV-2 declared 12½ minutes ago with runbook `name` linked; the bundled runbooks only."""
    config = Config(user=UserConfig(name="tester"))
    with Store.open(tmp_path / "cockpit.db", clock=frozen_clock(DECLARED)) as store:
        incident = store.declare(
            "Checkout API errors", "SEV-2", "alice", runbook=name, roles={"commander": "alice"}
        )
        if name is not None:
            runbook = find_runbook(config.runbook_dirs, name)
            for number in ticked:
                set_step(store, incident.id, runbook, number, True, "alice")
    return make_app(config, tmp_path / "cockpit.db", frozen_clock(NOW))


@pytest.mark.parametrize("name", BUNDLED)
def test_shipped_runbook_at_80x24(snap_compare: Any, tmp_path: Path, name: str) -> None:
    async def select_third_step(pilot: Pilot[int]) -> None:
        await pilot.press("tab", "down", "down")
        await pilot.pause()

    app = runbook_app(tmp_path, name, ticked=(1, 2))
    assert snap_compare(app, terminal_size=(80, 24), run_before=select_third_step)


def test_runbook_picker_at_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(runbook_app(tmp_path, None), terminal_size=(80, 24), press=["b"])
