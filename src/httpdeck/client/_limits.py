"""`max_response_bytes`: the one rule that bounds a response body, applied by
the aiohttp transport and by a cassette's replay alike.

Bytes are counted after decompression. A declared `Content-Length` fails
early only when the body has no `Content-Encoding` (then the size on the
wire is the size after decoding) and the request is not a HEAD.
`limited()` wraps an in-memory body (the fake transport's) in the same rule.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping

from httpdeck.client._exceptions import HTTPResponseTooLargeError, describe
from httpdeck.client._models import Request
from httpdeck.client._streaming import ResponseStream


class BodyLimit:
    """Counts one response body against `limit`; raises `HTTPResponseTooLargeError`.

    `on_exceeded` runs just before the error is raised (the aiohttp transport
    drops the connection there: the rest of the body is never read).
    """

    __slots__ = ("_on_exceeded", "_request", "limit", "received")

    def __init__(
        self, request: Request, limit: int, *, on_exceeded: Callable[[], object] | None = None
    ) -> None:
        self._request = request
        self._on_exceeded = on_exceeded
        self.limit = limit
        self.received = 0

    def check_declared(self, length: int | None, headers: Mapping[str, str]) -> None:
        """Fail at once when a declared length already passes the limit."""
        if (
            length is not None
            and length > self.limit
            and "Content-Encoding" not in headers
            and self._request.method != "HEAD"
        ):
            raise self.exceeded(declared=length)

    def add(self, chunk: bytes) -> None:
        """Count `chunk` (decoded bytes); raise once the total passes the limit."""
        self.received += len(chunk)
        if self.received > self.limit:
            raise self.exceeded()

    def exceeded(self, *, declared: int | None = None) -> HTTPResponseTooLargeError:
        if self._on_exceeded is not None:
            self._on_exceeded()
        size = f"declares {declared} bytes" if declared is not None else "passed that size"
        msg = (
            f"The response to {describe(self._request)} {size}, over max_response_bytes="
            f"{self.limit} (counted after decompression). Raise the limit for this request "
            "with max_response_bytes=..., or read it with client.stream() and aiter_bytes()."
        )
        return HTTPResponseTooLargeError(msg, request=self._request, limit=self.limit)


def declared_length(headers: Mapping[str, str]) -> int | None:
    """The `Content-Length` header as an int, None when absent or not a number."""
    value = headers.get("Content-Length")
    if value is None:
        return None
    value = value.strip()
    # RFC 9110's 1*DIGIT: ASCII only ('²'.isdigit() is True) and of a sane length.
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 19 else None


class LimitedStream:
    """`inner` (an in-memory or replayed body) counted against `budget` as it
    is read, as the aiohttp transport counts a live one: the declared
    `Content-Length` is checked when reading starts, then every chunk."""

    __slots__ = ("_budget", "_headers", "_inner")

    def __init__(
        self, inner: ResponseStream, budget: BodyLimit, headers: Mapping[str, str]
    ) -> None:
        self._inner = inner
        self._budget = budget
        self._headers = headers

    def _start(self) -> None:
        self._budget.check_declared(declared_length(self._headers), self._headers)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self._start()
        async for chunk in self._inner:
            self._budget.add(chunk)
            yield chunk

    async def aread(self) -> bytes:
        self._start()
        data = await self._inner.aread()
        self._budget.add(data)
        return data

    async def aclose(self) -> None:
        await self._inner.aclose()


def limited(stream: ResponseStream, request: Request, headers: Mapping[str, str]) -> ResponseStream:
    """`stream` bounded by `request.max_response_bytes` (itself when there is none)."""
    limit = request.max_response_bytes
    if limit is None:
        return stream
    return LimitedStream(stream, BodyLimit(request, limit), headers)
