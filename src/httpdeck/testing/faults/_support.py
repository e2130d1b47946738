"""What the fault catalog is built from: the real transport's errors, an
injectable wait that honours the request's timeouts, and a body stream that
a fault can cut, stall or slow down.

Errors are made by the client's own transport error constructors (the
client's seam, `httpdeck.client._seam`), the ones both real transports raise
through: an injected error has the real one's type, `sent` flag, timeout
`phase` and message, chained to the plain OS-level exception the failure
stands for (`ConnectionRefusedError`, `socket.gaierror`, `TimeoutError`...),
never to a transport library's exception.
"""

from __future__ import annotations

import asyncio
import errno
import math
import random
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Literal, NoReturn

from multidict import CIMultiDict

from httpdeck.client import ByteStream, HTTPClientConfig, HttpResponse, Request, ResponseStream
from httpdeck.client._seam import (
    EffectiveTimeouts,
    body_error,
    cannot_connect_error,
    connect_timeout_error,
    connection_reset_error,
    disconnected_error,
    dns_error,
    effective_timeouts,
    malformed_response_error,
    read_timeout_error,
    timeout_error,
    tls_error,
    total_timeout_error,
)

Sleep = Callable[[float], Awaitable[None]]
Transform = Callable[[AsyncIterator[bytes]], AsyncIterator[bytes]]
Failure = Literal[
    "refused",
    "dns",
    "tls",
    "reset_before_send",
    "reset",
    "disconnect",
    "connect_timeout",
    "pool_timeout",
    "read_timeout",
    "total_timeout",
]


def _raise(error: BaseException, cause: BaseException) -> NoReturn:
    raise error from cause


class TransportErrors:
    """Transport errors exactly as the real transports word them for one config.

    `pool_wait_included` is the inner transport's `pool_wait_in_total`
    (False for `AiohttpTransport`, True for `HttpxTransport`; None when
    unknown or poolless, and a total timeout's message leaves it out).
    """

    __slots__ = ("_max_connections", "pool_wait_included")

    def __init__(self, config: HTTPClientConfig, pool_wait_included: bool | None = None) -> None:
        self._max_connections = config.pool.max_connections
        self.pool_wait_included = pool_wait_included

    def error(
        self,
        request: Request,
        failure: Failure,
        *,
        total: float | None,
        pool: float | None,
        sent: bool = True,
        detail: str = "",
    ) -> tuple[BaseException, BaseException]:
        """(the httpdeck error, the low-level cause) for `failure`."""
        host, port = request.url.host or "", request.url.port
        if failure == "refused":
            refused = ConnectionRefusedError(
                errno.ECONNREFUSED, f"Connect call failed ('{host}', {port})"
            )
            return cannot_connect_error(request, refused), refused
        if failure == "dns":
            gai = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return dns_error(request, gai), gai
        if failure == "tls":
            reason = (
                "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
                f"{detail} (_ssl.c:1006)"
            )
            cert = ssl.SSLCertVerificationError(1, reason)
            return tls_error(request, cert), cert
        if failure in ("reset_before_send", "reset"):
            reset = ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
            return connection_reset_error(request, sent=failure == "reset", os_error=reset), reset
        if failure == "disconnect":
            closed = ConnectionAbortedError("the server closed the connection")
            return disconnected_error(request), closed
        if failure == "connect_timeout":
            return connect_timeout_error(request), TimeoutError(f"connecting to {request.url}")
        if failure == "read_timeout":
            return read_timeout_error(request), TimeoutError("no data read from the socket")
        if failure == "pool_timeout":
            limits = EffectiveTimeouts(connect=None, read=None, write=None, pool=pool, total=total)
            pool_error = timeout_error(
                request, "pool", limits=limits, max_connections=self._max_connections
            )
            return pool_error, TimeoutError("no free connection in the pool")
        total_error = total_timeout_error(
            request, total, sent=sent, pool_wait_included=self.pool_wait_included
        )
        return total_error, TimeoutError()


class FaultEnv:
    """What a fault uses while it acts on one request.

    `rng` is seeded from (seed, rule, call), so a latency distribution draws
    the same values on every run. `read`, `total` and `pool` are the
    timeouts the real client would apply to this request; `wait()` sleeps
    through the injectable `sleep` and raises the timeout the real client
    would hit; `fail()` raises what the real transport raises.
    """

    __slots__ = ("errors", "pool", "read", "rng", "sleep", "spent", "total")

    def __init__(
        self,
        *,
        rng: random.Random,
        sleep: Sleep,
        read: float | None,
        total: float | None,
        pool: float | None = None,
        errors: TransportErrors | None = None,
    ) -> None:
        self.rng = rng
        self.sleep = sleep
        self.read = read
        self.total = total
        self.pool = pool
        self.errors = errors or TransportErrors(HTTPClientConfig())
        self.spent = 0.0

    @classmethod
    def for_request(
        cls,
        request: Request,
        config: HTTPClientConfig,
        *,
        rng: random.Random,
        sleep: Sleep,
        errors: TransportErrors,
    ) -> FaultEnv:
        """The environment for `request`: the timeouts the real client would apply
        (the request's own, else `config`'s), with `rng`, `sleep` and `errors`.
        """
        limits = effective_timeouts(config, request)
        return cls(
            rng=rng,
            sleep=sleep,
            read=limits.read,
            total=limits.total,
            pool=limits.pool,
            errors=errors,
        )

    def fail(
        self, request: Request, failure: Failure, *, sent: bool = True, detail: str = ""
    ) -> NoReturn:
        """Raise what the real transport raises for `failure`, chained to its cause."""
        error, cause = self.errors.error(
            request, failure, total=self.total, pool=self.pool, sent=sent, detail=detail
        )
        _raise(error, cause)

    def incomplete(self, request: Request, received: int, declared: int | None) -> NoReturn:
        """The body ended before its Content-Length (or before its last chunk)."""
        if declared is not None:
            what = (
                "<ContentLengthError: 400, message='Not enough data to satisfy content length "
                f"header (received {received} of {declared} bytes).'>"
            )
        else:
            what = (
                "<TransferEncodingError: 400, message='Not enough data to satisfy transfer "
                "length header.'>"
            )
        # Worded as the aiohttp transport reports a cut-off body.
        detail = f"Response payload is not completed: {what}"
        _raise(body_error(request, detail), EOFError(detail))

    def malformed(self, request: Request, message: str) -> NoReturn:
        """The response head could not be parsed."""
        _raise(malformed_response_error(request, message), ValueError(message))

    async def wait(self, request: Request, seconds: float, *, reading: bool) -> None:
        """Spend `seconds` as the real client would: a wait longer than the read
        timeout (when `reading` a response) or than what is left of the total
        timeout ends in that timeout's error (`sent` only when `reading`). With
        no timeout at all, an endless wait hangs, as it would for real (until
        cancelled)."""
        limit, failure = math.inf, None
        if reading and self.read is not None:
            limit, failure = self.read, "read_timeout"
        if self.total is not None and self.total - self.spent < limit:
            limit, failure = max(self.total - self.spent, 0.0), "total_timeout"
        if seconds < limit:
            if seconds > 0:
                await self.sleep(seconds)
                self.spent += seconds
            return
        if failure is None:
            await asyncio.get_running_loop().create_future()
        await self.sleep(limit)
        self.spent += limit
        if failure == "read_timeout":
            self.fail(request, "read_timeout")
        self.fail(request, "total_timeout", sent=reading)


class FaultStream:
    """A response body passed through a fault's transform.

    Closing it closes the original body, so a real connection is released
    (and, when the body was not read to the end, closed) exactly as it would
    be without the fault.
    """

    __slots__ = ("_iterator", "_source", "_transform")

    def __init__(self, source: ResponseStream, transform: Transform) -> None:
        self._source = source
        self._transform = transform
        self._iterator: AsyncIterator[bytes] | None = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        self._iterator = self._transform(aiter(self._source))
        return self._iterator

    async def aread(self) -> bytes:
        return b"".join([chunk async for chunk in self])

    async def aclose(self) -> None:
        iterator, self._iterator = self._iterator, None
        close = getattr(iterator, "aclose", None)
        try:
            if close is not None:
                await close()
        finally:
            await self._source.aclose()


def body_source(response: HttpResponse) -> ResponseStream:
    """The body of `response` as a stream, whether or not it was read already."""
    stream = response.stream
    return stream if stream is not None else ByteStream(response.content)


def content_length(response: HttpResponse) -> int | None:
    value = response.headers.get("Content-Length")
    return int(value) if value is not None and value.isdigit() else None


def replace_body(
    response: HttpResponse,
    stream: ResponseStream,
    *,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """`response` with another body (and some headers changed)."""
    merged = CIMultiDict(response.headers)
    for name, value in (headers or {}).items():
        merged[name] = value
    return HttpResponse(
        response.status,
        headers=merged,
        stream=stream,
        request=response.request,
        url=response.url,
        reason=response.reason,
    )
