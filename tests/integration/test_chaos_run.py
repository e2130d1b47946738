"""A seeded chaos run through the real client, the real connection pool and
a real local server: 2,000 idempotent GETs and 200 POSTs with 20 % injected
resets and timeouts, under a retry policy.

- every GET succeeds within its attempts;
- no POST is retried once its body may have been sent, and the server never
  handles one twice;
- no connection is leaked afterwards (and no "Unclosed" warning: warnings
  are errors);
- the same seed gives the same fault log twice.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

import pytest
from aiohttp import web
from yarl import URL

from conftest import Serve
from httpdeck.client import (
    AiohttpTransport,
    ConnectionPoolConfig,
    HTTPClient,
    HTTPClientConfig,
    HTTPTransportError,
    Ok,
    RetryPolicy,
    TimeoutConfig,
)
from httpdeck.testing import ChaosReport, FaultInjectionTransport, faults, schedules

# With 20 % of attempts faulted, a GET fails only if all ATTEMPTS are hit:
# 0.2 ** 8 = 2.6e-6 per GET, 0.005 expected over 2,000, so "every GET succeeds"
# holds for the seed (test_reset_storm.py runs reliability case 1 itself, with
# 4 attempts: 0.2 ** 4 = 0.16 % per GET).
GETS, POSTS, CONCURRENCY, ATTEMPTS = 2000, 200, 50, 8
CHAOS = [
    faults.ConnectionReset(),  # after the request went out: sent=True
    faults.ConnectionReset(processed=True),  # ... and after the server handled it
    faults.ConnectionReset(after_send=False),  # while connecting: sent=False
    faults.Timeout("read"),
    faults.Timeout("connect"),
]
SENT_KINDS = {"connection_reset", "timeout.read"}


@dataclass
class Run:
    log: list[tuple[str, int, str]]
    report: ChaosReport
    get_results: list[bool]
    post_results: dict[int, bool]
    orders_handled: Counter[int]
    connections: tuple[int, int]


def app(orders: Counter[int]) -> web.Application:
    async def item(request: web.Request) -> web.Response:
        return web.json_response({"id": int(request.match_info["id"])})

    async def order(request: web.Request) -> web.Response:
        await request.read()
        orders[int(request.match_info["id"])] += 1
        return web.json_response({"created": True}, status=201)

    application = web.Application()
    application.router.add_get("/items/{id}", item)
    application.router.add_post("/orders/{id}", order)
    return application


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


async def chaos_run(serve: Serve, seed: int) -> Run:
    orders: Counter[int] = Counter()
    base: URL = await serve(app(orders))
    config = HTTPClientConfig(
        pool=ConnectionPoolConfig(max_connections=20, max_keepalive_connections=10),
        timeouts=TimeoutConfig(read=5.0, total=10.0),
    )
    inner = AiohttpTransport(config)
    transport = FaultInjectionTransport(
        inner,
        faults=CHAOS,
        schedule=schedules.Probability(0.2),
        seed=seed,
        decide_by="request",  # each request's fate is fixed by the seed, whatever the interleaving
    )
    retry = RetryPolicy(max_attempts=ATTEMPTS, base_delay=0, budget_ratio=None, sleep=no_sleep)
    gate = asyncio.Semaphore(CONCURRENCY)
    gets: list[bool] = [False] * GETS
    posts: dict[int, bool] = {}

    async with HTTPClient(config, transport=transport, retry_policy=retry) as client:

        async def get(i: int) -> None:
            async with gate:
                result = await client.get(base / "items" / str(i))
            transport.injector.run.outcome(result)
            gets[i] = isinstance(result, Ok) and result.value.json() == {"id": i}

        async def post(i: int) -> None:
            async with gate:
                result = await client.post(base / "orders" / str(i), json={"sku": i})
            transport.injector.run.outcome(result)
            posts[i] = isinstance(result, Ok)
            if not posts[i]:
                assert isinstance(result.error, HTTPTransportError)  # type: ignore[union-attr]

        await asyncio.gather(*(get(i) for i in range(GETS)), *(post(i) for i in range(POSTS)))
        connections = inner.pool.connection_counts()
    log = sorted((URL(event.url).path, event.attempt, event.kind) for event in transport.log)
    return Run(log, transport.injector.report(), gets, posts, orders, connections)


@pytest.mark.asyncio
async def test_a_seeded_chaos_run_through_the_real_client(serve: Serve) -> None:
    run = await chaos_run(serve, seed=2026)

    # Every GET succeeded within its attempts.
    assert all(run.get_results)
    by_url = Counter(url for url, _, _ in run.log)
    assert max(by_url.values()) < ATTEMPTS

    # Faults hit about 20 % of attempts; every kind showed up.
    assert 0.17 < run.report.fault_total / run.report.attempts < 0.23
    assert set(run.report.faults) == {fault.kind for fault in CHAOS}

    # No POST was retried after a fault that may have sent its body, and none
    # was handled twice by the server.
    post_faults = [(url, attempt, kind) for url, attempt, kind in run.log if "/orders/" in url]
    attempts_of = Counter(url for url, _, _ in post_faults)
    for url, attempt, kind in post_faults:
        if kind in SENT_KINDS:
            assert attempt == attempts_of[url] - 1, f"{url} was retried after {kind}"
    assert max(run.orders_handled.values()) == 1
    failed = {i for i, ok in run.post_results.items() if not ok}
    assert failed  # some POSTs met a sent fault and were (rightly) given up on
    assert all(run.post_results[i] for i in run.orders_handled if i not in failed)

    # Each fault after which the policy may resend cost exactly one retry.
    not_retried = sum(
        1
        for url, attempt, kind in post_faults
        if kind in SENT_KINDS and attempt == attempts_of[url] - 1
    )
    assert run.report.retries == run.report.fault_total - not_retried
    assert run.report.requests == GETS + POSTS
    assert run.report.outcomes["200"] == GETS
    assert run.report.outcomes.get("201", 0) == POSTS - len(failed)

    # Nothing leaked: no connection in use, at most the keep-alive limit idle.
    idle, in_use = run.connections
    assert in_use == 0
    assert idle <= 10

    # The same seed replays the same faults on the same requests and attempts.
    again = await chaos_run(serve, seed=2026)
    assert again.log == run.log
    assert again.post_results == run.post_results
