"""What a fake route answers: responses, errors, sequences, and virtual delays.

- `FakeResponse(status, json=..., text=..., content=..., chunks=..., sse=..., ndjson=...)`
  is a reusable response *spec*; `build(request)` makes a fresh `HttpResponse`
  with an unread in-memory body (chunk boundaries kept) for every call.
- `FakeError` is an error spec; `FakeError.connection_reset(sent=...)`
  and `FakeError.timeout(phase)` build the transport errors the real transport raises.
- `FakeClock` is a virtual monotonic clock: a response delay advances it at
  once, so tests never really sleep.
"""

from __future__ import annotations

import asyncio
import heapq
import http
import itertools
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, get_args

from multidict import CIMultiDict, CIMultiDictProxy

from httpdeck.client import (
    ByteStream,
    HTTPClientConfig,
    HTTPClientError,
    HTTPConnectionError,
    HttpResponse,
    HTTPTimeoutError,
    Request,
)
from httpdeck.client._seam import (
    TimeoutPhase,
    connection_reset_error,
    effective_timeouts,
    limited,
    read_timeout_error,
    timeout_error,
    total_timeout_error,
)
from httpdeck.testing._json_limits import dump_json
from httpdeck.testing.fake._suggest import missing_attribute

__all__ = [
    "Answer",
    "FakeClock",
    "FakeError",
    "FakeResponse",
    "ResponseLike",
    "SSEEvent",
    "SequenceItem",
]


class _Missing:
    """The 'argument not given' marker (None is a valid JSON body)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

SSEEvent: TypeAlias = str | Mapping[str, object] | Any
"""An SSE event: a data string, a mapping with `data`, `event`, `id`, `retry`,
`comment` keys, or any object with those attributes (a `ServerSentEvent`)."""


class FakeClock:
    """A virtual monotonic clock for delays, shareable with a retry policy.

    `sleep(seconds)` advances `now` at once and yields to the event loop, so
    a 30 s delay costs nothing in a test; `sleeps` lists every wait asked for.

    It also has an event loop's `time()` and `call_at()`: a `RetryPolicy`
    given this clock (or its `monotonic`) arms its deadline on it, so the
    retry deadline cuts an attempt that sleeps on this clock at exactly the
    deadline, with the error a real socket gets. Timers fire when `sleep()`
    or `advance()` moves `now` past them, in order, `now` set to each one's
    time; a sleep cut by a deadline ends at the deadline.
    """

    __slots__ = ("_order", "_timers", "now", "sleeps")

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._timers: list[tuple[float, int, Callable[..., object], tuple[Any, ...]]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        """`now`, in seconds; calling the clock itself returns the same."""
        return self.now

    __call__ = monotonic

    def time(self) -> float:
        """`now`, as an event loop's `time()`: the clock deadlines are armed on."""
        return self.now

    def call_at(self, when: float, callback: Callable[..., object], *args: Any) -> None:
        """Call `callback(*args)` once `now` reaches `when` (an event loop's `call_at`)."""
        heapq.heappush(self._timers, (when, next(self._order), callback, args))

    def _fire_until(self, end: float) -> None:
        timers = self._timers
        while timers and timers[0][0] <= end:
            when, _, callback, args = heapq.heappop(timers)
            self.now = max(self.now, when)
            callback(*args)

    def advance(self, seconds: float) -> None:
        """Move `now` forward by `seconds` (a negative value is ignored) without waiting."""
        end = self.now + max(0.0, seconds)
        self._fire_until(end)
        self.now = max(self.now, end)

    async def sleep(self, seconds: float) -> None:
        """Add `seconds` to `sleeps` and to `now`, then yield to the loop once; no real wait.

        A timer due on the way (a retry deadline) fires first, at its time, and
        the loop runs: a deadline that cancels this task ends the sleep there.
        """
        self.sleeps.append(seconds)
        end = self.now + max(0.0, seconds)
        while self._timers and self._timers[0][0] <= end:
            self._fire_until(self._timers[0][0])
            await asyncio.sleep(0)
        self.now = max(self.now, end)
        await asyncio.sleep(0)

    def __repr__(self) -> str:
        return f"<FakeClock now={self.now:g}>"


def _encode_event(event: SSEEvent) -> bytes:
    if isinstance(event, str):
        fields: dict[str, object] = {"data": event}
    elif isinstance(event, Mapping):
        fields = dict(event)
        unknown = set(fields) - {"data", "event", "id", "retry", "comment"}
        if unknown:
            msg = (
                f"Unknown SSE field(s) {sorted(unknown)} in {event!r}; "
                "use data, event, id, retry and comment."
            )
            raise ValueError(msg)
    else:
        names = ("comment", "event", "id", "retry", "data")
        fields = {name: getattr(event, name, None) for name in names}
    lines: list[str] = []
    if fields.get("comment") is not None:
        lines.extend(f": {part}" for part in str(fields["comment"]).split("\n"))
    for name in ("event", "id", "retry"):
        if fields.get(name) is not None:
            lines.append(f"{name}: {fields[name]}")
    data = fields.get("data")
    if data is not None:
        text = data if isinstance(data, str) else dump_json(data, "SSE data", separators=(",", ":"))
        lines.extend(f"data: {part}" for part in text.split("\n"))
    return ("\n".join(lines) + "\n\n").encode()


class FakeResponse:
    """A response spec: what a route answers, rebuilt fresh for every call.

    Give at most one body: `json` (encoded once, `application/json`), `text`
    (`text/plain; charset=utf-8`), `content` (bytes), `chunks` (a streamed
    body whose chunk boundaries `stream()`/`aiter_bytes()` see), `sse` (one
    chunk per server-sent event, `text/event-stream`) or `ndjson` (one JSON
    document per line). `content_type` overrides the default Content-Type.
    `delay` is seconds of virtual server time before the response starts
    (see `FakeClock`); longer than the request's read or total timeout, it
    becomes the `HTTPTimeoutError` the real transport raises.

    ```python
    FakeResponse(200, json={"id": 1})
    FakeResponse(503, headers={"Retry-After": "1"})
    FakeResponse(200, sse=[{"event": "tick", "data": "1"}, "done"])
    ```
    """

    __slots__ = ("_body_chunks", "_headers", "delay", "reason", "status", "streamed")

    def __init__(
        self,
        status: int = 200,
        *,
        json: Any = MISSING,
        text: str | None = None,
        content: bytes | None = None,
        chunks: Iterable[bytes | str] | None = None,
        sse: Iterable[SSEEvent] | None = None,
        ndjson: Iterable[Any] | None = None,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        content_type: str | None = None,
        reason: str | None = None,
        delay: float = 0.0,
    ) -> None:
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            msg = f"A fake response status must be an int from 100 to 599, got {status!r}."
            raise ValueError(msg)
        if delay < 0:
            msg = f"delay must be >= 0 seconds, got {delay!r}."
            raise ValueError(msg)
        given = [
            name
            for name, value in (
                ("json", json is not MISSING),
                ("text", text is not None),
                ("content", content is not None),
                ("chunks", chunks is not None),
                ("sse", sse is not None),
                ("ndjson", ndjson is not None),
            )
            if value
        ]
        if len(given) > 1:
            msg = f"Give one body per response, got {', '.join(given)}."
            raise ValueError(msg)
        default_type: str | None = None
        body: list[bytes] = []
        if json is not MISSING:
            body = [dump_json(json, "json=", separators=(",", ":")).encode()]
            default_type = "application/json"
        elif text is not None:
            body = [text.encode()]
            default_type = "text/plain; charset=utf-8"
        elif content is not None:
            body = [bytes(content)]
        elif chunks is not None:
            body = [c.encode() if isinstance(c, str) else bytes(c) for c in chunks]
        elif sse is not None:
            body = [_encode_event(event) for event in sse]
            default_type = "text/event-stream"
        elif ndjson is not None:
            body = [
                dump_json(item, f"ndjson= line {n}", separators=(",", ":")).encode() + b"\n"
                for n, item in enumerate(ndjson, 1)
            ]
            default_type = "application/x-ndjson"
        self.streamed = bool(given) and given[0] in ("chunks", "sse", "ndjson")
        pairs = list(headers.items() if isinstance(headers, Mapping) else headers or ())
        merged: CIMultiDict[str] = CIMultiDict(pairs)
        if content_type is not None:
            merged["Content-Type"] = content_type
        elif default_type is not None and "Content-Type" not in merged:
            merged["Content-Type"] = default_type
        if not self.streamed and "Content-Length" not in merged:
            merged["Content-Length"] = str(sum(map(len, body)))
        self.status = status
        self.reason = reason if reason is not None else _phrase(status)
        self.delay = float(delay)
        # Read-only and shared by every response built, like aiohttp's own headers.
        self._headers = CIMultiDictProxy(merged)
        self._body_chunks = tuple(body)

    @classmethod
    def redirect(
        cls, location: str, *, status: int = 302, headers: Mapping[str, str] | None = None
    ) -> FakeResponse:
        """A redirect to `location` (absolute or relative), followed by the client."""
        if status not in (301, 302, 303, 307, 308):
            msg = f"A redirect status is 301, 302, 303, 307 or 308, got {status!r}."
            raise ValueError(msg)
        return cls(status, headers={**(headers or {}), "Location": location})

    @property
    def headers(self) -> CIMultiDict[str]:
        """A copy of the response headers."""
        return CIMultiDict(self._headers)

    @property
    def body(self) -> bytes:
        """The whole body, its chunks joined."""
        return b"".join(self._body_chunks)

    def build(self, request: Request) -> HttpResponse:
        """A fresh response to `request` whose body stream is not read yet
        (bounded by the request's `max_response_bytes`, as on the wire)."""
        chunks = () if request.method == "HEAD" else self._body_chunks
        return HttpResponse(
            self.status,
            headers=self._headers,
            stream=limited(ByteStream(chunks), request, self._headers),
            request=request,
            reason=self.reason,
        )

    def __repr__(self) -> str:
        size = sum(map(len, self._body_chunks))
        return f"<FakeResponse [{self.status}] {size} bytes>"


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _clone(exc: BaseException) -> BaseException:
    # A fresh instance per raise: re-raising one instance keeps growing its
    # traceback, and copy.copy() cannot rebuild errors with keyword-only fields.
    clone = type(exc).__new__(type(exc))
    clone.__dict__.update(exc.__dict__)
    clone.args = exc.args
    return clone


# Names from aioresponses, respx and httpx, and the FakeError constructor to use instead.
_ERROR_HABITS = {
    "connection_error": "'connection_reset(sent=...)'",
    "connect_error": "'connection_reset(sent=False)' or 'timeout(\"connect\")'",
    "connection_refused": "'connection_reset(sent=False)'",
    "read_timeout": "'timeout(\"read\")'",
    "connect_timeout": "'timeout(\"connect\")'",
    "exception": "'of(exception)'",
}


class _SuggestingType(type):
    if not TYPE_CHECKING:  # at run time only: mypy keeps flagging unknown attributes

        def __getattr__(cls, name: str) -> Any:
            raise missing_attribute(cls.__name__, name, dir(cls), _ERROR_HABITS)


class FakeError(metaclass=_SuggestingType):
    """An error a route raises, built fresh (with the request attached) per call.

    Build one with `FakeError.connection_reset(sent=...)`,
    `FakeError.timeout(phase)` or `FakeError.of(exception)`; a misspelt
    constructor answers with the closest name.
    """

    __slots__ = ("_factory", "description")

    def __init__(self, factory: Callable[[Request], BaseException], description: str) -> None:
        self._factory = factory
        self.description = description

    @classmethod
    def of(cls, error: BaseException | FakeError) -> FakeError:
        """Wrap an exception instance; each call raises a copy of it."""
        if isinstance(error, FakeError):
            return error
        if isinstance(error, type) or not isinstance(error, BaseException):
            msg = (
                f"raise_error() takes an exception instance, got {error!r}; for transport "
                "failures use FakeError.connection_reset(sent=...) or FakeError.timeout(phase)."
            )
            raise TypeError(msg)

        def build(request: Request) -> BaseException:
            clone = _clone(error)
            if isinstance(clone, HTTPClientError) and clone.request is None:
                clone.request = request
            return clone

        return cls(build, f"{type(error).__name__}: {error}")

    @classmethod
    def connection_reset(cls, *, sent: bool = False) -> FakeError:
        """The connection is reset: before any byte of the request was written
        (`sent=False`, so any request may be retried) or after the request was
        sent (`sent=True`, so only idempotent requests may be)."""

        def build(request: Request) -> HTTPConnectionError:
            return connection_reset_error(request, sent=sent)

        return cls(build, f"connection reset ({'after' if sent else 'before'} send)")

    @classmethod
    def timeout(cls, phase: TimeoutPhase = "read", *, sent: bool | None = None) -> FakeError:
        """A timeout of `phase` (connect, pool, read, write, total); `sent`
        defaults to False for connect and pool, True for the others."""
        phases = get_args(TimeoutPhase)
        if phase not in phases:
            msg = f"Unknown timeout phase {phase!r}; use {', '.join(phases[:-1])} or {phases[-1]}."
            raise ValueError(msg)

        def build(request: Request) -> HTTPTimeoutError:
            return timeout_error(request, phase, sent=sent)

        return cls(build, f"{phase} timeout")

    def build(self, request: Request) -> BaseException:
        """A fresh exception for `request`, ready to raise."""
        return self._factory(request)

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            raise missing_attribute("FakeError", name, dir(type(self)), _ERROR_HABITS)

    def __repr__(self) -> str:
        return f"<FakeError {self.description}>"


def delay_timeout(
    delay: float, request: Request, config: HTTPClientConfig
) -> tuple[float, HTTPTimeoutError | None]:
    """How long a response `delay` really waits, and the timeout it hits, if any.

    Mirrors the real transport: the read timeout bounds the wait for the first
    byte, the total timeout the whole request.
    """
    timeouts = effective_timeouts(config, request)
    limits: list[tuple[float, Literal["read", "total"]]] = []
    if timeouts.read is not None:
        limits.append((timeouts.read, "read"))
    if timeouts.total is not None:
        limits.append((timeouts.total, "total"))
    for limit, phase in sorted(limits):
        if delay > limit:
            error = (
                read_timeout_error(request)
                if phase == "read"
                else total_timeout_error(request, limit, sent=True, pool_wait_included=None)
            )
            return limit, error
    return delay, None


ResponseLike: TypeAlias = FakeResponse | HttpResponse
Responder: TypeAlias = Callable[[Request], ResponseLike | Awaitable[ResponseLike]]
Answer: TypeAlias = FakeResponse | FakeError | Responder
SequenceItem: TypeAlias = FakeResponse | FakeError | BaseException | int | Responder
"""One answer of a sequence: a response, an error, a status code or a callable."""


def to_answer(item: SequenceItem) -> Answer:
    if isinstance(item, bool):
        msg = f"A sequence item cannot be a bool ({item!r}); give a status code or FakeResponse."
        raise TypeError(msg)
    if isinstance(item, int):
        return FakeResponse(item)
    if isinstance(item, BaseException):
        return FakeError.of(item)
    if isinstance(item, FakeResponse | FakeError):
        return item
    if callable(item) and not isinstance(item, type):
        return item
    msg = (
        f"Cannot answer with {item!r}: give a FakeResponse, a status code, an exception, "
        "FakeError.connection_reset()/.timeout(), or a callable taking the Request."
    )
    raise TypeError(msg)
