"""The delivery worker where a full mutation run (`make mutate`, issue 14) found nothing
asserting."""

from __future__ import annotations

import logging
import os
import signal
import socket

import pytest

from cockpit.comms.target import Sent
from cockpit.comms.worker import owner_alive
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


def test_asking_whether_an_owner_is_alive_sends_it_no_signal() -> None:
    # The probe is signal 0; a real signal (SIGHUP: hang up) would end the very cockpit whose
    # claim is being checked. Caught here instead of ending this test process.
    received: list[int] = []
    previous = signal.signal(signal.SIGHUP, lambda number, frame: received.append(number))
    try:
        assert owner_alive(f"{socket.gethostname()}:{os.getpid()}")
    finally:
        signal.signal(signal.SIGHUP, previous)
    assert received == []
