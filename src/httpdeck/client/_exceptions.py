"""The httpdeck error hierarchy.

Every error the client raises or returns is an ``HTTPClientError``; aiohttp's
own exceptions never escape it.

```
HTTPClientError
├── HTTPConfigError            bad configuration value (also a ValueError)
├── HTTPValidationError        bad URL, header, host, port, timeout (also a ValueError)
│   └── HTTPUnsafeURLError     the URL safety gate refused a host (defined in _safety)
├── HTTPClientClosedError      the client was used after stop()/close()
├── HTTPTransportError         the exchange with the server failed; carries `sent`
│   ├── HTTPConnectionError    refused, reset, DNS, TLS, disconnected
│   ├── HTTPTimeoutError       carries `phase`: connect, pool, read, write, total
│   │   └── HTTPPoolTimeoutError   no pooled connection became free (phase "pool")
│   ├── HTTPProtocolError      the server broke HTTP: garbage, truncated body
│   └── HTTPResponseTooLargeError  the body passed max_response_bytes
├── HTTPStatusError            4xx/5xx (carries `response`)
├── HTTPRedirectError          too many hops, or a 307/308 body that cannot be re-sent
├── HTTPInterceptorError       an interceptor raised (carries `interceptor`)
├── HTTPCircuitOpenError       the circuit breaker refused the request
├── HTTPBulkheadFullError      the bulkhead's slots and wait queue are full
└── HTTPRetryExhaustedError    every attempt failed (carries `attempts`)
```

Transport errors say whether any byte of the request reached the wire
(`sent`), which decides whether a non-idempotent request may be retried.

Messages never show a secret: every URL in a message loses its userinfo
password and its secret query values (`?api_key=REDACTED`, see
`httpdeck.client._redaction`). The error's `request` keeps the real URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from httpdeck.client._redaction import redact_text

if TYPE_CHECKING:
    from httpdeck.client._models import HttpResponse, Request

TimeoutPhase = Literal["connect", "pool", "read", "write", "total"]


class HTTPClientError(Exception):
    """Base class of every httpdeck error; `request` is set when one is known.

    `raised_by_verbs` is True for errors the verb methods raise instead of
    returning them as `Err`: misuse of the client (a closed client, an
    invalid option, URL or config value) and a wrong test setup (a request
    missing from a cassette), so code under test cannot swallow them. Every
    runtime outcome is an `Err`.

    `message` (and `str(error)`) shows URLs with their userinfo and secret
    query values replaced by `REDACTED`; `request.url` is the real one.
    """

    raised_by_verbs: ClassVar[bool] = False

    def __init__(self, message: str, *, request: Request | None = None) -> None:
        message = redact_text(message)
        super().__init__(message)
        self.message = message
        self.request = request

    def __str__(self) -> str:
        return self.message


class HTTPConfigError(HTTPClientError, ValueError):
    """A configuration value is invalid; the message names the field and the value."""

    raised_by_verbs: ClassVar[bool] = True


class HTTPValidationError(HTTPClientError, ValueError):
    """A URL, header, host, port or timeout given by the caller is invalid."""

    raised_by_verbs: ClassVar[bool] = True


class HTTPClientClosedError(HTTPClientError):
    """The client was used after it was stopped."""

    raised_by_verbs: ClassVar[bool] = True


class HTTPTransportError(HTTPClientError):
    """The exchange with the server failed.

    `sent` is False only when no byte of the request was written (connect
    phase), so a retry cannot repeat a side effect on the server.
    """

    def __init__(self, message: str, *, request: Request | None = None, sent: bool) -> None:
        super().__init__(message, request=request)
        self.sent = sent


class HTTPConnectionError(HTTPTransportError):
    """The connection could not be made or was lost (refused, reset, DNS, TLS).

    `stale` is True when the connection was a reused keep-alive one that the
    server closed or reset before any byte of a response arrived, and the
    request is idempotent with a body that can be sent again: `HTTPClient`
    then sends it once more on a new connection, as an attempt of its own
    (see docs/redirects-and-safety.md, "Keep-alive connections the server
    closed"), so you only see such an error from a transport used directly.
    """

    def __init__(
        self, message: str, *, request: Request | None = None, sent: bool, stale: bool = False
    ) -> None:
        super().__init__(message, request=request, sent=sent)
        self.stale = stale


class HTTPTimeoutError(HTTPTransportError):
    """A timeout of the given `phase` (connect, pool, read, write, total) expired."""

    def __init__(
        self,
        message: str,
        *,
        request: Request | None = None,
        sent: bool,
        phase: TimeoutPhase,
    ) -> None:
        super().__init__(message, request=request, sent=sent)
        self.phase: TimeoutPhase = phase


class HTTPPoolTimeoutError(HTTPTimeoutError):
    """No connection of the pool became free within `TimeoutConfig.pool`.

    Phase "pool", `sent=False`: nothing reached the server. A type of its
    own, so that "this client is saturated" (raise
    `ConnectionPoolConfig.max_connections` or send less at once) is told
    apart from "the server is slow" (`phase="read"` or `"total"`) by
    `except` alone; it is still an `HTTPTimeoutError`.
    """

    def __init__(self, message: str, *, request: Request | None = None) -> None:
        super().__init__(message, request=request, sent=False, phase="pool")


class HTTPProtocolError(HTTPTransportError):
    """The server broke the protocol: a malformed response or a body cut short."""


class HTTPResponseTooLargeError(HTTPTransportError):
    """The response body (after decompression) passed `max_response_bytes`."""

    def __init__(self, message: str, *, request: Request | None = None, limit: int) -> None:
        super().__init__(message, request=request, sent=True)
        self.limit = limit


class HTTPStatusError(HTTPClientError):
    """The server answered 4xx or 5xx; `response` holds the full response."""

    def __init__(self, message: str, *, request: Request | None = None, response: HttpResponse):
        super().__init__(message, request=request)
        self.response = response

    @property
    def status(self) -> int:
        """The response's status code."""
        return self.response.status


class HTTPRedirectError(HTTPClientError):
    """A redirect could not be followed (hop limit, or a body that cannot be re-sent)."""


class HTTPInterceptorError(HTTPClientError):
    """An interceptor raised something that is not an HTTPClientError."""

    def __init__(self, message: str, *, request: Request | None = None, interceptor: object):
        super().__init__(message, request=request)
        self.interceptor = interceptor


class HTTPCircuitOpenError(HTTPClientError):
    """The circuit breaker is open; no connection was made.

    `breaker` names the breaker and `retry_after` is how many seconds from
    now it will admit a probe.
    """

    def __init__(
        self,
        message: str,
        *,
        request: Request | None = None,
        breaker: str,
        retry_after: float,
    ) -> None:
        super().__init__(message, request=request)
        self.breaker = breaker
        self.retry_after = retry_after


class HTTPBulkheadFullError(HTTPClientError):
    """A bulkhead refused the request: every slot was busy and its wait queue
    was full, or the wait for a slot passed `max_wait`. No connection was made."""

    def __init__(
        self,
        message: str,
        *,
        request: Request | None = None,
        bulkhead: str,
        max_concurrent: int,
        max_queue: int,
    ) -> None:
        super().__init__(message, request=request)
        self.bulkhead = bulkhead
        self.max_concurrent = max_concurrent
        self.max_queue = max_queue


class HTTPRetryExhaustedError(HTTPClientError):
    """Every attempt failed; `attempts` holds each attempt's outcome in order.

    An outcome is the `HttpResponse` that was retried or the error raised.
    `last` is the final outcome; `reason` says why the policy stopped
    (attempts used up, deadline, retry budget, a Retry-After too long).
    """

    def __init__(
        self,
        message: str,
        *,
        request: Request | None = None,
        attempts: list[HttpResponse | HTTPClientError],
        reason: str = "",
    ) -> None:
        super().__init__(message, request=request)
        self.attempts = attempts
        self.reason = reason

    @property
    def last(self) -> HttpResponse | HTTPClientError:
        """The final attempt's outcome."""
        return self.attempts[-1]


def describe(request: Request | None) -> str:
    """`GET http://host/path?q=1` for error messages (the error redacts secrets in it)."""
    if request is None:
        return "the request"
    return f"{request.method} {request.url}"
