"""`BaseURLHTTPClient`: a client bound to one service's base URL."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Self, Unpack

from yarl import URL

from httpdeck.client._build import RequestOptions, to_url
from httpdeck.client._client import HTTPClient, ResilienceStrategy
from httpdeck.client._config import HTTPClientConfig
from httpdeck.client._eventsource import EventSource
from httpdeck.client._exceptions import HTTPClientClosedError, HTTPClientError, HTTPValidationError
from httpdeck.client._interceptors import Interceptor
from httpdeck.client._models import HttpResponse
from httpdeck.client._multipart import Fields
from httpdeck.client._result import Result
from httpdeck.client._transports.base import Transport


def join_url(base: URL, path: str | URL) -> URL:
    """`path` joined to `base`; an absolute URL passes through unchanged.

    A base of https://host/v1 joins "users" and "/users" both to /v1/users.
    A protocol-relative path (`//host/x`) is an `HTTPValidationError`.
    `BaseURLHTTPClient` joins paths this way, and so do the test fakes.
    """
    target = URL(path) if isinstance(path, str) else path
    # yarl counts //host/x as absolute (it has a host), so check it first.
    if target.host is not None and not target.scheme:
        msg = f"Path {str(path)!r} is protocol-relative; pass a path like '/users'."
        raise HTTPValidationError(msg)
    if target.is_absolute():
        return target
    if not base.path.endswith("/"):
        base = base.with_path(base.path + "/")
    return base.join(URL(str(target).lstrip("/"), encoded=True))


class BaseURLHTTPClient:
    """A client for one service: relative paths are joined to `base_url`.

    The Result API twin of `HTTPClient`: the verbs (`get`, `post`, ...,
    `post_multipart`) return `Result[HttpResponse, HTTPClientError]` exactly
    as `HTTPClient`'s do, `request()` returns the response whatever its status
    and raises on failure, and `stream()`/`sse()` work the same. It satisfies
    `HTTPClientProtocol`, as `HTTPClient` and `FakeHTTPClient` do.

    Pass `client=` to share an existing `HTTPClient` (or `FakeHTTPClient`):
    `close()` then leaves that client open, because its owner closes it.
    Without `client=`, the base-URL client builds its own `HTTPClient` from
    the other arguments and `close()` closes it. The client starts lazily.

    Example:
        ```python
        async with BaseURLHTTPClient("https://api.example.com/v1", headers={"X-Key": k}) as api:
            user = (await api.get("/users/42")).unwrap().json()
        ```
    """

    def __init__(
        self,
        base_url: str | URL,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        name: str | None = None,
        retry: ResilienceStrategy | None = None,
        circuit_breaker: ResilienceStrategy | None = None,
        *,
        config: HTTPClientConfig | None = None,
        transport: Transport | None = None,
        interceptors: Iterable[Interceptor] = (),
        client: HTTPClient | None = None,
    ) -> None:
        base = to_url(base_url)
        # A base of https://host/v1 joins "users" and "/users" both to /v1/users.
        self.base_url = base if base.path.endswith("/") else base.with_path(base.path + "/")
        self.name = name or self.base_url.host or "base-url-client"
        self._owns_client = client is None
        self._closed = False
        if client is None:
            config = config or HTTPClientConfig()
            changes: dict[str, object] = {"headers": {**config.headers, **(headers or {})}}
            if timeout is not None:
                changes["timeouts"] = dataclasses.replace(config.timeouts, total=timeout)
            if config.service_name is None:
                changes["service_name"] = self.name
            client = HTTPClient(
                dataclasses.replace(config, **changes),  # type: ignore[arg-type]
                transport=transport,
                interceptors=interceptors,
                retry_policy=retry,
                circuit_breaker=circuit_breaker,
            )
        self.client = client

    def url_for(self, path: str | URL) -> URL:
        """The absolute URL for `path` (absolute URLs pass through unchanged)."""
        self._check_open()
        return join_url(self.base_url, path)

    def _check_open(self) -> None:
        if self._closed:
            msg = (
                f"Cannot send a request: the BaseURLHTTPClient for {self.base_url} is closed. "
                "Create a new one."
            )
            raise HTTPClientClosedError(msg)

    def is_started(self) -> bool:
        """True between the first `start()` (or first request) and `close()`."""
        return not self._closed and self.client.is_started()

    async def start(self) -> None:
        """Open the connection pool (also done lazily by the first request)."""
        self._check_open()
        await self.client.start()

    async def close(self) -> None:
        """Close this client. Closes the `HTTPClient` it built; one passed as
        `client=` stays open for its owner. Safe to call twice."""
        self._closed = True
        if self._owns_client:
            await self.client.stop()

    stop = close
    """The same as `close()`, under `HTTPClient`'s name."""

    aclose = close
    """The same as `close()`, under httpx's name."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def request(
        self, method: str, path: str | URL, **options: Unpack[RequestOptions]
    ) -> HttpResponse:
        """Send `method path` (options as for `HTTPClient.request()`); the response
        whatever its status. Raises `HTTPClientError` subclasses on failure."""
        return await self.client.request(method, self.url_for(path), **options)

    @asynccontextmanager
    async def stream(
        self, method: str, path: str | URL, **options: Unpack[RequestOptions]
    ) -> AsyncIterator[HttpResponse]:
        """Stream a response (SSE, NDJSON, large downloads); see `HTTPClient.stream`."""
        async with self.client.stream(method, self.url_for(path), **options) as response:
            yield response

    def sse(
        self,
        path: str | URL,
        *,
        method: str = "GET",
        reconnect: bool = False,
        max_reconnects: int | None = None,
        retry_delay: float = 3.0,
        last_event_id: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> EventSource:
        """Server-sent events from `path`; see `HTTPClient.sse`.

        ```python
        async with api.sse("/events", reconnect=True) as events:
            async for event in events:
                ...
        ```
        """
        return self.client.sse(
            self.url_for(path),
            method=method,
            reconnect=reconnect,
            max_reconnects=max_reconnects,
            retry_delay=retry_delay,
            last_event_id=last_event_id,
            **options,
        )

    async def get(
        self, path: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """GET `path` joined to `base_url`; a `Result` as `HTTPClient.get` returns."""
        return await self.client.get(self.url_for(path), **options)

    async def post(
        self, path: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """POST to `path` joined to `base_url`; a `Result` as `HTTPClient.post` returns."""
        return await self.client.post(self.url_for(path), **options)

    async def put(
        self, path: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """PUT to `path` joined to `base_url`; a `Result` as `HTTPClient.put` returns."""
        return await self.client.put(self.url_for(path), **options)

    async def patch(
        self, path: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """PATCH `path` joined to `base_url`; a `Result` as `HTTPClient.patch` returns."""
        return await self.client.patch(self.url_for(path), **options)

    async def delete(
        self, path: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """DELETE `path` joined to `base_url`; a `Result` as `HTTPClient.delete` returns."""
        return await self.client.delete(self.url_for(path), **options)

    async def head(
        self, path: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """HEAD `path` joined to `base_url`; a `Result` as `HTTPClient.head` returns."""
        return await self.client.head(self.url_for(path), **options)

    async def options(
        self, path: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """OPTIONS `path` joined to `base_url`; a `Result` as `HTTPClient.options` returns."""
        return await self.client.options(self.url_for(path), **options)

    async def post_multipart(
        self,
        path: str | URL,
        fields: Fields,
        *,
        boundary: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Result[HttpResponse, HTTPClientError]:
        """POST `fields` as `multipart/form-data` to `path`; see `HTTPClient.post_multipart`."""
        return await self.client.post_multipart(
            self.url_for(path), fields, boundary=boundary, **options
        )

    def __repr__(self) -> str:
        return f"<BaseURLHTTPClient {self.base_url}>"
