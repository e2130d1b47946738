"""Fake errors raised before and after send, through the real RetryPolicy and CircuitBreaker."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from httpdeck.client import (
    CircuitBreaker,
    Err,
    HTTPCircuitOpenError,
    HTTPClientConfig,
    HTTPConnectionError,
    HTTPRetryExhaustedError,
    HTTPTimeoutError,
    Ok,
    Request,
    ResiliencePipeline,
    RetryPolicy,
    TimeoutConfig,
)
from httpdeck.testing import FakeClock, FakeError, FakeHTTPClient, FakeResponse

pytestmark = pytest.mark.asyncio

URL = "https://api.example.com/orders"


def retry(clock: FakeClock, attempts: int = 3) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=attempts,
        base_delay=0.5,
        jitter=0.0,
        clock=clock.monotonic,
        sleep=clock.sleep,
        budget_ratio=None,
    )


async def test_post_reset_before_send_is_retried() -> None:
    clock = FakeClock()
    async with FakeHTTPClient(clock=clock, retry_policy=retry(clock)) as fake:
        route = fake.route("POST", URL).respond_sequence(
            [FakeError.connection_reset(sent=False), FakeResponse(201)]
        )
        result = await fake.post(URL, json={"item": 1})
    assert isinstance(result, Ok)
    assert result.value.status == 201
    assert [call.attempt for call in route.calls] == [0, 1]
    assert [call.json() for call in route.calls] == [{"item": 1}, {"item": 1}]
    assert clock.sleeps == [0.5]


async def test_post_reset_after_send_is_not_retried() -> None:
    clock = FakeClock()
    async with FakeHTTPClient(clock=clock, retry_policy=retry(clock)) as fake:
        route = fake.route("POST", URL).respond_sequence(
            [FakeError.connection_reset(sent=True), FakeResponse(201)]
        )
        result = await fake.post(URL)
    assert isinstance(result, Err)
    assert isinstance(result.error, HTTPConnectionError)
    assert result.error.sent
    assert route.call_count == 1
    assert clock.sleeps == []


async def test_post_with_an_idempotency_key_is_retried_after_send() -> None:
    clock = FakeClock()
    async with FakeHTTPClient(clock=clock, retry_policy=retry(clock)) as fake:
        route = fake.route("POST", URL).respond_sequence(
            [FakeError.connection_reset(sent=True), FakeResponse(201)]
        )
        result = await fake.post(URL, headers={"Idempotency-Key": "k-1"})
    assert isinstance(result, Ok)
    assert route.call_count == 2


async def test_get_reset_after_send_is_retried() -> None:
    clock = FakeClock()
    async with FakeHTTPClient(clock=clock, retry_policy=retry(clock)) as fake:
        fake.route("GET", URL).respond_sequence([FakeError.connection_reset(sent=True), 200])
        result = await fake.get(URL)
    assert isinstance(result, Ok)


async def test_read_timeouts_exhaust_the_retries() -> None:
    clock = FakeClock()
    async with FakeHTTPClient(clock=clock, retry_policy=retry(clock)) as fake:
        route = fake.route("GET", URL).raise_error(FakeError.timeout("read"))
        error = (await fake.get(URL)).unwrap_err()
    assert route.call_count == 3
    assert isinstance(error, HTTPRetryExhaustedError)
    assert [type(outcome) for outcome in error.attempts] == [HTTPTimeoutError] * 3
    assert clock.sleeps == [0.5, 1.0]


async def test_a_slow_response_times_out_on_the_fake_clock_and_is_retried() -> None:
    clock = FakeClock()
    config = HTTPClientConfig(timeouts=TimeoutConfig(read=1.0))
    async with FakeHTTPClient(config, clock=clock, retry_policy=retry(clock)) as fake:
        fake.route("GET", URL).respond_sequence(
            [FakeResponse(200, delay=30.0), FakeResponse(200, json={"ok": True}, delay=0.2)]
        )
        result = await fake.get(URL)
    assert isinstance(result, Ok)
    assert result.value.json() == {"ok": True}
    assert clock.sleeps == [1.0, 0.5, 0.2]  # the read timeout, the backoff, the delay
    assert clock.now == pytest.approx(1.7)


async def test_retry_after_is_honoured_on_the_fake_clock() -> None:
    clock = FakeClock()
    async with FakeHTTPClient(clock=clock, retry_policy=retry(clock)) as fake:
        fake.route("GET", URL).respond_sequence(
            [FakeResponse(503, headers={"Retry-After": "2"}), FakeResponse(200)]
        )
        result = await fake.get(URL)
    assert isinstance(result, Ok)
    assert clock.sleeps == [2.0]


async def test_the_circuit_breaker_opens_on_fake_failures() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, recovery_timeout=30.0, clock=clock.monotonic)
    async with FakeHTTPClient(clock=clock, circuit_breaker=breaker) as fake:
        route = fake.route("GET", URL).respond_sequence([503, 503, 200])
        for _ in range(2):
            assert isinstance(await fake.get(URL), Err)
        refused = await fake.get(URL)
        assert isinstance(refused.unwrap_err(), HTTPCircuitOpenError)
        assert route.call_count == 2  # the open breaker made no request
        clock.advance(30.0)
        assert isinstance(await fake.get(URL), Ok)  # the half-open probe succeeds
    assert route.call_count == 3


@pytest.mark.parametrize("pass_clock", ["clock", "monotonic"])
async def test_the_retry_deadline_cuts_a_slow_fake_attempt_at_exactly_the_deadline(
    pass_clock: str,
) -> None:
    # As on a real socket (tests/integration/test_resilience.py): the retry
    # deadline cuts the attempt in flight, here on the virtual clock at 15 s,
    # not when the route's 30 s delay (or the client's total timeout) is over.
    clock = FakeClock()
    policy = RetryPolicy(
        timeout=15.0,
        clock=clock if pass_clock == "clock" else clock.monotonic,
        sleep=clock.sleep,
        budget_ratio=None,
    )
    config = HTTPClientConfig(timeouts=TimeoutConfig(total=60.0))
    async with FakeHTTPClient(config, clock=clock, retry_policy=policy) as fake:
        route = fake.route("GET", URL).respond_with(FakeResponse(200, delay=30.0))
        with pytest.raises(HTTPRetryExhaustedError) as caught:
            await fake.request("GET", URL)
    assert route.call_count == 1
    (last,) = caught.value.attempts
    assert isinstance(last, HTTPTimeoutError)
    assert last.phase == "total"
    assert "retry deadline (RetryConfig.timeout=15.0 s)" in str(last)
    assert clock.now == 15.0


async def test_a_fake_attempt_that_ends_before_the_deadline_is_not_cut() -> None:
    clock = FakeClock()
    policy = RetryPolicy(timeout=15.0, clock=clock, sleep=clock.sleep, budget_ratio=None)
    async with FakeHTTPClient(clock=clock, retry_policy=policy) as fake:
        fake.route("GET", URL).respond_with(FakeResponse(200, delay=14.0))
        response = await fake.request("GET", URL)
        assert response.status == 200
        assert clock.now == 14.0
        clock.advance(10.0)  # the deadline timer of the finished attempt is gone
    assert clock.now == 24.0


@pytest.mark.parametrize("layer", ["timeout", "attempt_timeout"])
@pytest.mark.parametrize("given", ["pipeline", "retry"])
async def test_the_pipeline_timeouts_cut_a_slow_fake_attempt_at_exactly_5_virtual_s(
    layer: str, given: str
) -> None:
    # As on a real socket (tests/integration/test_resilience.py::
    # test_the_pipeline_timeouts_cut_a_stalled_attempt): the clock comes from
    # the pipeline's clock= or, unsaid, from its retry policy's.
    clock = FakeClock()
    policy = RetryPolicy(
        max_attempts=1, clock=clock if given == "retry" else clock.monotonic, budget_ratio=None
    )
    options = {layer: 5.0}
    pipeline = ResiliencePipeline(
        retry=policy,
        clock=clock if given == "pipeline" else None,
        **options,  # type: ignore[arg-type]
    )
    config = HTTPClientConfig(timeouts=TimeoutConfig(total=60.0))
    async with FakeHTTPClient(config, clock=clock, resilience=pipeline) as fake:
        fake.route("GET", URL).respond_with(FakeResponse(200, delay=30.0))
        with pytest.raises((HTTPTimeoutError, HTTPRetryExhaustedError)) as caught:
            await fake.request("GET", URL)
    # attempt_timeout is inside the retry loop: its error is the last attempt's.
    error: object = caught.value
    assert isinstance(error, HTTPRetryExhaustedError) == (layer == "attempt_timeout")
    if isinstance(error, HTTPRetryExhaustedError):
        error = error.attempts[-1]
    assert isinstance(error, HTTPTimeoutError)
    assert error.phase == "total"
    assert f"did not complete within the pipeline's {layer} of 5.0 s" in str(error)
    assert clock.now == 5.0


# -- reliability cases 3 and 4 (research/reliability.md section 5), on the fake clock --------


def _date(seconds: float) -> str:
    return format_datetime(datetime.fromtimestamp(seconds, tz=UTC), usegmt=True)


@pytest.mark.parametrize("form", ["seconds", "http-date"])
async def test_case_3_after_retry_after_2_the_next_attempt_starts_2_s_later(form: str) -> None:
    clock = FakeClock()
    starts: list[float] = []
    server_now = 1_900_000_000.0
    headers = (
        {"Retry-After": "2"}
        if form == "seconds"
        else {"Date": _date(server_now), "Retry-After": _date(server_now + 2)}
    )
    answers = iter([FakeResponse(503, headers=headers), FakeResponse(200)])

    def answer(request: Request) -> FakeResponse:
        starts.append(clock.now)
        return next(answers)

    async with FakeHTTPClient(clock=clock, retry_policy=retry(clock)) as fake:
        fake.route("GET", URL).respond_with(answer)
        assert (await fake.request("GET", URL)).status == 200
    first, second = starts
    assert second - first >= 2.0


async def test_case_4_a_5_s_budget_with_2_s_attempts_ends_by_5_05_s() -> None:
    clock = FakeClock()
    policy = RetryPolicy(
        max_attempts=10,
        timeout=5.0,
        base_delay=0.1,
        jitter=0.0,
        clock=clock,
        sleep=clock.sleep,
        budget_ratio=None,
    )
    async with FakeHTTPClient(clock=clock, retry_policy=policy) as fake:
        route = fake.route("GET", URL).respond_with(FakeResponse(503, delay=2.0))
        with pytest.raises(HTTPRetryExhaustedError) as caught:
            await fake.request("GET", URL)
    # 0-2 attempt 0, wait 0.1, 2.1-4.1 attempt 1, wait 0.2, attempt 2 from 4.3 is cut at 5.
    assert route.call_count == 3
    assert clock.now <= 5.05
    assert isinstance(caught.value.last, HTTPTimeoutError)
