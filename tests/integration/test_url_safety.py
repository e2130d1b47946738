"""The URL safety gate against real sockets: every hop is checked, in
request(), stream() and sse(), and the address checked is the address
connected to (no DNS-rebinding window)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

import pytest
import pytest_asyncio
from rawservers import Behaviour, RawConnection, RawServer, keep_alive

from httpdeck.client import (
    AiohttpTransport,
    ConnectionPool,
    ConnectionPoolConfig,
    HTTPClient,
    HTTPClientConfig,
    HTTPUnsafeURLError,
    URLSafety,
)

pytestmark = pytest.mark.asyncio


class ScriptedResolver:
    """Answers one address list per lookup, the last one repeated."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int) -> Sequence[str]:
        self.lookups.append(host)
        return self.answers[min(len(self.lookups), len(self.answers)) - 1]


def redirect_to(location: str) -> Behaviour:
    async def run(conn: RawConnection) -> None:
        while await conn.read_request() is not None:
            await conn.respond(302, headers={"Location": location})

    return run


@contextlib.asynccontextmanager
async def guarded_client(
    resolver: ScriptedResolver | None = None, *, force_close: bool = False
) -> AsyncIterator[HTTPClient]:
    # 127.0.0.1 stands for "a public address" here; 127.0.0.2 stays blocked.
    config = HTTPClientConfig(
        url_safety=True,
        pool=ConnectionPoolConfig(ttl_dns_cache=0, force_close=force_close),
    )
    pool = ConnectionPool(config, resolver=resolver, url_safety=URLSafety(allow=["127.0.0.1/32"]))
    async with HTTPClient(config, transport=AiohttpTransport(pool=pool)) as client:
        yield client


@pytest_asyncio.fixture
async def blocked() -> AsyncIterator[RawServer]:
    """A server on 127.0.0.2, which the gate must never let anyone reach."""
    async with RawServer(keep_alive(b"secret"), host="127.0.0.2") as server:
        yield server


async def test_the_address_checked_is_the_address_connected_to(blocked: RawServer) -> None:
    # A rebinding name: allowed on the first lookup, internal on the next.
    async with RawServer(keep_alive(b"public")) as public:
        resolver = ScriptedResolver(["127.0.0.1"], ["127.0.0.2"])
        async with guarded_client(resolver, force_close=True) as client:
            assert (await client.request("GET", f"http://rebind.test:{public.port}/")).content == (
                b"public"
            )
            with pytest.raises(HTTPUnsafeURLError) as caught:
                await client.request("GET", f"http://rebind.test:{blocked.port}/")
    # One lookup per connection: the answer that was checked is the one used.
    assert resolver.lookups == ["rebind.test", "rebind.test"]
    assert public.connections == 1
    assert blocked.connections == 0
    assert (caught.value.host, caught.value.address) == ("rebind.test", "127.0.0.2")


async def test_an_answer_mixing_allowed_and_blocked_addresses_is_refused(
    blocked: RawServer,
) -> None:
    resolver = ScriptedResolver(["127.0.0.1", "127.0.0.2"])
    async with guarded_client(resolver) as client:
        with pytest.raises(HTTPUnsafeURLError):
            await client.request("GET", f"http://mixed.test:{blocked.port}/")
    assert blocked.connections == 0


async def follow(client: HTTPClient, how: str, entry: RawServer) -> None:
    if how == "request":
        await client.request("GET", entry.url)
    elif how == "stream":
        async with client.stream("GET", entry.url):
            pass
    elif how == "sse":
        async with client.sse(entry.url) as events:
            await anext(events)
    else:  # a runtime outcome: the verbs return it as an Err
        raise (await client.get(entry.url)).unwrap_err()


@pytest.mark.parametrize("how", ["request", "stream", "sse", "verb"])
async def test_a_redirect_hop_to_a_blocked_address_is_refused(blocked: RawServer, how: str) -> None:
    async with (
        RawServer(redirect_to(f"http://127.0.0.2:{blocked.port}/internal")) as entry,
        guarded_client() as client,
    ):
        with pytest.raises(HTTPUnsafeURLError) as caught:
            await follow(client, how, entry)
    assert len(entry.requests) == 1
    assert blocked.connections == 0
    assert caught.value.request is not None
    assert caught.value.request.redirect_hop == 1


async def test_a_redirect_to_a_name_resolving_to_a_blocked_address_is_refused(
    blocked: RawServer,
) -> None:
    resolver = ScriptedResolver(["127.0.0.2"])
    async with (
        RawServer(redirect_to(f"http://internal.test:{blocked.port}/")) as entry,
        guarded_client(resolver) as client,
    ):
        with pytest.raises(HTTPUnsafeURLError, match=r"internal\.test -> 127\.0\.0\.2"):
            await client.request("GET", entry.url)
    assert blocked.connections == 0


async def test_with_the_gate_off_loopback_is_reachable(blocked: RawServer) -> None:
    async with HTTPClient() as client:
        assert (await client.request("GET", blocked.url)).content == b"secret"
