"""Bad input from the other side: what a broken service or proxy answers, from 127.0.0.1.

Malformed JSON, wrong content types, garbage instead of HTTP, enormous and compressed-bomb
bodies, a slow drip. Every delivery ends in a clean Retry or Permanent outcome with a one-line
error, in bounded time and memory, and nothing already stored is damaged.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cockpit.comms import transport
from cockpit.comms.events import hook_for
from cockpit.comms.publish import publish
from cockpit.comms.target import Retry, retry_after
from cockpit.comms.worker import DeliveryWorker
from cockpit.config import Config, config_from_dict
from cockpit.domain import Kind
from cockpit.store import Store
from tests.conftest import FakeClock
from tests.fakes.hostile import Answer, Drip, Flood, HostileServer, Raw, gzip_bomb, response
from tests.fakes.wiring import (
    BETTERSTACK_TOKEN_ENV,
    INSTATUS_KEY_ENV,
    PAGERDUTY_KEY_ENV,
    SLACK_TOKEN_ENV,
    SLACK_WEBHOOK_ENV,
    STATUSPAGE_KEY_ENV,
    WEBHOOK_SECRET_ENV,
    FakeSleep,
)

TIMEOUT = 0.3
FUZZ = float(os.environ.get("COCKPIT_FUZZ", "1"))  # COCKPIT_FUZZ=20: the long campaign
TOKEN = "xoxb-hostile-0123456789-token"
KEY = "sp-hostile-key-0123456789abcdef"
OTHER_SECRET = "other-hostile-secret-0123456789abcdef"
JSON = "application/json; charset=utf-8"


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    server = HostileServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch, hostile: HostileServer) -> None:
    monkeypatch.setenv(SLACK_TOKEN_ENV, TOKEN)
    monkeypatch.setenv(STATUSPAGE_KEY_ENV, KEY)
    monkeypatch.setenv(SLACK_WEBHOOK_ENV, hostile.url + "/services/T0/B0/whsecret0123456789")
    for name in (INSTATUS_KEY_ENV, BETTERSTACK_TOKEN_ENV, PAGERDUTY_KEY_ENV, WEBHOOK_SECRET_ENV):
        monkeypatch.setenv(name, OTHER_SECRET)


def configs(url: str, timeout: float = TIMEOUT) -> dict[str, Config]:
    """Every target pointed at the hostile server: Slack bot + Statuspage, Slack webhook."""
    page = {
        "page_id": "pg0hostile",
        "api_key_env": STATUSPAGE_KEY_ENV,
        "api_url": url + "/v1",
        "timeout_seconds": timeout,
    }
    bot = {
        "token_env": SLACK_TOKEN_ENV,
        "channel": "C0INCIDENT",
        "api_url": url + "/api",
        "timeout_seconds": timeout,
    }
    webhook = {"webhook_url_env": SLACK_WEBHOOK_ENV, "timeout_seconds": timeout}
    others = {
        "instatus": {
            "page_id": "ins0hostile",
            "component_ids": ["cmp0hostile"],
            "api_key_env": INSTATUS_KEY_ENV,
            "api_url": url,
            "timeout_seconds": timeout,
        },
        "betterstack": {
            "status_page_id": "123456",
            "resource_ids": ["7890"],
            "notify_subscribers": True,
            "api_key_env": BETTERSTACK_TOKEN_ENV,
            "api_url": url,
            "timeout_seconds": timeout,
        },
        "webhook": {
            "url": url + "/hook",
            "secret_env": WEBHOOK_SECRET_ENV,
            "timeout_seconds": timeout,
        },
        "pagerduty": {
            "routing_key_env": PAGERDUTY_KEY_ENV,
            "events_url": url + "/v2/enqueue",
            "timeout_seconds": timeout,
        },
    }
    return {
        "bot+statuspage": config_from_dict({"slack": bot, "statuspage": page}),
        "webhook": config_from_dict({"slack": webhook}),
        "instatus+betterstack+webhook+pagerduty": config_from_dict(others),
    }


def seeded(store: Store, config: Config, clock: FakeClock) -> tuple[int, list[Any]]:
    """An incident with history, one update queued; the rows that must survive untouched."""
    store.events = hook_for(config)  # pages and webhook events, as the CLI and the app do
    incident = store.declare("Checkout API errors", "SEV-1", "alice", service="checkout")
    for n in range(3):
        store.append(incident.id, Kind.NOTE, f"note {n}", "alice")
    publish(store, config, incident.id, "We are investigating.", None, "alice", clock)
    before = [(e.id, e.kind, e.text, e.at) for e in store.entries(incident.id)]
    return incident.id, before


async def one_attempt(store: Store, config: Config, clock: FakeClock) -> float:
    """Give every queued delivery exactly one attempt; the real seconds it took."""
    worker = DeliveryWorker(store, config, clock=clock, sleep=FakeSleep(clock), jitter=lambda: 0.0)
    started = time.monotonic()
    await asyncio.wait_for(worker.run(until_idle=True, budget=0), 30)
    return time.monotonic() - started


def assert_clean(
    store: Store, incident_id: int, before: list[Any], *, sent_ok: Callable[[str], bool]
) -> list[str]:
    """Every attempted delivery retrying or failed with one short line (or sent, to a target
    for which that answer is a success); later ones in a lane queued; nothing damaged."""
    assert store.integrity_check() == "ok"
    after = [(e.id, e.kind, e.text, e.at) for e in store.entries(incident_id)]
    assert after[: len(before)] == before  # untouched; PagerDuty notes the outcome after them
    for _, kind, text, _ in after[len(before) :]:
        assert kind is Kind.EXTERNAL and "\n" not in text and "cockpit bug" not in text, text
    errors = []
    for delivery in store.deliveries(incident_id):
        if delivery.state == "queued" and delivery.attempts == 0:
            continue  # behind the attempted one in its lane
        if delivery.state == "sent" and sent_ok(delivery.target):
            continue
        assert delivery.state in ("retrying", "failed"), delivery
        error = delivery.last_error or ""
        assert error and "\n" not in error and "\r" not in error and len(error) <= 500
        assert "cockpit bug" not in error, error  # an exception escaped a target
        assert not any(secret in error for secret in (TOKEN, KEY, OTHER_SECRET, "whsecret"))
        errors.append(error)
    return errors


async def attempt_with(
    hostile: HostileServer, tmp_path: Any, answer: Answer, which: str, seconds: float = TIMEOUT
) -> tuple[list[str], float]:
    hostile.answer = answer
    clock = FakeClock()
    config = configs(hostile.url, seconds)[which]
    with Store.open(tmp_path / f"{which}.db", clock=clock) as store:
        incident_id, before = seeded(store, config, clock)
        took = await one_attempt(store, config, clock)
        # A webhook receiver's or PagerDuty's 2xx means accepted, whatever its body says.
        twoxx = isinstance(answer, Raw) and answer.data.startswith(b"HTTP/1.1 2")
        errors = assert_clean(
            store,
            incident_id,
            before,
            sent_ok=lambda target: twoxx and target in ("webhook", "pagerduty"),
        )
        return errors, took


# ---- the answers people have seen -----------------------------------------------------------

NASTY: dict[str, Raw] = {
    "malformed json": response(200, b'{"ok": true, "ts": ', JSON),
    "json of the wrong shape": response(200, b'["ok", 1, null]', JSON),
    "ok without the fields": response(200, b'{"ok": true}', JSON),
    "null": response(200, b"null", JSON),
    "html login page": response(200, b"<html><body>Sign in</body></html>", "text/html"),
    "proxy error page": response(
        502, b"<html>" + b"Bad gateway " * 20000 + b"</html>", "text/html"
    ),
    "no content type": response(200, b"\x00\xff\xfe garbage"),
    "binary as json": response(200, bytes(range(256)) * 4, JSON),
    "latin-1 claiming utf-8": response(400, "caf\xe9 r\xe9ponse".encode("latin-1"), JSON),
    "deeply nested json": response(200, b"[" * 100_000 + b"]" * 100_000, JSON),
    "error echoing controls": response(
        400, b"bad \x1b[2J\x1b]0;pwned\x07\r\nline two", "text/plain"
    ),
    "megabyte error line": response(400, b"e" * 1_000_000, "text/plain"),
    "retry-after nan": response(429, b"{}", JSON, Retry_After="nan"),
    "retry-after inf": response(429, b"{}", JSON, Retry_After="1e400"),
    "retry-after garbage": response(429, b"{}", JSON, Retry_After="Mon, 99 Foo 2026 x"),
    "not http at all": Raw(b"SSH-2.0-OpenSSH_9.6\r\n"),
    "closed at once": Raw(b""),
    "truncated body": Raw(b'HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{"ok": true'),
    "bad chunking": Raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
    "unknown compression": response(200, b"{}", JSON, Content_Encoding="br"),
    "corrupt gzip": response(200, b"\x1f\x8bnot gzip at all", JSON, Content_Encoding="gzip"),
}


@pytest.mark.parametrize(
    "which", ["bot+statuspage", "webhook", "instatus+betterstack+webhook+pagerduty"]
)
@pytest.mark.parametrize("name", list(NASTY))
async def test_a_broken_answer_ends_in_retry_or_permanent(hostile, tmp_path, which, name):
    errors, _ = await attempt_with(hostile, tmp_path, NASTY[name], which)
    assert errors
    # Judged from the broken answer itself, not by waiting out a timeout (no stopwatch).
    assert not any("no answer within" in error for error in errors), errors


async def test_an_endless_body_is_cut_at_the_cap_without_filling_memory(hostile, tmp_path):
    tracemalloc.start()
    try:
        # Generous timeouts: only the cap may stop it (tracemalloc slows every allocation).
        errors, _ = await attempt_with(hostile, tmp_path, Flood(), "bot+statuspage", 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert all("answer larger than 8 MiB, not read" in e for e in errors), errors
    assert peak < 4 * transport.MAX_ANSWER_BYTES
    # The server stopped being read soon after the cap (what sits in socket buffers aside).
    assert hostile.sent_bytes < 2 * 2 * transport.MAX_ANSWER_BYTES + 32 * 1024 * 1024


async def test_a_gzip_bomb_is_cut_at_the_cap_after_inflating(hostile, tmp_path):
    bomb = gzip_bomb()  # 64 MiB of zeros in about 64 KiB, made before measuring
    assert len(bomb.data) < 100 * 1024
    tracemalloc.start()
    try:
        errors, _ = await attempt_with(hostile, tmp_path, bomb, "bot+statuspage", 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert all("answer larger than 8 MiB, not read" in e for e in errors), errors
    assert peak < 4 * transport.MAX_ANSWER_BYTES


async def test_a_slow_drip_is_cut_by_the_total_deadline(hostile, tmp_path):
    # One byte every 0.1 s never trips the 0.3 s read timeout; 1,000 bytes would take 100 s.
    drip = Drip(b'{"ok": true, "ts": "1.0"}'.ljust(1000), every=0.1)
    errors, took = await attempt_with(hostile, tmp_path, drip, "bot+statuspage")
    deadline = TIMEOUT * 3  # connect + write + read timeouts
    assert all(f"no complete answer within {deadline:g} s" in e for e in errors), errors
    assert took < 2 * deadline + 2  # two lanes, concurrently; each cut at its deadline


async def test_a_large_but_allowed_answer_is_still_read():
    body = json.dumps({"ok": True, "pad": "x" * (transport.MAX_ANSWER_BYTES - 100)}).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": JSON})

    async with transport.client(transport=httpx.MockTransport(handler)) as http:
        answer = await http.get("http://127.0.0.1/x", timeout=1)
    assert answer.json()["ok"] is True


async def test_the_cap_holds_for_any_target_that_uses_the_client():
    reads = 0

    async def endless() -> Any:
        nonlocal reads
        while True:
            reads += 1
            yield b"x" * 1024

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless())

    async with transport.client(max_bytes=10_000, transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(transport.AnswerTooLarge, match="larger than 10000 bytes"):
            await http.post("http://127.0.0.1/x", content=b"{}", timeout=1)
    assert reads <= 11


def test_retry_after_ignores_values_that_are_not_a_number_of_seconds():
    def asked(value: str) -> float | None:
        answer = httpx.Response(429, headers={"Retry-After": value})
        return retry_after(answer, FakeClock()())

    assert asked("nan") is None and asked("inf") is None and asked("1e400") is None
    assert asked("-5") == 0.0 and asked("30") == 30.0
    assert asked("Mon, 99 Foo 2026 x") is None


# ---- any answer at all ----------------------------------------------------------------------

STATUSES = st.sampled_from([200, 201, 204, 301, 400, 401, 403, 404, 420, 422, 429, 500, 503])
TYPES = st.sampled_from(
    [None, JSON, "text/html", "text/plain", "application/octet-stream", "application/json; x=("]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["ok", "ts", "id", "error", "message", "x"]), inner)
    ),
    max_leaves=10,
)
BODIES = (
    st.binary(max_size=300)
    | JSON_VALUES.map(lambda v: json.dumps(v).encode())
    | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))
)
HEADERS = st.dictionaries(
    st.sampled_from(["Retry_After", "Content_Encoding", "X_Odd"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
    max_size=2,
)


@settings(
    max_examples=int(25 * FUZZ),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.slow
@given(status=STATUSES, kind=TYPES, body=BODIES, headers=HEADERS)
def test_any_answer_ends_cleanly(hostile, tmp_path_factory, status, kind, body, headers):
    hostile.answer = response(status, body, kind, **headers)
    clock = FakeClock()
    for which, config in configs(hostile.url).items():
        path = tmp_path_factory.mktemp("db") / f"{which}.db"
        with Store.open(path, clock=clock) as store:
            incident_id, before = seeded(store, config, clock)
            asyncio.run(one_attempt(store, config, clock))
            # A 2xx to a webhook (Slack's "ok", a receiver's anything) is a success.
            assert_clean(store, incident_id, before, sent_ok=lambda target: True)


def test_retry_reason_of_a_refused_answer_says_it_may_have_landed():
    from cockpit.comms.target import transport_outcome

    outcome = transport_outcome(transport.AnswerTooLarge("answer larger than 8 MiB"), 10)
    assert outcome == Retry("answer larger than 8 MiB (may have been received)", None, True)
