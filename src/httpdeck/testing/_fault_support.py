"""What the fault catalog is built from: the real transport's errors, an
injectable wait that honours the request's timeouts, and a body stream that
a fault can cut, stall or slow down.

Errors are made the way the real transport makes them: the aiohttp exception
that a real failure raises is built here and passed through the transport's
own error mapping, so an injected error has the same type, `sent` flag,
timeout `phase`, message and `__cause__` as the real one.
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

import aiohttp
from aiohttp.client_reqrep import ConnectionKey
from multidict import CIMultiDict, CIMultiDictProxy

from httpdeck.client._config import HTTPClientConfig, TimeoutConfig
from httpdeck.client._models import HttpResponse, Request
from httpdeck.client._streaming import ByteStream, ResponseStream
from httpdeck.client._transports._deadline import PoolTimeoutError, RequestTiming
from httpdeck.client._transports.aiohttp import AiohttpTransport, _map, map_error

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


def _key(request: Request) -> ConnectionKey:
    url = request.url
    return ConnectionKey(
        url.host or "", url.port, url.scheme in ("https", "wss"), True, None, None, None
    )


def aiohttp_failure(request: Request, failure: Failure, detail: str = "") -> BaseException:
    """The exception aiohttp raises for `failure` on `request` (measured on aiohttp 3.14)."""
    host, port = request.url.host or "", request.url.port
    if failure == "refused":
        os_error = ConnectionRefusedError(
            errno.ECONNREFUSED, f"Connect call failed ('{host}', {port})"
        )
        return aiohttp.ClientConnectorError(_key(request), os_error)
    if failure == "dns":
        gai = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return aiohttp.ClientConnectorDNSError(_key(request), gai)
    if failure == "tls":
        reason = (
            f"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {detail} (_ssl.c:1006)"
        )
        cert = ssl.SSLCertVerificationError(1, reason)
        return aiohttp.ClientConnectorCertificateError(_key(request), cert)
    if failure == "reset_before_send":
        reset = ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
        return aiohttp.ClientConnectorError(_key(request), reset)
    if failure == "reset":
        return aiohttp.ClientOSError(errno.ECONNRESET, "Connection reset by peer")
    if failure == "disconnect":
        return aiohttp.ServerDisconnectedError()
    if failure == "connect_timeout":
        return aiohttp.ConnectionTimeoutError(f"Connection timeout to host {request.url}")
    if failure == "read_timeout":
        return aiohttp.SocketTimeoutError("Timeout on reading data from socket")
    return TimeoutError()


def _raise(error: BaseException, cause: BaseException) -> NoReturn:
    raise error from cause


class TransportErrors:
    """Errors exactly as `AiohttpTransport` makes them for one config.

    Pool and total timeouts are the transport's own (their messages name the
    configured limits), so they go through its error path; the rest through
    `map_error`. The transport is never started: nothing is opened.
    """

    __slots__ = ("_transport",)

    def __init__(self, config: HTTPClientConfig) -> None:
        self._transport = AiohttpTransport(config)

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
        """(the httpdeck error, the aiohttp-side cause) for `failure`."""
        if failure == "pool_timeout":
            timing = RequestTiming(total=total, pool_timeout=total if pool is None else pool)
            cause: BaseException = PoolTimeoutError()
            return self._transport._send_error(cause, request, timing), cause
        cause = aiohttp_failure(request, failure, detail)
        if failure == "total_timeout" and total is not None:
            timing = RequestTiming(total=total, pool_timeout=None)
            timing.phase = "request" if sent else "connect"
            timing.expired = True
            return _map(cause, request, timing), cause
        return map_error(cause, request), cause


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
        timeouts: TimeoutConfig = request.timeout or config.timeouts
        total = timeouts.total if timeouts.total is not None else config.pool.timeout
        return cls(
            rng=rng, sleep=sleep, read=timeouts.read, total=total, pool=timeouts.pool, errors=errors
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
        cause = aiohttp.ClientPayloadError(f"Response payload is not completed: {what}")
        _raise(map_error(cause, request), cause)

    def malformed(self, request: Request, message: str) -> NoReturn:
        """The response head could not be parsed."""
        headers = CIMultiDictProxy(CIMultiDict(request.headers))
        info = aiohttp.RequestInfo(request.url, request.method, headers, request.url)
        cause = aiohttp.ClientResponseError(info, (), status=400, message=message)
        _raise(map_error(cause, request), cause)

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
