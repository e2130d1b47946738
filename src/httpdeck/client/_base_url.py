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
from httpdeck.client._exceptions import HTTPValidationError
from httpdeck.client._interceptors import Interceptor
from httpdeck.client._models import HttpResponse
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

    Unlike `HTTPClient`'s verbs, these return the `HttpResponse` directly,
    4xx/5xx included, and raise only on transport failure. The client starts
    lazily and is closed with `close()`/`stop()` or an `async with` block.

    Example:
        ```python
        async with BaseURLHTTPClient("https://api.example.com/v1", headers={"X-Key": k}) as api:
            response = await api.get("/users/42")
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
        return join_url(self.base_url, path)

    async def start(self) -> None:
        """Open the connection pool (also done lazily by the first request)."""
        await self.client.start()

    async def close(self) -> None:
        """Close every connection; the client cannot be used afterwards."""
        await self.client.stop()

    stop = close
    """The same as `close()`, under `HTTPClient`'s name."""

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
        whatever its status. Raises `HTTPClientError` subclasses on transport failure."""
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

    async def get(self, path: str | URL, **options: Unpack[RequestOptions]) -> HttpResponse:
        """Send GET to `path` joined to `base_url`; the response whatever its status."""
        return await self.request("GET", path, **options)

    async def post(self, path: str | URL, **options: Unpack[RequestOptions]) -> HttpResponse:
        """Send POST to `path` joined to `base_url`; the response whatever its status."""
        return await self.request("POST", path, **options)

    async def put(self, path: str | URL, **options: Unpack[RequestOptions]) -> HttpResponse:
        """Send PUT to `path` joined to `base_url`; the response whatever its status."""
        return await self.request("PUT", path, **options)

    async def patch(self, path: str | URL, **options: Unpack[RequestOptions]) -> HttpResponse:
        """Send PATCH to `path` joined to `base_url`; the response whatever its status."""
        return await self.request("PATCH", path, **options)

    async def delete(self, path: str | URL, **options: Unpack[RequestOptions]) -> HttpResponse:
        """Send DELETE to `path` joined to `base_url`; the response whatever its status."""
        return await self.request("DELETE", path, **options)

    async def head(self, path: str | URL, **options: Unpack[RequestOptions]) -> HttpResponse:
        """Send HEAD to `path` joined to `base_url`; the response whatever its status."""
        return await self.request("HEAD", path, **options)

    async def options(self, path: str | URL, **options: Unpack[RequestOptions]) -> HttpResponse:
        """Send OPTIONS to `path` joined to `base_url`; the response whatever its status."""
        return await self.request("OPTIONS", path, **options)
