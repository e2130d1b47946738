"""Bulkhead, Timeout and ResiliencePipeline: limits, queueing, cancellation, order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from resilience_helpers import FakeClock, FakeTransport, Script, Sleeps, make_request

from httpdeck.client import (
    Bulkhead,
    CircuitBreaker,
    HTTPBulkheadFullError,
    HTTPCircuitOpenError,
    HTTPClient,
    HTTPConfigError,
    HttpResponse,
    HTTPTimeoutError,
    Request,
    ResiliencePipeline,
    RetryPolicy,
    Timeout,
)


class Gate:
    """A send that holds each call until released, counting how many run at once."""

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.order: list[str] = []
        self.release = asyncio.Event()

    async def __call__(self, request: Request) -> HttpResponse:
        self.running += 1
        self.peak = max(self.peak, self.running)
        self.order.append(request.headers.get("X-Id", ""))
        try:
            await self.release.wait()
        finally:
            self.running -= 1
        return HttpResponse(200, request=request)


def tagged(n: int) -> Request:
    return make_request(headers={"X-Id": str(n)})


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.mark.asyncio
async def test_bulkhead_runs_at_most_max_concurrent_and_queues_the_rest() -> None:
    bulkhead = Bulkhead(max_concurrent=3, max_queue=10)
    gate = Gate()
    tasks = [asyncio.create_task(bulkhead.execute(tagged(i), gate)) for i in range(10)]
    await settle()
    assert gate.running == 3
    assert (bulkhead.active, bulkhead.queued) == (3, 7)
    gate.release.set()
    results = await asyncio.gather(*tasks)
    assert [r.status for r in results] == [200] * 10
    assert gate.peak == 3
    assert gate.order == [str(i) for i in range(10)]  # slots go in arrival order
    assert (bulkhead.active, bulkhead.queued) == (0, 0)


@pytest.mark.asyncio
async def test_a_full_bulkhead_refuses_at_once_without_sending() -> None:
    bulkhead = Bulkhead(max_concurrent=2, max_queue=1, name="payments")
    gate = Gate()
    held = [asyncio.create_task(bulkhead.execute(tagged(i), gate)) for i in range(3)]
    await settle()
    script = Script(200)
    with pytest.raises(HTTPBulkheadFullError) as info:
        await bulkhead.execute(make_request(), script)
    assert script.calls == 0
    error = info.value
    assert (error.bulkhead, error.max_concurrent, error.max_queue) == ("payments", 2, 1)
    assert "all 2 slots are busy and its queue of 1 is full" in str(error)
    assert "Bulkhead(max_concurrent=..., max_queue=..., max_wait=...)" in str(error)
    gate.release.set()
    await asyncio.gather(*held)


@pytest.mark.asyncio
async def test_a_wait_longer_than_max_wait_is_refused() -> None:
    bulkhead = Bulkhead(max_concurrent=1, max_queue=5, max_wait=0.01)
    gate = Gate()
    held = asyncio.create_task(bulkhead.execute(tagged(0), gate))
    await settle()
    with pytest.raises(HTTPBulkheadFullError, match=r"no slot freed up within max_wait=0\.01 s"):
        await bulkhead.execute(tagged(1), gate)
    assert bulkhead.queued == 0
    gate.release.set()
    await held
    assert bulkhead.active == 0


@pytest.mark.asyncio
async def test_a_waiter_cancelled_in_the_queue_gives_its_place_up() -> None:
    bulkhead = Bulkhead(max_concurrent=1, max_queue=5)
    gate = Gate()
    first = asyncio.create_task(bulkhead.execute(tagged(0), gate))
    second = asyncio.create_task(bulkhead.execute(tagged(1), gate))
    third = asyncio.create_task(bulkhead.execute(tagged(2), gate))
    await settle()
    second.cancel()
    await settle()
    assert bulkhead.queued == 1
    gate.release.set()
    await asyncio.gather(first, third)
    assert gate.order == ["0", "2"]
    assert (bulkhead.active, bulkhead.queued) == (0, 0)


@pytest.mark.asyncio
async def test_a_waiter_cancelled_just_after_getting_a_slot_passes_it_on() -> None:
    bulkhead = Bulkhead(max_concurrent=1, max_queue=5)
    await bulkhead.acquire()
    waiter = asyncio.create_task(bulkhead.acquire())
    follower = asyncio.create_task(bulkhead.acquire())
    await settle()
    bulkhead.release()  # hands the slot to `waiter`...
    waiter.cancel()  # ...which is cancelled before it runs again
    with pytest.raises(asyncio.CancelledError):
        await waiter
    await follower  # the slot moved on instead of leaking
    assert bulkhead.active == 1
    bulkhead.release()
    assert (bulkhead.active, bulkhead.queued) == (0, 0)


@pytest.mark.asyncio
async def test_the_slot_is_released_when_the_request_fails() -> None:
    bulkhead = Bulkhead(max_concurrent=1)
    with pytest.raises(RuntimeError):
        await bulkhead.execute(make_request(), Script(RuntimeError("boom")))
    assert bulkhead.active == 0
    assert (await bulkhead.execute(make_request(), Script(200))).status == 200


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"max_concurrent": 0}, "max_concurrent"),
        ({"max_queue": -1}, "max_queue"),
        ({"max_wait": 0}, "max_wait"),
    ],
)
def test_bad_bulkhead_options_are_refused(options: Any, match: str) -> None:
    with pytest.raises(HTTPConfigError, match=match):
        Bulkhead(**options)


# -- timeouts ------------------------------------------------------------------------


async def _hang(request: Request) -> HttpResponse:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


@pytest.mark.asyncio
async def test_timeout_strategy_raises_a_total_timeout_error() -> None:
    with pytest.raises(HTTPTimeoutError) as info:
        await Timeout(0.01).execute(make_request(), Script(_hang))
    assert info.value.phase == "total"
    assert "timeout of 0.01 s" in str(info.value)


@pytest.mark.asyncio
async def test_a_timeout_error_from_inside_is_not_mistaken_for_ours() -> None:
    with pytest.raises(TimeoutError):
        await Timeout(10.0).execute(make_request(), Script(TimeoutError("inner")))


# -- the pipeline ---------------------------------------------------------------------


class Trace:
    """A strategy that records when it is entered, to observe the pipeline's order."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    async def execute(self, request: Request, send: Any) -> HttpResponse:
        self.log.append(self.name)
        response: HttpResponse = await send(request)
        return response


@pytest.mark.asyncio
async def test_pipeline_order_is_bulkhead_timeout_retry_breaker_attempt_timeout() -> None:
    log: list[str] = []
    pipeline = ResiliencePipeline(
        bulkhead=Bulkhead(),
        timeout=10.0,
        retry=Trace("retry", log),
        circuit_breaker=Trace("breaker", log),
        attempt_timeout=5.0,
    )
    kinds = [type(s).__name__ for s in pipeline.strategies]
    assert kinds == ["Bulkhead", "Timeout", "Trace", "Trace", "Timeout"]
    assert [getattr(s, "name", "") for s in pipeline.strategies] == [
        "bulkhead",
        "timeout",
        "retry",
        "breaker",
        "attempt_timeout",
    ]
    await pipeline.execute(make_request(), Script(200))
    assert log == ["retry", "breaker"]


@pytest.mark.asyncio
async def test_attempt_timeout_is_a_retryable_failure() -> None:
    pipeline = ResiliencePipeline(
        retry=RetryPolicy(max_attempts=3, sleep=Sleeps()), attempt_timeout=0.01
    )
    script = Script(_hang, 200)
    response = await pipeline.execute(make_request(), script)
    assert response.status == 200
    assert script.attempts == [0, 1]


@pytest.mark.asyncio
async def test_the_breaker_counts_an_attempt_timeout_and_stops_the_retries() -> None:
    pipeline = ResiliencePipeline(
        retry=RetryPolicy(max_attempts=3, sleep=Sleeps()),
        circuit_breaker=CircuitBreaker(failure_threshold=1, clock=FakeClock()),
        attempt_timeout=0.01,
    )
    script = Script(_hang, 200)
    with pytest.raises(HTTPCircuitOpenError):
        await pipeline.execute(make_request(), script)
    assert script.calls == 1


@pytest.mark.asyncio
async def test_total_timeout_bounds_all_attempts_together() -> None:
    pipeline = ResiliencePipeline(timeout=0.02, retry=RetryPolicy(max_attempts=100, sleep=Sleeps()))
    with pytest.raises(HTTPTimeoutError, match=r"pipeline's timeout of 0\.02 s"):
        await pipeline.execute(make_request(), Script(_hang))


@pytest.mark.asyncio
async def test_client_resilience_wins_over_retry_policy_and_circuit_breaker() -> None:
    script = Script(503, 200)
    ignored = RetryPolicy(max_attempts=1, sleep=Sleeps())
    client = HTTPClient(
        transport=FakeTransport(script),
        retry_policy=ignored,
        circuit_breaker=CircuitBreaker(failure_threshold=1),
        resilience=ResiliencePipeline(retry=RetryPolicy(max_attempts=2, sleep=Sleeps())),
    )
    async with client:
        response = await client.request("GET", "http://api.test/x")
    assert response.status == 200  # the ignored policy would have raised after 1 attempt


@pytest.mark.asyncio
async def test_verbs_return_err_for_bulkhead_full_and_circuit_open() -> None:
    gate = Gate()
    bulkhead = Bulkhead(max_concurrent=1)
    client = HTTPClient(
        transport=FakeTransport(Script(gate)),
        resilience=ResiliencePipeline(
            bulkhead=bulkhead, circuit_breaker=CircuitBreaker(failure_threshold=1)
        ),
    )
    async with client:
        held = asyncio.create_task(client.get("http://api.test/x"))
        await settle()
        full = await client.get("http://api.test/x")
        assert isinstance(full.unwrap_err(), HTTPBulkheadFullError)
        gate.release.set()
        await held
        client._transport = FakeTransport(Script(500))
        await client.get("http://api.test/x")  # Err(HTTPStatusError), and trips the breaker
        refused = await client.get("http://api.test/x")
        assert isinstance(refused.unwrap_err(), HTTPCircuitOpenError)


@pytest.mark.parametrize(
    "options", [{"timeout": 0}, {"attempt_timeout": -1.0}, {"retry": object()}]
)
def test_bad_pipeline_parts_are_refused(options: Any) -> None:
    with pytest.raises((HTTPConfigError, TypeError)):
        ResiliencePipeline(**options)


def test_pipeline_repr_lists_its_parts_in_order() -> None:
    pipeline = ResiliencePipeline(timeout=3.0, retry=RetryPolicy(max_attempts=2))
    assert repr(pipeline).startswith("ResiliencePipeline(Timeout(3.0), RetryPolicy(max_attempts=2")
    assert isinstance(pipeline.retry, RetryPolicy)
