"""Metrics and events: what a client reports, and that it reports nothing when unobserved."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from resilience_helpers import FakeClock, FakeTransport, Script, Sleeps, conn_error

from httpdeck.client import (
    Bulkhead,
    CircuitBreaker,
    CircuitState,
    CircuitStateChanged,
    EventBus,
    HTTPBulkheadFullError,
    HTTPCircuitOpenError,
    HTTPClient,
    HTTPConnectionError,
    HTTPEvent,
    HTTPRetryExhaustedError,
    HTTPTimeoutError,
    InMemoryMetrics,
    MetricsRecorder,
    Request,
    RequestCompleted,
    RequestDispatched,
    RequestFailed,
    RequestTimedOut,
    ResiliencePipeline,
    ResponseReceived,
    RetryExhausted,
    RetryPolicy,
    RetryScheduled,
)
from httpdeck.client._extensions import OBSERVER
from httpdeck.client._observe import host_tag

URL = "http://api.test:8080/items"


def client(script: Script, **kwargs: Any) -> HTTPClient:
    return HTTPClient(transport=FakeTransport(script), **kwargs)


def retry(**options: Any) -> RetryPolicy:
    return RetryPolicy(sleep=Sleeps(), clock=FakeClock(), **options)


def describe(event: HTTPEvent) -> str:
    match event:
        case RequestDispatched(attempt=attempt):
            return f"dispatched {attempt}"
        case ResponseReceived(response=response):
            return f"received {response.status}"
        case RequestFailed(error=error):
            return f"failed {type(error).__name__}"
        case RequestTimedOut(error=error):
            return f"timed out {error.phase}"
        case RetryScheduled(attempt=attempt, reason=reason):
            return f"retry after {attempt}: {reason}"
        case RetryExhausted(attempts=attempts):
            return f"exhausted after {len(attempts)}"
        case RequestCompleted(response=response, error=error):
            return f"completed {response.status if response else type(error).__name__}"
        case CircuitStateChanged(previous=previous, state=state):
            return f"circuit {previous.value} -> {state.value}"
    return type(event).__name__


# -- metrics -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_each_attempt_records_duration_and_status_with_tags() -> None:
    metrics = InMemoryMetrics()
    async with client(Script(503, conn_error(), 200), retry_policy=retry(), metrics=metrics) as c:
        await c.request("GET", URL)
    status = "http.request.status"
    assert metrics.series(status) == [
        {"attempt": "0", "host": "api.test:8080", "method": "GET", "status_class": "5xx"},
        {"attempt": "1", "host": "api.test:8080", "method": "GET", "status_class": "error"},
        {"attempt": "2", "host": "api.test:8080", "method": "GET", "status_class": "2xx"},
    ]
    assert metrics.count(status) == 3
    assert metrics.count(status, status_class="5xx") == 1
    durations = metrics.values("http.request.duration")
    assert len(durations) == 3
    assert all(d >= 0 for d in durations)
    assert metrics.count("http.client.retries") == 2
    assert metrics.count("http.client.retries", reason="503") == 1
    assert metrics.count("http.client.retries", reason="HTTPConnectionError") == 1


@pytest.mark.asyncio
async def test_exhaustion_and_circuit_changes_are_counted() -> None:
    metrics = InMemoryMetrics()
    breaker = CircuitBreaker(name="api", failure_threshold=2, clock=FakeClock())
    c = client(
        Script(503), retry_policy=retry(max_attempts=2), circuit_breaker=breaker, metrics=metrics
    )
    async with c:
        with pytest.raises(HTTPRetryExhaustedError):
            await c.request("GET", URL)
        with pytest.raises(HTTPCircuitOpenError):
            await c.request("GET", URL)
    assert metrics.count("http.client.retries_exhausted", method="GET") == 1
    assert metrics.count("http.client.circuit.state_changes", breaker="api", state="open") == 1
    assert metrics.count("http.client.circuit.rejected", breaker="api") == 1


@pytest.mark.asyncio
async def test_bulkhead_rejections_are_counted() -> None:
    metrics = InMemoryMetrics()
    release = asyncio.Event()

    async def held(request: Request) -> int:
        await release.wait()
        return 200

    pipeline = ResiliencePipeline(bulkhead=Bulkhead(max_concurrent=1, name="bh"))
    async with client(Script(held), resilience=pipeline, metrics=metrics) as c:
        first = asyncio.create_task(c.request("GET", URL))
        await asyncio.sleep(0)
        with pytest.raises(HTTPBulkheadFullError):
            await c.request("GET", URL)
        release.set()
        await first
    assert metrics.count("http.client.bulkhead.rejected", bulkhead="bh") == 1


def test_in_memory_metrics_sums_matching_series_and_clears() -> None:
    metrics = InMemoryMetrics()
    assert isinstance(metrics, MetricsRecorder)
    metrics.counter("c", {"a": "1", "b": "x"})
    metrics.counter("c", {"a": "2", "b": "x"}, 2.0)
    metrics.histogram("h", 0.5, {"a": "1"})
    assert metrics.count("c") == 3.0
    assert metrics.count("c", b="x", a="2") == 2.0
    assert metrics.count("c", a="3") == 0.0
    assert metrics.values("h", a="1") == [0.5]
    metrics.clear()
    assert metrics.count("c") == 0.0
    assert metrics.values("h") == []


def test_a_recorder_without_the_protocol_methods_is_refused() -> None:
    with pytest.raises(TypeError, match="MetricsRecorder"):
        HTTPClient(transport=FakeTransport(Script()), metrics=object())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "tag"),
    [
        ("http://a.test/x", "a.test"),
        ("https://a.test/x", "a.test"),
        ("http://a.test:443/x", "a.test:443"),
        ("https://a.test:8443/x", "a.test:8443"),
    ],
)
def test_host_tag_shows_the_port_only_when_not_the_default(url: str, tag: str) -> None:
    from yarl import URL as Y

    assert host_tag(Request("GET", Y(url))) == tag


# -- events ------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_retried_request_emits_its_story_in_order() -> None:
    seen: list[str] = []
    async with client(Script(503, conn_error(), 200), retry_policy=retry()) as c:
        c.events.subscribe(lambda e: seen.append(describe(e)))
        await c.request("GET", URL)
    assert seen == [
        "dispatched 0",
        "received 503",
        "retry after 0: status 503",
        "dispatched 1",
        "failed HTTPConnectionError",
        "retry after 1: HTTPConnectionError",
        "dispatched 2",
        "received 200",
        "completed 200",
    ]


@pytest.mark.asyncio
async def test_timeouts_exhaustion_and_circuit_changes_are_events() -> None:
    seen: list[str] = []
    breaker = CircuitBreaker(failure_threshold=2, clock=FakeClock())

    def timeout(request: Request) -> HTTPTimeoutError:
        return HTTPTimeoutError("slow", request=request, sent=True, phase="read")

    c = client(Script(timeout), retry_policy=retry(max_attempts=2), circuit_breaker=breaker)
    c.events.subscribe(lambda e: seen.append(describe(e)))
    async with c:
        with pytest.raises(HTTPRetryExhaustedError):
            await c.request("GET", URL)
    assert seen == [
        "dispatched 0",
        "timed out read",
        "retry after 0: HTTPTimeoutError",
        "dispatched 1",
        "timed out read",
        "circuit closed -> open",
        "exhausted after 2",
        "completed HTTPRetryExhaustedError",
    ]


@pytest.mark.asyncio
async def test_subscribers_can_filter_by_type_and_unsubscribe() -> None:
    bus = EventBus()
    retries: list[RetryScheduled] = []
    everything: list[HTTPEvent] = []
    sub = bus.subscribe(retries.append, RetryScheduled)
    bus.subscribe(everything.append)
    async with client(Script(503, 200), retry_policy=retry(), events=bus) as c:
        assert c.events is bus
        await c.request("GET", URL)
        assert len(retries) == 1
        assert retries[0].outcome.status == 503  # type: ignore[union-attr]
        sub.unsubscribe()
        sub.unsubscribe()  # twice is fine
        await c.request("GET", URL)
    assert len(retries) == 1
    assert len(everything) == 6 + 3  # retried, then straight through


@pytest.mark.asyncio
async def test_a_subscription_can_be_a_with_block() -> None:
    seen: list[HTTPEvent] = []
    async with client(Script(200)) as c:
        with c.events.subscribe(seen.append, RequestCompleted):
            await c.request("GET", URL)
        assert not c.events.active
        await c.request("GET", URL)
    assert len(seen) == 1


def test_subscribing_to_something_that_is_not_an_event_type_is_refused() -> None:
    with pytest.raises(TypeError, match="not an httpdeck event type"):
        EventBus().subscribe(print, dict)  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_a_failing_handler_is_logged_and_the_request_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(event: HTTPEvent) -> None:
        raise RuntimeError("handler bug")

    async with client(Script(200)) as c:
        c.events.subscribe(broken)
        with caplog.at_level(logging.ERROR, logger="httpdeck"):
            assert (await c.request("GET", URL)).status == 200
    assert "event handler" in caplog.text
    assert "handler bug" in caplog.text


@pytest.mark.asyncio
async def test_circuit_listeners_and_client_events_both_see_state_changes() -> None:
    listener: list[CircuitState] = []
    events: list[CircuitStateChanged] = []
    breaker = CircuitBreaker(
        failure_threshold=1, clock=FakeClock(), on_state_change=lambda c: listener.append(c.state)
    )
    async with client(Script(conn_error()), circuit_breaker=breaker) as c:
        c.events.subscribe(events.append, CircuitStateChanged)
        with pytest.raises(HTTPConnectionError):
            await c.request("GET", URL)
    assert listener == [CircuitState.OPEN]
    assert [e.state for e in events] == [CircuitState.OPEN]


# -- zero cost when nobody listens ---------------------------------------------------------


@pytest.mark.asyncio
async def test_nothing_travels_with_the_request_when_unobserved() -> None:
    script = Script(503, 200)
    async with client(script, retry_policy=retry()) as c:
        await c.request("GET", URL)
        assert not c.events.active
        assert c.metrics is None
    assert all(OBSERVER not in r.extensions for r in script.requests)


@pytest.mark.asyncio
async def test_the_observer_is_removed_from_the_request_after_it_completes() -> None:
    present: list[bool] = []

    def look(request: Request) -> int:
        present.append(OBSERVER in request.extensions)
        return 200

    async with client(Script(look), metrics=InMemoryMetrics()) as c:
        request = c.build_request("GET", URL)
        await c.send(request)
    assert present == [True]  # it travelled with the attempt
    assert OBSERVER not in request.extensions
