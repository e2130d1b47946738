"""What resilience costs on the happy path, and how fast a flaky GET recovers.

Usage: `.venv/bin/python benchmarks/bench_resilience.py [--quick] [--rounds N] [--seconds S]`

The server is an aiohttp.web app in another process on 127.0.0.1. Every subject runs in
every round, in a rotating order; a subject's ratio is the median over rounds of its rate
divided by the baseline's rate in the same round.

Happy path (`/`, always 200), sequential and 64 in flight, baseline raw aiohttp:
- raw aiohttp; aiohttp + stamina.retry (the peer: a retry decorator around raw aiohttp);
- httpdeck plain; + RetryPolicy and CircuitBreakerRegistry; + a full ResiliencePipeline
  (bulkhead, timeout, retry, breaker, attempt timeout); + InMemoryMetrics and an event
  subscriber. Targets: the resilience layers cost at most 10 %, metrics and events at most
  15 %, against plain httpdeck.

Flaky GET (`/flaky` answers 503 to every other request), sequential, baseline stamina:
each call retries once and succeeds. Both in testing mode (no backoff waits).

State machines (no I/O): circuit breaker acquire + record, and retry decisions, per second.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import aiohttp
import stamina
import stamina.instrumentation
from yarl import URL

from httpdeck import (
    Bulkhead,
    CircuitBreaker,
    CircuitBreakerRegistry,
    ConnectionPoolConfig,
    HTTPClient,
    HTTPClientConfig,
    HttpResponse,
    InMemoryMetrics,
    Request,
    ResiliencePipeline,
    RetryPolicy,
    set_testing,
)
from httpdeck.client._circuit import Verdict

SERVER = r"""
import asyncio
from aiohttp import web

count = 0

async def hello(request):
    return web.Response(body=b"hello, world", content_type="text/plain")

async def flaky(request):
    global count
    count += 1
    return web.Response(status=503 if count % 2 else 200, body=b"maybe")

async def main():
    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_get("/flaky", flaky)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""

CONCURRENCY = 64
Call = Callable[[], Awaitable[None]]
Subject = Callable[[str], AbstractAsyncContextManager[Call]]
# aiohttp's own limits, so pool sizes do not decide the comparison at 64 in flight.
CONFIG = HTTPClientConfig(
    pool=ConnectionPoolConfig(
        max_connections=100, max_connections_per_host=100, max_keepalive_connections=100
    )
)


class _RetryStatus(Exception):
    pass


@asynccontextmanager
async def raw_aiohttp(url: str) -> AsyncIterator[Call]:
    async with aiohttp.ClientSession() as session:

        async def call() -> None:
            async with session.get(url) as response:
                await response.read()
                assert response.status == 200

        yield call


@asynccontextmanager
async def aiohttp_stamina(url: str) -> AsyncIterator[Call]:
    async with aiohttp.ClientSession() as session:

        @stamina.retry(on=(aiohttp.ClientError, _RetryStatus), attempts=3)
        async def call() -> None:
            async with session.get(url) as response:
                await response.read()
                if response.status == 503:
                    raise _RetryStatus
                assert response.status == 200

        yield call


def _httpdeck(**make: Callable[[], Any]) -> Subject:
    @asynccontextmanager
    async def subject(url: str) -> AsyncIterator[Call]:
        options = {name: factory() for name, factory in make.items()}
        subscriber = options.pop("subscribe", None)
        async with HTTPClient(CONFIG, **options) as client:
            if subscriber is not None:
                client.events.subscribe(subscriber)

            async def call() -> None:
                response = (await client.get(url)).unwrap()
                assert response.status == 200

            yield call

    return subject


def _pipeline() -> ResiliencePipeline:
    return ResiliencePipeline(
        bulkhead=Bulkhead(max_concurrent=1000, max_queue=1000),
        timeout=30.0,
        retry=RetryPolicy(),
        circuit_breaker=CircuitBreakerRegistry(),
        attempt_timeout=10.0,
    )


def _ignore(event: object) -> None:
    pass


HAPPY: dict[str, Subject] = {
    "raw aiohttp": raw_aiohttp,
    "aiohttp + stamina.retry": aiohttp_stamina,
    "httpdeck": _httpdeck(),
    "httpdeck + retry + breaker": _httpdeck(
        retry_policy=RetryPolicy, circuit_breaker=CircuitBreakerRegistry
    ),
    "httpdeck + full pipeline": _httpdeck(resilience=_pipeline),
    "httpdeck + metrics + events": _httpdeck(metrics=InMemoryMetrics, subscribe=lambda: _ignore),
}
FLAKY: dict[str, Subject] = {
    "aiohttp + stamina.retry": aiohttp_stamina,
    "httpdeck + RetryPolicy": _httpdeck(retry_policy=lambda: RetryPolicy(budget_ratio=None)),
}
TARGETS = {
    "httpdeck + retry + breaker": ">= 0.90x httpdeck",
    "httpdeck + full pipeline": ">= 0.90x httpdeck",
    "httpdeck + metrics + events": ">= 0.85x httpdeck",
}


async def _run_for(call: Call, seconds: float, in_flight: int) -> float:
    count = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            await call()
            count += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return count / (time.perf_counter() - started)


async def measure(
    subjects: dict[str, Subject], url: str, *, rounds: int, seconds: float, in_flight: int
) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {name: [] for name in subjects}
    names = list(subjects)
    for round_ in range(rounds):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            async with subjects[name](url) as call:
                await _run_for(call, min(0.2, seconds), in_flight)
                rates[name].append(await _run_for(call, seconds, in_flight))
    return rates


def report(
    title: str, rates: dict[str, list[float]], baseline: str, *, targets: dict[str, str]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    print(f"\n{title}")
    print(f"  {'subject':<30} {'median req/s':>13} {'ratio':>7} {'vs httpdeck':>12}")
    for name, values in rates.items():
        ratio = statistics.median(a / b for a, b in zip(values, rates[baseline], strict=True))
        own = ""
        versus: float | None = None
        if "httpdeck" in rates and name in targets:
            versus = statistics.median(
                a / b for a, b in zip(values, rates["httpdeck"], strict=True)
            )
            own = f"{versus:.2f}x"
        print(f"  {name:<30} {statistics.median(values):>13,.0f} {ratio:>6.2f}x {own:>12}")
        rows.append(
            {
                "benchmark": title,
                "subject": name,
                "value": statistics.median(values),
                "unit": "req/s",
                # A subject with a target is compared with plain httpdeck (the cost
                # of the feature); the others with the baseline.
                "ratio": versus if versus is not None else (None if name == baseline else ratio),
                "target": targets[name] if versus is not None else f"ratio vs {baseline}",
            }
        )
    return rows


def state_machines(quick: bool) -> list[dict[str, Any]]:
    n = 20_000 if quick else 200_000
    breaker = CircuitBreaker(failure_threshold=1_000_000)
    started = time.perf_counter()
    for _ in range(n):
        breaker.record(breaker.acquire(), Verdict.SUCCESS)
    breaker_rate = n / (time.perf_counter() - started)

    policy = RetryPolicy(max_attempts=2, budget_ratio=None)
    request = Request("GET", URL("http://bench.test/"))
    response = HttpResponse(503, request=request)
    started = time.perf_counter()
    for _ in range(n):
        policy.start(request).decide(response)
    retry_rate = n / (time.perf_counter() - started)
    print("\nstate machines (no I/O)")
    print(f"  circuit breaker acquire+record  {breaker_rate:>12,.0f} /s")
    print(f"  retry start+decide              {retry_rate:>12,.0f} /s")
    return [
        {
            "benchmark": "resilience: state machines",
            "subject": "breaker acquire+record",
            "value": breaker_rate,
            "unit": "ops/s",
            "ratio": None,
            "target": "",
        },
        {
            "benchmark": "resilience: state machines",
            "subject": "retry start+decide",
            "value": retry_rate,
            "unit": "ops/s",
            "ratio": None,
            "target": "",
        },
    ]


def main(
    quick: bool = False, *, rounds: int | None = None, seconds: float | None = None
) -> list[dict[str, Any]]:
    rounds = rounds or (3 if quick else 7)
    seconds = seconds or (0.3 if quick else 1.0)
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True, bufsize=1
    )
    assert process.stdout is not None
    base = f"http://127.0.0.1:{int(process.stdout.readline())}"
    stamina.set_testing(True, attempts=3)
    stamina.instrumentation.set_on_retry_hooks([])  # no log line per retry, like httpdeck
    try:
        with set_testing(True):
            happy_seq = asyncio.run(
                measure(HAPPY, base + "/", rounds=rounds, seconds=seconds, in_flight=1)
            )
            happy_many = asyncio.run(
                measure(HAPPY, base + "/", rounds=rounds, seconds=seconds, in_flight=CONCURRENCY)
            )
            flaky = asyncio.run(
                measure(FLAKY, base + "/flaky", rounds=rounds, seconds=seconds, in_flight=1)
            )
    finally:
        stamina.set_testing(False)
        process.terminate()
        process.wait()
    rows = report("resilience: sequential GET", happy_seq, "raw aiohttp", targets=TARGETS)
    rows += report(
        f"resilience: {CONCURRENCY} GETs in flight", happy_many, "raw aiohttp", targets=TARGETS
    )
    rows += report(
        "resilience: flaky GET, one retry each", flaky, "aiohttp + stamina.retry", targets={}
    )
    rows += state_machines(quick)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--seconds", type=float)
    args = parser.parse_args()
    main(args.quick, rounds=args.rounds, seconds=args.seconds)
