"""A hostile server on 127.0.0.1: whatever bytes a broken proxy or service might send.

It speaks at the socket level, so it can answer what a well-behaved HTTP server never would:
malformed JSON under any status and content type, garbage instead of HTTP, an endless body,
a gzip bomb (`gzip_bomb`), a body dripped one byte at a time. Every request gets the current
`answer`.
"""

from __future__ import annotations

import functools
import gzip
import socket
import socketserver
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Raw:
    """These bytes, then close."""

    data: bytes


@dataclass(frozen=True)
class Flood:
    """A chunked body that never ends (until the client hangs up or `limit` is sent)."""

    status: int = 200
    content_type: str = "application/json"
    limit: int = 512 * 1024 * 1024


@dataclass(frozen=True)
class Drip:
    """`body` one byte every `every` seconds (Content-Length says the whole size)."""

    body: bytes
    every: float = 0.05
    status: int = 200
    content_type: str = "application/json"


Answer = Raw | Flood | Drip


def response(
    status: int, body: bytes = b"", content_type: str | None = None, **headers: str
) -> Raw:
    """A well-formed HTTP/1.1 answer with exactly these parts."""
    lines = [f"HTTP/1.1 {status} Whatever"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    lines += [f"Content-Length: {len(body)}", "Connection: close"]
    return Raw(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


@functools.cache
def gzip_bomb(size: int = 64 * 1024 * 1024) -> Raw:
    """A small gzip answer that inflates to `size` bytes of zeros."""
    body = gzip.compress(bytes(size), compresslevel=9)
    return response(200, body, "application/json", Content_Encoding="gzip")


class HostileServer:
    """Threaded; `answer` may be changed between requests; `requests` counts them."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.answer: Answer = answer or response(200, b"{}", "application/json")
        self.requests = 0
        self.sent_bytes = 0
        self._stop = threading.Event()
        self._server: socketserver.ThreadingTCPServer | None = None

    def start(self) -> HostileServer:
        hostile = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                hostile._serve(self.request)

        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _serve(self, sock: socket.socket) -> None:
        if not _read_request(sock):
            return
        self.requests += 1
        answer = self.answer
        try:
            if isinstance(answer, Raw):
                sock.sendall(answer.data)
            elif isinstance(answer, Flood):
                self._flood(sock, answer)
            else:
                self._drip(sock, answer)
        except OSError:
            pass  # the client hung up: what a bounded client should do

    def _flood(self, sock: socket.socket, answer: Flood) -> None:
        head = (
            f"HTTP/1.1 {answer.status} OK\r\nContent-Type: {answer.content_type}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        )
        sock.sendall(head.encode())
        chunk = b"[" * 65536
        frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
        sent = 0
        while sent < answer.limit and not self._stop.is_set():
            sock.sendall(frame)
            sent += len(chunk)
            self.sent_bytes += len(chunk)

    def _drip(self, sock: socket.socket, answer: Drip) -> None:
        head = (
            f"HTTP/1.1 {answer.status} OK\r\nContent-Type: {answer.content_type}\r\n"
            f"Content-Length: {len(answer.body)}\r\n\r\n"
        )
        sock.sendall(head.encode())
        for byte in answer.body:
            if self._stop.wait(answer.every):
                return
            sock.sendall(bytes([byte]))
            self.sent_bytes += 1


def _read_request(sock: socket.socket) -> bool:
    """Read one request (headers and a Content-Length body); False if the client left."""
    sock.settimeout(5)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            more = sock.recv(65536)
            if not more:
                return False
            data += more
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip() or 0)
        deadline = time.monotonic() + 5
        while len(body) < length and time.monotonic() < deadline:
            more = sock.recv(65536)
            if not more:
                return False
            body += more
    except OSError:
        return False
    return True
