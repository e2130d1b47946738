"""`FakeHTTPClient`: the real `HTTPClient` over an in-memory `FakeTransport`.

Only the transport is fake. Interceptors, retry, circuit breaker, redirects,
error mapping and `Result` handling run the production code, so a test of
code that uses the fake exercises what production runs.

```python
async with FakeHTTPClient() as fake:
    fake.route("GET", "https://api.example.com/users").respond(json=[{"id": 1}])
    match await fake.get("https://api.example.com/users"):
        case Ok(response):
            assert response.json() == [{"id": 1}]
```
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Unpack

from yarl import URL

from httpdeck.client import (
    HTTPClient,
    HTTPClientConfig,
    HTTPClientError,
    HttpResponse,
    HTTPValidationError,
    Interceptor,
    Request,
    RequestOptions,
    ResilienceStrategy,
    Result,
    StreamBody,
    Transport,
)
from httpdeck.client._seam import (
    BodyLimit,
    CookieJar,
    declared_length,
    join_url,
    keep_cookies,
    limited,
    new_cookie_jar,
    redact_url,
    send_cookies,
)
from httpdeck.testing.fake._matching import (
    ANY,
    ContentSpec,
    HeaderValue,
    ParamsSpec,
    ParamValue,
    Seen,
    URLSpec,
)
from httpdeck.testing.fake._responses import (
    MISSING,
    Answer,
    FakeClock,
    FakeError,
    FakeResponse,
    delay_timeout,
)
from httpdeck.testing.fake._router import RouteTable
from httpdeck.testing.fake._routes import Call, Route, RouteList

__all__ = ["FakeHTTPClient", "FakeTransport"]


def _check_config(config: object) -> HTTPClientConfig:
    if config is None:
        return HTTPClientConfig()
    if not isinstance(config, HTTPClientConfig):
        msg = f"config must be an HTTPClientConfig, got {type(config).__name__}."
        raise TypeError(msg)
    return config


def _bounded(response: HttpResponse, request: Request) -> HttpResponse:
    """A responder's own response held to `max_response_bytes`, as `FakeResponse`'s are."""
    limit = request.max_response_bytes
    if limit is None:
        return response
    if response.is_read:  # built with content=: the whole body is here already
        budget = BodyLimit(request, limit)
        budget.check_declared(declared_length(response.headers), response.headers)
        budget.add(response.content)
    else:
        stream = response._stream  # wrapped before anyone reads it
        assert stream is not None
        response._stream = limited(stream, request, response.headers)
    return response


class _Routing:
    """Declaring routes and reading the history: shared by the transport and the client."""

    _routing: _RoutingState

    def route(
        self,
        method: str = ANY,
        url: URLSpec | None = None,
        *,
        params: ParamsSpec | None = None,
        exact_params: bool = False,
        headers: Mapping[str, HeaderValue] | None = None,
        json: Any = MISSING,
        data: Mapping[str, ParamValue | Sequence[ParamValue]] | None = None,
        content: ContentSpec | None = None,
        any_host: bool = False,
        name: str | None = None,
        optional: bool = False,
    ) -> Route:
        """Declare a route and return it; answer with `.respond(...)` & co.

        - `method`: `"GET"`, ... or `"*"` for any.
        - `url`: an absolute URL (exact; a query in it must match exactly),
          a glob (`"https://api.example.com/users/*"`), a compiled regex, a
          path (joined to `base_url`; any host with `any_host=True`), or
          None for any URL.
        - `params`: query parameters that must be present (others may be
          too); `exact_params=True` requires exactly these.
        - `headers`: headers that must be present (value or compiled regex).
        - `json` (a value, or a predicate on the decoded body), `data` (form
          fields, exactly) or `content` (bytes, or a predicate on them).
        - `name`: look the route up later with `fake.routes["name"]`.
        - `optional`: `assert_all_called()` does not require this route.

        The first declared route that matches answers. Declaring an identical
        route again returns the existing one, so `.respond()` replaces its
        answer (a test can override a fixture's route).
        """
        state = self._routing
        route = Route(
            method,
            url,
            params=params,
            exact_params=exact_params,
            headers=headers,
            json=json,
            data=data,
            content=content,
            any_host=any_host,
            name=name,
            optional=optional,
            base_url=state.base_url,
        )
        return state.table.add(route)

    def add_route(self, route: Route) -> Route:
        """Add a route built with `Route(...)` (copied if another fake owns it)."""
        return self._routing.table.add(route)

    @property
    def routes(self) -> RouteList:
        """Every route in declaration order; `routes["name"]` finds a named one."""
        return RouteList(self._routing.table.routes)

    @property
    def requests(self) -> list[Call]:
        """Every request received, in order: matched, unmatched and passed through."""
        return self._routing.requests

    @property
    def unmatched_requests(self) -> list[Call]:
        """The requests no route answered (each `Call.error` is the error raised)."""
        return self._routing.unmatched

    def reset(self) -> None:
        """Forget every request and the cookies responses set (routes stay
        declared; sequences restart)."""
        self._routing.jar = None
        self._routing.requests.clear()
        self._routing.unmatched.clear()
        for route in self._routing.table.routes:
            route.reset()

    def assert_all_called(self) -> None:
        """Fail listing every route (not declared `optional`) that was never called."""
        idle = [r for r in self._routing.table.routes if not r.calls and not r.optional]
        if idle:
            count = len(idle)
            lines = [f"{count} route{'s were' if count != 1 else ' was'} never called:"]
            lines += [f"  - {route.label}" for route in idle]
            lines.append("Call them, remove them, or declare them with optional=True.")
            raise AssertionError("\n".join(lines))

    def assert_all_requests_were_expected(self) -> None:
        """Fail listing every request that matched no route, even those whose
        `UnmatchedRequestError` the code under test caught and swallowed."""
        unmatched = self._routing.unmatched
        if unmatched:
            count = len(unmatched)
            lines = [f"{count} request{'s' * (count != 1)} matched no route:"]
            lines += [f"  - {call.method} {redact_url(call.url)}" for call in unmatched]
            lines.append("The first one failed with:")
            lines.append(str(unmatched[0].error))
            raise AssertionError("\n".join(lines))


class _RoutingState:
    __slots__ = ("base_url", "jar", "requests", "table", "unmatched")

    def __init__(self, base_url: URL | None) -> None:
        self.base_url = base_url
        self.table = RouteTable()
        self.requests: list[Call] = []
        self.unmatched: list[Call] = []
        # The cookies responses set, from the first Set-Cookie on.
        self.jar: CookieJar | None = None


class FakeTransport(_Routing):
    """An in-memory transport that answers requests from declared routes.

    Plug it into any client: `HTTPClient(transport=fake_transport)` or
    `BaseURLHTTPClient(base, transport=fake_transport)`. `FakeHTTPClient` is
    `HTTPClient` over one of these.

    - `base_url`: relative route URLs (`"/users"`) are joined to it.
    - `clock`: the `FakeClock` that response delays advance (a fresh one
      by default; share it with a retry policy to see backoff on one clock).
    - `passthrough_hosts`: requests to these hosts that match no route go
      to `passthrough_transport` (the real transport `HTTPClientConfig` picks by default).
    - `config`: the client config whose timeouts bound response delays.

    Like the real transport, it keeps the cookies that responses set and
    sends them back by the same rules (aiohttp's cookie jar: domain, path,
    expiry, `Secure`; nothing is kept with `HTTPClientConfig(cookie_jar=False)`),
    so routes see the `Cookie` header a server would get.
    """

    def __init__(
        self,
        *,
        routes: Iterable[Route] = (),
        base_url: str | URL | None = None,
        clock: FakeClock | None = None,
        passthrough_hosts: Iterable[str] = (),
        passthrough_transport: Transport | None = None,
        config: HTTPClientConfig | None = None,
    ) -> None:
        self.config = _check_config(config)
        base = URL(base_url) if isinstance(base_url, str) else base_url
        if base is not None and (not base.is_absolute() or base.scheme not in ("http", "https")):
            msg = f"base_url must be an absolute http(s) URL, got {str(base_url)!r}."
            raise ValueError(msg)
        self._routing = _RoutingState(base)
        self.clock = clock if clock is not None else FakeClock()
        self.passthrough_hosts = frozenset(host.lower() for host in passthrough_hosts)
        self._passthrough = passthrough_transport
        self._owns_passthrough = passthrough_transport is None
        for route in routes:
            self.add_route(route)

    async def send(self, request: Request) -> HttpResponse:
        """Answer `request` from the first route that matches it, and record the `Call`.

        A request to one of `passthrough_hosts` that matches no route goes to
        the passthrough transport; any other unmatched request raises
        `UnmatchedRequestError` (and is kept for
        `assert_all_requests_were_expected()`). Cookies that earlier responses
        set go in its `Cookie` header first, as the real transport sends them.
        """
        state = self._routing
        if state.jar is not None:
            request = send_cookies(state.jar, request)
        response = await self._route(request)
        if "Set-Cookie" in response.headers:
            if state.jar is None:
                state.jar = new_cookie_jar(self.config)
            keep_cookies(state.jar, response.headers, request.url)
        return response

    async def _route(self, request: Request) -> HttpResponse:
        content = request.content
        if isinstance(content, StreamBody):
            # Consuming the stream is what a real transport does: a one-shot
            # body cannot be sent twice through the fake either.
            body: bytes | None = b"".join([chunk async for chunk in content])
        else:
            body = content
        state = self._routing
        route = state.table.find(request, body)
        if route is None:
            return await self._unmatched(request, body)
        call = Call(request, body, route)
        state.requests.append(call)
        route.calls.append(call)
        answer = route.next_answer()
        if answer is None:
            call.error = error = state.table.exhausted(route, request)
            state.unmatched.append(call)
            raise error
        if type(answer) is FakeResponse and not answer.delay:  # the common case, inline
            call.response = response = answer.build(request)
            return response
        try:
            response = await self._answer(answer, request)
        except BaseException as exc:
            call.error = exc
            raise
        call.response = response
        return response

    async def _answer(self, answer: Answer, request: Request) -> HttpResponse:
        if isinstance(answer, FakeResponse):
            spec = answer
        elif isinstance(answer, FakeError):
            raise answer.build(request)
        else:
            result: Any = answer(request)
            if inspect.isawaitable(result):
                result = await result
            if isinstance(result, HttpResponse):
                if result.request is None:
                    result.request = request
                return _bounded(result, request)
            if not isinstance(result, FakeResponse):
                msg = (
                    f"The responder {answer!r} returned {result!r}; "
                    "return a FakeResponse or an HttpResponse."
                )
                raise TypeError(msg)
            spec = result
        if spec.delay:
            waited, error = delay_timeout(spec.delay, request, self.config)
            await self.clock.sleep(waited)
            if error is not None:
                raise error
        return spec.build(request)

    async def _unmatched(self, request: Request, body: bytes | None) -> HttpResponse:
        state = self._routing
        call = Call(request, body, None)
        state.requests.append(call)
        host = (request.url.host or "").lower()
        if host in self.passthrough_hosts:
            call.passthrough = True
            if self._passthrough is None:
                from httpdeck.client._seam import default_transport

                # Without a jar of its own: the fake's jar serves both.
                config = dataclasses.replace(self.config, cookie_jar=False)
                self._passthrough = default_transport(config)
            if isinstance(request.content, StreamBody):
                request = dataclasses.replace(request, content=body)
            try:
                call.response = await self._passthrough.send(request)
            except BaseException as exc:
                call.error = exc
                raise
            return call.response
        seen = Seen(request.method, request.url, request.headers, body)
        call.error = error = state.table.unmatched(
            seen, request, passthrough_hint=not self.passthrough_hosts
        )
        state.unmatched.append(call)
        raise error

    async def aclose(self) -> None:
        """Close the passthrough transport, if one was opened. The fake's
        routes and history stay usable."""
        passthrough, self._passthrough = self._passthrough, None
        if passthrough is not None and self._owns_passthrough:
            await passthrough.aclose()

    def __repr__(self) -> str:
        return f"<FakeTransport {len(self._routing.table.routes)} routes>"


class FakeHTTPClient(_Routing, HTTPClient):
    """`HTTPClient` over a `FakeTransport`: declare routes, then use it as the client.

    Takes `HTTPClient`'s arguments (config, interceptors, retry policy,
    circuit breaker, resilience) plus the `FakeTransport` options, or a
    ready `transport=`. With a `base_url`, relative URLs are joined to it
    in routes and in requests (`fake.get("/users")`), as `BaseURLHTTPClient`
    joins them. Works with or without pytest:

    ```python
    async with FakeHTTPClient(base_url="https://api.example.com") as fake:
        users = fake.route("GET", "/users").respond(json=[])
        await service_under_test(fake)
        users.assert_called_once()
        fake.assert_all_requests_were_expected()
    ```
    """

    def __init__(
        self,
        config: HTTPClientConfig | None = None,
        *,
        routes: Iterable[Route] = (),
        base_url: str | URL | None = None,
        clock: FakeClock | None = None,
        passthrough_hosts: Iterable[str] = (),
        passthrough_transport: Transport | None = None,
        transport: FakeTransport | None = None,
        interceptors: Iterable[Interceptor] = (),
        retry_policy: ResilienceStrategy | None = None,
        circuit_breaker: ResilienceStrategy | None = None,
        resilience: ResilienceStrategy | None = None,
        metrics: Any = None,
    ) -> None:
        config = _check_config(config)
        if transport is None:
            transport = FakeTransport(
                routes=routes,
                base_url=base_url,
                clock=clock,
                passthrough_hosts=passthrough_hosts,
                passthrough_transport=passthrough_transport,
                config=config,
            )
        else:
            for route in routes:
                transport.add_route(route)
        self._fake = transport
        self._routing = transport._routing
        super().__init__(
            config,
            transport=transport,
            interceptors=interceptors,
            retry_policy=retry_policy,
            circuit_breaker=circuit_breaker,
            resilience=resilience,
            metrics=metrics,
        )

    # -- relative URLs, joined to base_url as BaseURLHTTPClient joins them ----

    def _absolute(self, url: str | URL) -> str | URL:
        base = self._routing.base_url
        if base is not None:
            return join_url(base, url)
        if isinstance(url, str):
            relative = "://" not in url
        elif isinstance(url, URL):
            relative = not url.is_absolute()
        else:
            return url  # the client names the wrong type
        if relative:
            msg = (
                f"Cannot send a request to {str(url)!r}: the URL is relative and this "
                "FakeHTTPClient has no base_url. Pass an absolute URL, or give the fake a "
                "base_url (FakeHTTPClient(base_url=...), or the httpdeck_fake marker's)."
            )
            raise HTTPValidationError(msg)
        return url

    def build_request(
        self, method: str, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Request:
        """The `Request` that `request(method, url, **options)` would send; a
        relative `url` is joined to `base_url`."""
        return super().build_request(method, self._absolute(url), **options)

    async def request(
        self, method: str, url: str | URL, **options: Unpack[RequestOptions]
    ) -> HttpResponse:
        """Send a request and return the response, whatever its status, as
        `HTTPClient.request()` does; a relative `url` is joined to `base_url`."""
        return await super().request(method, self._absolute(url), **options)

    @asynccontextmanager
    async def stream(
        self, method: str, url: str | URL, **options: Unpack[RequestOptions]
    ) -> AsyncIterator[HttpResponse]:
        """Send a request and hand back the response with its body unread, as
        `HTTPClient.stream()` does; a relative `url` is joined to `base_url`."""
        async with super().stream(method, self._absolute(url), **options) as response:
            yield response

    async def _result(
        self, method: str, url: str | URL, options: RequestOptions
    ) -> Result[HttpResponse, HTTPClientError]:
        return await super()._result(method, self._absolute(url), options)

    @property
    def transport(self) -> FakeTransport:
        """The `FakeTransport`; plug it into your own `HTTPClient` too."""
        return self._fake

    @property
    def clock(self) -> FakeClock:
        """The virtual clock that response delays advance."""
        return self._fake.clock

    def __repr__(self) -> str:
        return f"<FakeHTTPClient {len(self._routing.table.routes)} routes>"
