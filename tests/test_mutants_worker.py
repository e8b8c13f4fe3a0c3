"""The delivery worker where a full mutation run (`make mutate`, issue 14) found nothing
asserting."""

from __future__ import annotations

import logging

import pytest

from cockpit.comms.target import Sent
from cockpit.store import Store
from tests.conftest import FakeClock
from tests.test_worker_paths import Scripted, drain, queued


async def test_a_running_worker_keeps_request_urls_out_of_the_logs(
    store: Store, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    # httpx and httpcore log every request URL at INFO, and a webhook URL is a secret.
    for name in ("httpx", "httpcore"):  # as a fresh process finds them
        logging.getLogger(name).setLevel(logging.NOTSET)
    queued(store, n=1)
    await drain(store, clock, Scripted(Sent("x")))
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).info("HTTP Request: POST https://hooks.example/T000/B000/XXXX")
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING
    assert "hooks.example" not in caplog.text
