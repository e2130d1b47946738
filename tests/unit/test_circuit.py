"""CircuitBreaker and CircuitBreakerRegistry: transitions, permits, staleness, concurrency."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from typing import Any

import pytest
from resilience_helpers import FakeClock, FakeTransport, Script, Sleeps, conn_error, make_request
from yarl import URL

from httpdeck.client import (
    CircuitBreaker,
    CircuitBreakerConfig,
    CircuitBreakerRegistry,
    CircuitState,
    HTTPCircuitOpenError,
    HTTPClient,
    HTTPConfigError,
    HTTPConnectionError,
    HTTPInterceptorError,
    HttpResponse,
    HTTPResponseTooLargeError,
    Request,
    ResiliencePipeline,
    RetryPolicy,
)
from httpdeck.client._circuit import Verdict
from httpdeck.client._events import CircuitStateChanged


def breaker(clock: FakeClock | None = None, **options: Any) -> CircuitBreaker:
    options.setdefault("failure_threshold", 3)
    options.setdefault("recovery_timeout", 30.0)
    return CircuitBreaker(name="api", clock=clock or FakeClock(), **options)


async def fail(b: CircuitBreaker, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(HTTPConnectionError):
            await b.execute(make_request(), Script(conn_error()))


async def trip(b: CircuitBreaker) -> None:
    await fail(b, b.config.failure_threshold)
    assert b.state is CircuitState.OPEN


# -- transitions -----------------------------------------------------------------


@pytest.mark.asyncio
async def test_opens_after_the_threshold_of_consecutive_failures() -> None:
    b = breaker()
    await fail(b, 2)
    assert b.state is CircuitState.CLOSED
    await fail(b)
    assert b.state is CircuitState.OPEN


@pytest.mark.asyncio
async def test_a_success_resets_the_consecutive_count() -> None:
    b = breaker()
    await fail(b, 2)
    await b.execute(make_request(), Script(200))
    await fail(b, 2)
    assert b.state is CircuitState.CLOSED


@pytest.mark.asyncio
async def test_open_breaker_refuses_before_sending_and_says_when_it_half_opens() -> None:
    clock = FakeClock()
    b = breaker(clock)
    await trip(b)
    clock.advance(12.0)
    script = Script(200)
    with pytest.raises(HTTPCircuitOpenError) as info:
        await b.execute(make_request(), script)
    assert script.calls == 0
    assert info.value.breaker == "api"
    assert info.value.retry_after == pytest.approx(18.0)
    assert b.retry_after == pytest.approx(18.0)
    message = str(info.value)
    assert "'api' is open (3 consecutive failures)" in message
    assert "probe in 18.0 s" in message
    assert "was not sent" in message


@pytest.mark.asyncio
async def test_half_open_probe_success_closes_it() -> None:
    clock = FakeClock()
    b = breaker(clock)
    await trip(b)
    clock.advance(30.0)
    assert b.state is CircuitState.HALF_OPEN
    assert b.retry_after == 0.0
    assert (await b.execute(make_request(), Script(200))).status == 200
    assert b.state is CircuitState.CLOSED


@pytest.mark.asyncio
async def test_half_open_probe_failure_reopens_for_a_full_timeout() -> None:
    clock = FakeClock()
    b = breaker(clock)
    await trip(b)
    clock.advance(31.0)
    await fail(b)
    assert b.state is CircuitState.OPEN
    assert b.retry_after == pytest.approx(30.0)


@pytest.mark.asyncio
async def test_half_open_needs_every_probe_to_succeed() -> None:
    clock = FakeClock()
    b = breaker(clock, half_open_max_calls=2)
    await trip(b)
    clock.advance(30.0)
    await b.execute(make_request(), Script(200))
    assert b.state is CircuitState.HALF_OPEN
    await b.execute(make_request(), Script(200))
    assert b.state is CircuitState.CLOSED


@pytest.mark.asyncio
async def test_failure_rate_mode_waits_for_the_minimum_calls() -> None:
    b = breaker(failure_rate=0.5, minimum_calls=4, window_size=4)
    await fail(b, 3)
    assert b.state is CircuitState.CLOSED  # 3 calls < minimum 4
    await b.execute(make_request(), Script(200))
    assert b.state is CircuitState.OPEN  # 3 of 4 failed


@pytest.mark.asyncio
async def test_failure_rate_mode_uses_a_sliding_window() -> None:
    b = breaker(failure_rate=0.5, minimum_calls=4, window_size=4)
    for outcome in [conn_error(), 200, 200, 200, conn_error()]:
        with contextlib.suppress(HTTPConnectionError):
            await b.execute(make_request(), Script(outcome))
    assert b.state is CircuitState.CLOSED  # the last four: 1 of 4 failed
    await fail(b)
    assert b.state is CircuitState.OPEN  # the last four: 2 of 4 failed


# -- what counts as a failure --------------------------------------------------------


@pytest.mark.asyncio
async def test_5xx_is_a_failure_and_4xx_is_not() -> None:
    b = breaker(failure_threshold=2)
    for _ in range(5):
        await b.execute(make_request(), Script(404))
    assert b.state is CircuitState.CLOSED
    await b.execute(make_request(), Script(500))
    await b.execute(make_request(), Script(503))
    assert b.state is CircuitState.OPEN


@pytest.mark.asyncio
async def test_the_failure_predicate_is_configurable() -> None:
    def is_failure(outcome: HttpResponse | Exception) -> bool:
        return isinstance(outcome, HttpResponse) and outcome.status == 429

    b = breaker(failure_threshold=1, is_failure=is_failure)
    await fail(b, 3)
    assert b.state is CircuitState.CLOSED
    await b.execute(make_request(), Script(429))
    assert b.state is CircuitState.OPEN


@pytest.mark.asyncio
async def test_a_response_too_large_is_not_a_server_failure() -> None:
    b = breaker(failure_threshold=1)
    with pytest.raises(HTTPResponseTooLargeError):
        await b.execute(make_request(), Script(HTTPResponseTooLargeError("big", limit=1)))
    assert b.state is CircuitState.CLOSED


@pytest.mark.asyncio
async def test_errors_that_are_not_the_servers_fault_give_the_probe_slot_back() -> None:
    clock = FakeClock()
    b = breaker(clock)
    await trip(b)
    clock.advance(30.0)
    bug = HTTPInterceptorError("oops", interceptor=object())
    with pytest.raises(HTTPInterceptorError):
        await b.execute(make_request(), Script(bug))
    assert b.state is CircuitState.HALF_OPEN
    assert (await b.execute(make_request(), Script(200))).status == 200
    assert b.state is CircuitState.CLOSED


# -- concurrency, cancellation and stale outcomes ------------------------------------------


@pytest.mark.parametrize("probes", [1, 3])
@pytest.mark.asyncio
async def test_100_concurrent_calls_at_half_open_admit_exactly_the_probes(probes: int) -> None:
    clock = FakeClock()
    b = breaker(clock, half_open_max_calls=probes)
    await trip(b)
    clock.advance(30.0)
    release = asyncio.Event()

    async def blocked(request: Request) -> int:
        await release.wait()
        return 200

    script = Script(blocked)
    tasks = [asyncio.create_task(b.execute(make_request(), script)) for _ in range(100)]
    await asyncio.sleep(0)  # every task has run up to its first suspension
    refused = [t for t in tasks if t.done()]
    assert len(refused) == 100 - probes
    assert all(isinstance(t.exception(), HTTPCircuitOpenError) for t in refused)
    assert script.calls == probes
    assert b.state is CircuitState.HALF_OPEN
    release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert sum(isinstance(r, HttpResponse) for r in results) == probes
    assert b.state is CircuitState.CLOSED


@pytest.mark.asyncio
async def test_case_7_50_calls_after_cooldown_reach_the_transport_once_49_refused_at_once() -> None:
    # Reliability case 7, through the client: the probe is blocked; "within
    # 10 ms" on the breaker's (injected) clock, and before the probe ends.
    clock = FakeClock()
    b = breaker(clock, half_open_max_calls=1)
    await trip(b)
    clock.advance(30.0)
    cooldown_over = clock()
    release = asyncio.Event()

    async def blocked(request: Request) -> int:
        await release.wait()
        return 200

    script = Script(blocked)
    refused_at: list[float] = []
    async with HTTPClient(transport=FakeTransport(script), circuit_breaker=b) as client:
        tasks = [asyncio.create_task(client.request("GET", "http://api.test/x")) for _ in range(50)]
        for task in tasks:
            task.add_done_callback(
                lambda t: refused_at.append(clock()) if t.exception() is not None else None
            )
        done, pending = await asyncio.wait(tasks, timeout=None, return_when=asyncio.FIRST_COMPLETED)
        while len(done) < 49:
            more, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            done |= more
        assert len(pending) == 1  # the probe, still blocked
        assert all(isinstance(t.exception(), HTTPCircuitOpenError) for t in done)
        assert script.calls == 1
        assert len(refused_at) == 49
        assert all(at - cooldown_over <= 0.010 for at in refused_at)
        release.set()
        (probe,) = pending
        assert (await probe).status == 200
    assert b.state is CircuitState.CLOSED


def test_threads_racing_at_half_open_get_exactly_the_probe_permits() -> None:
    clock = FakeClock()
    b = CircuitBreaker(name="t", clock=clock, failure_threshold=1, half_open_max_calls=2)
    b.record(b.acquire(), Verdict.FAILURE)
    clock.advance(30.0)
    permits: list[object] = []
    start = threading.Barrier(16)

    def worker() -> None:
        start.wait()
        for _ in range(50):
            with contextlib.suppress(HTTPCircuitOpenError):
                permits.append(b.acquire())

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(permits) == 2


@pytest.mark.asyncio
async def test_a_cancelled_probe_returns_the_breaker_to_open() -> None:
    clock = FakeClock()
    b = breaker(clock)
    await trip(b)
    clock.advance(30.0)
    entered = asyncio.Event()

    async def hang(request: Request) -> int:
        entered.set()
        await asyncio.Event().wait()
        return 200

    probe = asyncio.create_task(b.execute(make_request(), Script(hang)))
    await entered.wait()
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert b.state is CircuitState.OPEN  # not stuck half-open
    clock.advance(30.0)
    assert (await b.execute(make_request(), Script(200))).status == 200
    assert b.state is CircuitState.CLOSED


@pytest.mark.asyncio
async def test_a_success_from_before_the_trip_does_not_close_it() -> None:
    clock = FakeClock()
    b = breaker(clock)
    release = asyncio.Event()

    async def slow(request: Request) -> int:
        await release.wait()
        return 200

    old = asyncio.create_task(b.execute(make_request(), Script(slow)))
    await asyncio.sleep(0)
    await trip(b)
    clock.advance(30.0)
    assert b.state is CircuitState.HALF_OPEN
    release.set()
    assert (await old).status == 200
    assert b.state is CircuitState.HALF_OPEN  # the stale success changed nothing
    await fail(b)  # the real probe decides
    assert b.state is CircuitState.OPEN


@pytest.mark.asyncio
async def test_a_failure_from_before_a_reset_is_ignored() -> None:
    b = breaker(failure_threshold=1)
    permit = b.acquire()
    b.reset()
    b.record(permit, Verdict.FAILURE)
    assert b.state is CircuitState.CLOSED


@pytest.mark.asyncio
async def test_a_breaker_reset_while_closed_still_counts_new_failures() -> None:
    b = breaker()
    await fail(b, 2)
    b.reset()
    await fail(b, 2)
    assert b.state is CircuitState.CLOSED  # the streak before the reset is forgotten
    await fail(b)
    assert b.state is CircuitState.OPEN


@pytest.mark.asyncio
async def test_a_success_after_a_failure_resets_the_streak_of_a_reused_breaker() -> None:
    b = breaker(failure_threshold=2)
    for _ in range(3):  # the same closed permit each time: the streak still resets
        await fail(b)
        await b.execute(make_request(), Script(200))
    assert b.state is CircuitState.CLOSED
    await fail(b, 2)
    assert b.state is CircuitState.OPEN


@pytest.mark.asyncio
async def test_a_wall_clock_jump_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    b = CircuitBreaker(name="wall", failure_threshold=1, recovery_timeout=60.0)
    await fail(b)
    assert b.state is CircuitState.OPEN
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 3600.0)
    assert b.state is CircuitState.OPEN
    monkeypatch.setattr(time, "time", lambda: real_time() - 3600.0)
    assert b.state is CircuitState.OPEN
    assert 0 < b.retry_after <= 60.0


# -- state change callbacks ------------------------------------------------------------


@pytest.mark.asyncio
async def test_state_changes_reach_every_listener_with_a_reason() -> None:
    clock = FakeClock()
    seen: list[CircuitStateChanged] = []
    also: list[CircuitState] = []
    b = breaker(clock, on_state_change=seen.append)
    b.add_listener(lambda change: also.append(change.state))
    await trip(b)
    clock.advance(30.0)
    await b.execute(make_request(), Script(200))
    assert [(c.previous, c.state) for c in seen] == [
        (CircuitState.CLOSED, CircuitState.OPEN),
        (CircuitState.OPEN, CircuitState.HALF_OPEN),
        (CircuitState.HALF_OPEN, CircuitState.CLOSED),
    ]
    assert [c.reason for c in seen] == [
        "3 consecutive failures",
        "recovery timeout passed",
        "half-open probes succeeded",
    ]
    assert all(c.breaker == "api" for c in seen)
    assert seen[0].at == 1000.0
    assert seen[1].at == 1030.0
    assert also == [c.state for c in seen]


# -- registry ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_registry_keeps_one_breaker_per_origin() -> None:
    registry = CircuitBreakerRegistry(failure_threshold=1, clock=FakeClock())
    sick = make_request(url=URL("http://sick.test/a"))
    healthy = make_request(url=URL("http://ok.test/a"))
    with pytest.raises(HTTPConnectionError):
        await registry.execute(sick, Script(conn_error()))
    with pytest.raises(HTTPCircuitOpenError) as info:
        await registry.execute(make_request(url=URL("http://sick.test/b")), Script(200))
    assert info.value.breaker == "http://sick.test:80"
    assert (await registry.execute(healthy, Script(200))).status == 200
    assert sorted(registry.breakers) == ["http://ok.test:80", "http://sick.test:80"]
    assert registry.get("http://ok.test:80").state is CircuitState.CLOSED


@pytest.mark.asyncio
async def test_registry_key_function_and_shared_listeners() -> None:
    changes: list[str] = []
    registry = CircuitBreakerRegistry(
        CircuitBreakerConfig(failure_threshold=1),
        key=lambda request: request.url.path.split("/")[1],
        clock=FakeClock(),
        on_state_change=lambda c: changes.append(f"{c.breaker}:{c.state.value}"),
    )
    with pytest.raises(HTTPConnectionError):
        await registry.execute(make_request(url=URL("http://h.test/users/1")), Script(conn_error()))
    assert changes == ["users:open"]
    assert registry.breaker_for(make_request(url=URL("http://x.test/users"))).name == "users"


# -- with the retry policy, through the client -------------------------------------------------


def _breaker_client(clock: FakeClock, sleeps: Sleeps, script: Script, how: str) -> HTTPClient:
    retry = RetryPolicy(max_attempts=5, clock=clock, sleep=sleeps, base_delay=1.0, jitter=0.0)
    if how == "parts":
        breaker = CircuitBreaker(failure_threshold=2, clock=clock, name="b")
        return HTTPClient(
            transport=FakeTransport(script), retry_policy=retry, circuit_breaker=breaker
        )
    registry = CircuitBreakerRegistry(failure_threshold=2, clock=clock)
    pipeline = ResiliencePipeline(retry=retry, circuit_breaker=registry)
    return HTTPClient(transport=FakeTransport(script), resilience=pipeline)


@pytest.mark.parametrize("how", ["parts", "pipeline"])
@pytest.mark.asyncio
async def test_breaker_inside_retry_stops_the_retry_loop_without_a_wait_when_it_opens(
    how: str,
) -> None:
    # Reliability case 9: while the breaker is open the retry loop does 0 sleeps,
    # including after the attempt that tripped it.
    clock = FakeClock()
    sleeps = Sleeps(clock)
    script = Script(503)
    async with _breaker_client(clock, sleeps, script, how) as client:
        first = await client.get("http://api.test/x")
        assert isinstance(first.unwrap_err(), HTTPCircuitOpenError)
        assert script.calls == 2  # the third attempt was refused, not sent
        assert sleeps.waits == [1.0]  # between attempts 1 and 2; none after the trip
        second = await client.get("http://api.test/x")
        assert isinstance(second.unwrap_err(), HTTPCircuitOpenError)
    assert script.calls == 2
    assert sleeps.waits == [1.0]


@pytest.mark.asyncio
async def test_a_breaker_that_half_opens_before_the_backoff_ends_still_gets_its_probe() -> None:
    # Open for less time than the backoff: the wait is kept, and the next
    # attempt is the half-open probe (here it succeeds).
    clock = FakeClock()
    sleeps = Sleeps(clock)
    script = Script(503, 503, 200)
    retry = RetryPolicy(max_attempts=3, clock=clock, sleep=sleeps, base_delay=5.0, jitter=0.0)
    breaker = CircuitBreaker(failure_threshold=2, recovery_timeout=1.0, clock=clock)
    client = HTTPClient(
        transport=FakeTransport(script), retry_policy=retry, circuit_breaker=breaker
    )
    async with client:
        response = await client.request("GET", "http://api.test/x")
    assert response.status == 200
    assert sleeps.waits == [5.0, 10.0]
    assert breaker.state is CircuitState.CLOSED


# -- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"failure_threshold": 0}, "failure_threshold"),
        ({"half_open_max_calls": 0}, "half_open_max_calls"),
        ({"failure_rate": 1.5}, "failure_rate"),
        ({"failure_rate": 0}, "failure_rate"),
        ({"recovery_timeout": -1}, "recovery_timeout"),
        ({"is_failure": 3}, "is_failure"),
    ],
)
def test_bad_breaker_config_is_refused_naming_the_field(options: Any, field: str) -> None:
    with pytest.raises(HTTPConfigError, match=f"CircuitBreakerConfig.{field}"):
        CircuitBreakerConfig(**options)


def test_default_clock_is_monotonic_and_config_keywords_override() -> None:
    b = CircuitBreaker(CircuitBreakerConfig(failure_threshold=9), recovery_timeout=1.0)
    assert b._clock is time.monotonic
    assert b.config.failure_threshold == 9
    assert b.config.recovery_timeout == 1.0
    assert repr(b) == "<CircuitBreaker 'default' closed>"
    with pytest.raises(TypeError, match="CircuitBreakerConfig"):
        CircuitBreaker({"failure_threshold": 1})  # type: ignore[arg-type]
