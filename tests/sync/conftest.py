"""Fixtures the team-sync tests share: a fake Slack on 127.0.0.1 and an HTTP client made as
the cockpit makes its own. A test file that needs the fake on a frozen clock defines its own
`slack`, which takes precedence."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from cockpit.comms.transport import client
from tests.fakes.slack import FakeSlack


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with client() as opened:
        yield opened
