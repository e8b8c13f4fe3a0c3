"""What other processes write appears on screen within a second, without a full re-read."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from cockpit.config import Config
from cockpit.domain import Kind, system_clock
from cockpit.store import Store
from cockpit.tui.app import make_app
from cockpit.tui.screens.cockpit import POLL_SECONDS, CockpitScreen
from cockpit.tui.widgets.timeline import Timeline
from tests.conftest import ROOT, cli_env


async def test_entry_from_cockpit_log_appears_within_a_second(
    config: Config, db_path: Path, tmp_path: Path
) -> None:
    store = Store.open(db_path, clock=system_clock)
    store.declare("Checkout API errors", "SEV-2", "alice")
    config_file = tmp_path / "other.toml"
    config_file.write_text('[user]\nname = "other"\n', encoding="utf-8")
    app = make_app(config, store, system_clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        timeline = app.query_one(Timeline)
        before = timeline.count
        reads: list[tuple[int, int]] = []
        entries = store.entries

        def counting(*args: object, **kwargs: object) -> list[object]:
            reads.append((int(kwargs.get("offset", 0)), int(kwargs.get("limit", -1))))  # type: ignore[arg-type]
            return entries(*args, **kwargs)  # type: ignore[arg-type]

        store.entries = counting  # type: ignore[method-assign]

        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cockpit",
            "log",
            "--kind",
            "action",
            "restarted the payments pods",
            env=cli_env(db_path, config_file),
            cwd=ROOT,
        )
        assert await process.wait() == 0
        # Within a second, measured without a stopwatch: the screen polls at least once a
        # second, and the first poll after the commit shows the entry.
        screen = app.screen
        assert isinstance(screen, CockpitScreen) and POLL_SECONDS <= 1.0
        screen.poll()
        assert timeline.count == before + 1, "the first poll after the commit missed the entry"
        await pilot.pause()
        entry = timeline.selected
        assert entry is not None
        assert (entry.kind, entry.author, entry.text) == (
            Kind.ACTION,
            "other",
            "restarted the payments pods",
        )
        line = "".join(
            s.text for s in timeline.render_line(timeline.cursor - timeline.scroll_offset.y)
        )
        assert "restarted the payments pods" in line and "other" in line
        # Only the page holding the new bottom line was read again, not the whole timeline.
        assert all(limit > 0 for _, limit in reads)
        assert len(reads) <= 1
    store.close()
