"""Retry, circuit breaker and bulkhead against real servers on 127.0.0.1 that misbehave.

Every test checks what reached the server (so `max_attempts=3` is exactly 3
requests on the wire) and that the pool holds no connection afterwards.
Testing mode is on, so backoff waits are skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from aiohttp import web
from rawservers import RawConnection, RawServer, reset_after_request, response_bytes

from httpdeck.client import (
    Bulkhead,
    CircuitBreaker,
    ConnectionPool,
    Err,
    HTTPCircuitOpenError,
    HTTPClient,
    HTTPClientConfig,
    HTTPConnectionError,
    HTTPProtocolError,
    HttpResponse,
    HTTPRetryExhaustedError,
    HTTPStatusError,
    HTTPTimeoutError,
    InMemoryMetrics,
    Ok,
    RequestContext,
    ResiliencePipeline,
    RetryPolicy,
    RetryScheduled,
    TimeoutConfig,
    set_testing,
)

pytestmark = pytest.mark.asyncio


@pytest.fixture(autouse=True)
def _no_backoff_waits() -> Iterator[None]:
    with set_testing(True):
        yield


def in_use(client: HTTPClient) -> int:
    pool = client.transport.pool  # type: ignore[attr-defined]
    assert isinstance(pool, ConnectionPool)
    return pool.connection_counts()[1]


def plan(*actions: str) -> PlannedBehaviour:
    return PlannedBehaviour(list(actions))


class PlannedBehaviour:
    """Answers the n-th request the server sees (over all connections) with
    `actions[n]`, the last action repeating: ok, 503, truncate, stall, reset."""

    def __init__(self, actions: list[str]) -> None:
        self.actions = actions

    async def __call__(self, conn: RawConnection) -> None:
        while (await conn.read_request()) is not None:
            seen = len(conn.server.requests) - 1
            action = self.actions[min(seen, len(self.actions) - 1)]
            if action == "ok":
                await conn.respond(200, b"fine")
            elif action == "503":
                await conn.respond(503, b"busy")
            elif action == "truncate":  # promise 100 bytes, send 10, hang up
                conn.send(response_bytes(200, b"x" * 100)[:-90])
                await conn.writer.drain()
                conn.close()
                return
            elif action == "stall":
                await asyncio.Event().wait()
            elif action == "reset":
                conn.reset()
                return


def counting_app(*statuses: int) -> tuple[web.Application, list[web.Request]]:
    """An aiohttp.web app answering its n-th request with statuses[n] (the last repeats)."""
    seen: list[web.Request] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request)
        status = statuses[min(len(seen) - 1, len(statuses) - 1)]
        return web.Response(status=status, text=f"answer {len(seen)}")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app, seen


# -- retries succeed, and the server saw exactly the attempts --------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["read", "stream"])
async def test_503_then_200_is_retried_once(serve: object, stream: bool) -> None:
    app, seen = counting_app(503, 200)
    url = await serve(app)  # type: ignore[operator]
    metrics = InMemoryMetrics()
    async with HTTPClient(retry_policy=RetryPolicy(), metrics=metrics) as client:
        if stream:
            async with client.stream("GET", url / "x") as response:
                body = await response.aread()
        else:
            response = await client.request("GET", url / "x")
            body = response.content
        assert in_use(client) == 0
    assert (response.status, body) == (200, b"answer 2")
    assert len(seen) == 2
    assert response.request is not None
    assert response.request.attempt + 1 == len(seen)  # reported attempts == requests seen
    assert metrics.count("http.request.status", status_class="5xx", attempt="0") == 1
    assert metrics.count("http.request.status", status_class="2xx", attempt="1") == 1


async def test_max_attempts_3_sends_exactly_3_requests(serve: object) -> None:
    app, seen = counting_app(503)
    url = await serve(app)  # type: ignore[operator]
    async with HTTPClient(retry_policy=RetryPolicy(max_attempts=3)) as client:
        with pytest.raises(HTTPRetryExhaustedError) as info:
            await client.request("GET", url)
        assert len(seen) == 3
        responses = info.value.attempts
        assert [r.content for r in responses] == [b"answer 1", b"answer 2", b"answer 3"]  # type: ignore[union-attr]
        result = await client.get(url)  # the verbs return it as an Err
        assert isinstance(result.unwrap_err(), HTTPRetryExhaustedError)
        assert len(seen) == 6
        assert in_use(client) == 0


async def test_exactly_3_requests_when_each_connection_is_reset() -> None:
    async with (
        RawServer(reset_after_request()) as server,
        HTTPClient(retry_policy=RetryPolicy(max_attempts=3)) as client,
    ):
        with pytest.raises(HTTPRetryExhaustedError) as info:
            await client.request("GET", server.url)
        assert in_use(client) == 0
    assert len(server.requests) == 3
    assert all(isinstance(a, HTTPConnectionError) for a in info.value.attempts)


async def test_no_hidden_resend_on_a_reused_keep_alive_connection() -> None:
    # Request 1 is answered on a keep-alive connection; from then on the server
    # reads each request and resets. aiohttp alone would silently re-send the
    # idempotent request once; httpdeck re-sends it visibly, as an attempt of
    # its own, on a new connection, and a reset there is final.
    attempts: list[int] = []

    class Count:
        async def intercept_request(self, context: RequestContext) -> None:
            attempts.append(context.attempt)

    async with RawServer(plan("ok", "reset")) as server:
        async with HTTPClient(interceptors=[Count()]) as client:
            assert (await client.request("GET", server.url)).status == 200
            result = await client.get(server.url)
            assert isinstance(result, Err)
            assert isinstance(result.error, HTTPConnectionError)
            assert result.error.stale is False  # the new connection's reset
        assert attempts == [0, 0, 1]
        assert len(server.requests) == 3  # one request on the wire per attempt
        async with HTTPClient(retry_policy=RetryPolicy(max_attempts=3)) as client:
            server.requests.clear()
            await client.request("GET", server.url)
            with pytest.raises(HTTPRetryExhaustedError):
                await client.request("GET", server.url)
            assert in_use(client) == 0
        assert len(server.requests) == 1 + 3


async def test_a_connection_closed_mid_response_is_retried() -> None:
    reasons: list[str] = []
    async with (
        RawServer(plan("truncate", "ok")) as server,
        HTTPClient(retry_policy=RetryPolicy()) as client,
    ):
        client.events.subscribe(lambda e: reasons.append(e.reason), RetryScheduled)
        response = await client.request("GET", server.url)
        assert in_use(client) == 0
    assert (response.status, response.content) == (200, b"fine")
    assert reasons == [HTTPProtocolError.__name__]
    assert len(server.requests) == 2
    assert response.request is not None
    assert response.request.attempt + 1 == len(server.requests)


async def test_a_stall_past_the_read_timeout_is_retried() -> None:
    config = HTTPClientConfig(timeouts=TimeoutConfig(read=0.2))
    outcomes: list[object] = []
    async with (
        RawServer(plan("stall", "ok")) as server,
        HTTPClient(config, retry_policy=RetryPolicy()) as client,
    ):
        client.events.subscribe(lambda e: outcomes.append(e.outcome), RetryScheduled)
        response = await client.request("GET", server.url)
        assert in_use(client) == 0
    assert response.status == 200
    assert len(server.requests) == 2
    assert response.request is not None
    assert response.request.attempt + 1 == len(server.requests)
    (first,) = outcomes
    assert isinstance(first, HTTPTimeoutError)
    assert first.phase == "read"


async def test_the_retry_deadline_cuts_a_stalled_attempt() -> None:
    # The same outcome as on the fake's virtual clock (tests/unit/test_fake_resilience.py::
    # test_the_retry_deadline_cuts_a_slow_fake_attempt_at_exactly_the_deadline).
    async with (
        RawServer(plan("stall")) as server,
        HTTPClient(retry_policy=RetryPolicy(timeout=0.3)) as client,
    ):
        with pytest.raises(HTTPRetryExhaustedError) as info:
            await client.request("GET", server.url)
        assert in_use(client) == 0
    assert len(server.requests) == 1
    (last,) = info.value.attempts
    assert isinstance(last, HTTPTimeoutError)
    assert last.phase == "total"
    assert "retry deadline (RetryConfig.timeout=0.3 s)" in str(last)


@pytest.mark.parametrize("layer", ["timeout", "attempt_timeout"])
async def test_the_pipeline_timeouts_cut_a_stalled_attempt(layer: str) -> None:
    # The same error as on the fake's virtual clock (tests/unit/test_fake_resilience.py::
    # test_the_pipeline_timeouts_cut_a_slow_fake_attempt_at_exactly_5_virtual_s).
    pipeline = ResiliencePipeline(
        retry=RetryPolicy(max_attempts=1, budget_ratio=None),
        **{layer: 0.3},  # type: ignore[arg-type]
    )
    async with RawServer(plan("stall")) as server, HTTPClient(resilience=pipeline) as client:
        with pytest.raises((HTTPTimeoutError, HTTPRetryExhaustedError)) as caught:
            await client.request("GET", server.url)
        assert in_use(client) == 0
    assert len(server.requests) == 1
    # attempt_timeout is inside the retry loop: its error is the last attempt's.
    error: object = caught.value
    assert isinstance(error, HTTPRetryExhaustedError) == (layer == "attempt_timeout")
    if isinstance(error, HTTPRetryExhaustedError):
        error = error.attempts[-1]
    assert isinstance(error, HTTPTimeoutError)
    assert error.phase == "total"
    assert f"did not complete within the pipeline's {layer} of 0.3 s" in str(error)


# -- idempotency on the wire ------------------------------------------------------------------


async def test_a_post_that_failed_after_its_body_was_sent_is_not_retried() -> None:
    async with (
        RawServer(reset_after_request()) as server,
        HTTPClient(retry_policy=RetryPolicy(max_attempts=3)) as client,
    ):
        result = await client.post(server.url / "charge", json={"amount": 5})
        assert in_use(client) == 0
    assert isinstance(result, Err)
    assert isinstance(result.error, HTTPConnectionError)
    assert result.error.sent
    assert [r.body for r in server.requests] == [b'{"amount":5}']  # exactly once


async def test_a_post_with_an_idempotency_key_is_retried() -> None:
    async with (
        RawServer(plan("reset", "reset", "ok")) as server,
        HTTPClient(retry_policy=RetryPolicy(max_attempts=3)) as client,
    ):
        result = await client.post(
            server.url / "charge", json={"amount": 5}, headers={"Idempotency-Key": "k-42"}
        )
    assert isinstance(result, Ok)
    assert [r.headers["idempotency-key"] for r in server.requests] == ["k-42"] * 3
    assert {r.body for r in server.requests} == {b'{"amount":5}'}


async def test_a_post_refused_before_connecting_is_retried() -> None:
    server = RawServer(plan("ok"))
    await server.start()
    url = server.url
    await server.stop()  # nothing listens on that port any more
    async with HTTPClient(retry_policy=RetryPolicy(max_attempts=3)) as client:
        error = (await client.post(url, content=b"data")).unwrap_err()
    assert isinstance(error, HTTPRetryExhaustedError)
    assert len(error.attempts) == 3
    assert all(isinstance(a, HTTPConnectionError) and not a.sent for a in error.attempts)


# -- circuit breaker and bulkhead ------------------------------------------------------------


async def test_an_open_breaker_refuses_before_any_connection() -> None:
    breaker = CircuitBreaker(name="backend", failure_threshold=2, recovery_timeout=60)
    async with RawServer(plan("503")) as server:
        async with HTTPClient(circuit_breaker=breaker) as client:
            for _ in range(2):
                result = await client.get(server.url)
                assert isinstance(result, Err)
                assert isinstance(result.error, HTTPStatusError)
        connections, requests = server.connections, len(server.requests)
        async with HTTPClient(circuit_breaker=breaker) as fresh:  # an empty pool
            refused = (await fresh.get(server.url)).unwrap_err()
        assert (server.connections, len(server.requests)) == (connections, requests)
    assert isinstance(refused, HTTPCircuitOpenError)
    assert refused.breaker == "backend"
    assert 0 < refused.retry_after <= 60


async def test_retry_stops_when_the_breaker_opens_mid_way() -> None:
    breaker = CircuitBreaker(failure_threshold=2, recovery_timeout=60)
    async with (
        RawServer(plan("503")) as server,
        HTTPClient(retry_policy=RetryPolicy(max_attempts=5), circuit_breaker=breaker) as client,
    ):
        with pytest.raises(HTTPCircuitOpenError):
            await client.request("GET", server.url)
        assert in_use(client) == 0
    assert len(server.requests) == 2


async def test_the_bulkhead_caps_what_the_server_sees_at_once(serve: object) -> None:
    running = 0
    peak = 0
    three_in = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 3:
            three_in.set()
        await three_in.wait()
        running -= 1
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", handler)
    url = await serve(app)  # type: ignore[operator]
    pipeline = ResiliencePipeline(bulkhead=Bulkhead(max_concurrent=3, max_queue=20))
    async with HTTPClient(resilience=pipeline) as client:
        responses = await asyncio.gather(*(client.request("GET", url) for _ in range(12)))
        assert in_use(client) == 0
    assert [r.status for r in responses] == [200] * 12
    assert peak == 3


async def test_attempts_hold_read_responses_after_exhaustion(serve: object) -> None:
    app, _ = counting_app(502, 503, 504)
    url = await serve(app)  # type: ignore[operator]
    async with HTTPClient(retry_policy=RetryPolicy(max_attempts=3)) as client:
        with pytest.raises(HTTPRetryExhaustedError) as info:
            await client.request("GET", url)
    statuses = [a.status for a in info.value.attempts if isinstance(a, HttpResponse)]
    assert statuses == [502, 503, 504]
    assert "attempt 2: 504 Gateway Timeout" in str(info.value)
