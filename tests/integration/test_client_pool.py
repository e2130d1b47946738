"""The connection pool, counted on the server's side: keep-alive, limits, trimming, proxies.

Connections are counted by the server (peer address of each request, and the
requests in flight at once), never by asking the client.
"""

from __future__ import annotations

import asyncio
import gc

import pytest
from client_apps import Observed, echo_app, proxy_app, refused_url

from conftest import Serve
from httpdeck import (
    AiohttpTransport,
    ConnectionPool,
    ConnectionPoolConfig,
    HTTPClient,
    HTTPClientClosedError,
    HTTPClientConfig,
    HTTPClientError,
    HTTPConfigError,
    Ok,
)

pytestmark = pytest.mark.asyncio

PROXY_VARIABLES = (
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
)


def _pool(**fields: int | bool) -> HTTPClientConfig:
    return HTTPClientConfig(pool=ConnectionPoolConfig(**fields))  # type: ignore[arg-type]


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# -- keep-alive ------------------------------------------------------------------------


async def test_100_sequential_requests_use_one_connection(serve: Serve) -> None:
    observed = Observed()
    base = await serve(echo_app(observed))
    async with HTTPClient() as client:
        for i in range(100):
            result = await client.get(base / "echo", params={"i": i})
            assert isinstance(result, Ok)
        assert client.transport.pool.connection_counts() == (1, 0)  # type: ignore[attr-defined]
    assert len(observed.peers) == 100
    assert observed.connections == 1


async def test_sequential_requests_of_every_kind_share_the_connection(serve: Serve) -> None:
    observed = Observed()
    base = await serve(echo_app(observed))
    async with HTTPClient() as client:
        await client.post(base / "echo", json={"a": 1})
        await client.get(base / "status" / "404")
        await client.head(base / "echo")
        await client.put(base / "echo", content=b"x" * 100_000)
        await client.get(base / "gzip")
        await client.delete(base / "echo")
        async with client.stream("GET", base / "echo") as response:
            await response.aread()
    assert observed.connections == 1


async def test_force_close_opens_a_connection_per_request(serve: Serve) -> None:
    observed = Observed()
    base = await serve(echo_app(observed))
    async with HTTPClient(_pool(force_close=True)) as client:
        for _ in range(5):
            await client.get(base / "echo")
    assert observed.connections == 5


async def test_a_stream_closed_early_does_not_poison_the_pool(serve: Serve) -> None:
    observed = Observed()
    base = await serve(echo_app(observed))
    async with HTTPClient() as client:
        async with client.stream("GET", base / "gzip"):
            pass  # body never read: the connection is dropped, not reused half-read
        for _ in range(3):
            result = await client.get(base / "echo")
            assert isinstance(result, Ok)
            assert result.value.json()["method"] == "GET"


async def test_warm_up_opens_the_connection_the_first_request_reuses(serve: Serve) -> None:
    observed = Observed()
    base = await serve(echo_app(observed))
    transport = AiohttpTransport()
    async with HTTPClient(transport=transport) as client:
        await transport.pool.warm_up([base / "echo"])
        assert transport.pool.connection_counts() == (1, 0)
        await client.get(base / "echo")
    assert [r["method"] for r in observed.requests] == ["HEAD", "GET"]
    assert observed.connections == 1


async def test_warm_up_falls_back_to_get_and_swallows_failures(serve: Serve) -> None:
    observed = Observed()
    base = await serve(echo_app(observed))
    pool = ConnectionPool()
    try:
        with refused_url() as refused:
            await pool.warm_up([refused, base / "status" / "405", base / "echo"])
        assert pool.is_started()
    finally:
        await pool.stop()
    assert [r["method"] for r in observed.requests] == [
        "HEAD"
    ]  # /echo; /status answers 405 to both


async def test_pool_before_start_and_after_stop() -> None:
    pool = ConnectionPool()
    assert not pool.is_started()
    assert pool.connection_counts() == (0, 0)
    with pytest.raises(HTTPClientError, match=r"call `await pool.start\(\)` first"):
        _ = pool.session
    await pool.start()
    assert pool.session is await pool.start()  # idempotent
    await pool.stop()
    with pytest.raises(HTTPClientClosedError, match=r"it was stopped\. Create a new one\."):
        await pool.start()


# -- limits under concurrency ---------------------------------------------------------


@pytest.mark.parametrize(
    "pool",
    [
        {"max_connections_per_host": 3},  # the per-host limit binds
        {"max_connections": 3, "max_connections_per_host": 10},  # the total limit binds
        {"max_connections": 3, "max_connections_per_host": 3},
    ],
    ids=["per-host", "total", "both"],
)
async def test_concurrent_requests_never_exceed_the_limit(
    serve: Serve, pool: dict[str, int]
) -> None:
    observed = Observed(gate=asyncio.Event())
    base = await serve(echo_app(observed))
    async with HTTPClient(_pool(max_keepalive_connections=3, **pool)) as client:
        tasks = [asyncio.ensure_future(client.get(base / "gate")) for _ in range(12)]
        await observed.wait_in_flight(3)
        # Every request was dispatched at once; with the gate shut, three are on
        # the server and nine wait in the client for a connection.
        idle, in_use = client.transport.pool.connection_counts()  # type: ignore[attr-defined]
        assert (idle, in_use) == (0, 3)
        assert observed.gate is not None
        observed.gate.set()
        results = await asyncio.gather(*tasks)
    assert all(isinstance(result, Ok) for result in results)
    assert observed.max_in_flight == 3
    assert observed.connections == 3


async def test_default_pool_allows_a_hundred_connections(serve: Serve) -> None:
    observed = Observed(gate=asyncio.Event())
    base = await serve(echo_app(observed))
    async with HTTPClient() as client:
        tasks = [asyncio.ensure_future(client.get(base / "gate")) for _ in range(110)]
        await observed.wait_in_flight(100)
        assert observed.gate is not None
        observed.gate.set()
        await asyncio.gather(*tasks)
        # 20 of them stay open for reuse, the rest are closed when released.
        assert client.transport.pool.connection_counts() == (20, 0)  # type: ignore[attr-defined]
    assert observed.max_in_flight == 100


async def test_idle_connections_are_trimmed_to_max_keepalive(serve: Serve) -> None:
    observed = Observed(gate=asyncio.Event())
    base = await serve(echo_app(observed))
    config = _pool(max_connections=4, max_keepalive_connections=1)
    async with HTTPClient(config) as client:
        tasks = [asyncio.ensure_future(client.get(base / "gate")) for _ in range(4)]
        await observed.wait_in_flight(4)
        assert observed.gate is not None
        observed.gate.set()
        await asyncio.gather(*tasks)
        pool = client.transport.pool  # type: ignore[attr-defined]
        assert pool.connection_counts() == (1, 0)
        # The one kept is reused: sequential requests open no new connection.
        for _ in range(3):
            await client.get(base / "echo")
    assert observed.connections == 4


async def test_keepalive_zero_closes_every_connection_after_use(serve: Serve) -> None:
    observed = Observed()
    base = await serve(echo_app(observed))
    async with HTTPClient(_pool(max_keepalive_connections=0)) as client:
        for _ in range(3):
            await client.get(base / "echo")
            assert client.transport.pool.connection_counts() == (0, 0)  # type: ignore[attr-defined]
    assert observed.connections == 3


async def test_requests_waiting_for_a_slot_reuse_released_connections(serve: Serve) -> None:
    # With max_keepalive below the pool size, a connection released while
    # others wait goes to a waiter rather than being closed and reopened.
    observed = Observed()
    base = await serve(echo_app(observed))
    config = _pool(max_connections=4, max_keepalive_connections=1)
    async with HTTPClient(config) as client:
        await asyncio.gather(*(client.get(base / "echo") for _ in range(200)))
    assert observed.connections == 4


# -- proxies from the environment --------------------------------------------------------


async def test_trust_env_sends_through_the_proxy_from_the_environment(
    serve: Serve, no_proxy_env: pytest.MonkeyPatch
) -> None:
    seen = Observed()
    proxy = await serve(proxy_app("proxy-a", seen))
    no_proxy_env.setenv("HTTP_PROXY", str(proxy))
    with refused_url() as target:  # a proxy that did not take over would be refused
        async with HTTPClient() as client:
            result = await client.get(target.with_path("/via/proxy").with_query(q="1"))
    assert isinstance(result, Ok)
    assert result.value.json() == {"via": "proxy-a", "target": f"{target.origin()}/via/proxy?q=1"}
    assert seen.requests == [{"target": f"{target.origin()}/via/proxy?q=1", "proxy": "proxy-a"}]


async def test_proxy_environment_is_read_once_at_start(
    serve: Serve, no_proxy_env: pytest.MonkeyPatch
) -> None:
    seen = Observed()
    proxy_a = await serve(proxy_app("proxy-a", seen))
    proxy_b = await serve(proxy_app("proxy-b", seen))
    no_proxy_env.setenv("HTTP_PROXY", str(proxy_a))
    with refused_url() as target:
        async with HTTPClient() as client:
            await client.get(target)
            no_proxy_env.setenv("HTTP_PROXY", str(proxy_b))
            no_proxy_env.setenv("http_proxy", str(proxy_b))
            await client.get(target)
            no_proxy_env.delenv("HTTP_PROXY")
            no_proxy_env.delenv("http_proxy")
            await client.get(target)
    assert [r["proxy"] for r in seen.requests] == ["proxy-a", "proxy-a", "proxy-a"]


async def test_proxy_set_after_start_is_not_used(
    serve: Serve, no_proxy_env: pytest.MonkeyPatch
) -> None:
    seen = Observed()
    proxy = await serve(proxy_app("proxy-a", seen))
    observed = Observed()
    origin = await serve(echo_app(observed))
    async with HTTPClient() as client:
        await client.get(origin / "echo")
        no_proxy_env.setenv("HTTP_PROXY", str(proxy))
        await client.get(origin / "echo")
    assert seen.requests == []
    assert len(observed.requests) == 2


async def test_no_proxy_bypasses_the_proxy(serve: Serve, no_proxy_env: pytest.MonkeyPatch) -> None:
    seen = Observed()
    proxy = await serve(proxy_app("proxy-a", seen))
    observed = Observed()
    origin = await serve(echo_app(observed))
    no_proxy_env.setenv("HTTP_PROXY", str(proxy))
    no_proxy_env.setenv("NO_PROXY", "127.0.0.1")
    async with HTTPClient() as client:
        result = await client.get(origin / "echo")
    assert isinstance(result, Ok)
    assert seen.requests == []
    assert observed.requests[0]["raw_path"] == "/echo"


async def test_trust_env_off_ignores_the_environment(
    serve: Serve, no_proxy_env: pytest.MonkeyPatch
) -> None:
    seen = Observed()
    proxy = await serve(proxy_app("proxy-a", seen))
    observed = Observed()
    origin = await serve(echo_app(observed))
    no_proxy_env.setenv("HTTP_PROXY", str(proxy))
    async with HTTPClient(HTTPClientConfig(trust_env=False)) as client:
        await client.get(origin / "echo")
    assert seen.requests == []
    assert len(observed.requests) == 1


async def test_configured_proxy_wins_over_the_environment(
    serve: Serve, no_proxy_env: pytest.MonkeyPatch
) -> None:
    seen = Observed()
    proxy_a = await serve(proxy_app("proxy-a", seen))
    proxy_b = await serve(proxy_app("proxy-b", seen))
    no_proxy_env.setenv("HTTP_PROXY", str(proxy_a))
    with refused_url() as target:
        async with HTTPClient(HTTPClientConfig(proxy=str(proxy_b))) as client:
            await client.get(target)
    assert [r["proxy"] for r in seen.requests] == ["proxy-b"]


@pytest.mark.parametrize(
    ("variable", "named"),
    [("HTTP_PROXY", "HTTP_PROXY (or http_proxy)"), ("https_proxy", "HTTPS_PROXY (or https_proxy)")],
)
async def test_a_proxy_variable_without_a_host_is_refused_naming_it(
    no_proxy_env: pytest.MonkeyPatch, variable: str, named: str
) -> None:
    # aiohttp would quietly send every request direct. A config error is
    # misuse: the verbs raise it rather than return it as Err.
    no_proxy_env.setenv(variable, "http://")
    client = HTTPClient()
    with pytest.raises(HTTPConfigError) as info:
        await client.get("http://127.0.0.1:9/never")
    message = str(info.value)
    assert message.startswith(f"The {named} environment variable")
    assert "got 'http://': it names no host" in message
    assert "trust_env=False" in message
    await client.stop()


@pytest.mark.filterwarnings("error")
async def test_a_bad_proxy_in_the_environment_leaks_no_session(
    no_proxy_env: pytest.MonkeyPatch,
) -> None:
    # The start fails and the caller never stops the client: nothing may be
    # left open (an unclosed aiohttp session warns when collected).
    no_proxy_env.setenv("HTTP_PROXY", "http://127.0.0.1:notaport")
    client = HTTPClient()
    with pytest.raises(Exception) as info:  # noqa: PT011 - the type is checked below
        await client.start()
    del client
    gc.collect()
    assert isinstance(info.value, HTTPConfigError)
    assert "HTTP_PROXY" in str(info.value)
    assert "'http://127.0.0.1:notaport'" in str(info.value)


async def test_trust_env_off_ignores_a_bad_proxy_variable(
    serve: Serve, no_proxy_env: pytest.MonkeyPatch
) -> None:
    observed = Observed()
    origin = await serve(echo_app(observed))
    no_proxy_env.setenv("HTTP_PROXY", "http://")
    async with HTTPClient(HTTPClientConfig(trust_env=False)) as client:
        assert isinstance(await client.get(origin / "echo"), Ok)


# -- configuration from the environment ---------------------------------------------------


async def test_client_configured_from_the_environment(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    observed = Observed(gate=asyncio.Event())
    base = await serve(echo_app(observed))
    monkeypatch.setenv("HTTPDECK_HTTP__POOL__MAX_CONNECTIONS", "2")
    monkeypatch.setenv("HTTPDECK_HTTP__HEADERS", '{"X-Team": "payments"}')
    monkeypatch.setenv("HTTPDECK_HTTP__USER_AGENT", "billing/1.0")
    monkeypatch.setenv("HTTPDECK_HTTP__TIMEOUTS__TOTAL", "5")
    async with HTTPClient(HTTPClientConfig.from_env()) as client:
        echoed = await client.request("GET", base / "echo")
        tasks = [asyncio.ensure_future(client.get(base / "gate")) for _ in range(6)]
        await observed.wait_in_flight(2)
        assert observed.gate is not None
        observed.gate.set()
        await asyncio.gather(*tasks)
    assert echoed.json()["headers"]["x-team"] == "payments"
    assert echoed.json()["headers"]["user-agent"] == "billing/1.0"
    assert observed.max_in_flight == 2
