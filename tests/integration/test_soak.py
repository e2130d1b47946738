"""A soak: 100,000 requests through one client; memory stops growing after warm-up.

The server is a minimal asyncio protocol (rawservers.QuickServer) so that the
client is what is measured. Two measures after a full collection: the number
of objects the garbage collector tracks (exact, so any per-request leak of a
Python object shows) and RSS (a sanity bound, noisy by nature).
"""

from __future__ import annotations

import asyncio
import gc
import os

import pytest
from rawservers import QuickServer

from httpdeck.client import HTTPClient

pytestmark = pytest.mark.asyncio

TOTAL = 100_000
WORKERS = 10
WARM_UP = 20_000
MiB = 1024 * 1024


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure() -> tuple[int, int]:
    gc.collect()
    return len(gc.get_objects()), rss()


@pytest.mark.slow
async def test_100k_requests_in_one_client_do_not_grow_memory() -> None:
    async with QuickServer(b"pong") as server, HTTPClient() as client:
        url = server.url / "soak"
        done = 0

        async def worker(count: int) -> None:
            nonlocal done
            for _ in range(count):
                response = await client.request("GET", url)
                assert response.content == b"pong"
                done += 1

        async def phase(requests: int) -> None:
            await asyncio.gather(*(worker(requests // WORKERS) for _ in range(WORKERS)))

        await phase(WARM_UP)
        objects_warm, rss_warm = measure()
        await phase((TOTAL - WARM_UP) // 2)
        objects_mid, rss_mid = measure()
        await phase((TOTAL - WARM_UP) // 2)
        objects_end, rss_end = measure()

        assert done == server.requests == TOTAL
        idle, in_use = client.transport.pool.connection_counts()  # type: ignore[attr-defined]
        assert in_use == 0
        assert idle <= WORKERS
        assert server.connections < 200  # keep-alive works: no connection per request

    # 80,000 requests after warm-up: a leak of even one object per request
    # would show as tens of thousands here.
    assert objects_end - objects_warm < 2_000, (objects_warm, objects_mid, objects_end)
    assert objects_end - objects_mid < 1_000, (objects_mid, objects_end)
    assert rss_end - rss_warm < 10 * MiB, (rss_warm / MiB, rss_mid / MiB, rss_end / MiB)
