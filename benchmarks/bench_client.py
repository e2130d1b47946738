"""Requests per second on loopback: httpdeck vs raw aiohttp vs httpx.

Usage: `.venv/bin/python benchmarks/bench_client.py [--quick] [--rounds N] [--seconds S] [--instructions]`

The server is an aiohttp.web app in another process (a subprocess on 127.0.0.1:0 that
prints its port), so the clients do not share an event loop with it. Every subject runs
in every round, in a rotating order, for a fixed slice of time; the ratio of a subject is
the median over rounds of (its rate / raw aiohttp's rate in the same round), which cancels
most of the drift of a shared machine.

Subjects:
- raw aiohttp: one reused `ClientSession` with aiohttp's defaults (limit=100, no per-host
  limit), `async with session.get(url) as r: await r.read()`.
- httpdeck (default config): `HTTPClient()` and `await client.get(url)`, the Result verb.
  Its default pool: max_connections=100, max_connections_per_host=100,
  max_keepalive_connections=20 (lexigram-http's was 10, 10 and 5).
- httpdeck (pool of 10), 64 in flight only: lexigram-http's pool sizes (10, 10, 5).
- raw aiohttp (limit=10), 64 in flight only: aiohttp held to the same pool size, to show
  what the smaller pool costs by itself.
- httpx.AsyncClient with its defaults.

Besides requests per second, each case reports the client process's CPU time per request
(`time.process_time`), which a busy shared machine disturbs less than wall time. With
`--instructions` it also counts the instructions the client process executes per request
under valgrind (two runs of different lengths, so start-up cancels out): the same code path
gives the same count within about 1% however busy the machine is.

The target is httpdeck (default config) >= 0.95x raw aiohttp, sequential and 64 in flight.
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
import httpx

from httpdeck import ConnectionPoolConfig, HTTPClient, HTTPClientConfig

SERVER = r"""
import asyncio
from aiohttp import web

async def hello(request):
    return web.Response(body=b"hello, world", content_type="text/plain")

async def main():
    app = web.Application()
    app.router.add_get("/{tail:.*}", hello)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""

TARGET = ">= 0.95x raw aiohttp"
CONCURRENCY = 64

Call = Callable[[], Awaitable[None]]
Subject = Callable[[str], AbstractAsyncContextManager[Call]]


def _raw_aiohttp(limit: int | None) -> Subject:
    @asynccontextmanager
    async def subject(url: str) -> AsyncIterator[Call]:
        connector = None if limit is None else aiohttp.TCPConnector(limit=limit)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def call() -> None:
                async with session.get(url) as response:
                    await response.read()
                    assert response.status == 200

            yield call

    return subject


def _httpdeck(config: HTTPClientConfig | None) -> Subject:
    @asynccontextmanager
    async def subject(url: str) -> AsyncIterator[Call]:
        async with HTTPClient(config) as client:

            async def call() -> None:
                response = (await client.get(url)).unwrap()
                assert response.status == 200

            yield call

    return subject


@asynccontextmanager
async def httpx_client(url: str) -> AsyncIterator[Call]:
    async with httpx.AsyncClient() as client:

        async def call() -> None:
            response = await client.get(url)
            assert response.status_code == 200

        yield call


POOL_OF_10 = HTTPClientConfig(
    pool=ConnectionPoolConfig(
        max_connections=10, max_connections_per_host=10, max_keepalive_connections=5
    )
)
SUBJECTS: dict[str, Subject] = {
    "raw aiohttp": _raw_aiohttp(None),
    "httpdeck (default config)": _httpdeck(None),
    "httpdeck (pool of 10)": _httpdeck(POOL_OF_10),
    "raw aiohttp (limit=10)": _raw_aiohttp(10),
    "httpx.AsyncClient": httpx_client,
}
BASELINE = "raw aiohttp"
CONCURRENT_ONLY = {"httpdeck (pool of 10)", "raw aiohttp (limit=10)"}


class Rates:
    """Per subject, one value per round: requests per second and CPU microseconds per request."""

    def __init__(self, names: list[str]) -> None:
        self.per_second: dict[str, list[float]] = {name: [] for name in names}
        self.cpu_us: dict[str, list[float]] = {name: [] for name in names}


async def _run_for(call: Call, seconds: float, in_flight: int) -> tuple[float, float]:
    """(requests per second, CPU microseconds per request) with `in_flight` workers
    calling back to back for `seconds`."""
    count = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            await call()
            count += 1

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return count / elapsed, cpu / count * 1e6


async def measure(url: str, *, rounds: int, seconds: float, in_flight: int) -> Rates:
    """Every subject once per round, in a rotating order, the same slice of time each."""
    names = [n for n in SUBJECTS if in_flight > 1 or n not in CONCURRENT_ONLY]
    rates = Rates(names)
    for round_ in range(rounds):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            async with SUBJECTS[name](url) as call:
                await _run_for(call, min(0.2, seconds), in_flight)  # connect and warm up
                per_second, cpu_us = await _run_for(call, seconds, in_flight)
                rates.per_second[name].append(per_second)
                rates.cpu_us[name].append(cpu_us)
    return rates


def _ratio(values: dict[str, list[float]], name: str) -> float:
    """The median over rounds of the subject's value over the baseline's in the same round."""
    paired = [a / b for a, b in zip(values[name], values[BASELINE], strict=True)]
    return statistics.median(paired)


def report(title: str, rates: Rates) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    print(f"\n{title}")
    print(
        f"  {'subject':<30} {'req/s':>8} {'ratio':>7} {'CPU us/req':>11} {'ratio':>7}"
        "   per-round req/s"
    )
    for name, values in rates.per_second.items():
        ratio, cpu_ratio = _ratio(rates.per_second, name), _ratio(rates.cpu_us, name)
        cpu = statistics.median(rates.cpu_us[name])
        per_round = " ".join(f"{v:,.0f}" for v in values)
        print(
            f"  {name:<30} {statistics.median(values):>8,.0f} {ratio:>6.2f}x {cpu:>11.1f}"
            f" {cpu_ratio:>6.2f}x   {per_round}"
        )
        target = name.startswith("httpdeck (default")
        rows.append(
            {
                "benchmark": title,
                "subject": name,
                "value": statistics.median(values),
                "unit": "req/s",
                "ratio": None if name == BASELINE else ratio,
                "target": TARGET if target else "",
            }
        )
        rows.append(
            {
                "benchmark": f"{title} (client CPU per request)",
                "subject": name,
                "value": cpu,
                "unit": "us/req",
                "ratio": None if name == BASELINE else cpu_ratio,
                "target": "<= 1.05x raw aiohttp (lower is better)" if target else "",
            }
        )
    return rows


def start_server() -> tuple[subprocess.Popen[str], str]:
    """The benchmark server in its own process; it answers GET on any path."""
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True, bufsize=1
    )
    assert process.stdout is not None
    port = int(process.stdout.readline())
    return process, f"http://127.0.0.1:{port}/"


async def _fixed_count(name: str, url: str, requests: int, in_flight: int) -> None:
    async with SUBJECTS[name](url) as call:
        for _ in range(in_flight):
            await call()  # open the connections first

        async def worker() -> None:
            for _ in range(requests // in_flight):
                await call()

        await asyncio.gather(*(worker() for _ in range(in_flight)))


def _instructions(name: str, url: str, requests: int, in_flight: int) -> int:
    """Instructions the client process executes (valgrind's count: no noise from other load)."""
    command = [
        "valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
        sys.executable, __file__, "--child", name, url, str(requests), str(in_flight),
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stderr
    line = next(line for line in output.splitlines() if "I   refs:" in line or "I refs:" in line)
    return int(line.split(":")[1].replace(",", "").strip())


def instructions(url: str, *, quick: bool = False) -> list[dict[str, Any]]:
    """Instructions per request, from two runs of different lengths (start-up cancels out).

    Deterministic where wall time on a shared machine is not: the same code path gives the
    same count within about 1%, so this is the figure to optimise against."""
    small, large = (320, 1600) if quick else (640, 3200)
    rows: list[dict[str, Any]] = []
    for in_flight in (1, CONCURRENCY):
        title = (
            "client: sequential GET" if in_flight == 1 else f"client: {CONCURRENCY} GETs in flight"
        )
        # httpx is left out: under valgrind it takes minutes, and its ratio is known.
        names = [
            n for n in SUBJECTS if (in_flight > 1 or n not in CONCURRENT_ONLY) and "httpx" not in n
        ]
        counts = {
            name: (
                _instructions(name, url, large, in_flight)
                - _instructions(name, url, small, in_flight)
            )
            / (large - small)
            for name in names
        }
        print(f"\n{title} (instructions per request, valgrind)")
        for name, count in counts.items():
            ratio = count / counts[BASELINE]
            print(f"  {name:<30} {count:>10,.0f} {ratio:>6.2f}x")
            rows.append(
                {
                    "benchmark": f"{title} (client instructions per request)",
                    "subject": name,
                    "value": count,
                    "unit": "instructions/req",
                    "ratio": None if name == BASELINE else ratio,
                    "target": "<= 1.05x raw aiohttp (lower is better)"
                    if name.startswith("httpdeck (default")
                    else "",
                }
            )
    return rows


def main(
    quick: bool = False,
    *,
    rounds: int | None = None,
    seconds: float | None = None,
    count_instructions: bool = False,
) -> list[dict[str, Any]]:
    rounds = rounds or (3 if quick else 7)
    seconds = seconds or (0.3 if quick else 1.0)
    process, url = start_server()
    try:
        sequential = asyncio.run(measure(url, rounds=rounds, seconds=seconds, in_flight=1))
        concurrent = asyncio.run(
            measure(url, rounds=rounds, seconds=seconds, in_flight=CONCURRENCY)
        )
        counted = instructions(url, quick=quick) if count_instructions else []
    finally:
        process.terminate()
        process.wait()
    rows = report("client: sequential GET", sequential)
    rows += report(f"client: {CONCURRENCY} GETs in flight", concurrent)
    return rows + counted


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child":  # one subject, under valgrind
        _, _, name, url, requests, in_flight = sys.argv
        asyncio.run(_fixed_count(name, url, int(requests), int(in_flight)))
        raise SystemExit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 short rounds, for a smoke run")
    parser.add_argument("--rounds", type=int, help="rounds per case (default 7)")
    parser.add_argument("--seconds", type=float, help="seconds per subject per round (default 1)")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions per request under valgrind (slow; needs valgrind)",
    )
    args = parser.parse_args()
    main(args.quick, rounds=args.rounds, seconds=args.seconds, count_instructions=args.instructions)
