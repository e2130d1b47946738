"""RetryPolicy: every rule, with a fake clock, a seeded random source and a recorded sleep."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from resilience_helpers import (
    FakeClock,
    FakeTransport,
    Script,
    Sleeps,
    conn_error,
    make_request,
)

from httpdeck.client import (
    Err,
    HTTPClient,
    HTTPConfigError,
    HTTPConnectionError,
    HTTPProtocolError,
    HttpResponse,
    HTTPResponseTooLargeError,
    HTTPRetryExhaustedError,
    HTTPTimeoutError,
    Request,
    RequestContext,
    RetryBudget,
    RetryConfig,
    RetryPolicy,
    StreamBody,
    is_testing,
    set_testing,
)


def policy(
    clock: FakeClock | None = None, sleeps: Sleeps | None = None, **options: Any
) -> RetryPolicy:
    clock = clock or FakeClock()
    return RetryPolicy(
        clock=clock,
        wall_clock=lambda: 1_700_000_000.0,
        rng=random.Random(1234),
        sleep=sleeps if sleeps is not None else Sleeps(clock),
        **options,
    )


# -- attempts -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_max_attempts_means_exactly_that_many_sends() -> None:
    script = Script(503)
    with pytest.raises(HTTPRetryExhaustedError) as info:
        await policy(max_attempts=3).execute(make_request(), script)
    assert script.calls == 3
    assert script.attempts == [0, 1, 2]
    assert [r.status for r in info.value.attempts] == [503, 503, 503]  # type: ignore[union-attr]
    assert "all 3 attempts were used" in info.value.reason


@pytest.mark.asyncio
async def test_success_after_a_retry_returns_that_response() -> None:
    script = Script(503, 200)
    response = await policy().execute(make_request(), script)
    assert response.status == 200
    assert script.attempts == [0, 1]
    assert response.request is not None
    assert response.request.attempt == 1


@pytest.mark.asyncio
async def test_retried_responses_are_closed_and_the_returned_one_is_not() -> None:
    script = Script(502, 200)
    await policy().execute(make_request(), script)
    assert [s.closed for s in script.streams] == [True, False]


@pytest.mark.asyncio
async def test_one_attempt_policy_never_retries() -> None:
    script = Script(503)
    with pytest.raises(HTTPRetryExhaustedError):
        await policy(max_attempts=1).execute(make_request(), script)
    assert script.calls == 1


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
@pytest.mark.asyncio
async def test_default_retryable_statuses_are_retried(status: int) -> None:
    script = Script(status, 200)
    assert (await policy().execute(make_request(), script)).status == 200
    assert script.calls == 2


@pytest.mark.parametrize("status", [200, 301, 400, 404, 501, 505])
@pytest.mark.asyncio
async def test_other_statuses_are_returned_at_once(status: int) -> None:
    script = Script(status)
    assert (await policy().execute(make_request(), script)).status == status
    assert script.calls == 1


@pytest.mark.asyncio
async def test_retry_statuses_are_configurable() -> None:
    script = Script(418, 200)
    response = await policy(retry_statuses=frozenset({418})).execute(make_request(), script)
    assert response.status == 200


@pytest.mark.parametrize(
    "error",
    [
        lambda r: HTTPConnectionError("reset", request=r, sent=True),
        lambda r: HTTPTimeoutError("slow", request=r, sent=True, phase="read"),
        lambda r: HTTPProtocolError("cut short", request=r, sent=True),
    ],
    ids=["connection", "timeout", "protocol"],
)
@pytest.mark.asyncio
async def test_transport_errors_are_retried(error: Any) -> None:
    script = Script(error, 200)
    assert (await policy().execute(make_request(), script)).status == 200


@pytest.mark.asyncio
async def test_errors_outside_retry_on_pass_through_unchanged() -> None:
    too_large = HTTPResponseTooLargeError("big", limit=10)
    script = Script(too_large)
    with pytest.raises(HTTPResponseTooLargeError) as info:
        await policy().execute(make_request(), script)
    assert info.value is too_large
    assert script.calls == 1


@pytest.mark.asyncio
async def test_exhausted_error_lists_every_attempt_and_chains_the_last_error() -> None:
    script = Script(503, conn_error(), conn_error())
    with pytest.raises(HTTPRetryExhaustedError) as info:
        await policy().execute(make_request(), script)
    error = info.value
    assert isinstance(error.attempts[0], HttpResponse)
    assert all(isinstance(a, HTTPConnectionError) for a in error.attempts[1:])
    assert error.last is error.attempts[-1]
    assert error.__cause__ is error.last
    assert "attempt 0: 503" in str(error)
    assert "attempt 2: HTTPConnectionError: connection reset" in str(error)
    assert "GET http://api.test:8080/items" in str(error)


@pytest.mark.asyncio
async def test_each_attempt_is_a_copy_so_header_changes_do_not_leak() -> None:
    def mutate(request: Request) -> int:
        assert "X-Seen" not in request.headers
        request.headers["X-Seen"] = "yes"
        return 503

    script = Script(mutate, mutate, 200)
    original = make_request(headers={"Accept": "a/b"})
    await policy().execute(original, script)
    assert "X-Seen" not in original.headers
    assert original.attempt == 0
    assert all(r.headers["Accept"] == "a/b" for r in script.requests)


# -- backoff ----------------------------------------------------------------------


def test_full_jitter_delays_lie_between_zero_and_the_capped_ceiling() -> None:
    p = RetryPolicy(base_delay=0.5, max_delay=4.0, rng=random.Random(7))
    for retry, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 4.0), (50, 4.0)]:
        delays = [p.backoff(retry) for _ in range(1000)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > 0.9 * ceiling
        assert min(delays) < 0.1 * ceiling


def test_a_fixed_seed_reproduces_the_sequence_of_delays() -> None:
    def sequence() -> list[float]:
        p = RetryPolicy(rng=random.Random(99))
        return [p.backoff(k) for _ in range(50) for k in range(5)]

    assert sequence() == sequence()
    assert len(set(sequence())) == 250


@pytest.mark.parametrize("rng", ["own seed", "default source"])
def test_100_clients_share_at_most_5_percent_identical_delays(rng: str) -> None:
    # Reliability case 5; "default source": clients built without rng, as most are.
    policies = [
        RetryPolicy(rng=random.Random(seed)) if rng == "own seed" else RetryPolicy()
        for seed in range(100)
    ]
    for k in range(4):
        delays = [p.backoff(k) for p in policies]
        assert len(set(delays)) >= 95


def test_zero_jitter_waits_the_exponential_ceiling() -> None:
    p = RetryPolicy(base_delay=0.25, multiplier=3.0, max_delay=5.0, jitter=0.0)
    assert [p.backoff(k) for k in range(4)] == [0.25, 0.75, 2.25, 5.0]


def test_huge_retry_numbers_do_not_overflow() -> None:
    p = RetryPolicy(base_delay=1.0, multiplier=10.0, max_delay=7.0, jitter=0.0)
    assert p.backoff(10_000) == 7.0


@pytest.mark.asyncio
async def test_waits_between_attempts_follow_the_backoff() -> None:
    sleeps = Sleeps()
    script = Script(503, 503, 200)
    await policy(sleeps=sleeps, base_delay=1.0, jitter=0.0).execute(make_request(), script)
    assert sleeps.waits == [1.0, 2.0]


# -- Retry-After ------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.asyncio
async def test_retry_after_seconds_sets_the_wait(status: int) -> None:
    sleeps = Sleeps()
    script = Script((status, {"Retry-After": "7"}), 200)
    await policy(sleeps=sleeps, base_delay=0.1).execute(make_request(), script)
    assert sleeps.waits == [7.0]


@pytest.mark.asyncio
async def test_retry_after_on_other_statuses_is_ignored() -> None:
    sleeps = Sleeps()
    script = Script((500, {"Retry-After": "7"}), 200)
    await policy(sleeps=sleeps, base_delay=0.1).execute(make_request(), script)
    assert sleeps.waits[0] <= 0.1


@pytest.mark.asyncio
async def test_retry_after_http_date_is_measured_against_the_response_date() -> None:
    sleeps = Sleeps()
    server_now = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
    headers = {
        "Date": format_datetime(server_now, usegmt=True),
        "Retry-After": format_datetime(server_now + timedelta(seconds=12), usegmt=True),
    }
    script = Script((503, headers), 200)
    await policy(sleeps=sleeps).execute(make_request(), script)
    assert sleeps.waits == [12.0]


@pytest.mark.asyncio
async def test_retry_after_http_date_without_date_uses_the_wall_clock() -> None:
    sleeps = Sleeps()
    wall = 1_700_000_000.0  # what policy() injects as wall_clock
    when = datetime.fromtimestamp(wall + 9, tz=UTC)
    script = Script((429, {"Retry-After": format_datetime(when, usegmt=True)}), 200)
    await policy(sleeps=sleeps).execute(make_request(), script)
    assert sleeps.waits == [9.0]


@pytest.mark.parametrize(
    "value",
    ["Wed, 21 Oct 2015 07:28:00 GMT", "soon", "-3", ""],
    ids=["past", "bad", "neg", "empty"],
)
@pytest.mark.asyncio
async def test_past_or_unparsable_retry_after_falls_back_to_backoff(value: str) -> None:
    sleeps = Sleeps()
    script = Script((503, {"Retry-After": value}), 200)
    await policy(sleeps=sleeps, base_delay=0.5).execute(make_request(), script)
    assert len(sleeps.waits) == 1
    assert 0.0 <= sleeps.waits[0] <= 0.5


@pytest.mark.parametrize(
    "value",
    [
        "\u00b2",  # '²': str.isdigit() says yes, int() and float() say no
        "\u0661\u0662",  # Arabic-Indic 12: int() takes it, RFC 9110's DIGIT does not
        "\uff15",  # fullwidth 5
        "1.5",
        "+5",
        "5 s",
        "Wed, \u0662\u0661 Oct 2030 07:28:00 GMT",  # a date in Arabic-Indic digits
    ],
    ids=["superscript", "arabic-indic", "fullwidth", "fraction", "plus", "unit", "date-digits"],
)
@pytest.mark.asyncio
async def test_retry_after_outside_rfc_9110_grammar_is_ignored_not_an_error(value: str) -> None:
    # RFC 9110 10.2.3: Retry-After = HTTP-date / delay-seconds, delay-seconds = 1*DIGIT
    # (ASCII 0-9). Anything else carries no usable delay: treated as absent.
    sleeps = Sleeps()
    script = Script((503, {"Retry-After": value}), 200)
    response = await policy(sleeps=sleeps, base_delay=0.5).execute(make_request(), script)
    assert response.status == 200
    assert len(sleeps.waits) == 1
    assert 0.0 <= sleeps.waits[0] <= 0.5


@pytest.mark.asyncio
async def test_a_date_header_in_odd_digits_is_ignored_for_an_http_date_retry_after() -> None:
    sleeps = Sleeps()
    wall = 1_700_000_000.0  # what policy() injects as wall_clock
    when = datetime.fromtimestamp(wall + 9, tz=UTC)
    headers = {
        "Retry-After": format_datetime(when, usegmt=True),
        "Date": "Tue, \u0661\u0664 Nov 2023 22:13:10 GMT",  # 10 s early, if it counted
    }
    await policy(sleeps=sleeps).execute(make_request(), Script((429, headers), 200))
    assert sleeps.waits == [9.0]  # measured against the wall clock instead


@pytest.mark.asyncio
async def test_retry_after_longer_than_max_delay_gives_up_at_once_naming_the_header() -> None:
    sleeps = Sleeps()
    script = Script((503, {"Retry-After": "3600"}))
    with pytest.raises(HTTPRetryExhaustedError) as info:
        await policy(sleeps=sleeps, max_delay=30.0).execute(make_request(), script)
    assert script.calls == 1
    assert sleeps.waits == []
    assert "Retry-After: 3600" in info.value.reason
    assert "max_delay=30.0" in info.value.reason


@pytest.mark.asyncio
async def test_a_retry_after_of_thousands_of_digits_is_shown_shortened() -> None:
    script = Script((503, {"Retry-After": "9" * 5000}))
    with pytest.raises(HTTPRetryExhaustedError) as info:
        await policy(sleeps=Sleeps(), max_delay=30.0).execute(make_request(), script)
    assert "Retry-After: 99999999999999999999... (5000 characters) asks for inf s" in str(
        info.value
    )
    assert len(str(info.value)) < 1000


@pytest.mark.asyncio
async def test_retry_after_can_be_ignored() -> None:
    sleeps = Sleeps()
    script = Script((503, {"Retry-After": "3600"}), 200)
    p = policy(sleeps=sleeps, respect_retry_after=False, base_delay=0.1)
    assert (await p.execute(make_request(), script)).status == 200
    assert sleeps.waits[0] <= 0.1


# -- deadline ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_deadline_stops_before_an_attempt_that_would_start_past_it() -> None:
    clock = FakeClock()
    sleeps = Sleeps(clock)
    script = Script(503, clock=clock, cost=2.0)  # every attempt takes 2 s
    p = policy(clock, sleeps, max_attempts=10, timeout=5.0, base_delay=1.0, jitter=0.0)
    with pytest.raises(HTTPRetryExhaustedError) as info:
        await p.execute(make_request(), script)
    # 0-2 attempt 0, wait 1, 3-5 attempt 1, a wait of 2 would start attempt 2 at 7 > 5.
    assert script.calls == 2
    assert sleeps.waits == [1.0]
    assert "deadline (timeout=5.0 s)" in info.value.reason


@pytest.mark.asyncio
async def test_deadline_never_sleeps_past_it() -> None:
    clock = FakeClock()
    sleeps = Sleeps(clock)
    script = Script((503, {"Retry-After": "20"}), clock=clock, cost=1.0)
    with pytest.raises(HTTPRetryExhaustedError):
        await policy(clock, sleeps, timeout=10.0).execute(make_request(), script)
    assert sleeps.waits == []


@pytest.mark.asyncio
async def test_deadline_cuts_an_attempt_in_flight() -> None:
    async def hang(request: Request) -> HttpResponse:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    script = Script(hang)
    p = RetryPolicy(timeout=0.05, sleep=Sleeps())
    with pytest.raises(HTTPRetryExhaustedError) as info:
        await p.execute(make_request(), script)
    assert script.calls == 1
    last = info.value.last
    assert isinstance(last, HTTPTimeoutError)
    assert last.phase == "total"
    assert "retry deadline" in str(last)


# -- idempotency --------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"])
@pytest.mark.asyncio
async def test_idempotent_methods_are_retried_after_the_request_was_sent(method: str) -> None:
    script = Script(conn_error(sent=True), 200)
    assert (await policy().execute(make_request(method), script)).status == 200


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.asyncio
async def test_non_idempotent_request_that_may_have_been_sent_is_not_retried(method: str) -> None:
    script = Script(conn_error(sent=True), 200)
    with pytest.raises(HTTPConnectionError):
        await policy().execute(make_request(method, content=b"{}"), script)
    assert script.calls == 1


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.asyncio
async def test_non_idempotent_request_is_retried_when_no_byte_was_sent(method: str) -> None:
    script = Script(conn_error(sent=False), 200)
    assert (await policy().execute(make_request(method, content=b"{}"), script)).status == 200


@pytest.mark.asyncio
async def test_post_status_response_is_returned_not_retried() -> None:
    script = Script(503, 200)
    response = await policy().execute(make_request("POST", content=b"{}"), script)
    assert response.status == 503
    assert script.calls == 1


@pytest.mark.asyncio
async def test_post_with_an_idempotency_key_is_retried() -> None:
    script = Script(conn_error(sent=True), 503, 201)
    request = make_request("POST", headers={"Idempotency-Key": "k-1"}, content=b"{}")
    assert (await policy().execute(request, script)).status == 201
    assert [r.headers["Idempotency-Key"] for r in script.requests] == ["k-1"] * 3


@pytest.mark.asyncio
async def test_the_idempotency_key_header_name_is_configurable() -> None:
    script = Script(conn_error(sent=True), 200)
    request = make_request("POST", headers={"X-Request-Id": "abc"})
    p = policy(idempotency_key_header="X-Request-Id")
    assert (await p.execute(request, script)).status == 200
    script2 = Script(conn_error(sent=True), 200)
    with pytest.raises(HTTPConnectionError):
        await policy(idempotency_key_header=None).execute(
            make_request("POST", headers={"Idempotency-Key": "k"}), script2
        )


async def _chunks() -> AsyncIterator[bytes]:
    yield b"part-1"
    yield b"part-2"


async def _consume_then_fail(request: Request) -> HttpResponse:
    assert isinstance(request.content, StreamBody)
    async for _ in request.content:
        pass
    raise HTTPConnectionError("reset after the body", request=request, sent=True)


@pytest.mark.asyncio
async def test_a_consumed_one_shot_stream_body_is_never_resent() -> None:
    script = Script(_consume_then_fail, 200)
    request = make_request("PUT", content=StreamBody(_chunks()))
    with pytest.raises(HTTPConnectionError):
        await policy().execute(request, script)
    assert script.calls == 1


@pytest.mark.asyncio
async def test_a_one_shot_body_not_yet_sent_may_be_retried() -> None:
    script = Script(conn_error(sent=False), 200)
    request = make_request("PUT", content=StreamBody(_chunks()))
    assert (await policy().execute(request, script)).status == 200


@pytest.mark.asyncio
async def test_a_replayable_stream_body_is_resent() -> None:
    script = Script(_consume_then_fail, _consume_then_fail, 200)
    request = make_request("PUT", content=StreamBody(_chunks))
    assert (await policy().execute(request, script)).status == 200
    assert script.calls == 3


# -- retry budget -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_retry_budget_caps_retries_at_a_fifth_of_first_attempts() -> None:
    clock = FakeClock()
    script = Script(503)
    p = policy(clock, Sleeps(), max_attempts=3)  # sleeps do not move the clock
    exhausted_by_budget = 0
    for _ in range(1000):  # 100 requests a second for 10 s, the backend down
        with pytest.raises(HTTPRetryExhaustedError) as info:
            await p.execute(make_request(), script)
        exhausted_by_budget += "retry budget is spent" in info.value.reason
        clock.advance(0.01)
    retries = script.calls - 1000
    assert retries <= 200  # without a budget: 2000
    assert retries >= 150
    assert exhausted_by_budget > 800


def test_retry_budget_allows_a_floor_of_retries_for_quiet_clients() -> None:
    budget = RetryBudget(ratio=0.2, window=10.0, min_retries=3, clock=FakeClock())
    budget.record_first_attempt()
    assert [budget.try_retry() for _ in range(4)] == [True, True, True, False]


def test_retry_budget_recovers_when_the_window_slides_past() -> None:
    clock = FakeClock()
    budget = RetryBudget(ratio=0.0, window=10.0, min_retries=1, clock=clock)
    assert budget.try_retry()
    assert not budget.try_retry()
    clock.advance(5.0)
    assert not budget.try_retry()
    clock.advance(5.0)
    assert budget.try_retry()
    assert budget.counts() == (0, 1)


@pytest.mark.asyncio
async def test_budget_can_be_disabled_or_shared() -> None:
    script = Script(503)
    p = policy(budget_ratio=None, max_attempts=5)
    assert p.budget is None
    shared = RetryBudget(ratio=0.0, min_retries=1, clock=FakeClock())
    a, b = policy(budget=shared), policy(budget=shared)
    assert a.budget is b.budget is shared
    with pytest.raises(HTTPRetryExhaustedError):
        await a.execute(make_request(), script)
    with pytest.raises(HTTPRetryExhaustedError) as info:
        await b.execute(make_request(), script)
    assert "retry budget is spent" in info.value.reason


# -- testing mode -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_testing_mode_skips_backoff_waits() -> None:
    script = Script(503, 503, 200)
    hour = RetryPolicy(base_delay=3600.0, max_delay=3600.0, jitter=0.0)
    with set_testing(False), set_testing(True):
        assert is_testing()
        # Guards against a hang only: without testing mode this waits two hours.
        async with asyncio.timeout(30):
            assert (await hour.execute(make_request(), script)).status == 200


@pytest.mark.asyncio
async def test_testing_mode_still_calls_an_injected_sleep() -> None:
    sleeps = Sleeps()
    with set_testing(True):
        await policy(sleeps=sleeps, base_delay=1.0, jitter=0.0).execute(
            make_request(), Script(503, 200)
        )
    assert sleeps.waits == [1.0]


@pytest.mark.asyncio
async def test_testing_mode_can_cap_attempts_and_restores_the_previous_mode() -> None:
    with set_testing(False):  # restores whatever mode the run was in
        set_testing(True)
        with set_testing(True, max_attempts=1):
            script = Script(503)
            with pytest.raises(HTTPRetryExhaustedError):
                await policy(max_attempts=5).execute(make_request(), script)
            assert script.calls == 1
        assert is_testing()
        script = Script(503)
        with pytest.raises(HTTPRetryExhaustedError):
            await policy(max_attempts=4).execute(make_request(), script)
        assert script.calls == 4
        set_testing(False)
        assert not is_testing()


def test_testing_mode_rejects_a_bad_attempt_cap() -> None:
    before = is_testing()
    with pytest.raises(HTTPConfigError, match="max_attempts"):
        set_testing(not before, max_attempts=0)
    assert is_testing() is before


# -- through the client -----------------------------------------------------------------


@pytest.mark.asyncio
async def test_interceptors_see_each_attempt_number() -> None:
    seen: list[int] = []

    class Record:
        def intercept_request(self, ctx: RequestContext) -> None:
            seen.append(ctx.attempt)

    script = Script(503, conn_error(), 200)
    client = HTTPClient(
        transport=FakeTransport(script), interceptors=[Record()], retry_policy=policy()
    )
    async with client:
        response = await client.request("GET", "http://api.test/x")
    assert response.status == 200
    assert seen == [0, 1, 2]


@pytest.mark.asyncio
async def test_verbs_return_err_for_retry_exhausted_and_for_unretried_errors() -> None:
    script = Script(503)
    client = HTTPClient(transport=FakeTransport(script), retry_policy=policy())
    async with client:
        exhausted = await client.get("http://api.test/x")
        assert isinstance(exhausted.unwrap_err(), HTTPRetryExhaustedError)
        posted = Script(conn_error(sent=True))
        client._transport = FakeTransport(posted)
        result = await client.post("http://api.test/x", json={"a": 1})
    assert isinstance(result, Err)
    assert isinstance(result.error, HTTPConnectionError)
    assert posted.calls == 1


@pytest.mark.asyncio
async def test_stream_closes_each_retried_response() -> None:
    script = Script(503, 200)
    client = HTTPClient(transport=FakeTransport(script), retry_policy=policy())
    async with client, client.stream("GET", "http://api.test/x") as response:
        assert response.status == 200
        assert await response.aread() == b"body"
    assert [s.closed for s in script.streams] == [True, True]


# -- configuration --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": True}, "max_attempts"),
        ({"base_delay": -1}, "base_delay"),
        ({"max_delay": float("nan")}, "max_delay"),
        ({"multiplier": 0.5}, "multiplier"),
        ({"jitter": 1.5}, "jitter"),
        ({"timeout": 0}, "timeout"),
        ({"retry_statuses": frozenset({99})}, "retry_statuses"),
        ({"retry_on": (ValueError,)}, "retry_on"),
        ({"budget_window": 0}, "budget_window"),
    ],
)
def test_bad_config_values_are_refused_naming_the_field(options: Any, field: str) -> None:
    with pytest.raises(HTTPConfigError, match=f"RetryConfig.{field}"):
        RetryConfig(**options)


def test_keywords_override_a_given_config() -> None:
    p = RetryPolicy(RetryConfig(max_attempts=5, base_delay=2.0), max_attempts=2)
    assert p.config.max_attempts == 2
    assert p.config.base_delay == 2.0
    assert "max_attempts=2" in repr(p)
    assert RetryConfig(idempotent_methods=frozenset({"get"})).idempotent_methods == {"GET"}
    with pytest.raises(TypeError, match="RetryConfig"):
        RetryPolicy({"max_attempts": 2})  # type: ignore[arg-type]
