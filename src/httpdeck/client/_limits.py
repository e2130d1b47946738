"""`max_response_bytes`: the one rule that bounds a response body, applied by
the aiohttp transport and by a cassette's replay alike.

Bytes are counted after decompression. A declared `Content-Length` fails
early only when the body has no `Content-Encoding` (then the size on the
wire is the size after decoding) and the request is not a HEAD.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from httpdeck.client._exceptions import HTTPResponseTooLargeError, describe
from httpdeck.client._models import Request


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
