"""Keep-alive connections the server closes behind the client's back.

aiohttp #7297/#9138: a server promises keep-alive, then closes the
connection while it sits idle in the pool. Reusing it fails. aiohttp hides
this with a silent re-send (which would make attempt counts lie, so httpdeck
turns it off); httpdeck instead never reuses an idle connection whose peer
has closed it, so nothing is sent twice and nothing fails.
"""

from __future__ import annotations

import asyncio

import pytest
from rawservers import RawServer, close_after_response, close_when_idle, keep_alive

from httpdeck.client import ConnectionPoolConfig, HTTPClient, HTTPClientConfig, RequestContext
from httpdeck.client._transports import _connector

pytestmark = pytest.mark.asyncio


class CountAttempts:
    def __init__(self) -> None:
        self.attempts = 0

    async def intercept_request(self, context: RequestContext) -> None:
        self.attempts += 1


async def test_1000_sequential_gets_against_a_server_closing_after_each_response() -> None:
    counter = CountAttempts()
    async with (
        RawServer(close_after_response(b"pong")) as server,
        HTTPClient(interceptors=[counter]) as client,
    ):
        for _ in range(1000):
            response = await client.request("GET", server.url / "ping")
            assert response.content == b"pong"
    # No user-visible error, no hidden re-send: one attempt, one request on the wire.
    assert counter.attempts == len(server.requests) == 1000
    assert server.connections == 1000


async def test_an_idle_timeout_on_the_server_is_harmless() -> None:
    # The server closes a connection idle for 10 ms. Every tenth request waits
    # 20 ms first (both timers on this one event loop, so the order is fixed):
    # the connection in the pool is then already closed by the peer.
    async with (
        RawServer(close_when_idle(0.01)) as server,
        HTTPClient() as client,
    ):
        for i in range(200):
            if i % 10 == 9:
                await asyncio.sleep(0.02)
            assert (await client.request("GET", server.url)).status == 200
    assert len(server.requests) == 200
    assert server.connections == 1 + 200 // 10


async def test_healthy_keep_alive_connections_are_still_reused() -> None:
    async with RawServer(keep_alive()) as server, HTTPClient() as client:
        for _ in range(50):
            await client.request("GET", server.url)
        assert server.connections == 1
        assert client.transport.pool.connection_counts() == (1, 0)  # type: ignore[attr-defined]


async def test_without_the_dead_connection_check_the_same_server_breaks_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The control experiment: what the check above prevents.
    monkeypatch.setattr(_connector, "_peer_closed", lambda proto: False)
    failures = 0
    async with RawServer(close_after_response()) as server, HTTPClient() as client:
        for _ in range(20):
            try:
                await client.request("GET", server.url)
            except Exception:
                failures += 1
    assert failures > 0


async def test_force_close_pools_open_a_connection_per_request() -> None:
    config = HTTPClientConfig(pool=ConnectionPoolConfig(force_close=True))
    async with RawServer(keep_alive()) as server, HTTPClient(config) as client:
        for _ in range(5):
            await client.request("GET", server.url)
    assert server.connections == 5
