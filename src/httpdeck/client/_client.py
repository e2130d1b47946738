"""`HTTPClient`: the pooled async client and its request pipeline.

```
get/post/... -> Result        request() -> HttpResponse (raises)
            \\                 /
             redirects (one hop at a time)
               resilience: retry -> circuit breaker   (per hop; the breaker sees each attempt)
                 interceptor chain                    (per attempt)
                   Transport.send                     (the seam)
```
"""

from __future__ import annotations

import enum
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Protocol, Self, Unpack, runtime_checkable

from yarl import URL

from httpdeck.client._build import (
    RequestOptions,
    build_request,
    check_follow_redirects,
    default_headers,
)
from httpdeck.client._config import HTTPClientConfig
from httpdeck.client._events import EventBus
from httpdeck.client._eventsource import EventSource
from httpdeck.client._exceptions import (
    HTTPClientClosedError,
    HTTPClientError,
    HTTPConnectionError,
    HTTPRedirectError,
    HTTPStatusError,
    describe,
)
from httpdeck.client._extensions import FRESH_CONNECTION, OBSERVER, STREAM
from httpdeck.client._interceptors import Interceptor, InterceptorChain
from httpdeck.client._metrics import MetricsRecorder
from httpdeck.client._models import HttpResponse, Request
from httpdeck.client._multipart import Fields, multipart_options
from httpdeck.client._observe import Observer
from httpdeck.client._redirects import REDIRECT_STATUSES, is_redirect, next_request
from httpdeck.client._result import Err, Ok, Result
from httpdeck.client._transports.base import Transport, default_transport

Send = Callable[[Request], Awaitable[HttpResponse]]


@runtime_checkable
class ResilienceStrategy(Protocol):
    """Something that wraps the sending of one request: a retry policy, a
    circuit breaker, a bulkhead or a pipeline of them. `send` performs one
    attempt; the strategy may call it several times (setting `attempt`)."""

    async def execute(self, request: Request, send: Send) -> HttpResponse:
        """Return the response to `request`, calling `send` for each attempt.

        `send(request)` runs one attempt (interceptors, then the transport);
        a strategy that retries calls it again with a copy of the request
        whose `attempt` (0-based) is one higher. Raise an `HTTPClientError`
        to fail the request.
        """
        ...


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


class HTTPClient:
    """An async HTTP client over a pooled aiohttp session.

    Verb methods return `Result[HttpResponse, HTTPClientError]` for every
    runtime outcome: `Ok` on 1xx-3xx, `Err(HTTPStatusError)` on 4xx/5xx,
    `Err(HTTPConnectionError | HTTPTimeoutError | HTTPRetryExhaustedError |
    HTTPCircuitOpenError | HTTPBulkheadFullError | ...)` otherwise. They raise
    only for misuse (`HTTPClientClosedError`, `HTTPValidationError`,
    `HTTPConfigError`) and for test-setup errors (an unmatched fake request, a
    cassette miss). `request()` returns the response whatever its status and
    raises every failure (docs/resilience.md has the table). `metrics=` takes a `MetricsRecorder`;
    `client.events` is an `EventBus` to subscribe to.

    Example:
        ```python
        async with HTTPClient() as client:
            match await client.get("https://api.example.com/users", params={"page": 1}):
                case Ok(response):
                    users = response.json()
                case Err(error):
                    log.warning("users unavailable: %s", error)
        ```

    The client starts itself on first use; `stop()` (or leaving the `async
    with` block) closes its connections, after which using it is an error.
    """

    def __init__(
        self,
        config: HTTPClientConfig | None = None,
        *,
        transport: Transport | None = None,
        interceptors: Iterable[Interceptor] = (),
        retry_policy: ResilienceStrategy | None = None,
        circuit_breaker: ResilienceStrategy | None = None,
        resilience: ResilienceStrategy | None = None,
        metrics: MetricsRecorder | None = None,
        events: EventBus | None = None,
    ) -> None:
        if config is not None and not isinstance(config, HTTPClientConfig):
            msg = f"config must be an HTTPClientConfig, got {type(config).__name__}."
            raise TypeError(msg)
        self.config = config or HTTPClientConfig()
        self._transport: Transport = transport or default_transport(self.config)
        self.interceptors = InterceptorChain(interceptors)
        # A pipeline given as `resilience` wins over the separate parts. Retry is
        # outside the breaker: the breaker judges each attempt (see docs/resilience.md).
        strategies = [resilience] if resilience is not None else [retry_policy, circuit_breaker]
        self._strategies = [s for s in strategies if s is not None]
        self._chains: dict[bool, Send] = {}
        for strategy in self._strategies:
            if not isinstance(strategy, ResilienceStrategy):
                msg = f"{strategy!r} is not a resilience strategy: it needs execute(request, send)."
                raise TypeError(msg)
        if metrics is not None and not isinstance(metrics, MetricsRecorder):
            msg = f"{metrics!r} is not a MetricsRecorder: it needs counter() and histogram()."
            raise TypeError(msg)
        self.metrics = metrics
        self.events = events if events is not None else EventBus()
        self._default_headers = default_headers(self.config)
        self._state = _State.UNOPENED

    # -- lifecycle ---------------------------------------------------------

    @property
    def transport(self) -> Transport:
        """The transport requests go through: the one passed in, else an `AiohttpTransport`
        (an `HttpxTransport` with HTTP/2 when `HTTPClientConfig.http2` is on)."""
        return self._transport

    def is_started(self) -> bool:
        """True between the first `start()` (or first request) and `stop()`."""
        return self._state is _State.OPEN

    @property
    def is_closed(self) -> bool:
        """True once `stop()` ran; a closed client raises `HTTPClientClosedError` when used."""
        return self._state is _State.CLOSED

    async def start(self) -> None:
        """Open the connection pool (also done lazily by the first request)."""
        self._check_open()
        if self._state is _State.UNOPENED:
            start = getattr(self._transport, "start", None)
            if start is not None:
                await start()
            self._state = _State.OPEN

    async def stop(self) -> None:
        """Close every connection. Safe to call twice."""
        if self._state is not _State.CLOSED:
            self._state = _State.CLOSED
            await self._transport.aclose()

    aclose = stop
    """The same as `stop()`, under httpx's name."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @classmethod
    @asynccontextmanager
    async def session_context(
        cls, config: HTTPClientConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[HTTPClient]:
        """`async with HTTPClient.session_context(config) as client:` (lexigram-http)."""
        async with cls(config, **kwargs) as client:
            yield client

    def _check_open(self) -> None:
        if self._state is _State.CLOSED:
            msg = "Cannot send a request: the client is closed. Create a new HTTPClient."
            raise HTTPClientClosedError(msg)

    # -- the pipeline ------------------------------------------------------

    def build_request(
        self, method: str, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Request:
        """The `Request` that `request(method, url, **options)` would send."""
        return build_request(method, url, options, self.config, self._default_headers)

    async def _read_attempt(self, request: Request) -> HttpResponse:
        response = await self._transport.send(request)
        await response.aread()
        return response

    async def _attempt(self, request: Request, *, read: bool) -> HttpResponse:
        started = time.perf_counter()
        # Around interceptors that answer without calling the transport (a
        # cassette in replay) read this to hand back a read body or a stream.
        request.extensions[STREAM] = not read
        observer: Observer | None = request.extensions.get(OBSERVER)
        if observer is not None:
            handler = self._read_attempt if read else self._transport.send
            return await observer.attempt(request, self.interceptors.send, handler, read=read)
        if self.interceptors._layers:
            handler = self._read_attempt if read else self._transport.send
            response = await self.interceptors.send(request, handler)
        else:  # the transport directly (read below): two coroutine frames less
            response = await self._transport.send(request)
        if read and not response.is_read:
            await response.aread()
        response.elapsed = time.perf_counter() - started
        return response

    async def _send_hop(self, request: Request, *, read: bool) -> HttpResponse:
        if not self._strategies:
            return await self._attempt(request, read=read)
        # Composed once per mode: the same `send` each time lets a pipeline cache too.
        send = self._chains.get(read)
        if send is None:

            async def attempt(req: Request) -> HttpResponse:
                return await self._attempt(req, read=read)

            send = attempt
            for strategy in reversed(self._strategies):
                send = _bind(strategy, send)
            self._chains[read] = send
        return await send(request)

    async def _resend(
        self, request: Request, stale: HTTPConnectionError, *, read: bool
    ) -> HttpResponse:
        """Send `request` once more, on a new connection, as an attempt of its own.

        Only for an error the transport marked `stale` (a reused keep-alive
        connection that died before any byte of the response, an idempotent
        method, a replayable body): interceptors, metrics, events and a
        recorder see a second attempt, numbered one past the one that failed,
        just as the server sees a second request.
        """
        failed = stale.request if stale.request is not None else request
        # Rebuilt from the request before interceptors ran, so none applies twice.
        again = Request(
            request.method,
            request.url,
            request.headers.copy(),
            request.content,
            request.timeout,
            request.max_response_bytes,
            failed.attempt + 1,
            request.redirect_hop,
            {**request.extensions, FRESH_CONNECTION: True},
        )
        if self._strategies:
            return await self._send_hop(again, read=read)
        return await self._attempt(again, read=read)

    async def send(
        self, request: Request, *, stream: bool = False, follow_redirects: bool | None = None
    ) -> HttpResponse:
        """Send a built `Request` through the whole pipeline.

        With `stream=True` the body is left unread: read it, then `aclose()`.
        """
        if (self.metrics is not None or self.events.active) and OBSERVER not in request.extensions:
            return await Observer(self.metrics, self.events).complete(
                request,
                lambda: self.send(request, stream=stream, follow_redirects=follow_redirects),
            )
        if self._state is not _State.OPEN:
            await self.start()
        if follow_redirects is None:
            follow = self.config.follow_redirects
        else:
            follow = check_follow_redirects(follow_redirects)
        while True:
            try:
                if self._strategies:
                    response = await self._send_hop(request, read=not stream)
                else:  # one coroutine frame less on the hot path
                    response = await self._attempt(request, read=not stream)
            except HTTPConnectionError as exc:
                if not exc.stale or request.extensions.get(FRESH_CONNECTION):
                    raise
                response = await self._resend(request, exc, read=not stream)
            if not follow or response.status not in REDIRECT_STATUSES or not is_redirect(response):
                return response
            if request.redirect_hop >= self.config.max_redirects:
                await response.aclose()
                msg = (
                    f"{describe(request)} was redirected more than max_redirects="
                    f"{self.config.max_redirects} times; raise HTTPClientConfig.max_redirects "
                    "or pass follow_redirects=False."
                )
                raise HTTPRedirectError(msg, request=request)
            await response.aclose()
            request = next_request(request, response, secret_headers=self.config.secret_headers)

    async def request(
        self, method: str, url: str | URL, **options: Unpack[RequestOptions]
    ) -> HttpResponse:
        """Send a request and return the response, whatever its status.

        Raises `HTTPClientError` subclasses on transport failure.
        """
        self._check_open()
        follow = options.pop("follow_redirects", None)
        request = build_request(method, url, options, self.config, self._default_headers)
        return await self.send(request, follow_redirects=follow)

    @asynccontextmanager
    async def stream(
        self, method: str, url: str | URL, **options: Unpack[RequestOptions]
    ) -> AsyncIterator[HttpResponse]:
        """Send a request and hand back the response with its body unread.

        ```python
        async with client.stream("GET", url) as response:
            async for line in response.aiter_lines():
                ...
        ```
        The connection is released when the block ends.
        """
        self._check_open()
        follow = options.pop("follow_redirects", None)
        request = build_request(method, url, options, self.config, self._default_headers)
        response = await self.send(request, stream=True, follow_redirects=follow)
        try:
            yield response
        finally:
            await response.aclose()

    def sse(
        self,
        url: str | URL,
        *,
        method: str = "GET",
        reconnect: bool = False,
        max_reconnects: int | None = None,
        retry_delay: float = 3.0,
        last_event_id: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> EventSource:
        """Server-sent events from `url`, as they arrive.

        ```python
        async with client.sse(url, reconnect=True) as events:
            async for event in events:
                handle(event.event, event.json())
        ```
        With `reconnect=True` a stream that ends or breaks is requested again
        (at most `max_reconnects` times; None: no limit) after the server's
        `retry` delay, else `retry_delay` seconds, with `Last-Event-ID`.
        Redirects, interceptors and resilience apply as for `stream()`; the
        total timeout covers the response head, the read timeout each gap.
        """
        self._check_open()
        return EventSource(
            self,
            method,
            url,
            dict(options),
            reconnect=reconnect,
            max_reconnects=max_reconnects,
            retry_delay=retry_delay,
            last_event_id=last_event_id,
        )

    # -- verbs returning Result ---------------------------------------------

    async def _result(
        self, method: str, url: str | URL, options: RequestOptions
    ) -> Result[HttpResponse, HTTPClientError]:
        try:
            # request() inlined: one coroutine frame and one kwargs copy less.
            if self._state is _State.CLOSED:
                self._check_open()
            follow = options.pop("follow_redirects", None)
            request = build_request(method, url, options, self.config, self._default_headers)
            response = await self.send(request, follow_redirects=follow)
        except HTTPClientError as exc:
            # The one rule (`HTTPClientError.raised_by_verbs`): misuse and a
            # wrong test setup raise; every runtime outcome is an Err.
            if exc.raised_by_verbs:
                raise
            return Err(exc)
        if response.status >= 400:
            try:
                response.raise_for_status()
            except HTTPStatusError as exc:
                return Err(exc)
        return Ok(response)

    async def get(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send GET `url` (options as for `request()`) and read the body.

        `Ok(response)` for 1xx-3xx, `Err(HTTPStatusError)` for 4xx/5xx,
        `Err(...)` for every other runtime failure (transport, timeout, retries
        exhausted, circuit open, bulkhead full); raises only misuse errors.
        """
        return await self._result("GET", url, options)

    async def post(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send POST `url` (options as for `request()`) and read the body.

        `Ok(response)` for 1xx-3xx, `Err(HTTPStatusError)` for 4xx/5xx,
        `Err(...)` for every other runtime failure (transport, timeout, retries
        exhausted, circuit open, bulkhead full); raises only misuse errors.
        """
        return await self._result("POST", url, options)

    async def put(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send PUT `url` (options as for `request()`) and read the body.

        `Ok(response)` for 1xx-3xx, `Err(HTTPStatusError)` for 4xx/5xx,
        `Err(...)` for every other runtime failure (transport, timeout, retries
        exhausted, circuit open, bulkhead full); raises only misuse errors.
        """
        return await self._result("PUT", url, options)

    async def patch(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send PATCH `url` (options as for `request()`) and read the body.

        `Ok(response)` for 1xx-3xx, `Err(HTTPStatusError)` for 4xx/5xx,
        `Err(...)` for every other runtime failure (transport, timeout, retries
        exhausted, circuit open, bulkhead full); raises only misuse errors.
        """
        return await self._result("PATCH", url, options)

    async def delete(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send DELETE `url` (options as for `request()`) and read the body.

        `Ok(response)` for 1xx-3xx, `Err(HTTPStatusError)` for 4xx/5xx,
        `Err(...)` for every other runtime failure (transport, timeout, retries
        exhausted, circuit open, bulkhead full); raises only misuse errors.
        """
        return await self._result("DELETE", url, options)

    async def head(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send HEAD `url` (options as for `request()`) and read the body.

        `Ok(response)` for 1xx-3xx, `Err(HTTPStatusError)` for 4xx/5xx,
        `Err(...)` for every other runtime failure (transport, timeout, retries
        exhausted, circuit open, bulkhead full); raises only misuse errors.
        """
        return await self._result("HEAD", url, options)

    async def options(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """Send OPTIONS `url` (options as for `request()`) and read the body.

        `Ok(response)` for 1xx-3xx, `Err(HTTPStatusError)` for 4xx/5xx,
        `Err(...)` for every other runtime failure (transport, timeout, retries
        exhausted, circuit open, bulkhead full); raises only misuse errors.
        """
        return await self._result("OPTIONS", url, options)

    async def post_multipart(
        self,
        url: str | URL,
        fields: Fields,
        *,
        boundary: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Result[HttpResponse, HTTPClientError]:
        """POST `fields` as `multipart/form-data`.

        ```python
        await client.post_multipart(url, {"title": "cat", "photo": ("cat.jpg", jpeg)})
        ```
        Values: str, bytes, `(filename, data)` or `(filename, data,
        content_type)`; `data` may be an async iterable of bytes (streamed).
        """
        return await self._result("POST", url, multipart_options(fields, boundary, options))


def _bind(strategy: ResilienceStrategy, send: Send) -> Send:
    async def run(request: Request) -> HttpResponse:
        return await strategy.execute(request, send)

    return run
