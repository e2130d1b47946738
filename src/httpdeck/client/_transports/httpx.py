"""A second real transport: requests sent through `httpx.AsyncClient`, HTTP/2 by choice.

Installed with the `http2` extra (`pip install 'httpdeck[http2]'`: httpx and
h2). Importing this module does not import httpx; building an
`HttpxTransport` does, and says which extra to install when it is missing.

Every httpx exception is mapped onto httpdeck's errors here, worded as the
aiohttp transport words them (`_common`), with `sent` told by httpcore's
trace events: a request whose headers were not started on the wire was not
sent.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import ssl
import urllib.request
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from multidict import CIMultiDict

from httpdeck.client._build import check_header
from httpdeck.client._config import HTTPClientConfig
from httpdeck.client._deadlines import DeadlineSlots
from httpdeck.client._exceptions import (
    HTTPClientClosedError,
    HTTPClientError,
    HTTPConfigError,
    HTTPConnectionError,
    HTTPResponseTooLargeError,
    HTTPValidationError,
    describe,
)
from httpdeck.client._extensions import BODY_DEADLINE, STREAM
from httpdeck.client._limits import BodyLimit, declared_length
from httpdeck.client._models import HttpResponse, Request
from httpdeck.client._safety import UnsafeAddressError, URLSafety, parse_ip
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
from httpdeck.client._transports._connector import DNSCache, Resolver, SystemResolver
from httpdeck.client._transports._cookies import cookie_headers, keep_cookies, new_cookie_jar
from httpdeck.client._transports._deadline import RequestTiming

if TYPE_CHECKING:
    import httpcore
    import httpx
    from aiohttp.abc import AbstractCookieJar

__all__ = ["HttpxTransport"]

EXTRA = "pip install 'httpdeck[http2]'"


def _import_httpx(*, http2: bool) -> Any:
    try:
        import httpx
    except ImportError as exc:
        msg = (
            f"HttpxTransport (and HTTPClientConfig.http2=True) needs httpx, which is not "
            f"installed ({exc}). Install the http2 extra: {EXTRA}."
        )
        raise HTTPConfigError(msg) from exc
    if http2:
        try:
            import h2  # noqa: F401 - httpx needs it for HTTP/2
        except ImportError as exc:
            msg = (
                f"HTTP/2 needs the h2 package, which is not installed ({exc}). "
                f"Install the http2 extra: {EXTRA}, or pass http2=False."
            )
            raise HTTPConfigError(msg) from exc
    return httpx


def _timeouts(timeouts: EffectiveTimeouts) -> dict[str, float | None]:
    # httpcore reads the per-phase timeouts from the request's "timeout"
    # extension; `total` is httpdeck's own (`RequestTiming`).
    return {
        "connect": timeouts.connect,
        "read": timeouts.read,
        "write": timeouts.write,
        "pool": timeouts.pool,
    }


class _Trace:
    """httpcore's trace callback: marks the request sent once its headers go out."""

    __slots__ = ("timing",)

    def __init__(self, timing: RequestTiming) -> None:
        self.timing = timing

    async def __call__(self, event: str, info: dict[str, Any]) -> None:
        if event.endswith("send_request_headers.started"):
            self.timing.phase = "request"


class _PinnedBackend:
    """httpcore's network backend, resolving through `DNSCache`.

    Host names are resolved (and, with the URL safety gate on, checked) by
    the same cache as the aiohttp transport's, and the connection is made
    to the very addresses that were checked; TLS still verifies the name.
    """

    def __init__(self, inner: httpcore.AsyncNetworkBackend, dns: DNSCache) -> None:
        self._inner = inner
        self._dns = dns

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        import httpcore

        if parse_ip(host) is not None:
            addresses: tuple[str, ...] = (host,)
        else:
            try:
                async with asyncio.timeout(timeout):
                    addresses = await self._dns.resolve(host, port)
            except TimeoutError as exc:
                raise httpcore.ConnectTimeout(f"resolving {host!r} timed out") from exc
            except OSError as exc:
                raise httpcore.ConnectError(str(exc)) from exc
        error: BaseException | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self._inner.connect_unix_socket(path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of `kind` down `exc`'s chain of causes (an `OSError`
    with an errno: anyio wraps the socket's own in one without)."""
    seen: BaseException | None = exc.__cause__ or exc.__context__
    for _ in range(10):
        if seen is None:
            return None
        if isinstance(seen, kind) and (kind is not OSError or getattr(seen, "errno", None)):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def map_error(
    exc: BaseException,
    request: Request,
    timing: RequestTiming,
    *,
    body: bool,
    write: float | None = None,
) -> BaseException:
    """The httpdeck error for an httpx exception (`body`: raised while reading the body).

    An exception that is not httpx's (a usage error, a cancel) is returned unchanged.
    """
    import httpx

    if timing.expired:
        return total_timeout_error(
            request, timing.total, sent=timing.phase == "request", pool_wait_included=True
        )
    if isinstance(exc, UnsafeAddressError):
        return unsafe_error(exc, request)
    if isinstance(exc, httpx.ConnectTimeout):
        return connect_timeout_error(request)
    if isinstance(exc, httpx.ReadTimeout):
        return read_timeout_error(request)
    if isinstance(exc, httpx.WriteTimeout):
        return write_timeout_error(request, write)
    if isinstance(exc, httpx.ConnectError):
        if (tls := _cause(exc, ssl.SSLError)) is not None:
            return tls_error(request, tls)
        import socket

        if (gai := _cause(exc, socket.gaierror)) is not None:
            return dns_error(request, gai)
        os_error = _cause(exc, OSError)
        if isinstance(os_error, OSError):
            return cannot_connect_error(request, os_error)
        msg = f"Cannot connect to {request.url.host}:{request.url.port} for {describe(request)}: {exc}."
        return HTTPConnectionError(msg, request=request, sent=False)
    sent = timing.phase == "request"
    if isinstance(exc, httpx.DecodingError):
        return body_error(request, exc)
    if isinstance(exc, httpx.RemoteProtocolError):
        if body:
            return body_error(request, exc)
        if "without sending a response" in str(exc):
            return disconnected_error(request)
        return malformed_response_error(request, exc, sent=sent)
    if isinstance(exc, httpx.LocalProtocolError | httpx.InvalidURL | httpx.UnsupportedProtocol):
        # h11 and h2 refuse control characters (CR, LF, NUL) in the head
        # before writing it.
        msg = f"Cannot send {describe(request)}: {exc}. Check the headers interceptors set."
        return HTTPValidationError(msg, request=request)
    if isinstance(exc, httpx.TransportError):
        if isinstance(reset := _cause(exc, ConnectionResetError), ConnectionResetError):
            return connection_reset_error(request, sent=sent or body, os_error=reset)
        msg = f"Connection error for {describe(request)}: {type(exc).__name__}: {exc}."
        return HTTPConnectionError(msg, request=request, sent=sent or body)
    return exc


class _HttpxStream:
    """The body of an httpx response, as a `ResponseStream`, decoded.

    The total deadline guards every wait for a chunk. Bytes are counted
    against `max_response_bytes` after decompression, one network chunk at a
    time (httpx inflates each chunk whole).
    """

    __slots__ = ("_headers", "_limit", "_request", "_response", "_timing")

    def __init__(
        self,
        response: httpx.Response,
        headers: CIMultiDict[str],
        request: Request,
        timing: RequestTiming,
        limit: int | None,
    ) -> None:
        self._response = response
        self._headers = headers
        self._request = request
        self._timing = timing
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        limit, timing = self._limit, self._timing
        chunks = self._response.aiter_bytes()
        budget = None if limit is None else BodyLimit(self._request, limit)
        try:
            if budget is not None:
                budget.check_declared(declared_length(self._headers), self._headers)
            while True:
                try:
                    with timing:
                        chunk = await anext(chunks)
                except StopAsyncIteration:
                    return
                if budget is not None:
                    budget.add(chunk)
                yield chunk
        except HTTPResponseTooLargeError:
            await self._response.aclose()  # the rest is never read (HTTP/2: the stream is reset)
            raise
        except HTTPClientError:
            raise
        except Exception as exc:
            error = map_error(exc, self._request, timing, body=True)
            if error is exc:
                raise
            raise error from exc
        finally:
            timing.finish()

    async def aread(self) -> bytes:
        return b"".join([chunk async for chunk in self])

    async def aclose(self) -> None:
        await self._response.aclose()
        if not self._timing.done:
            self._timing.finish()


class HttpxTransport:
    """A real transport over `httpx.AsyncClient`, with HTTP/2 when asked.

    ```python
    client = HTTPClient(config, transport=HttpxTransport(config, http2=True))
    # or, the same: HTTPClient(HTTPClientConfig(http2=True))
    ```

    Needs the `http2` extra (`pip install 'httpdeck[http2]'`); building one
    without httpx (or, with `http2`, without h2) raises `HTTPConfigError`
    naming the extra. `http2=None` takes `HTTPClientConfig.http2`. HTTP/2 is
    negotiated by TLS (ALPN) on https:// URLs; http:// URLs stay HTTP/1.1.

    It keeps the contract of `AiohttpTransport`: the same errors (with
    `sent` and the timeout `phase`), cookies in the same jar, the URL safety
    gate and the DNS cache (`resolver`, `ttl_dns_cache`) applied to the
    addresses it connects to, `max_response_bytes` counted after
    decompression, bodies streamed both ways. What differs: the total
    timeout also counts the wait for a pool slot, `max_connections_per_host`
    is not applied (HTTP/2 multiplexes one connection per host), and
    `ssl_context` replaces the default certificate checks (for a private CA).
    """

    pool_wait_in_total: ClassVar[bool] = True
    """The total timeout counts the wait for a pool slot (httpx's own pool)."""

    def __init__(
        self,
        config: HTTPClientConfig | None = None,
        *,
        http2: bool | None = None,
        ssl_context: ssl.SSLContext | None = None,
        resolver: Resolver | None = None,
        url_safety: URLSafety | None = None,
    ) -> None:
        self.config = config or HTTPClientConfig()
        self.http2 = self.config.http2 if http2 is None else http2
        self._httpx = _import_httpx(http2=self.http2)
        self._ssl_context = ssl_context
        self.url_safety = url_safety or (URLSafety() if self.config.url_safety else None)
        self.dns = DNSCache(
            resolver or SystemResolver(), ttl=self.config.pool.ttl_dns_cache, safety=self.url_safety
        )
        if self.config.proxy:
            self.dns.trusted = frozenset([self._httpx.URL(self.config.proxy).host])
        self._client: httpx.AsyncClient | None = None
        self._jar: AbstractCookieJar | None = None
        self._deadlines: DeadlineSlots | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._proxy: str | None = None
        self._defaults = effective_timeouts(self.config)
        self._default_timeouts = _timeouts(self._defaults)

    def is_started(self) -> bool:
        """True between `start()` (or the first `send()`) and `aclose()`."""
        return self._client is not None

    async def start(self) -> httpx.AsyncClient:
        """Open the httpx client (idempotent) and return it.

        Raises `HTTPClientClosedError` once the transport was closed.
        """
        if self._closed:
            msg = "Cannot start the httpx transport: it was closed. Create a new one."
            raise HTTPClientClosedError(msg)
        if self._client is None:
            self._client = self._open()
            self._jar = new_cookie_jar(self.config)
            self._loop = asyncio.get_running_loop()
            self._deadlines = DeadlineSlots(self._loop)
        return self._client

    def _open(self) -> httpx.AsyncClient:
        hx = self._httpx
        pool = self.config.pool
        limits = hx.Limits(
            max_connections=pool.max_connections,
            max_keepalive_connections=0 if pool.force_close else pool.max_keepalive_connections,
            keepalive_expiry=pool.keepalive_timeout,
        )
        verify: ssl.SSLContext | bool = (
            self._ssl_context if self._ssl_context is not None else pool.verify_ssl
        )
        transport = hx.AsyncHTTPTransport(
            verify=verify,
            http1=True,
            http2=self.http2,
            limits=limits,
            proxy=self.config.proxy,
            trust_env=self.config.trust_env,
        )
        # httpx takes no network backend; its pool does (httpcore's public
        # parameter, set after the fact).
        inner = transport._pool
        inner._network_backend = _PinnedBackend(inner._network_backend, self.dns)
        client: httpx.AsyncClient = hx.AsyncClient(
            transport=transport,
            trust_env=self.config.trust_env,
            follow_redirects=False,  # the client follows redirects itself
            # The transport keeps the cookies (see _cookies): httpx's jar takes none.
            cookies=http.cookiejar.CookieJar(
                http.cookiejar.DefaultCookiePolicy(allowed_domains=[])
            ),
        )
        # The client always sets User-Agent; one removed on purpose stays removed.
        for name in ("User-Agent", "Connection"):
            client.headers.pop(name, None)
        # A proxy resolves the target itself: the safety gate then checks by a
        # lookup of its own (see check_safety).
        env = urllib.request.getproxies_environment() if self.config.trust_env else {}
        self._proxy = self.config.proxy or next(iter(env.values()), None)
        return client

    async def send(self, request: Request) -> HttpResponse:
        """Send `request`; the response comes back with its body unread.

        Transport failures raise `HTTPConnectionError`, `HTTPTimeoutError`
        (with its `phase`), `HTTPProtocolError`, `HTTPResponseTooLargeError`
        or `HTTPUnsafeURLError`, each carrying the request and `sent`.
        """
        client = self._client or await self.start()
        proxy = self.config.proxy
        if _common.connect_guard is not None:
            await _common.connect_guard(request, proxy)
        if self.url_safety is not None:
            await check_safety(self.dns, request, self._proxy)
        if request.timeout is None:
            limits, timeout = self._defaults, self._default_timeouts
        else:
            limits = effective_timeouts(self.config, request)
            timeout = _timeouts(limits)
        timing = RequestTiming(
            total=limits.total, pool_timeout=None, loop=self._loop, wheel=self._deadlines
        )
        timing.slot_granted()  # the total deadline starts now: httpx's pool wait counts
        jar = self._jar
        assert jar is not None
        headers = cookie_headers(jar, request.url, request.headers)
        try:
            # h11 refuses CR, LF and NUL in the head, h2 would send them: check
            # here, before any byte is written, with the client's own rule.
            for name, value in headers.items():
                check_header(name, value)
            outgoing = self._httpx.Request(
                request.method,
                str(request.url),
                headers=list(headers.items()),
                content=request.content,
                extensions={"timeout": timeout, "trace": _Trace(timing)},
            )
            with timing:
                response = await client.send(outgoing, stream=True)
        except BaseException as exc:
            timing.finish()
            error = self._send_error(exc, request, timing)
            if error is exc:
                raise
            raise error from exc
        received = CIMultiDict(response.headers.multi_items())
        if "Set-Cookie" in received:
            keep_cookies(jar, received, request.url)
        extensions = request.extensions
        if extensions and extensions.get(BODY_DEADLINE) is False:
            timing.finish()
        stream = _HttpxStream(response, received, request, timing, request.max_response_bytes)
        content = None
        if extensions and extensions.get(STREAM) is False:
            content = await stream.aread()
            await response.aclose()
        return HttpResponse(
            response.status_code,
            headers=received,
            content=content,
            stream=stream if content is None else None,
            request=request,
            url=request.url,
            reason=response.reason_phrase,
            http_version=response.http_version,
        )

    def _send_error(
        self, exc: BaseException, request: Request, timing: RequestTiming
    ) -> BaseException:
        if isinstance(exc, HTTPValidationError) and exc.request is None:
            msg = f"Cannot send {describe(request)}: {exc} Check the headers interceptors set."
            return HTTPValidationError(msg, request=request)
        if isinstance(exc, HTTPClientError):
            return exc
        limits = effective_timeouts(self.config, request)
        if isinstance(exc, self._httpx.PoolTimeout):
            return pool_timeout_error(request, limits.pool, self.config.pool.max_connections)
        return map_error(exc, request, timing, body=False, write=limits.write)

    async def aclose(self) -> None:
        """Close every connection; the transport cannot be started again."""
        self._closed = True
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
        self.dns.close()
