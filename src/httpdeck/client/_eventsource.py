"""`EventSource`: what `HTTPClient.sse()` returns, events as they arrive.

```python
async with client.sse("https://api.example.com/events", reconnect=True) as events:
    async for event in events:
        print(event.event, event.data)
```

The request goes through the whole client: interceptors, resilience,
redirects (each hop checked by the URL safety gate when it is on). The
total timeout covers the connection and the response head only; a stream
may then stay open as long as events (or comments) keep arriving within
the read timeout.

Reconnection, as browsers do it, is opt-in: with `reconnect=True` a
stream that ends or breaks is requested again after the `retry` delay the
server last sent (else `retry_delay`), carrying `Last-Event-ID`. A 204
response ends the stream for good; any other status but 2xx, or a body
that is not `text/event-stream`, is an error and is not retried.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from yarl import URL

from httpdeck.client._exceptions import HTTPProtocolError, HTTPTransportError, describe
from httpdeck.client._extensions import BODY_DEADLINE
from httpdeck.client._sse import ServerSentEvent, SSEDecoder

if TYPE_CHECKING:
    from httpdeck.client._client import HTTPClient
    from httpdeck.client._models import HttpResponse

__all__ = ["EventSource"]


class EventSource:
    """An async iterator of `ServerSentEvent`s that is also a context manager.

    Leaving the `async with` block (or `aclose()`) releases the connection;
    iterating without the block releases it when the stream ends or fails.
    `last_event_id`, `retry` (seconds), `reconnects` and `response` (the
    current response) describe the stream so far.
    """

    def __init__(
        self,
        client: HTTPClient,
        method: str,
        url: str | URL,
        options: dict[str, Any],
        *,
        reconnect: bool,
        max_reconnects: int | None,
        retry_delay: float,
        last_event_id: str | None,
    ) -> None:
        if retry_delay < 0:
            msg = f"retry_delay must be >= 0 seconds, got {retry_delay!r}."
            raise ValueError(msg)
        self._client = client
        self._method = method
        self._url = url
        self._options = options
        self._follow = options.pop("follow_redirects", None)
        self.reconnect = reconnect
        self.max_reconnects = max_reconnects
        self.retry = retry_delay
        self.last_event_id = last_event_id
        self.reconnects = 0
        self.response: HttpResponse | None = None
        self._events = self._run()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> ServerSentEvent:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        """Release the connection and end the stream for good (no reconnect). Safe to call twice."""
        await self._events.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _open(self) -> HttpResponse:
        request = self._client.build_request(self._method, self._url, **self._options)
        request.headers.setdefault("Accept", "text/event-stream")
        request.headers.setdefault("Cache-Control", "no-store")
        if self.last_event_id:
            request.headers["Last-Event-ID"] = self.last_event_id
        request.extensions[BODY_DEADLINE] = False
        return await self._client.send(request, stream=True, follow_redirects=self._follow)

    async def _run(self) -> AsyncGenerator[ServerSentEvent, None]:
        while True:
            try:
                response = await self._open()
            except HTTPTransportError:
                if not self._may_reconnect():
                    raise
                await self._pause()
                continue
            self.response = response
            try:
                if response.status == 204:
                    return  # the server's way of saying: do not reconnect
                response.raise_for_status()
                _check_content_type(response)
                decoder = SSEDecoder()
                decoder.last_event_id = self.last_event_id
                try:
                    async for chunk in response.aiter_bytes():
                        for event in decoder.feed(chunk):
                            self.last_event_id = decoder.last_event_id
                            yield event
                except HTTPTransportError:
                    self._note(decoder)
                    if not self._may_reconnect():
                        raise
                else:
                    self._note(decoder)
                    if not self._may_reconnect():
                        return
            finally:
                await response.aclose()
            await self._pause()

    def _note(self, decoder: SSEDecoder) -> None:
        self.last_event_id = decoder.last_event_id
        if decoder.retry is not None:
            self.retry = decoder.retry / 1000

    def _may_reconnect(self) -> bool:
        if not self.reconnect:
            return False
        return self.max_reconnects is None or self.reconnects < self.max_reconnects

    async def _pause(self) -> None:
        self.reconnects += 1
        await asyncio.sleep(self.retry)


def _check_content_type(response: HttpResponse) -> None:
    mime = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if mime != "text/event-stream":
        msg = (
            f"{describe(response.request)} answered {response.status} with Content-Type "
            f"{mime or 'none'!r}, not 'text/event-stream': this is not an event stream. "
            "Use client.stream() to read other bodies."
        )
        raise HTTPProtocolError(msg, request=response.request, sent=True)
