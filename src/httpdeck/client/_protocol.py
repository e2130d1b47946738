"""`HTTPClientProtocol`: what application code needs from an HTTP client.

Type your code against it and it accepts the real `HTTPClient`,
`BaseURLHTTPClient` and the `FakeHTTPClient` alike (mypy checks them in
tests/typing/):

```python
class WeatherService:
    def __init__(self, http: HTTPClientProtocol) -> None:
        self.http = http
```
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol, Unpack, runtime_checkable

from yarl import URL

from httpdeck.client._build import RequestOptions
from httpdeck.client._eventsource import EventSource
from httpdeck.client._exceptions import HTTPClientError
from httpdeck.client._models import HttpResponse
from httpdeck.client._multipart import Fields
from httpdeck.client._result import Result

__all__ = ["HTTPClientProtocol"]


@runtime_checkable
class HTTPClientProtocol(Protocol):
    """The client's public face: verbs returning `Result`, `request()`,
    `stream()` and the lifecycle. `HTTPModule` registers the client under
    this key."""

    async def start(self) -> None:
        """Open the connection pool; the first request does it too."""
        ...

    async def stop(self) -> None:
        """Close every connection; the client cannot be used afterwards."""
        ...

    def is_started(self) -> bool:
        """True between the first `start()` (or first request) and `stop()`."""
        ...

    async def request(
        self, method: str, url: str | URL, **options: Unpack[RequestOptions]
    ) -> HttpResponse:
        """Send a request and return the response, whatever its status; see `HTTPClient.request`."""
        ...

    def stream(
        self, method: str, url: str | URL, **options: Unpack[RequestOptions]
    ) -> AbstractAsyncContextManager[HttpResponse]:
        """The response, body unread, released when the block ends; see `HTTPClient.stream`."""
        ...

    async def get(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """As `HTTPClient.get`: GET `url`, body read; `Ok` below 400, else `Err`."""
        ...

    async def post(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """As `HTTPClient.post`: POST `url`, body read; `Ok` below 400, else `Err`."""
        ...

    async def put(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """As `HTTPClient.put`: PUT `url`, body read; `Ok` below 400, else `Err`."""
        ...

    async def patch(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """As `HTTPClient.patch`: PATCH `url`, body read; `Ok` below 400, else `Err`."""
        ...

    async def delete(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """As `HTTPClient.delete`: DELETE `url`, body read; `Ok` below 400, else `Err`."""
        ...

    async def head(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """As `HTTPClient.head`: HEAD `url`, body read; `Ok` below 400, else `Err`."""
        ...

    async def options(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]:
        """As `HTTPClient.options`: OPTIONS `url`, body read; `Ok` below 400, else `Err`."""
        ...

    async def post_multipart(
        self,
        url: str | URL,
        fields: Fields,
        *,
        boundary: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Result[HttpResponse, HTTPClientError]:
        """POST `fields` as `multipart/form-data`; see `HTTPClient.post_multipart`."""
        ...

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
        """Server-sent events from `url`; see `HTTPClient.sse`."""
        ...
