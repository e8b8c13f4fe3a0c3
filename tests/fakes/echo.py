"""A server on 127.0.0.1 that gives every request back in its error: the worst a service can do
with the credentials cockpit sends it.

Every request is answered with `echo.status` and a body that repeats the request: first the
`echo.part` (the request target, the Authorization header, the body, every header), in
`echo.encoding` (as it is, base64, percent-encoded, JSON-escaped), after `echo.pad` filler
characters (so that a 200-character error line is cut inside the secret), then the whole
request as it is. `hang` keeps the client waiting instead, `drop` closes without an answer,
`as_answer` answers success with the echo as every id a service returns (`id`, `ts`, …).
Slack's Web API answers HTTP 200 with `{"ok": false, "error": …}`; `slack_ok_false` does that.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

PARTS = ("target", "authorization", "body", "headers")
ENCODINGS = ("raw", "base64", "percent", "json")


@dataclass(frozen=True)
class Echo:
    """How the next requests are answered."""

    status: int = 400
    part: str = "authorization"
    encoding: str = "raw"
    pad: int = 0
    as_json: bool = False  # the echo inside a JSON error object, else text/plain
    slack_ok_false: bool = False
    hang: float = 0.0
    drop: bool = False
    retry_after: str = ""
    as_answer: bool = False  # a success whose ids (`id`, `ts`, `dedup_key`…) are the echo


class EchoServer:
    """Threaded; change `echo` between requests; `requests` counts them."""

    def __init__(self, echo: Echo | None = None) -> None:
        self.echo = echo or Echo()
        self.requests = 0
        self.seen: list[bytes] = []
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> EchoServer:
        server_self = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                server_self._answer(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def set(self, **changes: Any) -> None:
        self.echo = replace(Echo(), **changes)

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        echo = self.echo
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = "\r\n".join(f"{k}: {v}" for k, v in handler.headers.items())
        request = f"{handler.command} {handler.path}\r\n{headers}\r\n\r\n".encode() + body
        self.requests += 1
        self.seen.append(request)
        if echo.hang:
            self._release.wait(echo.hang)
            handler.close_connection = True
            return
        if echo.drop:
            handler.close_connection = True
            return
        part = {
            "target": handler.path,
            "authorization": handler.headers.get("Authorization", ""),
            "body": body.decode("utf-8", "replace"),
            "headers": headers,
        }[echo.part]
        shown = _encode(part, echo.encoding)
        text = "x" * echo.pad + shown + " | " + request.decode("utf-8", "replace")
        status = echo.status
        if echo.as_answer:
            content = {"ok": True, "id": text, "ts": text, "dedup_key": text, "data": {"id": text}}
        elif echo.slack_ok_false:
            status, content = 200, {"ok": False, "error": text}
        elif echo.as_json:
            content = {"message": text, "error": text, "errors": [text]}
        else:
            content = None
        if content is not None:
            payload, kind = json.dumps(content).encode(), "application/json"
        else:
            payload, kind = text.encode(), "text/plain; charset=utf-8"
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        if echo.retry_after:
            handler.send_header("Retry-After", echo.retry_after)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)


def _encode(text: str, encoding: str) -> str:
    if encoding == "base64":
        return base64.b64encode(text.encode()).decode()
    if encoding == "percent":
        return quote(text, safe="")
    if encoding == "json":
        return json.dumps(text)
    return text
