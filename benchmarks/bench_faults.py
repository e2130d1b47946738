"""The cost of fault injection when no fault fires: FaultInjectionTransport vs its inner transport.

Usage: `.venv/bin/python benchmarks/bench_faults.py [--quick] [--rounds N] [--seconds S]`

Two inner transports:
- the real `AiohttpTransport`, against an aiohttp.web server in another process (a
  subprocess on 127.0.0.1:0 that prints its port), one request at a time and 32 in flight;
- an in-memory transport that answers at once, where the wrapper's own cost is most
  visible: through `HTTPClient.get` and as a bare `send()` + `aread()`.

Subjects for each: the inner transport alone (the baseline), the fault transport with no
rules, and the fault transport with rules that are evaluated on every request but never
fire (a per-route rule for another method, and a global `Probability` rule whose hash is
computed on every call). Every subject runs in every round, in a rotating order, for a
fixed slice of time; a subject's ratio is the median over rounds of (its time per request
/ the baseline's in the same round). Target: < 1.05x the inner transport.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from bench_client import start_server
from yarl import URL

from httpdeck.client import (
    AiohttpTransport,
    ByteStream,
    ConnectionPoolConfig,
    HTTPClient,
    HTTPClientConfig,
    HttpResponse,
    Request,
    Transport,
)
from httpdeck.testing import FaultInjectionTransport, faults, schedules

TARGET = "< 1.05x the inner transport"
CONFIG = HTTPClientConfig(
    pool=ConnectionPoolConfig(
        max_connections=64, max_connections_per_host=64, max_keepalive_connections=64
    )
)

Call = Callable[[], Awaitable[None]]
Subject = Callable[[], AbstractAsyncContextManager[Call]]
Wrap = Callable[[Transport], Transport]


class MemoryTransport:
    """Answers every request at once with a small in-memory body."""

    config = CONFIG

    async def send(self, request: Request) -> HttpResponse:
        return HttpResponse(
            200,
            headers={"Content-Type": "text/plain", "Content-Length": "12"},
            stream=ByteStream(b"hello, world"),
            request=request,
        )

    async def aclose(self) -> None:
        pass


def inner_only(transport: Transport) -> Transport:
    return transport


def no_rules(transport: Transport) -> Transport:
    return FaultInjectionTransport(transport)


def quiet_rules(transport: Transport) -> Transport:
    """Rules evaluated on every request that never fire (checked at the end)."""
    wrapped = FaultInjectionTransport(
        transport,
        faults=[faults.ConnectionReset(), faults.Status(503)],
        schedule=schedules.Probability(1e-12),
        seed=7,
    )
    wrapped.on("POST", "*/orders").inject(faults.Timeout("read")).first(2)
    return wrapped


WRAPS: dict[str, Wrap] = {
    "inner transport": inner_only,
    "FaultInjectionTransport, no rules": no_rules,
    "FaultInjectionTransport, rules not firing": quiet_rules,
}


def _check_quiet(transport: Transport) -> None:
    if isinstance(transport, FaultInjectionTransport) and transport.log:
        msg = f"a fault fired during the no-fault benchmark: {transport.log[0]}"
        raise AssertionError(msg)


def client_subject(make_inner: Callable[[], Transport], wrap: Wrap, url: str) -> Subject:
    @asynccontextmanager
    async def subject() -> AsyncIterator[Call]:
        transport = wrap(make_inner())
        async with HTTPClient(CONFIG, transport=transport) as client:

            async def call() -> None:
                result = await client.get(url)
                assert result.is_ok()

            yield call
        _check_quiet(transport)

    return subject


def send_subject(wrap: Wrap) -> Subject:
    @asynccontextmanager
    async def subject() -> AsyncIterator[Call]:
        transport = wrap(MemoryTransport())
        request = Request("GET", URL("http://bench.test/items"))

        async def call() -> None:
            response = await transport.send(request)
            await response.aread()

        yield call
        _check_quiet(transport)

    return subject


async def _rate(call: Call, seconds: float, concurrency: int) -> float:
    """Seconds per request over a slice of `seconds`."""
    for _ in range(20):
        await call()
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await call()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (time.perf_counter() - started) / max(done, 1)


async def _compare(
    subjects: dict[str, Subject], *, rounds: int, seconds: float, concurrency: int
) -> dict[str, tuple[float, float]]:
    """{subject: (median seconds per request, median ratio to the first subject)}."""
    names = list(subjects)
    times: dict[str, list[float]] = {name: [] for name in names}
    ratios: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        this_round: dict[str, float] = {}
        for name in order:
            async with subjects[name]() as call:
                this_round[name] = await _rate(call, seconds, concurrency)
        for name in names:
            times[name].append(this_round[name])
            ratios[name].append(this_round[name] / this_round[names[0]])
    return {
        name: (statistics.median(times[name]), statistics.median(ratios[name])) for name in names
    }


def _rows(
    benchmark: str, results: dict[str, tuple[float, float]], baseline: str
) -> list[dict[str, Any]]:
    rows = []
    for subject, (seconds, ratio) in results.items():
        rows.append(
            {
                "benchmark": benchmark,
                "subject": f"{subject} ({baseline})" if subject == "inner transport" else subject,
                "value": seconds * 1e6,
                "unit": "µs/request",
                "ratio": None if subject == "inner transport" else ratio,
                "target": "" if subject == "inner transport" else TARGET,
            }
        )
    return rows


async def _run(url: str, rounds: int, seconds: float) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for concurrency in (1, 32):
        subjects = {
            name: client_subject(lambda: AiohttpTransport(CONFIG), wrap, url)
            for name, wrap in WRAPS.items()
        }
        results = await _compare(subjects, rounds=rounds, seconds=seconds, concurrency=concurrency)
        rows += _rows(
            f"faults off: client.get over aiohttp, {concurrency} in flight",
            results,
            "AiohttpTransport",
        )
    subjects = {
        name: client_subject(MemoryTransport, wrap, "http://bench.test/items")
        for name, wrap in WRAPS.items()
    }
    results = await _compare(subjects, rounds=rounds, seconds=seconds, concurrency=1)
    rows += _rows("faults off: client.get over an in-memory transport", results, "in memory")
    subjects = {name: send_subject(wrap) for name, wrap in WRAPS.items()}
    results = await _compare(subjects, rounds=rounds, seconds=seconds, concurrency=1)
    rows += _rows("faults off: bare send() + aread(), in memory", results, "in memory")
    return rows


def main(
    quick: bool = False, *, rounds: int | None = None, seconds: float | None = None
) -> list[dict[str, Any]]:
    server, base = start_server()
    try:
        url = base + "items"
        return asyncio.run(
            _run(url, rounds or (3 if quick else 9), seconds or (0.2 if quick else 0.6))
        )
    finally:
        server.terminate()
        server.wait()


def _print(rows: list[dict[str, Any]]) -> None:
    current = None
    for row in rows:
        if row["benchmark"] != current:
            current = row["benchmark"]
            print(f"\n{current}")
        ratio = "" if row["ratio"] is None else f"{row['ratio']:.3f}x"
        print(
            f"  {row['subject']:<48} {row['value']:9.2f} {row['unit']}  {ratio:>8}  {row['target']}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args()
    _print(main(args.quick, rounds=args.rounds, seconds=args.seconds))
