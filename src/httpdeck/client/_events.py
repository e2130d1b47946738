"""Typed events that the client, the retry policy and the circuit breaker emit.

Subscribe on the client's `EventBus`:

```python
def on_retry(event: RetryScheduled) -> None:
    log.info("retrying %s in %.2f s (%s)", event.request, event.delay, event.reason)

client.events.subscribe(on_retry, RetryScheduled)
```

Per attempt: `RequestDispatched`, then `ResponseReceived`, `RequestTimedOut` or
`RequestFailed`. Per logical request (all attempts and redirects):
`RequestCompleted`. From the retry policy: `RetryScheduled`, `RetryExhausted`.
From circuit breakers: `CircuitStateChanged`.

Handlers run synchronously, in the task that made the request, after the
state they report has changed. A handler that must do I/O should hand the
event off (`queue.put_nowait(event)`). A handler that raises is logged on the
`httpdeck` logger and does not affect the request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from httpdeck.client._circuit import CircuitState
    from httpdeck.client._exceptions import HTTPClientError, HTTPTimeoutError
    from httpdeck.client._models import HttpResponse, Request

_log = logging.getLogger("httpdeck")


@dataclass(frozen=True, slots=True)
class HTTPEvent:
    """Base class of every httpdeck event."""


@dataclass(frozen=True, slots=True)
class RequestDispatched(HTTPEvent):
    """An attempt is about to enter the interceptor chain and the transport."""

    request: Request
    attempt: int


@dataclass(frozen=True, slots=True)
class ResponseReceived(HTTPEvent):
    """An attempt got a response (any status); `duration` in seconds."""

    request: Request
    response: HttpResponse
    duration: float


@dataclass(frozen=True, slots=True)
class RequestTimedOut(HTTPEvent):
    """An attempt failed with `HTTPTimeoutError` (`error.phase` says which timeout)."""

    request: Request
    error: HTTPTimeoutError
    duration: float


@dataclass(frozen=True, slots=True)
class RequestFailed(HTTPEvent):
    """An attempt failed with an error other than a timeout."""

    request: Request
    error: HTTPClientError
    duration: float


@dataclass(frozen=True, slots=True)
class RequestCompleted(HTTPEvent):
    """A logical request finished: every attempt and redirect included.

    Exactly one of `response` and `error` is set.
    """

    request: Request
    response: HttpResponse | None
    error: HTTPClientError | None
    duration: float


@dataclass(frozen=True, slots=True)
class RetryScheduled(HTTPEvent):
    """Attempt `attempt` failed (`outcome`); the next one starts after `delay` seconds."""

    request: Request
    attempt: int
    delay: float
    reason: str
    outcome: HttpResponse | HTTPClientError


@dataclass(frozen=True, slots=True)
class RetryExhausted(HTTPEvent):
    """The retry policy gave up; `attempts` holds every outcome, `reason` says why."""

    request: Request
    attempts: tuple[HttpResponse | HTTPClientError, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class CircuitStateChanged(HTTPEvent):
    """A circuit breaker moved from `previous` to `state`; `at` is monotonic time."""

    breaker: str
    previous: CircuitState
    state: CircuitState
    reason: str
    at: float


E = TypeVar("E", bound=HTTPEvent)
Handler = Callable[[E], object]


class Subscription:
    """What `EventBus.subscribe` returns: `unsubscribe()` it, or use it as a
    context manager to subscribe for the length of a block."""

    __slots__ = ("_bus", "_entry")

    def __init__(self, bus: EventBus, entry: tuple[tuple[type[HTTPEvent], ...], Handler[E]]):
        self._bus = bus
        self._entry = entry

    def unsubscribe(self) -> None:
        """Stop delivering events to the handler; safe to call twice."""
        self._bus._remove(self._entry)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.unsubscribe()


class EventBus:
    """Delivers events to subscribed handlers; costs nothing while nobody listens.

    `active` is True while at least one handler is subscribed; the client
    checks it before building any event.
    """

    __slots__ = ("_entries", "active")

    def __init__(self) -> None:
        self._entries: list[tuple[tuple[type[HTTPEvent], ...], Handler[HTTPEvent]]] = []
        self.active = False

    def subscribe(self, handler: Handler[E], *event_types: type[E]) -> Subscription:
        """Call `handler(event)` for every event of the given types (all when none given)."""
        for event_type in event_types:
            if not (isinstance(event_type, type) and issubclass(event_type, HTTPEvent)):
                msg = f"{event_type!r} is not an httpdeck event type (e.g. RetryScheduled)."
                raise TypeError(msg)
        entry = (event_types or (HTTPEvent,), handler)
        self._entries = [*self._entries, entry]  # type: ignore[list-item]
        self.active = True
        return Subscription(self, entry)

    def _remove(self, entry: tuple[tuple[type[HTTPEvent], ...], Handler[E]]) -> None:
        self._entries = [e for e in self._entries if e is not entry]
        self.active = bool(self._entries)

    def emit(self, event: HTTPEvent) -> None:
        """Deliver `event` to each matching handler; a failing handler is logged."""
        for types, handler in self._entries:
            if isinstance(event, types):
                try:
                    handler(event)
                except Exception:
                    _log.exception("httpdeck event handler %r failed on %r", handler, event)
