"""Pilot test: the app's team line shows this laptop's clock skew against Slack once its
background sync has posted (measured on the post), and says nothing of it when the clock is
right."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cockpit.config import config_from_dict
from cockpit.domain import system_clock
from cockpit.store import Store
from cockpit.tui.app import make_app
from cockpit.tui.team import TeamLine
from tests.fakes.slack import FakeSlack
from tests.fakes.wiring import SLACK_TOKEN_ENV, slack_table

WAIT = 60.0


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.start()
    monkeypatch.setenv(SLACK_TOKEN_ENV, fake.token)
    yield fake
    fake.stop()


@pytest.mark.parametrize(("seconds", "shown"), [(90, True), (0, False)])
async def test_the_team_line_shows_the_skew_above_two_seconds(
    tmp_path: Path, slack: FakeSlack, seconds: float, shown: bool
) -> None:
    def clock() -> datetime:
        return system_clock() + timedelta(seconds=seconds)

    config = config_from_dict(
        {
            "user": {"name": "alice"},
            "slack": slack_table(slack, "bot", timeout=5),
            "sync": {"poll_seconds": 0.2, "idle_poll_seconds": 0.2},
        }
    )
    with Store.open(tmp_path / "alice.db", clock=clock) as store:
        store.declare("Checkout API errors", "SEV-1", "alice")
    app = make_app(config, tmp_path / "alice.db", clock)
    async with app.run_test(size=(120, 30)) as pilot:
        line = app.screen.query_one(TeamLine)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while "live" not in str(line.render()) and loop.time() < deadline:
            await pilot.pause(0.1)
        text = str(line.render())
        assert "live" in text
        assert ("this laptop's clock is 90.0 s ahead of Slack's" in text) is shown
        assert len(slack.roots()) == 1
