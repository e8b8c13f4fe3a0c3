"""The HTTP client every delivery and `cockpit doctor` probe uses, bounded in size and time.

httpx's timeouts are per read: a server that drips a byte every few seconds never trips them,
and an answer is read whole into memory. Here every exchange (connect, send, headers, body)
must end within the sum of its connect, write and read timeouts, and at most
`MAX_ANSWER_BYTES` of an answer are read (decompressed size included), so neither a slow drip
nor an enormous or compressed-bomb body can hold a lane or the memory. Both end as an
`httpx.TransportError`, which every target already turns into a Retry.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator
from dataclasses import InitVar, dataclass, field

import httpx

from cockpit import __version__

MAX_ANSWER_BYTES = 8 * 1024 * 1024
"""Far above any answer cockpit needs (a page of 200 Slack messages with blocks)."""

DEFAULT_TIMEOUT = 30.0
"""For a request that names no timeout of its own."""


class AnswerRefused(Exception):
    """An answer this client stopped reading; the request may still have been acted on."""


class AnswerTooLarge(httpx.ReadError, AnswerRefused):
    """The answer went past the size cap; the rest was not read."""


class AnswerTooSlow(httpx.ReadTimeout, AnswerRefused):
    """The answer did not arrive completely within the exchange's total deadline."""


class AnswerUnreadable(httpx.ReadError, AnswerRefused):
    """The answer is compressed in a way that was not asked for, or corrupt."""


def total_deadline(request: httpx.Request) -> float:
    """Seconds the whole exchange may take: its connect, write and read timeouts added up."""
    timeout = request.extensions.get("timeout") or {}
    total = 0.0
    for phase in ("connect", "write", "read"):
        value = timeout.get(phase)
        total += DEFAULT_TIMEOUT if value is None else float(value)
    return total


class BoundedTransport(httpx.AsyncBaseTransport):
    """Wraps a transport: a total deadline per exchange and a cap on what is read."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport | None = None, max_bytes: int = MAX_ANSWER_BYTES
    ) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()
        self.max_bytes = max_bytes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        total = total_deadline(request)
        deadline = asyncio.get_running_loop().time() + total
        try:
            async with asyncio.timeout_at(deadline):
                response = await self.inner.handle_async_request(request)
        except TimeoutError:
            raise AnswerTooSlow(_slow(total), request=request) from None
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
            await response.aclose()
            raise AnswerUnreadable(f"answer compressed with {encoding[:40]!r}", request=request)
        headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length")
        ]
        assert isinstance(response.stream, httpx.AsyncByteStream)
        stream = _BoundedStream(response.stream, request, deadline, total, self.max_bytes, encoding)
        return httpx.Response(
            response.status_code,
            headers=headers,
            stream=stream,
            extensions=response.extensions,
            request=request,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class _BoundedStream(httpx.AsyncByteStream):
    """The answer's bytes, decompressed here (so the cap holds after decompression)."""

    inner: httpx.AsyncByteStream
    request: httpx.Request
    deadline: float
    total: float
    max_bytes: int
    encoding: InitVar[str]
    inflate: zlib._Decompress | None = field(init=False)

    def __post_init__(self, encoding: str) -> None:
        gzip = encoding in ("gzip", "x-gzip", "deflate")
        self.inflate = zlib.decompressobj(zlib.MAX_WBITS | 32) if gzip else None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        produced = 0
        chunks = self.inner.__aiter__()
        while True:
            try:
                async with asyncio.timeout_at(self.deadline):
                    raw = await anext(chunks)
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise AnswerTooSlow(_slow(self.total), request=self.request) from None
            chunk = self._decode(raw, self.max_bytes - produced)
            produced += len(chunk)
            if produced > self.max_bytes:
                raise AnswerTooLarge(_large(self.max_bytes), request=self.request)
            if chunk:
                yield chunk
        if self.inflate is not None:
            rest = self.inflate.flush()
            if produced + len(rest) > self.max_bytes:
                raise AnswerTooLarge(_large(self.max_bytes), request=self.request)
            if rest:
                yield rest

    def _decode(self, raw: bytes, room: int) -> bytes:
        if self.inflate is None:
            return raw
        try:
            # At most room + 1 bytes: one more than fits proves the answer too large.
            return self.inflate.decompress(raw, max(room, 0) + 1)
        except zlib.error:
            message = "answer is not valid compressed data"
            raise AnswerUnreadable(message, request=self.request) from None

    async def aclose(self) -> None:
        await self.inner.aclose()


def _slow(total: float) -> str:
    return f"no complete answer within {total:g} s"


def _large(limit: int) -> str:
    size = f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"
    return f"answer larger than {size}, not read"


def client(
    *, max_bytes: int = MAX_ANSWER_BYTES, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The client for deliveries and probes: bounded, no redirects, cockpit's User-Agent."""
    return httpx.AsyncClient(
        headers={"User-Agent": f"cockpit/{__version__}", "Accept-Encoding": "gzip"},
        follow_redirects=False,
        transport=BoundedTransport(transport, max_bytes),
    )
