"""The fault catalog: small frozen values, each producing exactly what the
real client sees from the real failure.

| fault | what the caller gets | `sent` |
|---|---|---|
| `ConnectionRefused()` | `HTTPConnectionError` | False |
| `DNSFailure()` | `HTTPConnectionError` | False |
| `TLSFailure(reason)` | `HTTPConnectionError` | False |
| `PoolExhausted()` | `HTTPTimeoutError`, phase "pool" | False |
| `ConnectionReset(after_send=False)` | `HTTPConnectionError` | False |
| `ConnectionReset(after_send=True)` | `HTTPConnectionError` | True |
| `Disconnect()` | `HTTPConnectionError` (closed before answering) | True |
| `Timeout("connect" / "pool")` | `HTTPTimeoutError` with that phase | False |
| `Timeout("read" / "total")` | `HTTPTimeoutError` with that phase | True |
| `Status(503, retry_after=1)` | a 503 response (`Err(HTTPStatusError)` from verbs) | - |
| `TruncatedBody()` / `BadContentLength(+n)` | `HTTPProtocolError` while reading | True |
| `BadContentLength(-n)` | `HTTPProtocolError` (malformed response) | True |
| `StallBody()` / `SlowDrip()` / `BlackHole()` | `HTTPTimeoutError` when a timeout runs out | True |
| `Latency(seconds)` | a slower response, or the timeout it runs into | - |
| `InvalidJSON()` / `WrongContentType()` | a 2xx whose `json()` raises `HTTPDecodeError` | - |

Faults that fail before the request reaches the server never call the
inner transport. After-send failures do not either, unless
`processed=True` says the server handled the request before the failure
(the case that makes a retried POST a duplicate). Body faults pass the
request on and damage the real response.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import KW_ONLY, dataclass, field
from http import HTTPStatus
from typing import ClassVar, Literal

from httpdeck.client._interceptors import CallNext
from httpdeck.client._models import HttpResponse, Request
from httpdeck.client._streaming import ByteStream
from httpdeck.testing._fault_support import (
    Failure,
    FaultEnv,
    FaultStream,
    body_source,
    content_length,
    replace_body,
)

__all__ = [
    "BadContentLength",
    "BlackHole",
    "ConnectionRefused",
    "ConnectionReset",
    "DNSFailure",
    "Disconnect",
    "Fault",
    "FaultEnv",
    "InvalidJSON",
    "Latency",
    "PoolExhausted",
    "SlowDrip",
    "StallBody",
    "Status",
    "TLSFailure",
    "Timeout",
    "TruncatedBody",
    "WrongContentType",
]


class Fault(ABC):
    """A failure to inject. Subclass it (as a frozen dataclass) for your own.

    `apply` gets the request, the next handler (the inner transport, or the
    rest of the interceptor chain) and a `FaultEnv` (seeded random source,
    injectable sleep, the request's timeouts); it returns a response or
    raises the error the real client would raise.
    """

    __slots__ = ()
    _kind: ClassVar[str] = "fault"

    @property
    def kind(self) -> str:
        """A short name for reports: "connection_reset", "timeout.read", "status.503"."""
        return self._kind

    @abstractmethod
    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        """Produce the fault's effect for `request`."""


async def _processed(request: Request, call_next: CallNext) -> None:
    response = await call_next(request)
    await response.aclose()


@dataclass(frozen=True, slots=True)
class Latency(Fault):
    """Delay the request (`where="request"`) or the response's first byte
    (`where="response"`, the default) by `seconds`.

    `jitter` spreads the delay: uniform in seconds ± jitter (the default), a
    normal distribution with `distribution="normal"` (jitter is sigma), or
    an exponential one with mean `seconds`. Draws come from the injector's
    seed. A delay longer than the read timeout (response side) or the total
    timeout raises that timeout, after waiting it out on the injected sleep.
    """

    seconds: float = 0.1
    _: KW_ONLY
    jitter: float = 0.0
    distribution: Literal["uniform", "normal", "exponential"] = "uniform"
    where: Literal["request", "response"] = "response"
    _kind: ClassVar[str] = "latency"

    def __post_init__(self) -> None:
        if not (self.seconds >= 0 and self.jitter >= 0 and math.isfinite(self.seconds)):
            msg = f"Latency needs seconds >= 0 and jitter >= 0, got {self.seconds!r}, {self.jitter!r}."
            raise ValueError(msg)
        if self.where not in ("request", "response"):
            msg = f'Latency(where=) must be "request" or "response", got {self.where!r}.'
            raise ValueError(msg)

    def sample(self, env: FaultEnv) -> float:
        if self.distribution == "exponential":
            return env.rng.expovariate(1 / self.seconds) if self.seconds else 0.0
        if self.distribution == "normal":
            return max(0.0, env.rng.gauss(self.seconds, self.jitter))
        if self.jitter:
            return max(0.0, self.seconds + env.rng.uniform(-self.jitter, self.jitter))
        return self.seconds

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        delay = self.sample(env)
        if self.where == "request":
            await env.wait(request, delay, reading=False)
            return await call_next(request)
        response = await call_next(request)
        try:
            await env.wait(request, delay, reading=True)
        except BaseException:
            await response.aclose()
            raise
        return response


@dataclass(frozen=True, slots=True)
class ConnectionRefused(Fault):
    """Nothing listens on the port: refused before any byte is sent."""

    _kind: ClassVar[str] = "connection_refused"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        env.fail(request, "refused")


@dataclass(frozen=True, slots=True)
class DNSFailure(Fault):
    """The host name does not resolve."""

    _kind: ClassVar[str] = "dns_failure"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        env.fail(request, "dns")


@dataclass(frozen=True, slots=True)
class TLSFailure(Fault):
    """The TLS handshake fails (certificate verification, by default)."""

    reason: str = "self-signed certificate"
    _kind: ClassVar[str] = "tls_failure"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        env.fail(request, "tls", detail=self.reason)


@dataclass(frozen=True, slots=True)
class PoolExhausted(Fault):
    """Every pooled connection stayed busy past the pool timeout:
    `HTTPTimeoutError(phase="pool", sent=False)`, with the real transport's
    message (the pool timeout and max_connections of the config)."""

    _kind: ClassVar[str] = "pool_exhausted"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        env.fail(request, "pool_timeout", sent=False)


@dataclass(frozen=True, slots=True)
class ConnectionReset(Fault):
    """The peer resets the connection (TCP RST).

    `after_send=True` (the default): the request went out, so `sent=True`
    and a POST must not be retried. `processed=True`: the server handled the
    request before the reset (the inner transport is called, its response
    dropped). `after_send=False`: reset while connecting, `sent=False`.
    """

    after_send: bool = True
    _: KW_ONLY
    processed: bool = False

    def __post_init__(self) -> None:
        if self.processed and not self.after_send:
            msg = "ConnectionReset(after_send=False) cannot be processed=True: nothing was sent."
            raise ValueError(msg)

    @property
    def kind(self) -> str:
        return "connection_reset" if self.after_send else "connection_reset.before_send"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        if not self.after_send:
            env.fail(request, "reset_before_send")
        if self.processed:
            await _processed(request, call_next)
        env.fail(request, "reset")


@dataclass(frozen=True, slots=True)
class Disconnect(Fault):
    """The server closes the connection without answering (a stale keep-alive
    connection, a crashed worker): `sent=True`."""

    _: KW_ONLY
    processed: bool = False
    _kind: ClassVar[str] = "disconnect"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        if self.processed:
            await _processed(request, call_next)
        env.fail(request, "disconnect")


_TIMEOUTS: dict[str, Failure] = {
    "connect": "connect_timeout",
    "pool": "pool_timeout",
    "read": "read_timeout",
    "total": "total_timeout",
}


@dataclass(frozen=True, slots=True)
class Timeout(Fault):
    """A timeout of one phase, raised at once (use `BlackHole` or `Latency`
    to spend the time on the injected clock first).

    "connect" and "pool" (same as `PoolExhausted()`) have `sent=False`;
    "read" and "total" have `sent=True`, and with `processed=True` the
    server handled the request first.
    """

    phase: Literal["connect", "pool", "read", "total"] = "read"
    _: KW_ONLY
    processed: bool = False

    def __post_init__(self) -> None:
        if self.phase not in _TIMEOUTS:
            msg = f"Timeout phase must be one of {', '.join(_TIMEOUTS)}; got {self.phase!r}."
            raise ValueError(msg)
        if self.processed and self.phase in ("connect", "pool"):
            msg = f'Timeout("{self.phase}") cannot be processed=True: nothing was sent.'
            raise ValueError(msg)

    @property
    def kind(self) -> str:
        return f"timeout.{self.phase}"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        if self.processed:
            await _processed(request, call_next)
        env.fail(request, _TIMEOUTS[self.phase], sent=self.phase in ("read", "total"))


@dataclass(frozen=True, slots=True)
class BlackHole(Fault):
    """The request goes out and nothing ever comes back: waits (on the
    injected sleep) until the read or total timeout, then raises it. With no
    timeout configured it hangs, as the real client would."""

    _kind: ClassVar[str] = "black_hole"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        await env.wait(request, math.inf, reading=True)
        raise AssertionError("unreachable: an endless wait returned")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Status(Fault):
    """Answer with an error status instead of the server: 500, 502, 503, 504,
    429 or any 4xx/5xx, with an optional `Retry-After` (seconds or an
    HTTP-date string). The inner transport is not called."""

    status: int = 503
    _: KW_ONLY
    retry_after: int | str | None = None
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.status, bool) or not isinstance(self.status, int):
            msg = f"Status needs an integer status code, got {self.status!r}."
            raise TypeError(msg)
        if not 400 <= self.status <= 599:
            msg = f"Status fault needs a 4xx or 5xx status, got {self.status}."
            raise ValueError(msg)

    @property
    def kind(self) -> str:
        return f"status.{self.status}"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        try:
            reason = HTTPStatus(self.status).phrase
        except ValueError:
            reason = ""
        body = self.body if self.body is not None else f"{self.status} {reason}".encode()
        headers = {"Content-Type": "text/plain; charset=utf-8", "Content-Length": str(len(body))}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        headers.update(self.headers)
        return HttpResponse(
            self.status, headers=headers, stream=ByteStream(body), request=request, reason=reason
        )


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
