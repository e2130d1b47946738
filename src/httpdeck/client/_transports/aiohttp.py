"""The real transport: requests sent through a `ConnectionPool` (`_pool`).

With `_pool` and `_connector`, the only code that imports aiohttp. Every
aiohttp exception is mapped onto httpdeck's errors here, with the request
attached and with `sent` telling whether any byte of the request may have
reached the server.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import AsyncIterator
from typing import ClassVar

import aiohttp
from aiohttp.http import HttpVersion11

from httpdeck.client._config import HTTPClientConfig
from httpdeck.client._exceptions import (
    HTTPClientError,
    HTTPConnectionError,
    HTTPValidationError,
    describe,
)
from httpdeck.client._extensions import BODY_DEADLINE, FRESH_CONNECTION, STREAM
from httpdeck.client._limits import BodyLimit
from httpdeck.client._models import HttpResponse, Request
from httpdeck.client._retry import IDEMPOTENT_METHODS
from httpdeck.client._safety import UnsafeAddressError
from httpdeck.client._streaming import StreamBody
from httpdeck.client._timeouts import EffectiveTimeouts, effective_timeouts
from httpdeck.client._transports import _common
from httpdeck.client._transports._common import (
    body_error,
    cannot_connect_error,
    check_safety,
    connect_timeout_error,
    connection_reset_error,
    disconnected_error,
    dns_error,
    malformed_response_error,
    pool_timeout_error,
    read_timeout_error,
    tls_error,
    total_timeout_error,
    unsafe_error,
    write_timeout_error,
)
from httpdeck.client._transports._cookies import cookie_headers, keep_cookies
from httpdeck.client._transports._deadline import (
    CURRENT,
    PoolTimeoutError,
    RequestTiming,
)
from httpdeck.client._transports._pool import ConnectionPool
from httpdeck.client._transports._writes import WriteWatch


def _client_timeout(timeouts: EffectiveTimeouts) -> aiohttp.ClientTimeout:
    # aiohttp's `total` and `connect` would both count the wait for a pool
    # slot; the pool wait and the total deadline are httpdeck's own
    # (`_deadline.RequestTiming`), so aiohttp keeps only the socket timeouts.
    return aiohttp.ClientTimeout(
        total=None, connect=None, sock_connect=timeouts.connect, sock_read=timeouts.read
    )


def map_error(exc: BaseException, request: Request) -> HTTPClientError:
    """Translate an aiohttp (or socket) exception into an httpdeck error."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return connect_timeout_error(request)
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return read_timeout_error(request)
    if isinstance(exc, asyncio.TimeoutError):
        return total_timeout_error(request, None, sent=True, pool_wait_included=None)
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return dns_error(request, exc.os_error)
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return tls_error(request, exc.certificate_error)
    if isinstance(exc, aiohttp.ClientSSLError):
        return tls_error(request, exc.os_error)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return cannot_connect_error(request, exc.os_error)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return disconnected_error(request)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return body_error(request, exc)
    if isinstance(exc, aiohttp.ClientResponseError):
        return malformed_response_error(request, exc.message)
    if isinstance(exc, aiohttp.InvalidURL):
        return HTTPValidationError(f"Invalid URL {str(exc.url)!r}.", request=request)
    if isinstance(exc, OSError) and exc.errno == errno.ECONNRESET:
        return connection_reset_error(request, sent=True, os_error=exc)
    msg = f"Connection error for {describe(request)}: {type(exc).__name__}: {exc}."
    return HTTPConnectionError(msg, request=request, sent=True)


_HTTP11 = "HTTP/1.1"


def _version(response: aiohttp.ClientResponse) -> str:
    version = response.version
    return _HTTP11 if version is None else f"HTTP/{version.major}.{version.minor}"


_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)
_NO_USER_AGENT = ("User-Agent",)


class _AiohttpStream:
    """The body of an aiohttp response, as a `ResponseStream`.

    The total deadline guards every wait for body data: it is installed as
    the timer of aiohttp's payload reader, which enters it only when a read
    has to wait, so a chunk already buffered costs nothing extra. Bytes are
    counted against `max_response_bytes` after decompression: aiohttp
    inflates in bounded steps as the body is read, so a decompression bomb
    is stopped with memory flat.
    """

    __slots__ = ("_limit", "_request", "_response", "_timing")

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        request: Request,
        timing: RequestTiming | None,
        limit: int | None,
    ) -> None:
        self._response = response
        self._request = request
        self._timing = timing
        self._limit = limit
        if timing is not None:
            # Same protocol as aiohttp's TimerContext (see _deadline).
            response.content._timer = timing  # type: ignore[assignment]

    async def __aiter__(self) -> AsyncIterator[bytes]:
        limit = self._limit
        try:
            if limit is None:
                async for chunk in self._response.content.iter_any():
                    yield chunk
            else:
                budget = self._budget(limit)
                async for chunk in self._response.content.iter_any():
                    budget.add(chunk)
                    yield chunk
        except (*_ERRORS, RuntimeError) as exc:
            error = _map(exc, self._request, self._timing)
            if error is exc:
                raise
            raise error from exc
        finally:
            if self._timing is not None:
                self._timing.finish()

    async def aread(self) -> bytes:
        try:
            if self._limit is not None:
                return await self._read_limited(self._limit)
            return await self._response.read()
        except (*_ERRORS, RuntimeError) as exc:
            error = _map(exc, self._request, self._timing)
            if error is exc:
                raise
            raise error from exc
        finally:
            if self._timing is not None:
                self._timing.finish()

    async def _read_limited(self, limit: int) -> bytes:
        budget = self._budget(limit)
        chunks: list[bytes] = []
        async for chunk in self._response.content.iter_any():
            budget.add(chunk)
            chunks.append(chunk)
        return b"".join(chunks)

    def _budget(self, limit: int) -> BodyLimit:
        # Past the limit the rest of the body is never read: drop the connection.
        response = self._response
        budget = BodyLimit(self._request, limit, on_exceeded=response.close)
        budget.check_declared(response.content_length, response.headers)
        return budget

    async def aclose(self) -> None:
        self._response.release()
        if self._timing is not None and not self._timing.done:
            self._timing.finish()


def _map(exc: BaseException, request: Request, timing: RequestTiming | None) -> BaseException:
    """The httpdeck error for `exc`; a RuntimeError not caused by the deadline
    (a usage error such as two concurrent reads) is returned unchanged."""
    if timing is not None and timing.expired:
        # httpdeck's own total deadline, or the connection it closed at expiry.
        sent = timing.phase == "request"
        return total_timeout_error(request, timing.total, sent=sent, pool_wait_included=False)
    if isinstance(exc, RuntimeError):
        return exc
    return map_error(exc, request)


class AiohttpTransport:
    """The production transport: requests go out through a `ConnectionPool`.

    Timeouts: `TimeoutConfig.pool` bounds the wait for a free connection
    (None: up to the total timeout) and is not counted in the total;
    `total` (else `ConnectionPoolConfig.timeout`) runs from the moment a
    slot is granted until the body is read or the stream closed; `connect`
    and `read` are aiohttp's socket timeouts.
    """

    pool_wait_in_total: ClassVar[bool] = False
    """The wait for a pool slot is not counted in the total timeout."""

    def __init__(
        self, config: HTTPClientConfig | None = None, *, pool: ConnectionPool | None = None
    ) -> None:
        self.pool = pool or ConnectionPool(config)
        self.config = self.pool.config
        # Computed once: a request without its own timeout= costs no lookup.
        self._defaults = effective_timeouts(self.config)
        self._default_timeout = _client_timeout(self._defaults)

    async def start(self) -> None:
        """Open the pool (idempotent); `send()` opens it on first use anyway.

        Raises `HTTPClientClosedError` once the transport was closed.
        """
        await self.pool.start()

    def is_started(self) -> bool:
        """True while the pool is open: after `start()` or the first `send()`, until `aclose()`."""
        return self.pool.is_started()

    async def send(self, request: Request) -> HttpResponse:
        """Send `request` through the pool; the response comes back with its body unread.

        When the client is going to read the body anyway (its verb methods),
        it is read here, under the same deadline. Transport failures raise
        `HTTPConnectionError`, `HTTPTimeoutError` (with its `phase`),
        `HTTPProtocolError`, `HTTPResponseTooLargeError` or
        `HTTPUnsafeURLError`, each carrying the request and `sent`.
        """
        session = self.pool._session or await self.pool.start()
        pool = self.pool
        # No proxy configured or in the environment: skip the lookup (the common case).
        proxy = pool.proxy_for(request.url) if pool.config.proxy or pool._env_proxies else None
        if _common.connect_guard is not None:
            await _common.connect_guard(request, proxy)
        if pool.url_safety is not None:
            await check_safety(pool.dns, request, proxy)
        if request.timeout is None:
            limits, timeout = self._defaults, self._default_timeout
        else:
            limits = effective_timeouts(self.config, request)
            timeout = _client_timeout(limits)
        total, pool_wait = limits.total, limits.pool
        timing = RequestTiming(
            total=total,
            pool_timeout=total if pool_wait is None else pool_wait,
            loop=session._loop,
            wheel=pool.deadlines,
        )
        extensions = request.extensions
        if extensions and extensions.get(FRESH_CONNECTION):
            timing.fresh = True
        data: object = request.content
        watch: WriteWatch | None = None
        if isinstance(data, StreamBody):
            write = limits.write
            if write is not None:
                data = watch = WriteWatch(data, write, session._loop)
        jar = pool.cookie_jar
        assert jar is not None
        headers = cookie_headers(jar, request.url, request.headers)
        token = CURRENT.set(timing)
        try:
            with timing:
                response = await session.request(
                    request.method,
                    request.url,
                    headers=headers,
                    data=data,
                    allow_redirects=False,
                    timeout=timeout,
                    proxy=proxy,
                    # The client always sets User-Agent; one removed on purpose stays
                    # removed. (A session-wide skip list would cost every request.)
                    skip_auto_headers=None if "User-Agent" in headers else _NO_USER_AGENT,
                )
        except BaseException as exc:
            timing.finish()
            if watch is not None and watch.expired and not timing.expired:
                if isinstance(exc, asyncio.CancelledError) and watch.sender is not None:
                    watch.sender.uncancel()
                raise write_timeout_error(request, watch.timeout) from exc
            error = self._send_error(exc, request, timing)
            if error is exc:
                raise
            if timing.reused:
                error = stale_error(exc, error, request, timing)
            raise error from exc
        finally:
            CURRENT.reset(token)
        if "Set-Cookie" in response.headers:
            keep_cookies(jar, response.headers, request.url)
        if extensions and extensions.get(BODY_DEADLINE) is False:
            timing.finish()
        else:
            timing.on_expire = response.close
        stream = _AiohttpStream(response, request, timing, request.max_response_bytes)
        content = None
        if extensions and extensions.get(STREAM) is False:
            # The client reads this body right away: read it here, with the
            # same deadline and error mapping, and save the stream round trip.
            content = await stream.aread()
            response.release()
        return HttpResponse(
            response.status,
            headers=response.headers,
            content=content,
            stream=stream if content is None else None,
            request=request,
            url=response.url,
            reason=response.reason or "",
            http_version=_HTTP11 if response.version is HttpVersion11 else _version(response),
        )

    def _send_error(
        self, exc: BaseException, request: Request, timing: RequestTiming
    ) -> BaseException:
        """The httpdeck error for a failure while sending (others pass through)."""
        if isinstance(exc, _ERRORS):
            return _map(exc, request, timing)
        if isinstance(exc, PoolTimeoutError):
            return pool_timeout_error(
                request, timing.pool_timeout, self.config.pool.max_connections
            )
        if isinstance(exc, UnsafeAddressError):
            return unsafe_error(exc, request)
        if isinstance(exc, ValueError) and not isinstance(exc, HTTPClientError):
            # aiohttp refuses control characters (CR, LF, NUL) while serialising
            # the head, before any byte is written.
            msg = f"Cannot send {describe(request)}: {exc} Check the headers interceptors set."
            return HTTPValidationError(msg, request=request)
        return exc

    async def aclose(self) -> None:
        """Close the pool and its connections; the transport cannot be started again."""
        await self.pool.stop()


_DEAD_CONNECTION = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, ConnectionError)


def stale_error(
    exc: BaseException, error: BaseException, request: Request, timing: RequestTiming
) -> BaseException:
    """`error`, or a stale-connection `HTTPConnectionError` when `request` may
    be sent again on a new connection.

    The rule (RFC 9112 section 9.3.1, "Retrying Requests"): the connection
    came idle from the pool, the server closed or reset it before any byte of
    a response arrived, the method is idempotent and the body can be sent
    again. The request's bytes may have reached the server (`sent` stays
    True), so a POST or PATCH is never re-sent this way: its bytes may have
    reached a live server that acted on them. A timeout is not a dead
    connection, nor is a failure on a new connection.
    """
    protocol = timing.protocol
    if (
        not isinstance(error, HTTPConnectionError)
        or not isinstance(exc, _DEAD_CONNECTION)
        or timing.expired
        or protocol is None
        or getattr(protocol, "answered", True)
        or request.method not in IDEMPOTENT_METHODS
        or not request.replayable
    ):
        return error
    msg = (
        f"The server closed a reused keep-alive connection without answering {describe(request)} "
        f"(a stale connection: {type(exc).__name__}). The method is idempotent, so HTTPClient "
        "sends it once more on a new connection."
    )
    return HTTPConnectionError(msg, request=request, sent=True, stale=True)
