"""FaultInjectionInterceptor above a RecordReplayInterceptor: failures
injected on top of a recorded happy path, which the retry then replays."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web

from conftest import Serve
from httpdeck.client import (
    HTTPClient,
    HTTPClientConfig,
    HTTPTimeoutError,
    RetryPolicy,
    TimeoutConfig,
)
from httpdeck.testing import (
    FakeClock,
    FaultInjectionInterceptor,
    RecordReplayInterceptor,
    faults,
    schedules,
)

CONFIG = HTTPClientConfig(timeouts=TimeoutConfig(read=2.0, total=10.0))


@pytest.mark.asyncio
async def test_a_recorded_happy_path_replayed_with_failures_on_top(
    serve: Serve, tmp_path: Path
) -> None:
    hits = 0

    async def order(request: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        return web.json_response({"id": 42, "status": "paid"})

    application = web.Application()
    application.router.add_get("/orders/42", order)
    url = await serve(application) / "orders" / "42"
    cassette = tmp_path / "orders.yaml"

    recorder = RecordReplayInterceptor(cassette, record_mode="once")
    async with HTTPClient(CONFIG, interceptors=[recorder]) as client:
        assert (await client.get(url)).unwrap().json()["status"] == "paid"
    recorder.save()
    assert hits == 1

    clock = FakeClock()
    chaos = FaultInjectionInterceptor(
        faults=[faults.Status(503, retry_after=2)],
        schedule=schedules.OnAttempt(0),
        config=CONFIG,
        clock=clock,
        sleep=clock.sleep,
    )
    replay = RecordReplayInterceptor(cassette, record_mode="none")
    retry = RetryPolicy(max_attempts=2, budget_ratio=None, sleep=clock.sleep, clock=clock)
    async with HTTPClient(CONFIG, interceptors=[chaos, replay], retry_policy=retry) as client:
        response = (await client.get(url)).unwrap()
    assert response.json() == {"id": 42, "status": "paid"}
    assert [(e.kind, e.attempt) for e in chaos.log] == [("status.503", 0)]
    assert clock.sleeps == [2.0]  # the retry honoured the injected Retry-After
    assert hits == 1  # replay never went to the server

    # A body fault damages the replayed body itself, read by the client.
    stall = FaultInjectionInterceptor(
        faults=[faults.StallBody(after_bytes=5)], config=CONFIG, sleep=clock.sleep
    )
    replay = RecordReplayInterceptor(cassette, record_mode="none")
    async with HTTPClient(CONFIG, interceptors=[stall, replay]) as client:
        error = (await client.get(url)).unwrap_err()
    assert isinstance(error, HTTPTimeoutError)
    assert error.phase == "read"
    assert hits == 1
