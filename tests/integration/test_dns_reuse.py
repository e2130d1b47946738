"""DNS-aware connection reuse: once a host's DNS answer expires and it resolves
elsewhere, pooled connections to addresses no longer in the answer are not
reused (aiohttp #1914: entries cached forever, failover ignored).

Two servers listen on the same port of 127.0.0.1 and 127.0.0.2 (both
loopback on Linux); a resolver switches the name between them, and a fake
clock moves the TTL along without sleeping.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

import pytest
import pytest_asyncio
from rawservers import RawServer, keep_alive

from httpdeck.client import (
    AiohttpTransport,
    ConnectionPool,
    ConnectionPoolConfig,
    HTTPClient,
    HTTPClientConfig,
)

pytestmark = pytest.mark.asyncio


class SwitchingResolver:
    def __init__(self, *addresses: str) -> None:
        self.addresses = list(addresses)
        self.lookups = 0
        self.fail = False

    async def resolve(self, host: str, port: int) -> Sequence[str]:
        self.lookups += 1
        if self.fail:
            msg = f"lookup of {host} failed"
            raise OSError(msg)
        return self.addresses


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest_asyncio.fixture
async def servers() -> AsyncIterator[tuple[RawServer, RawServer]]:
    for _ in range(20):
        first = RawServer(keep_alive(b"one"), host="127.0.0.1")
        await first.start()
        second = RawServer(keep_alive(b"two"), host="127.0.0.2", port=first.port)
        try:
            await second.start()
        except OSError:  # the port is taken on 127.0.0.2: try another
            await first.stop()
            continue
        try:
            yield first, second
        finally:
            await second.stop()
            await first.stop()
        return
    pytest.fail("no port free on both 127.0.0.1 and 127.0.0.2")


@contextlib.asynccontextmanager
async def client_for(resolver: SwitchingResolver, clock: Clock) -> AsyncIterator[HTTPClient]:
    config = HTTPClientConfig(pool=ConnectionPoolConfig(ttl_dns_cache=10))
    pool = ConnectionPool(config, resolver=resolver, clock=clock)
    async with HTTPClient(config, transport=AiohttpTransport(pool=pool)) as client:
        yield client


async def body(client: HTTPClient, port: int) -> bytes:
    return (await client.request("GET", f"http://service.test:{port}/")).content


async def test_a_switched_address_is_used_once_the_ttl_expires(
    servers: tuple[RawServer, RawServer],
) -> None:
    first, second = servers
    resolver, clock = SwitchingResolver("127.0.0.1"), Clock()
    async with client_for(resolver, clock) as client:
        assert [await body(client, first.port) for _ in range(3)] == [b"one"] * 3
        resolver.addresses = ["127.0.0.2"]
        clock.now += 9.9  # within the TTL: the pooled connection is still right
        assert await body(client, first.port) == b"one"
        clock.now += 0.2  # past the TTL: resolved again, the old connection dropped
        assert [await body(client, first.port) for _ in range(3)] == [b"two"] * 3
    assert (first.connections, len(first.requests)) == (1, 4)
    assert (second.connections, len(second.requests)) == (1, 3)
    assert resolver.lookups == 2


async def test_a_connection_released_after_the_switch_is_not_reused(
    servers: tuple[RawServer, RawServer],
) -> None:
    first, second = servers
    resolver, clock = SwitchingResolver("127.0.0.1"), Clock()
    async with client_for(resolver, clock) as client:
        pool = client.transport.pool  # type: ignore[attr-defined]
        async with client.stream("GET", f"http://service.test:{first.port}/") as held:
            resolver.addresses = ["127.0.0.2"]
            clock.now += 11
            assert await body(client, first.port) == b"two"
            assert await held.aread() == b"one"
        # The old connection went back to the pool, but its address is no
        # longer in the answer: it is closed instead of reused.
        assert [await body(client, first.port) for _ in range(3)] == [b"two"] * 3
        assert pool.connection_counts() == (1, 0)
    assert len(first.requests) == 1
    assert len(second.requests) == 4


async def test_addresses_still_in_the_answer_keep_their_connections(
    servers: tuple[RawServer, RawServer],
) -> None:
    first, second = servers
    resolver, clock = SwitchingResolver("127.0.0.1"), Clock()
    async with client_for(resolver, clock) as client:
        await body(client, first.port)
        resolver.addresses = ["127.0.0.1", "127.0.0.2"]
        clock.now += 11
        assert await body(client, first.port) == b"one"
    assert first.connections == 1
    assert second.connections == 0
    assert resolver.lookups == 2


async def test_a_failed_lookup_at_expiry_keeps_the_last_answer(
    servers: tuple[RawServer, RawServer],
) -> None:
    first, _ = servers
    resolver, clock = SwitchingResolver("127.0.0.1"), Clock()
    async with client_for(resolver, clock) as client:
        await body(client, first.port)
        resolver.fail = True
        clock.now += 11
        assert await body(client, first.port) == b"one"  # stale beats down
    assert first.connections == 1


async def test_ip_literal_hosts_never_touch_the_resolver(
    servers: tuple[RawServer, RawServer],
) -> None:
    first, _ = servers
    resolver, clock = SwitchingResolver("127.0.0.2"), Clock()
    async with client_for(resolver, clock) as client:
        for _ in range(3):
            clock.now += 100
            await client.request("GET", first.url)
    assert resolver.lookups == 0
    assert first.connections == 1
