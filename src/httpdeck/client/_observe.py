"""How a client's metrics recorder and event bus reach every layer of one request.

When a client has a recorder or an event subscriber, `HTTPClient.send` puts an
`Observer` into `request.extensions[OBSERVER]`; retries and redirects copy
the extensions, so the retry policy and the circuit breaker find it on the
request they are handed. With neither configured nothing is put there and
every layer skips its reporting after one dict lookup.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from httpdeck.client import _metrics as m
from httpdeck.client._events import (
    CircuitStateChanged,
    EventBus,
    RequestCompleted,
    RequestDispatched,
    RequestFailed,
    RequestTimedOut,
    ResponseReceived,
    RetryExhausted,
    RetryScheduled,
)
from httpdeck.client._exceptions import HTTPClientError, HTTPTimeoutError
from httpdeck.client._extensions import OBSERVER

if TYPE_CHECKING:
    from httpdeck.client._metrics import MetricsRecorder
    from httpdeck.client._models import HttpResponse, Request

_DEFAULT_PORTS = {"http": 80, "https": 443}

Handler = Callable[["Request"], Awaitable["HttpResponse"]]
Run = Callable[["Request", Handler], Awaitable["HttpResponse"]]


def host_tag(request: Request) -> str:
    url = request.url
    host = url.host or ""
    port = url.port
    if port is None or _DEFAULT_PORTS.get(url.scheme) == port:
        return host
    return f"{host}:{port}"


def status_class(status: int) -> str:
    return f"{status // 100}xx"


def observer_of(request: Request) -> Observer | None:
    """The observer travelling with `request`, if its client has one."""
    extensions = request.extensions
    if not extensions:
        return None
    observer = extensions.get(OBSERVER)
    return observer if isinstance(observer, Observer) else None


class Observer:
    """Reports one client's requests to its metrics recorder and event bus."""

    __slots__ = ("events", "metrics")

    def __init__(self, metrics: MetricsRecorder | None, events: EventBus) -> None:
        self.metrics = metrics
        self.events = events

    # -- per logical request (HTTPClient.send) ------------------------------

    async def complete(
        self, request: Request, send: Callable[[], Awaitable[HttpResponse]]
    ) -> HttpResponse:
        request.extensions[OBSERVER] = self
        started = time.perf_counter()
        try:
            response = await send()
        except HTTPClientError as exc:
            if self.events.active:
                duration = time.perf_counter() - started
                self.events.emit(RequestCompleted(request, None, exc, duration))
            raise
        finally:
            request.extensions.pop(OBSERVER, None)
        if self.events.active:
            duration = time.perf_counter() - started
            self.events.emit(RequestCompleted(request, response, None, duration))
        return response

    # -- per attempt (HTTPClient._attempt) ----------------------------------

    async def attempt(
        self, request: Request, run: Run, handler: Handler, *, read: bool
    ) -> HttpResponse:
        events = self.events
        if events.active:
            events.emit(RequestDispatched(request, request.attempt))
        started = time.perf_counter()
        try:
            response = await run(request, handler)
            if read and not response.is_read:
                await response.aread()
        except HTTPClientError as exc:
            duration = time.perf_counter() - started
            self._record(request, "error", duration)
            if events.active:
                if isinstance(exc, HTTPTimeoutError):
                    events.emit(RequestTimedOut(request, exc, duration))
                else:
                    events.emit(RequestFailed(request, exc, duration))
            raise
        duration = time.perf_counter() - started
        response.elapsed = duration
        self._record(request, status_class(response.status), duration)
        if events.active:
            events.emit(ResponseReceived(request, response, duration))
        return response

    def _record(self, request: Request, klass: str, duration: float) -> None:
        if self.metrics is None:
            return
        tags = {
            "method": request.method,
            "host": host_tag(request),
            "status_class": klass,
            "attempt": str(request.attempt),
        }
        self.metrics.histogram(m.REQUEST_DURATION, duration, tags)
        self.metrics.counter(m.REQUEST_STATUS, tags)

    # -- retry policy -------------------------------------------------------

    def retry(
        self,
        request: Request,
        attempt: int,
        delay: float,
        reason: str,
        outcome: HttpResponse | HTTPClientError,
    ) -> None:
        if self.metrics is not None:
            tag = str(outcome.status) if not isinstance(outcome, Exception) else reason
            tags = {"method": request.method, "host": host_tag(request), "reason": tag}
            self.metrics.counter(m.RETRIES, tags)
        if self.events.active:
            self.events.emit(RetryScheduled(request, attempt, delay, reason, outcome))

    def exhausted(
        self, request: Request, attempts: list[HttpResponse | HTTPClientError], reason: str
    ) -> None:
        if self.metrics is not None:
            tags = {"method": request.method, "host": host_tag(request)}
            self.metrics.counter(m.RETRIES_EXHAUSTED, tags)
        if self.events.active:
            self.events.emit(RetryExhausted(request, tuple(attempts), reason))

    # -- circuit breaker and bulkhead ---------------------------------------

    def circuit_changed(self, event: CircuitStateChanged) -> None:
        if self.metrics is not None:
            tags = {"breaker": event.breaker, "state": event.state.value}
            self.metrics.counter(m.CIRCUIT_STATE_CHANGES, tags)
        if self.events.active:
            self.events.emit(event)

    def circuit_rejected(self, breaker: str) -> None:
        if self.metrics is not None:
            self.metrics.counter(m.CIRCUIT_REJECTED, {"breaker": breaker})

    def bulkhead_rejected(self, bulkhead: str) -> None:
        if self.metrics is not None:
            self.metrics.counter(m.BULKHEAD_REJECTED, {"bulkhead": bulkhead})
