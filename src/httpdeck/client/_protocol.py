"""`HTTPClientProtocol`: what application code needs from an HTTP client.

Type your code against it and it accepts the real `HTTPClient` and the
`FakeHTTPClient` alike (mypy checks both in tests/typing/):

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

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def is_started(self) -> bool: ...

    async def request(
        self, method: str, url: str | URL, **options: Unpack[RequestOptions]
    ) -> HttpResponse: ...

    def stream(
        self, method: str, url: str | URL, **options: Unpack[RequestOptions]
    ) -> AbstractAsyncContextManager[HttpResponse]: ...

    async def get(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]: ...

    async def post(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]: ...

    async def put(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]: ...

    async def patch(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]: ...

    async def delete(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]: ...

    async def head(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]: ...

    async def options(
        self, url: str | URL, **options: Unpack[RequestOptions]
    ) -> Result[HttpResponse, HTTPClientError]: ...

    async def post_multipart(
        self,
        url: str | URL,
        fields: Fields,
        *,
        boundary: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Result[HttpResponse, HTTPClientError]: ...

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
    ) -> EventSource: ...
