"""The real transport: a `ConnectionPool` of one aiohttp session.

This is the only module that imports aiohttp. Every aiohttp exception is
mapped onto httpdeck's errors here, with the request attached and with
`sent` telling whether any byte of the request may have reached the server.
"""

from __future__ import annotations

import asyncio
import os
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import aiohttp
from yarl import URL

from httpdeck.client._config import ConnectionPoolConfig, HTTPClientConfig, TimeoutConfig
from httpdeck.client._exceptions import (
    HTTPClientClosedError,
    HTTPClientError,
    HTTPConnectionError,
    HTTPProtocolError,
    HTTPResponseTooLargeError,
    HTTPTimeoutError,
    HTTPValidationError,
    describe,
)
from httpdeck.client._models import STREAM, HttpResponse, Request
from httpdeck.client._safety import HTTPUnsafeURLError, UnsafeAddressError, URLSafety
from httpdeck.client._streaming import StreamBody
from httpdeck.client._transports._connector import (
    DNSCache,
    HardenedConnector,
    Resolver,
    SystemResolver,
)
from httpdeck.client._transports._deadline import (
    BODY_DEADLINE,
    CURRENT,
    DeadlineWheel,
    PoolTimeoutError,
    RequestTiming,
)
from httpdeck.client._transports._writes import WriteWatch

# Public since Python 3.0, yet missing from typeshed's urllib.request stubs.
_proxy_bypass: Any = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]


# A seam for test tooling, never set by the client itself: httpdeck.testing's
# network blocking (`--httpdeck-block-network`) installs an async check here that
# raises HTTPConnectionError before any connection is made (or any DNS lookup by
# aiohttp) to a host the test may not contact. Called with the request and the
# proxy URL that would be used, if any.
ConnectGuard = Callable[[Request, str | None], Awaitable[None]]
connect_guard: ConnectGuard | None = None


def _connector(pool: ConnectionPoolConfig, dns: DNSCache) -> HardenedConnector:
    # Both shortcuts below keep the semantics and save work on every request:
    # aiohttp keeps per-host bookkeeping whenever limit_per_host is set, even
    # when it cannot bind, and the keep-alive trim only matters when fewer idle
    # connections may stay than the pool can hold.
    limit_per_host = pool.max_connections_per_host
    if limit_per_host >= pool.max_connections:
        limit_per_host = 0
    kwargs: dict[str, Any] = {
        "limit": pool.max_connections,
        "limit_per_host": limit_per_host,
        "force_close": pool.force_close,
        "keepalive_timeout": pool.keepalive_timeout if not pool.force_close else None,
        "ssl": None if pool.verify_ssl else False,
    }
    per_host = min(pool.max_connections, pool.max_connections_per_host)
    keep = pool.max_keepalive_connections
    return HardenedConnector(max_keepalive=keep if keep < per_host else None, dns=dns, **kwargs)


def _counts(connector: aiohttp.TCPConnector) -> tuple[int, int]:
    """(idle, in use) connections of a connector."""
    idle = sum(len(conns) for conns in connector._conns.values())
    return idle, len(connector._acquired)


class ConnectionPool:
    """One aiohttp `ClientSession` over a `TCPConnector`, built from the config.

    The proxy environment (`HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`) is read
    once at `start()` when `trust_env` is on, not on every request.

    Host names are resolved by `resolver` (the system's by default) and kept
    for `ConnectionPoolConfig.ttl_dns_cache` seconds, measured by `clock`.
    `url_safety` replaces the default gate that `HTTPClientConfig.url_safety`
    turns on (for instance `URLSafety(allow=["10.20.0.0/16"])`).
    """

    def __init__(
        self,
        config: HTTPClientConfig | None = None,
        *,
        resolver: Resolver | None = None,
        clock: Callable[[], float] = time.monotonic,
        url_safety: URLSafety | None = None,
    ) -> None:
        self.config = config or HTTPClientConfig()
        self.url_safety = url_safety or (URLSafety() if self.config.url_safety else None)
        self.dns = DNSCache(
            resolver or SystemResolver(),
            ttl=self.config.pool.ttl_dns_cache,
            clock=clock,
            safety=self.url_safety,
        )
        self._session: aiohttp.ClientSession | None = None
        self.deadlines: DeadlineWheel | None = None  # total deadlines, once started
        self._connector: HardenedConnector | None = None
        self._closed = False
        self._env_proxies: dict[str, str] = {}
        self._proxy_cache: dict[tuple[str, str], str | None] = {}

    def is_started(self) -> bool:
        """True between `start()` and `stop()`."""
        return self._session is not None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The pool's aiohttp `ClientSession`.

        Raises `HTTPClientError` before `start()` and after `stop()`.
        """
        if self._session is None:
            msg = "The connection pool is not started: call `await pool.start()` first."
            raise HTTPClientError(msg)
        return self._session

    async def start(self) -> aiohttp.ClientSession:
        """Open the session (idempotent) and return it."""
        if self._closed:
            msg = "Cannot start the connection pool: it was stopped. Create a new one."
            raise HTTPClientClosedError(msg)
        if self._session is None:
            self._connector = _connector(self.config.pool, self.dns)
            # unsafe=True: keep cookies of hosts given by IP address too (aiohttp
            # drops them by default; browsers, httpx and requests keep them).
            jar: aiohttp.abc.AbstractCookieJar = (
                aiohttp.CookieJar(unsafe=True)
                if self.config.cookie_jar
                else aiohttp.DummyCookieJar()
            )
            self.deadlines = DeadlineWheel(asyncio.get_running_loop())
            self._session = aiohttp.ClientSession(
                connector=self._connector,
                cookie_jar=jar,
                trust_env=False,
                auto_decompress=True,
                timeout=aiohttp.ClientTimeout(total=None),
            )
            # aiohttp silently re-sends idempotent requests once when a reused
            # keep-alive connection turns out dead; that hidden attempt would make
            # attempt counts, metrics and fault logs lie. httpdeck's own retry
            # policy decides instead.
            self._session._retry_connection = False
            if self.config.trust_env and self.config.proxy is None:
                self._env_proxies = urllib.request.getproxies_environment()
            # Proxies are the user's own choice: the safety gate does not refuse them.
            proxies = [self.config.proxy, *self._env_proxies.values()]
            self.dns.trusted = frozenset(URL(p).raw_host or "" for p in proxies if p)
        return self._session

    async def stop(self) -> None:
        """Close every connection. A stopped pool cannot be started again."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def proxy_for(self, url: URL) -> str | None:
        """The proxy for `url`: the configured one, else the environment's."""
        if self.config.proxy is not None:
            return self.config.proxy
        if not self._env_proxies:
            return None
        key = (url.scheme, url.host or "")
        if key not in self._proxy_cache:
            proxies = self._env_proxies
            bypass = _proxy_bypass(key[1], proxies)
            self._proxy_cache[key] = None if bypass else proxies.get(url.scheme)
        return self._proxy_cache[key]

    def connection_counts(self) -> tuple[int, int]:
        """`(idle, in_use)` connections right now; (0, 0) before start."""
        return _counts(self._connector) if self._connector is not None else (0, 0)

    async def warm_up(self, urls: Iterable[str | URL]) -> None:
        """Open a connection to each URL ahead of the first real request.

        Best effort: sends HEAD (GET if HEAD is refused) and swallows errors.
        """
        session = await self.start()
        for url in urls:
            for method in ("HEAD", "GET"):
                try:
                    async with session.request(method, url, allow_redirects=False) as resp:
                        await resp.read()
                        if resp.status != 405:
                            break
                except (TimeoutError, aiohttp.ClientError, OSError):
                    break


def _client_timeout(timeouts: TimeoutConfig) -> aiohttp.ClientTimeout:
    # aiohttp's `total` and `connect` would both count the wait for a pool
    # slot; the pool wait and the total deadline are httpdeck's own
    # (`_deadline.RequestTiming`), so aiohttp keeps only the socket timeouts.
    return aiohttp.ClientTimeout(
        total=None, connect=None, sock_connect=timeouts.connect, sock_read=timeouts.read
    )


def map_error(exc: BaseException, request: Request) -> HTTPClientError:
    """Translate an aiohttp (or socket) exception into an httpdeck error."""
    where = describe(request)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return HTTPTimeoutError(
            f"Timed out connecting for {where}.", request=request, sent=False, phase="connect"
        )
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return HTTPTimeoutError(
            f"Timed out reading the response to {where}: no data within the read timeout.",
            request=request,
            sent=True,
            phase="read",
        )
    if isinstance(exc, asyncio.TimeoutError):
        return HTTPTimeoutError(
            f"{where} did not complete within its total timeout.",
            request=request,
            sent=True,
            phase="total",
        )
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        msg = f"DNS lookup failed for {request.url.host!r} ({where}): {exc.os_error}."
        return HTTPConnectionError(msg, request=request, sent=False)
    if isinstance(exc, aiohttp.ClientSSLError | aiohttp.ClientConnectorCertificateError):
        msg = f"TLS handshake failed for {where}: {exc}."
        return HTTPConnectionError(msg, request=request, sent=False)
    if isinstance(exc, aiohttp.ClientConnectorError):
        # asyncio words a refusal "Connect call failed"; say what the OS said.
        errno = exc.os_error.errno
        reason = f"{os.strerror(errno)} [Errno {errno}]" if errno else str(exc.os_error)
        msg = (
            f"Cannot connect to {request.url.host}:{request.url.port} for {where}: {reason}. "
            "Check that the server is up and listening on that host and port."
        )
        return HTTPConnectionError(msg, request=request, sent=False)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        msg = f"The server closed the connection before answering {where}."
        return HTTPConnectionError(msg, request=request, sent=True)
    if isinstance(exc, aiohttp.ClientPayloadError):
        msg = f"The response body of {where} was cut short or malformed: {exc}."
        return HTTPProtocolError(msg, request=request, sent=True)
    if isinstance(exc, aiohttp.ClientResponseError):
        msg = f"The server sent a malformed response to {where}: {exc.message}."
        return HTTPProtocolError(msg, request=request, sent=True)
    if isinstance(exc, aiohttp.InvalidURL):
        return HTTPValidationError(f"Invalid URL {str(exc.url)!r}.", request=request)
    msg = f"Connection error for {where}: {type(exc).__name__}: {exc}."
    return HTTPConnectionError(msg, request=request, sent=True)


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
                self._check_length(limit)
                received = 0
                async for chunk in self._response.content.iter_any():
                    received += len(chunk)
                    if received > limit:
                        raise self._too_large(limit)
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
        self._check_length(limit)
        chunks: list[bytes] = []
        received = 0
        async for chunk in self._response.content.iter_any():
            received += len(chunk)
            if received > limit:
                raise self._too_large(limit)
            chunks.append(chunk)
        return b"".join(chunks)

    def _check_length(self, limit: int) -> None:
        # A declared length is the size on the wire; only without a
        # Content-Encoding is it also the size after decoding.
        response = self._response
        length = response.content_length
        if (
            length is not None
            and length > limit
            and "Content-Encoding" not in response.headers
            and self._request.method != "HEAD"
        ):
            raise self._too_large(limit, declared=length)

    def _too_large(self, limit: int, *, declared: int | None = None) -> HTTPResponseTooLargeError:
        self._response.close()  # the rest of the body is never read: drop the connection
        size = f"declares {declared} bytes" if declared is not None else "passed that size"
        msg = (
            f"The response to {describe(self._request)} {size}, over max_response_bytes="
            f"{limit} (counted after decompression). Raise the limit for this request with "
            "max_response_bytes=..., or read it with client.stream() and aiter_bytes()."
        )
        return HTTPResponseTooLargeError(msg, request=self._request, limit=limit)

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
        msg = (
            f"{describe(request)} did not complete within its total timeout of "
            f"{timing.total}s (the wait for a pool slot not included); raise "
            "TimeoutConfig.total or pass timeout=... for this request."
        )
        return HTTPTimeoutError(msg, request=request, sent=sent, phase="total")
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

    def __init__(
        self, config: HTTPClientConfig | None = None, *, pool: ConnectionPool | None = None
    ) -> None:
        self.pool = pool or ConnectionPool(config)
        self.config = self.pool.config
        self._default_timeout = _client_timeout(self.config.timeouts)
        self._default_total = self.config.total_timeout
        self._default_pool = self.config.timeouts.pool

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
        if connect_guard is not None:
            await connect_guard(request, proxy)
        if self.pool.url_safety is not None:
            await self._check_safety(request, proxy)
        if request.timeout is None:
            timeout = self._default_timeout
            total, pool_wait = self._default_total, self._default_pool
        else:
            timeout = _client_timeout(request.timeout)
            total = request.timeout.total
            if total is None:
                total = self.config.pool.timeout
            pool_wait = request.timeout.pool
        timing = RequestTiming(
            total=total,
            pool_timeout=total if pool_wait is None else pool_wait,
            loop=session._loop,
            wheel=pool.deadlines,
        )
        data: object = request.content
        watch: WriteWatch | None = None
        if isinstance(data, StreamBody):
            write = (request.timeout or self.config.timeouts).write
            if write is not None:
                data = watch = WriteWatch(data, write, session._loop)
        token = CURRENT.set(timing)
        try:
            with timing:
                response = await session.request(
                    request.method,
                    request.url,
                    headers=request.headers,
                    data=data,
                    allow_redirects=False,
                    timeout=timeout,
                    proxy=proxy,
                    # The client always sets User-Agent; one removed on purpose stays
                    # removed. (A session-wide skip list would cost every request.)
                    skip_auto_headers=None if "User-Agent" in request.headers else _NO_USER_AGENT,
                )
        except BaseException as exc:
            timing.finish()
            if watch is not None and watch.expired and not timing.expired:
                if isinstance(exc, asyncio.CancelledError) and watch.sender is not None:
                    watch.sender.uncancel()
                msg = (
                    f"{describe(request)}: the server accepted no part of a body chunk within "
                    f"the write timeout of {watch.timeout}s; raise TimeoutConfig.write."
                )
                raise HTTPTimeoutError(msg, request=request, sent=True, phase="write") from exc
            error = self._send_error(exc, request, timing)
            if error is exc:
                raise
            raise error from exc
        finally:
            CURRENT.reset(token)
        extensions = request.extensions
        if extensions and extensions.get(BODY_DEADLINE) is False:
            timing.finish()
        else:
            timing.on_expire = response.close
        stream = _AiohttpStream(response, request, timing, request.max_response_bytes)
        if extensions and extensions.get(STREAM) is False:
            # The client reads this body right away: read it here, with the
            # same deadline and error mapping, and save the stream round trip.
            content = await stream.aread()
            response.release()
            return HttpResponse(
                response.status,
                headers=response.headers,
                content=content,
                request=request,
                url=response.url,
                reason=response.reason or "",
            )
        return HttpResponse(
            response.status,
            headers=response.headers,
            stream=stream,
            request=request,
            url=response.url,
            reason=response.reason or "",
        )

    async def _check_safety(self, request: Request, proxy: str | None) -> None:
        safety = self.pool.url_safety
        assert safety is not None
        host = request.url.raw_host or ""
        try:
            safety.check_host(host)
            if proxy is not None:
                # The proxy resolves the name itself; this lookup cannot be pinned.
                await self.pool.dns.resolve(host, request.url.port or 0)
        except UnsafeAddressError as exc:
            raise _unsafe(exc, request) from exc
        except OSError:
            pass  # the proxy reports its own lookup failure

    def _send_error(
        self, exc: BaseException, request: Request, timing: RequestTiming
    ) -> BaseException:
        """The httpdeck error for a failure while sending (others pass through)."""
        if isinstance(exc, _ERRORS):
            return _map(exc, request, timing)
        if isinstance(exc, PoolTimeoutError):
            msg = (
                f"No connection became free for {describe(request)} within the pool timeout "
                f"of {timing.pool_timeout}s: all max_connections="
                f"{self.config.pool.max_connections} were busy. Raise "
                "ConnectionPoolConfig.max_connections or TimeoutConfig.pool."
            )
            return HTTPTimeoutError(msg, request=request, sent=False, phase="pool")
        if isinstance(exc, UnsafeAddressError):
            return _unsafe(exc, request)
        if isinstance(exc, ValueError) and not isinstance(exc, HTTPClientError):
            # aiohttp refuses control characters (CR, LF, NUL) while serialising
            # the head, before any byte is written.
            msg = f"Cannot send {describe(request)}: {exc} Check the headers interceptors set."
            return HTTPValidationError(msg, request=request)
        return exc

    async def aclose(self) -> None:
        """Close the pool and its connections; the transport cannot be started again."""
        await self.pool.stop()


def _unsafe(exc: UnsafeAddressError, request: Request) -> HTTPUnsafeURLError:
    msg = (
        f"Refused {describe(request)}: the URL safety gate blocks {exc.host} -> {exc.address}, "
        f"a {exc.reason} address. No connection was made. If this destination is trusted, "
        "allow its network with ConnectionPool(url_safety=URLSafety(allow=[...])) or turn "
        "HTTPClientConfig.url_safety off for this client."
    )
    return HTTPUnsafeURLError(
        msg, request=request, host=exc.host, address=exc.address, reason=exc.reason
    )
