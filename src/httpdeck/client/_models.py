"""The values that cross the pipeline: `Request`, `HttpResponse` and the
interceptor contexts `RequestContext` / `ResponseContext`."""

from __future__ import annotations

import json as _json
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from httpdeck.client._config import TimeoutConfig
from httpdeck.client._exceptions import HTTPClientError, HTTPStatusError, describe
from httpdeck.client._links import parse_links
from httpdeck.client._redaction import redact_url
from httpdeck.client._streaming import ResponseStream, StreamBody, iter_lines

Headers = CIMultiDict[str] | CIMultiDictProxy[str]


class HTTPDecodeError(HTTPClientError, ValueError):
    """The response body could not be decoded as asked (for example, not JSON)."""


class ResponseNotReadError(HTTPClientError):
    """`content`, `text()` or `json()` was used on a stream that was not read yet."""


@dataclass(slots=True, eq=False)
class Request:
    """A request as it crosses the pipeline: a plain value.

    `content` is bytes (replayable) or a `StreamBody` (replayable only when
    built from a factory). `attempt` counts from 0 and `redirect_hop` from 0;
    both are set by the client. `timeout` overrides the client's timeouts for
    this request; `max_response_bytes` likewise. `extensions` carries
    anything else an interceptor or transport wants to attach.
    """

    method: str
    url: URL
    headers: CIMultiDict[str] = field(default_factory=CIMultiDict)
    content: bytes | StreamBody | None = None
    timeout: TimeoutConfig | None = None
    max_response_bytes: int | None = None
    attempt: int = 0
    redirect_hop: int = 0
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def body(self) -> bytes | None:
        """The body when it is in memory, else None (streamed or empty)."""
        return self.content if isinstance(self.content, bytes) else None

    @property
    def replayable(self) -> bool:
        """True when sending this request again sends the same bytes."""
        return not isinstance(self.content, StreamBody) or self.content.reusable

    def __repr__(self) -> str:
        return f"<Request {self.method} {redact_url(self.url)}>"


_HEADERS = (CIMultiDict, CIMultiDictProxy)


def _json_failure(exc: ValueError | RecursionError) -> str:
    """Why `json.loads` refused a body, in words for an error message."""
    if isinstance(exc, _json.JSONDecodeError):
        return f"it is not valid JSON: {exc}"
    if isinstance(exc, UnicodeDecodeError):
        return f"it is not UTF-8 (or UTF-16/32) text: {exc}"
    if isinstance(exc, RecursionError):
        return (
            "it nests arrays or objects deeper than Python's JSON decoder can go (the "
            "recursion limit); decode response.content with a streaming parser if such "
            "bodies are expected"
        )
    # The only other ValueError json raises: int() refusing a long literal.
    return (
        f"it holds an integer of more than {sys.get_int_max_str_digits()} digits, which "
        f"Python refuses to convert ({exc}); decode response.content with "
        "json.loads(..., parse_int=str) if such numbers are expected"
    )


class HttpResponse:
    """A response: status, headers and a body, read or streamed.

    The verb methods return responses whose body is already read, so
    `content`, `text()` and `json()` work at once. Inside `client.stream()`
    the body is read with `aiter_bytes()`, `aiter_lines()` or `aread()`.
    `http_version` is the protocol the response came over (`"HTTP/1.1"`,
    `"HTTP/2"` through `HttpxTransport` with HTTP/2 negotiated).
    """

    __slots__ = (
        "_content",
        "_stream",
        "elapsed",
        "headers",
        "http_version",
        "reason",
        "request",
        "status",
        "url",
    )

    def __init__(
        self,
        status: int,
        *,
        headers: Mapping[str, str] | Headers | None = None,
        content: bytes | None = None,
        stream: ResponseStream | None = None,
        request: Request | None = None,
        url: URL | str | None = None,
        reason: str = "",
        elapsed: float = 0.0,
        http_version: str = "HTTP/1.1",
    ) -> None:
        self.status = status
        self.headers: Headers = (
            headers if isinstance(headers, _HEADERS) else CIMultiDict(headers or {})
        )
        self._content = content if content is not None or stream is not None else b""
        self._stream = stream
        self.request = request
        if url is None:
            self.url = request.url if request is not None else URL()
        else:
            self.url = URL(url) if isinstance(url, str) else url
        self.reason = reason
        self.elapsed = elapsed
        self.http_version = http_version

    @property
    def ok(self) -> bool:
        """True for 1xx, 2xx and 3xx statuses."""
        return self.status < 400

    @property
    def method(self) -> str:
        """The method of the request that got this response ("" without one)."""
        return self.request.method if self.request is not None else ""

    @property
    def is_read(self) -> bool:
        """True once the whole body is in memory (`content` works)."""
        return self._content is not None

    @property
    def content(self) -> bytes:
        """The whole body. Raises if this is a stream that was not read yet."""
        if self._content is None:
            msg = (
                f"The body of {describe(self.request)} was not read yet: "
                "call `await response.aread()` inside the stream block first."
            )
            raise ResponseNotReadError(msg, request=self.request)
        return self._content

    @property
    def encoding(self) -> str:
        """The charset named by Content-Type, else utf-8."""
        for part in self.headers.get("Content-Type", "").split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                return value.strip('"')
        return "utf-8"

    def text(self) -> str:
        """The body decoded with `encoding`; undecodable bytes become U+FFFD."""
        try:
            return self.content.decode(self.encoding, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """Decode the body as JSON; `HTTPDecodeError` says why when it cannot be.

        Besides a body that is not JSON, that is one nested deeper than
        Python's decoder can go (its recursion limit, about 1,000 levels) and
        one holding an integer longer than `sys.get_int_max_str_digits()`
        (4,300 digits by default): the decoder's own RecursionError and
        ValueError never escape.
        """
        try:
            return _json.loads(self.content)
        except (ValueError, RecursionError) as exc:
            content_type = self.headers.get("Content-Type", "no Content-Type")
            where = describe(self.request) if self.request is not None else str(self.url)
            msg = (
                f"The body of {where} (status {self.status}, {content_type}, "
                f"{len(self.content)} bytes) cannot be decoded as JSON: {_json_failure(exc)}. "
                f"It starts with {self.content[:80]!r}."
            )
            raise HTTPDecodeError(msg, request=self.request) from exc

    def raise_for_status(self) -> HttpResponse:
        """Raise `HTTPStatusError` for 4xx/5xx; return the response otherwise."""
        if self.status >= 400:
            kind = "Client error" if self.status < 500 else "Server error"
            msg = f"{kind} {self.status} {self.reason} for {describe(self.request)}".replace(
                "  ", " "
            )
            raise HTTPStatusError(msg, request=self.request, response=self)
        return self

    async def aread(self) -> bytes:
        """Read the rest of the body (once) and release the connection."""
        if self._content is None:
            assert self._stream is not None
            try:
                self._content = await self._stream.aread()
            finally:
                await self._stream.aclose()
        return self._content

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        """Yield the body in chunks as they arrive, without buffering it."""
        if self._content is not None:
            if self._content:
                yield self._content
            return
        assert self._stream is not None
        try:
            async for chunk in self._stream:
                yield chunk
        finally:
            await self._stream.aclose()

    async def aiter_lines(self) -> AsyncIterator[str]:
        """Yield decoded text lines, line endings removed."""
        async for line in iter_lines(self.aiter_bytes(), self.encoding):
            yield line

    async def aclose(self) -> None:
        """Release the connection without reading the rest of the body."""
        if self._stream is not None:
            await self._stream.aclose()

    @property
    def stream(self) -> ResponseStream | None:
        """The body stream as the transport gave it (None once read in memory)."""
        return self._stream if self._content is None else None

    @property
    def links(self) -> dict[str | None, dict[str, str]]:
        """The `Link` header parsed, as httpx gives it: keyed by `rel` (else the
        URL), each a dict with `url`, `rel` and any other parameters. `{}`
        without the header.

        ```python
        next_page = response.links.get("next", {}).get("url")
        ```
        """
        values = self.headers.getall("Link", [])
        return parse_links(values) if values else {}

    def __repr__(self) -> str:
        return f"<HttpResponse [{self.status}] {self.method} {redact_url(self.url)}>"


@dataclass(slots=True, eq=False)
class RequestContext:
    """What a request interceptor sees, one per attempt (lexigram-http's shape).

    `headers` is the live header mapping of the request; changing it (or
    assigning `url`) changes what is sent. `attempt` counts from 0.
    """

    request: Request
    start_time: float
    service_name: str | None = None

    @property
    def method(self) -> str:
        """The request's method, upper-cased."""
        return self.request.method

    @property
    def url(self) -> URL:
        """The request's URL; assign a URL or str to send it elsewhere."""
        return self.request.url

    @url.setter
    def url(self, value: URL | str) -> None:
        self.request.url = URL(value) if isinstance(value, str) else value

    @property
    def headers(self) -> CIMultiDict[str]:
        """The request's live headers: changes are sent."""
        return self.request.headers

    @property
    def attempt(self) -> int:
        """Which attempt this is, counting from 0."""
        return self.request.attempt


@dataclass(slots=True, eq=False)
class ResponseContext:
    """What a response interceptor sees: the response and how long it took.

    Assign `response` to replace the response the caller gets.
    """

    response: HttpResponse
    request: Request
    duration: float

    @property
    def status(self) -> int:
        """The response's status code."""
        return self.response.status

    @property
    def headers(self) -> Headers:
        """The response's headers (case-insensitive)."""
        return self.response.headers

    @property
    def content_length(self) -> int | None:
        """The declared Content-Length, or None when absent or not 1*DIGIT (ASCII, < 20 digits)."""
        value = self.response.headers.get("Content-Length")
        if value is None or not (value.isascii() and value.isdigit()) or len(value) > 19:
            return None
        return int(value)

    @property
    def success(self) -> bool:
        """True when the status is below 400."""
        return self.response.status < 400

    @property
    def error(self) -> str | None:
        """`"HTTP 503 Service Unavailable"` for 4xx/5xx, else None."""
        if self.response.status < 400:
            return None
        return f"HTTP {self.response.status} {self.response.reason}".strip()

    @property
    def attempt(self) -> int:
        """Which attempt this response answers, counting from 0."""
        return self.request.attempt
