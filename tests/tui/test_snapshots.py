"""What a person sees: the demo incident at 80x24 and 160x48, with a frozen clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.tui.conftest import demo_app


async def settle(pilot: Pilot[Any]) -> None:
    """Let the runbook Markdown and the timeline's scroll-to-bottom finish."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_demo_at_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(demo_app(tmp_path), terminal_size=(80, 24), run_before=settle)


def test_demo_at_160x48(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(demo_app(tmp_path), terminal_size=(160, 48), run_before=settle)
