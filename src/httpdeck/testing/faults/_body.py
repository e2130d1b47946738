"""Faults that damage a real response: its body cut, stalled or dripped, its
payload or headers made wrong. They pass the request on and work on what
the server (or the next interceptor) answered."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import KW_ONLY, dataclass
from typing import ClassVar

from httpdeck.client import ByteStream, CallNext, HttpResponse, Request
from httpdeck.testing.faults._catalog import Fault
from httpdeck.testing.faults._support import (
    FaultEnv,
    FaultStream,
    body_source,
    content_length,
    replace_body,
)

__all__ = [
    "BadContentLength",
    "InvalidJSON",
    "SlowDrip",
    "StallBody",
    "TruncatedBody",
    "WrongContentType",
]


def _split_point(response: HttpResponse, after_bytes: int | None) -> int | None:
    if after_bytes is not None:
        return after_bytes
    declared = content_length(response)
    return declared // 2 if declared is not None else None


async def _with_split(
    response: HttpResponse, after_bytes: int | None
) -> tuple[HttpResponse, int, ByteStream | None]:
    """The split point; when the body length is unknown, the body read in memory."""
    split = _split_point(response, after_bytes)
    if split is not None:
        return response, split, None
    body = await response.aread()
    return response, len(body) // 2, ByteStream(body)


@dataclass(frozen=True, slots=True)
class TruncatedBody(Fault):
    """The server closes the connection mid-body: the caller gets the first
    `after_bytes` (default: half the body), then `HTTPProtocolError`."""

    after_bytes: int | None = None
    _kind: ClassVar[str] = "truncated_body"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        """Send the request, then end its body after `after_bytes` with `HTTPProtocolError`."""
        response, keep, buffered = await _with_split(await call_next(request), self.after_bytes)
        declared = content_length(response)

        async def cut(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
            delivered = 0
            async for chunk in chunks:
                room = keep - delivered
                if len(chunk) >= room:
                    if room:
                        delivered += room
                        yield chunk[:room]
                    break
                delivered += len(chunk)
                yield chunk
            env.incomplete(request, delivered, declared)

        return replace_body(response, FaultStream(buffered or body_source(response), cut))


@dataclass(frozen=True, slots=True)
class StallBody(Fault):
    """The body stops after `after_bytes` (default: half) for `seconds`
    (default: forever). A stall longer than the read timeout, or than what
    is left of the total timeout, ends in that timeout; a shorter one
    resumes and the body completes."""

    after_bytes: int | None = None
    _: KW_ONLY
    seconds: float = math.inf
    _kind: ClassVar[str] = "stall_body"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        """Send the request, then stall its response body after `after_bytes`."""
        response, keep, buffered = await _with_split(await call_next(request), self.after_bytes)
        seconds = self.seconds

        async def stall(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
            delivered, stalled = 0, False
            async for chunk in chunks:
                if not stalled and delivered + len(chunk) >= keep:
                    head, chunk = chunk[: keep - delivered], chunk[keep - delivered :]
                    if head:
                        yield head
                    stalled = True
                    await env.wait(request, seconds, reading=True)
                delivered += len(chunk)
                if chunk:
                    yield chunk
            if not stalled:
                await env.wait(request, seconds, reading=True)

        return replace_body(response, FaultStream(buffered or body_source(response), stall))


@dataclass(frozen=True, slots=True)
class SlowDrip(Fault):
    """The body arrives `chunk_size` bytes at a time, `interval` seconds
    apart; an interval at or past the read timeout, or a drip outlasting the
    total timeout, ends in that timeout."""

    chunk_size: int = 1
    _: KW_ONLY
    interval: float = 0.05
    _kind: ClassVar[str] = "slow_drip"

    def __post_init__(self) -> None:
        if self.chunk_size < 1 or self.interval < 0:
            msg = f"SlowDrip needs chunk_size >= 1 and interval >= 0, got {self.chunk_size!r}, {self.interval!r}."
            raise ValueError(msg)

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        """Send the request, then deliver its response body `chunk_size` bytes per `interval`."""
        response = await call_next(request)
        size, interval = self.chunk_size, self.interval

        async def drip(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
            async for chunk in chunks:
                for start in range(0, len(chunk), size):
                    await env.wait(request, interval, reading=True)
                    yield chunk[start : start + size]

        return replace_body(response, FaultStream(body_source(response), drip))


async def _swap_body(
    request: Request, call_next: CallNext, body: bytes | None, headers: dict[str, str]
) -> HttpResponse:
    response = await call_next(request)
    original = await response.aread()
    new = original if body is None else body
    headers["Content-Length"] = str(len(new))
    return replace_body(response, ByteStream(new), headers=headers)


@dataclass(frozen=True, slots=True)
class InvalidJSON(Fault):
    """The server's status and headers, with a JSON content type and a body
    that is not valid JSON (cut off mid-document, by default)."""

    body: bytes = b'{"items": [{"id": 1, "name": "wid'
    _kind: ClassVar[str] = "invalid_json"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        """Send the request, then swap its body for `body` and its content type for JSON."""
        headers = {"Content-Type": "application/json"}
        return await _swap_body(request, call_next, self.body, headers)


_HTML = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>"
    b"<body><h1>Please sign in to continue</h1></body></html>\n"
)


@dataclass(frozen=True, slots=True)
class WrongContentType(Fault):
    """The server's status, with another content type and (by default) an
    HTML page for a body, as a captive portal or a misrouted proxy sends.
    `body=None` keeps the real body and changes only the header."""

    content_type: str = "text/html; charset=utf-8"
    _: KW_ONLY
    body: bytes | None = _HTML
    _kind: ClassVar[str] = "wrong_content_type"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        """Send the request, then swap its content type (and body, unless `body=None`)."""
        headers = {"Content-Type": self.content_type}
        return await _swap_body(request, call_next, self.body, headers)


@dataclass(frozen=True, slots=True)
class BadContentLength(Fault):
    """The declared Content-Length is off by `excess` bytes.

    Positive: the server promises more than it sends, so reading the body
    fails with `HTTPProtocolError` after the real bytes. Negative: the body
    runs past the declared length, which aiohttp reads as a malformed next
    response and reports as `HTTPProtocolError` at once.
    """

    excess: int = 10
    _kind: ClassVar[str] = "bad_content_length"

    def __post_init__(self) -> None:
        if self.excess == 0:
            msg = "BadContentLength(excess) must not be 0: that is a correct Content-Length."
            raise ValueError(msg)

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        """Send the request, read its response, then declare a Content-Length `excess` bytes off."""
        response = await call_next(request)
        body = await response.aread()
        declared = max(len(body) + self.excess, 0)
        if self.excess < 0:
            extra = body[declared:]
            env.malformed(
                request,
                f"Bad status line: {extra[:40]!r} follows the {declared} bytes "
                "the Content-Length header declared",
            )

        async def short(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
            async for chunk in chunks:
                yield chunk
            env.incomplete(request, len(body), declared)

        headers = {"Content-Length": str(declared)}
        return replace_body(response, FaultStream(ByteStream(body), short), headers=headers)
