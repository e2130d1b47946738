"""Per-request cost of the fake client against the peers' HTTP mocks, with 1 and 1,000 routes.

Usage: `.venv/bin/python benchmarks/bench_fake.py [--quick] [--rounds N]`

Each subject answers `GET https://api.example.com/users/<i>` with a small JSON body from
a table of 1 or 1,000 routes, and every request asks for the *last* declared route (the
worst case for a scan). One request is what a test does: send it and read the body.

- httpdeck: `await fake.get(url)` on a `FakeHTTPClient`, through the whole client pipeline
  (request building, interceptor chain, transport, Result).
- httpx.MockTransport: an `httpx.AsyncClient` over a handler that looks the URL up in a dict
  (the cheapest routing a user can write).
- respx: `respx.mock` routes, patched into `httpx.AsyncClient`.
- pytest-httpx: its `HTTPXMock` used outside pytest, patched in as its fixture does.
- aioresponses (aiohttp): aioresponses 0.7.x builds `ClientResponse` without the
  `stream_writer` argument that aiohttp 3.14 requires, so every mocked response fails with
  a TypeError. `_ShimResponse` below (a `ClientResponse` that supplies a stand-in writer) is
  passed as `response_class`; that shim is this benchmark's, not part of aioresponses.

Every subject runs with both route counts in every round, in a rotating order; a value is
the median per-request time over rounds, a ratio the median of the ratios taken within each
round. Targets: the fake costs at most half the cheapest peer per request, and 1,000 exact
routes cost at most 1.10x one route.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import SimpleNamespace
from typing import Any
from unittest import mock

import aiohttp
import httpx
import respx
from aioresponses import aioresponses
from pytest_httpx import HTTPXMock
from pytest_httpx._options import _HTTPXMockOptions

from httpdeck.testing import FakeHTTPClient

BASE = "https://api.example.com/users"
Call = Callable[[], Awaitable[None]]
Subject = Callable[[int], AbstractAsyncContextManager[Call]]


def target(routes: int) -> str:
    return f"{BASE}/{routes - 1}"


@asynccontextmanager
async def httpdeck_fake(routes: int) -> AsyncIterator[Call]:
    async with FakeHTTPClient() as fake:
        for i in range(routes):
            fake.route("GET", f"{BASE}/{i}").respond(json={"id": i})
        url = target(routes)

        async def call() -> None:
            result = await fake.get(url)
            result.unwrap().content  # noqa: B018 - the body, as a test reads it

        yield call


@asynccontextmanager
async def httpx_mock_transport(routes: int) -> AsyncIterator[Call]:
    table = {f"{BASE}/{i}": {"id": i} for i in range(routes)}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=table[str(request.url)])

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        url = target(routes)

        async def call() -> None:
            (await client.get(url)).content  # noqa: B018

        yield call


@asynccontextmanager
async def respx_routes(routes: int) -> AsyncIterator[Call]:
    async with respx.mock(assert_all_called=False) as router, httpx.AsyncClient() as client:
        for i in range(routes):
            router.get(f"{BASE}/{i}").respond(json={"id": i})
        url = target(routes)

        async def call() -> None:
            (await client.get(url)).content  # noqa: B018

        yield call


@asynccontextmanager
async def pytest_httpx_mock(routes: int) -> AsyncIterator[Call]:
    httpx_mock = HTTPXMock(
        _HTTPXMockOptions(
            assert_all_responses_were_requested=False, can_send_already_matched_responses=True
        )
    )

    async def handle(transport: httpx.AsyncHTTPTransport, request: httpx.Request) -> Any:
        return await httpx_mock._handle_async_request(transport, request)

    for i in range(routes):
        httpx_mock.add_response(url=f"{BASE}/{i}", json={"id": i})
    with mock.patch.object(httpx.AsyncHTTPTransport, "handle_async_request", handle):
        async with httpx.AsyncClient() as client:
            url = target(routes)

            async def call() -> None:
                (await client.get(url)).content  # noqa: B018

            yield call


class _ShimResponse(aiohttp.ClientResponse):
    """aioresponses 0.7.x on aiohttp 3.14: supply the `stream_writer` it does not pass."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


@asynccontextmanager
async def aioresponses_mock(routes: int) -> AsyncIterator[Call]:
    with aioresponses() as mocked:
        for i in range(routes):
            mocked.get(f"{BASE}/{i}", payload={"id": i}, repeat=True, response_class=_ShimResponse)
        async with aiohttp.ClientSession() as session:
            url = target(routes)

            async def call() -> None:
                response = await session.get(url)
                await response.read()

            yield call


SUBJECTS: dict[str, Subject] = {
    "httpdeck FakeHTTPClient": httpdeck_fake,
    "httpx.MockTransport": httpx_mock_transport,
    "respx": respx_routes,
    "pytest-httpx": pytest_httpx_mock,
    "aioresponses (shimmed)": aioresponses_mock,
}
FAKE = "httpdeck FakeHTTPClient"
ROUTE_COUNTS = (1, 1000)


async def time_subject(subject: Subject, routes: int, seconds: float) -> float:
    """Microseconds per request: warm up, size the batch to ~`seconds`, then time it."""
    gc.collect()  # every subject starts from a clean heap, not the last one's garbage
    async with subject(routes) as call:
        started = time.perf_counter()
        for _ in range(20):
            await call()
        per_call = (time.perf_counter() - started) / 20
        batch = max(20, min(20_000, int(seconds / max(per_call, 1e-7))))
        started = time.perf_counter()
        for _ in range(batch):
            await call()
        return (time.perf_counter() - started) / batch * 1e6


async def measure(rounds: int, seconds: float) -> dict[tuple[str, int], list[float]]:
    """Per-request microseconds of every (subject, route count), one sample per round.

    Both route counts of every subject run in every round, in a rotating order, so
    drift on a shared machine hits all of them alike and ratios are taken within a round.
    """
    cases = [(name, routes) for routes in ROUTE_COUNTS for name in SUBJECTS]
    samples: dict[tuple[str, int], list[float]] = {case: [] for case in cases}
    for round_ in range(rounds):
        shift = round_ % len(cases)
        for name, routes in cases[shift:] + cases[:shift]:
            samples[name, routes].append(await time_subject(SUBJECTS[name], routes, seconds))
    return samples


def main(quick: bool = False, *, rounds: int | None = None) -> list[dict[str, Any]]:
    rounds = rounds or (3 if quick else 7)
    seconds = 0.05 if quick else 0.2
    samples = asyncio.run(measure(rounds, seconds))
    median = statistics.median
    rows: list[dict[str, Any]] = []
    for routes in ROUTE_COUNTS:
        label = f"fake per request, {routes:,} route{'s' * (routes != 1)}"
        fake = samples[FAKE, routes]
        peers = [name for name in SUBJECTS if name != FAKE]
        for name in SUBJECTS:
            mine = samples[name, routes]
            if name == FAKE:
                cheapest = [min(samples[p, routes][i] for p in peers) for i in range(rounds)]
                ratio = median(m / c for m, c in zip(mine, cheapest, strict=True))
                target = "<= 0.5 (fake / cheapest peer)"
            else:
                ratio = median(m / f for m, f in zip(mine, fake, strict=True))
                target = "peer / fake (higher: the fake is faster)"
            rows.append(
                {
                    "benchmark": label,
                    "subject": name,
                    "value": median(mine),
                    "unit": "us/request",
                    "ratio": ratio,
                    "target": target,
                }
            )
    low, high = ROUTE_COUNTS
    for name in SUBJECTS:
        growth = median(b / a for a, b in zip(samples[name, low], samples[name, high], strict=True))
        rows.append(
            {
                "benchmark": f"cost of {high:,} routes / {low} route",
                "subject": name,
                "value": growth,
                "unit": "x",
                "ratio": growth,
                "target": "<= 1.10" if name == FAKE else "",
            }
        )
    return rows


def _print(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        print(
            f"{row['benchmark']:<34} {row['subject']:<26} {row['value']:>10.2f} {row['unit']:<11}"
            f" ratio {row['ratio']:>7.3f}  {row['target']}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    _print(main(quick=args.quick, rounds=args.rounds))
