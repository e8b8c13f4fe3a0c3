"""The HTTP plumbing the fakes share: a threaded server, request log and failure scripts.

A script is a queue of actions per route; each request to that route takes the next one:
`Pass()` behaves normally, `Reply(...)` answers something else (after really doing the
work if `commit`), `Hang(seconds)` keeps the client waiting and then drops the connection,
`Drop()` closes it without an answer. `flaky` makes a share of requests fail at random
(for trying the app by hand).
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Pass:
    """Behave normally."""


@dataclass(frozen=True)
class Reply:
    """Answer this instead; with `commit`, first do the work as if all went well."""

    status: int
    body: Any = ""
    headers: dict[str, str] = field(default_factory=dict)
    commit: bool = False


@dataclass(frozen=True)
class Hang:
    """Keep the client waiting `seconds`, then close without an answer (after the work, with
    `commit`: the service did it, the client never hears)."""

    seconds: float = 30.0
    commit: bool = False


@dataclass(frozen=True)
class Drop:
    """Close the connection without an answer (after the work, with `commit`)."""

    commit: bool = False


Action = Pass | Reply | Hang | Drop


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw or b"null")


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status,
        json.dumps(data).encode(),
        {"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )


def text_response(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status, text.encode(), {"Content-Type": "text/plain; charset=utf-8", **(headers or {})}
    )


def refused_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class FakeServer:
    """Base of the fakes: subclasses implement `route` and `handle`."""

    def __init__(self, clock: Callable[[], datetime] | None = None, seed: int = 7) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lock = threading.RLock()
        self.scripts: dict[str, deque[Action]] = defaultdict(deque)
        self.requests: list[tuple[str, Request]] = []
        self.flaky = 0.0
        self.flaky_hang = 20.0
        self.rng = random.Random(seed)
        self.hanging = threading.Event()  # set while a scripted hang holds a client
        # Set once a scripted hang has let go: a client that stopped before it did, did not wait.
        self.hang_over = threading.Event()
        self.log: Callable[[str], None] | None = None
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # -- life

    def start(self, port: int = 0) -> FakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                fake._dispatch(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- scripting

    def script(self, route: str, *actions: Action) -> None:
        with self.lock:
            self.scripts[route].extend(actions)

    def calls(self, route: str) -> list[Request]:
        with self.lock:
            return [req for name, req in self.requests if name == route]

    # -- to implement

    def route(self, request: Request) -> str:
        raise NotImplementedError

    def handle(self, route: str, request: Request) -> Response:
        raise NotImplementedError

    # -- plumbing

    def _next_action(self, route: str) -> Action:
        with self.lock:
            queue = self.scripts.get(route)
            if queue:
                return queue.popleft()
            if self.flaky and self.rng.random() < self.flaky:
                return self._random_failure()
        return Pass()

    def _random_failure(self) -> Action:
        choice = self.rng.choice(["500", "429", "hang", "hang-commit", "drop-commit"])
        if choice == "500":
            return Reply(
                500, "<html><body>Server Error</body></html>", {"Content-Type": "text/html"}
            )
        if choice == "429":
            return Reply(429, "", {"Retry-After": "3"})
        if choice == "hang":
            return Hang(self.flaky_hang)
        if choice == "hang-commit":
            return Hang(self.flaky_hang, commit=True)
        return Drop(commit=True)

    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        headers = {k.lower(): v for k, v in handler.headers.items()}
        request = Request(handler.command, parts.path, query, headers, raw)
        route = self.route(request)
        with self.lock:
            self.requests.append((route, request))
        action = self._next_action(route)
        if self.log:
            self.log(f"{request.method} {parts.path} -> {type(action).__name__}")
        if isinstance(action, Pass):
            with self.lock:
                response = self.handle(route, request)
            self._write(handler, response)
            return
        if getattr(action, "commit", False):
            with self.lock:
                self.handle(route, request)
        if isinstance(action, Reply):
            body = action.body
            if isinstance(body, dict | list):
                response = json_response(action.status, body, action.headers)
            else:
                response = text_response(action.status, str(body), action.headers)
                response.headers.update(action.headers)
            self._write(handler, response)
            return
        if isinstance(action, Hang):
            self.hanging.set()
            deadline = time.monotonic() + action.seconds
            while not self._released.is_set() and time.monotonic() < deadline:
                self._released.wait(0.05)
            self.hang_over.set()
        handler.close_connection = True  # Hang and Drop: no answer at all

    @staticmethod
    def _write(handler: BaseHTTPRequestHandler, response: Response) -> None:
        handler.send_response(response.status)
        for name, value in response.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(response.body)))
        handler.end_headers()
        handler.wfile.write(response.body)
