"""Cancellation safety: 1,000 requests cancelled at seeded random points leave
the pool whole (aiohttp #9670: a cancelled wait could deadlock the limit)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web

from conftest import Serve
from httpdeck.client import (
    ConnectionPoolConfig,
    HTTPClient,
    HTTPClientConfig,
    HttpResponse,
    TimeoutConfig,
)

pytestmark = pytest.mark.asyncio

LIMIT = 10


class Gate:
    """Opens once `expected` requests are inside the handler at the same time."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.inside = 0
        self.open = asyncio.Event()

    async def enter(self) -> None:
        self.inside += 1
        if self.inside >= self.expected:
            self.open.set()
        await self.open.wait()


def app(seed: int, gate: Gate) -> web.Application:
    rng = random.Random(seed)

    async def fast(request: web.Request) -> web.Response:
        return web.Response(text="fast")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(rng.random() * 0.005)
        return web.Response(text="slow")

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    async def drip(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(10):
            await response.write(b"x" * 4096)
            await asyncio.sleep(0.001)
        await response.write_eof()
        return response

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"b" * 256 * 1024)

    async def hold(request: web.Request) -> web.Response:
        await gate.enter()
        return web.Response(text="held")

    application = web.Application()
    for path, handler in [("/fast", fast), ("/slow", slow), ("/drip", drip), ("/big", big)]:
        application.router.add_get(path, handler)
    application.router.add_post("/echo", echo)
    application.router.add_get("/hold", hold)
    return application


def operations(client: HTTPClient, url: str) -> list[Callable[[], Awaitable[object]]]:
    async def stream_some() -> bytes:
        async with client.stream("GET", f"{url}/drip") as response:
            async for chunk in response.aiter_bytes():
                return chunk
        return b""

    async def stream_lines() -> list[str]:
        async with client.stream("GET", f"{url}/big") as response:
            return [line async for line in response.aiter_lines()]

    return [
        lambda: client.request("GET", f"{url}/fast"),
        lambda: client.request("GET", f"{url}/slow"),
        lambda: client.request("POST", f"{url}/echo", content=b"p" * 100_000),
        lambda: client.request("GET", f"{url}/drip"),
        lambda: client.request("GET", f"{url}/big"),
        stream_some,
        stream_lines,
    ]


async def cancel_after(task: asyncio.Task[object], ticks: int) -> None:
    # Cancel after a number of event-loop turns: a point in the request's life
    # chosen by the seed (queued for a slot, connecting, sending, reading).
    for _ in range(ticks):
        await asyncio.sleep(0)
    task.cancel()


@pytest.mark.parametrize("seed", [1, 2])
async def test_1000_cancelled_requests_leave_the_pool_usable(serve: Serve, seed: int) -> None:
    rng = random.Random(seed)
    gate = Gate(LIMIT)
    url = str(await serve(app(seed, gate)))
    config = HTTPClientConfig(
        pool=ConnectionPoolConfig(max_connections=LIMIT, max_keepalive_connections=5),
        timeouts=TimeoutConfig(pool=5.0, total=10.0),
    )
    async with HTTPClient(config) as client:
        pool = client.transport.pool  # type: ignore[attr-defined]
        ops = operations(client, url)
        tasks = [asyncio.ensure_future(rng.choice(ops)()) for _ in range(1000)]
        cancellers = [
            asyncio.ensure_future(cancel_after(task, rng.randrange(0, 400))) for task in tasks
        ]
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*cancellers)

        cancelled = sum(isinstance(o, asyncio.CancelledError) for o in outcomes)
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(errors) == cancelled, [
            e for e in errors if type(e) is not asyncio.CancelledError
        ]
        assert 100 < cancelled < 1000  # cancelled at many points, not all before starting
        idle, in_use = pool.connection_counts()
        assert in_use == 0
        assert idle <= 5

        # Every one of the 10 slots is free: 10 requests are inside the server
        # at once (the handler waits until all 10 have arrived).
        held = await asyncio.gather(*(client.request("GET", f"{url}/hold") for _ in range(LIMIT)))
        assert all(isinstance(r, HttpResponse) and r.text() == "held" for r in held)
        assert pool.connection_counts()[1] == 0
