"""The real transport: a `ConnectionPool` of one aiohttp session.

This is the only module that imports aiohttp. Every aiohttp exception is
mapped onto httpdeck's errors here, with the request attached and with
`sent` telling whether any byte of the request may have reached the server.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import aiohttp
from yarl import URL

from httpdeck.client._config import HTTPClientConfig, TimeoutConfig
from httpdeck.client._exceptions import (
    HTTPClientClosedError,
    HTTPClientError,
    HTTPConnectionError,
    HTTPProtocolError,
    HTTPTimeoutError,
    HTTPValidationError,
    describe,
)
from httpdeck.client._models import HttpResponse, Request

# Public since Python 3.0, yet missing from typeshed's urllib.request stubs.
_proxy_bypass: Any = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]


# A seam for test tooling, never set by the client itself: httpdeck.testing's
# network blocking (`--httpdeck-block-network`) installs an async check here that
# raises HTTPConnectionError before any connection is made (or any DNS lookup by
# aiohttp) to a host the test may not contact. Called with the request and the
# proxy URL that would be used, if any.
ConnectGuard = Callable[[Request, str | None], Awaitable[None]]
connect_guard: ConnectGuard | None = None


class _Connector(aiohttp.TCPConnector):
    """A TCPConnector that keeps at most `max_keepalive` idle connections per host."""

    def __init__(self, *, max_keepalive: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._max_keepalive = max_keepalive

    def _release(self, key: Any, protocol: Any, *args: Any, **kwargs: Any) -> None:
        super()._release(key, protocol, *args, **kwargs)
        idle = self._conns.get(key)
        while idle is not None and len(idle) > self._max_keepalive:
            oldest, _ = idle.popleft()
            oldest.close()

    def counts(self) -> tuple[int, int]:
        """(idle, in use) connections."""
        idle = sum(len(conns) for conns in self._conns.values())
        return idle, len(self._acquired)


class ConnectionPool:
    """One aiohttp `ClientSession` over a `TCPConnector`, built from the config.

    The proxy environment (`HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`) is read
    once at `start()` when `trust_env` is on, not on every request.
    """

    def __init__(self, config: HTTPClientConfig | None = None) -> None:
        self.config = config or HTTPClientConfig()
        self._session: aiohttp.ClientSession | None = None
        self._connector: _Connector | None = None
        self._closed = False
        self._env_proxies: dict[str, str] = {}
        self._proxy_cache: dict[tuple[str, str], str | None] = {}

    def is_started(self) -> bool:
        return self._session is not None

    @property
    def session(self) -> aiohttp.ClientSession:
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
            pool = self.config.pool
            self._connector = _Connector(
                max_keepalive=pool.max_keepalive_connections,
                limit=pool.max_connections,
                limit_per_host=pool.max_connections_per_host,
                ttl_dns_cache=pool.ttl_dns_cache or None,
                use_dns_cache=pool.ttl_dns_cache > 0,
                force_close=pool.force_close,
                keepalive_timeout=pool.keepalive_timeout if not pool.force_close else None,
                ssl=None if pool.verify_ssl else False,
            )
            jar: aiohttp.abc.AbstractCookieJar = (
                aiohttp.CookieJar() if self.config.cookie_jar else aiohttp.DummyCookieJar()
            )
            self._session = aiohttp.ClientSession(
                connector=self._connector,
                cookie_jar=jar,
                trust_env=False,
                auto_decompress=True,
                timeout=aiohttp.ClientTimeout(total=None),
                skip_auto_headers=("User-Agent",),
            )
            # aiohttp silently re-sends idempotent requests once when a reused
            # keep-alive connection turns out dead; that hidden attempt would make
            # attempt counts, metrics and fault logs lie. httpdeck's own retry
            # policy decides instead.
            self._session._retry_connection = False
            if self.config.trust_env and self.config.proxy is None:
                self._env_proxies = urllib.request.getproxies_environment()
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
        return self._connector.counts() if self._connector is not None else (0, 0)

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


def _client_timeout(timeouts: TimeoutConfig, total: float | None) -> aiohttp.ClientTimeout:
    # aiohttp's `connect` covers the wait for a pool slot plus the connection;
    # `sock_connect` is the connection alone.
    connect = None
    if timeouts.pool is not None:
        connect = timeouts.pool + (timeouts.connect or 0.0)
    return aiohttp.ClientTimeout(
        total=total, connect=connect, sock_connect=timeouts.connect, sock_read=timeouts.read
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
        msg = (
            f"Cannot connect to {request.url.host}:{request.url.port} for {where}: {exc.os_error}."
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


class _AiohttpStream:
    """The body of an aiohttp response, as a `ResponseStream`."""

    __slots__ = ("_request", "_response")

    def __init__(self, response: aiohttp.ClientResponse, request: Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except _ERRORS as exc:
            raise map_error(exc, self._request) from exc

    async def aread(self) -> bytes:
        try:
            return await self._response.read()
        except _ERRORS as exc:
            raise map_error(exc, self._request) from exc

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport:
    """The production transport: requests go out through a `ConnectionPool`."""

    def __init__(
        self, config: HTTPClientConfig | None = None, *, pool: ConnectionPool | None = None
    ) -> None:
        self.pool = pool or ConnectionPool(config)
        self.config = self.pool.config
        self._default_timeout = _client_timeout(self.config.timeouts, self.config.total_timeout)

    async def start(self) -> None:
        await self.pool.start()

    def is_started(self) -> bool:
        return self.pool.is_started()

    async def send(self, request: Request) -> HttpResponse:
        session = self.pool._session or await self.pool.start()
        proxy = self.pool.proxy_for(request.url)
        if connect_guard is not None:
            await connect_guard(request, proxy)
        if request.timeout is None:
            timeout = self._default_timeout
        else:
            total = request.timeout.total
            timeout = _client_timeout(
                request.timeout, total if total is not None else self.config.pool.timeout
            )
        try:
            response = await session.request(
                request.method,
                request.url,
                headers=request.headers,
                data=request.content,
                allow_redirects=False,
                timeout=timeout,
                proxy=proxy,
            )
        except _ERRORS as exc:
            raise map_error(exc, request) from exc
        return HttpResponse(
            response.status,
            headers=response.headers,
            stream=_AiohttpStream(response, request),
            request=request,
            url=response.url,
            reason=response.reason or "",
        )

    async def aclose(self) -> None:
        await self.pool.stop()
