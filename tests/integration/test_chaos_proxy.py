"""The chaos proxy: each toxic against a real aiohttp.web upstream, through
the real client and its real connection pool."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio
from aiohttp import web
from yarl import URL

from conftest import Serve
from httpdeck.client import (
    AiohttpTransport,
    ConnectionPoolConfig,
    HTTPClient,
    HTTPClientConfig,
    HTTPConnectionError,
    HTTPProtocolError,
    HTTPRetryExhaustedError,
    HTTPTimeoutError,
    RetryPolicy,
    TimeoutConfig,
)
from httpdeck.testing import ChaosProxy, FaultInjectionTransport

BODY = b"0123456789" * 40
CONFIG = HTTPClientConfig(timeouts=TimeoutConfig(read=2.0, total=5.0))


class Upstream:
    def __init__(self) -> None:
        self.hits = 0
        self.url = URL()


@pytest_asyncio.fixture
async def upstream(serve: Serve) -> Upstream:
    state = Upstream()

    async def items(request: web.Request) -> web.Response:
        state.hits += 1
        await request.read()
        return web.Response(body=BODY, content_type="application/octet-stream")

    application = web.Application()
    application.router.add_route("*", "/items", items)
    state.url = await serve(application)
    return state


@pytest_asyncio.fixture
async def proxy(upstream: Upstream) -> AsyncIterator[ChaosProxy]:
    async with ChaosProxy(upstream.url, seed=3) as chaos:
        yield chaos


async def until(condition: Callable[[], bool]) -> None:
    """Wait for the proxy to catch up (an event, not a timing assumption)."""
    for _ in range(400):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the condition never became true")


def actions(proxy: ChaosProxy) -> list[str]:
    return [event.action for event in proxy.log]


@pytest.mark.asyncio
async def test_without_toxics_the_proxy_passes_traffic_through(
    proxy: ChaosProxy, upstream: Upstream
) -> None:
    async with HTTPClient(CONFIG) as client:
        first = await client.request("GET", proxy.url / "items")
        second = await client.request("POST", proxy.url / "items", content=b"x" * 5000)
    assert first.content == second.content == BODY
    assert upstream.hits == 2
    assert proxy.connections == 1  # keep-alive through the proxy
    assert proxy.log == []


@pytest.mark.asyncio
async def test_latency_past_the_read_timeout_times_out_and_lifts_when_removed(
    proxy: ChaosProxy,
) -> None:
    config = HTTPClientConfig(timeouts=TimeoutConfig(read=0.05, total=5.0))
    proxy.add_toxic("latency", latency=400, jitter=0)
    async with HTTPClient(config) as client:
        with pytest.raises(HTTPTimeoutError) as caught:
            await client.request("GET", proxy.url / "items")
        proxy.remove_toxic("latency_downstream")
        response = await client.request("GET", proxy.url / "items")
    assert caught.value.phase == "read"
    assert caught.value.sent is True
    assert response.content == BODY
    assert actions(proxy)[0] == "delay"


@pytest.mark.asyncio
async def test_latency_jitter_is_drawn_from_the_seed(upstream: Upstream) -> None:
    async def delays(seed: int) -> list[float]:
        async with ChaosProxy(upstream.url, seed=seed) as chaos:
            chaos.add_toxic("latency", latency=4, jitter=3, stream="upstream")
            async with HTTPClient(CONFIG) as client:
                for _ in range(5):
                    await client.request("GET", chaos.url / "items")
            return [event.detail for event in chaos.log]

    first = await delays(1)
    assert first == await delays(1)
    assert first != await delays(2)
    assert all(1 <= d <= 7 for d in first)


@pytest.mark.asyncio
async def test_bandwidth_caps_throughput(proxy: ChaosProxy) -> None:
    slow = HTTPClientConfig(timeouts=TimeoutConfig(read=None, total=0.2))
    proxy.add_toxic("bandwidth", rate=1)  # 1 KB/s: the 400-byte body needs ~0.4 s
    async with HTTPClient(slow) as client:
        with pytest.raises(HTTPTimeoutError) as caught:
            await client.request("GET", proxy.url / "items")
        proxy.update_toxic("bandwidth_downstream", rate=100_000)
        response = await client.request("GET", proxy.url / "items")
    assert caught.value.phase == "total"
    assert response.content == BODY
    assert "throttle" in actions(proxy)


@pytest.mark.asyncio
async def test_slow_close_holds_the_upstream_connection_after_the_client_left(
    proxy: ChaosProxy, upstream: Upstream
) -> None:
    proxy.add_toxic("slow_close", stream="upstream", delay=60_000)
    async with HTTPClient(CONFIG) as client:
        response = await client.request("GET", proxy.url / "items")
    assert response.content == BODY
    # The client closed its connection; the proxy delays closing the server's side.
    await until(lambda: "slow_close" in actions(proxy))
    assert proxy.active == 1


@pytest.mark.asyncio
async def test_timeout_zero_is_a_black_hole(proxy: ChaosProxy, upstream: Upstream) -> None:
    config = HTTPClientConfig(timeouts=TimeoutConfig(read=0.1, total=5.0))
    proxy.add_toxic("timeout", timeout=0)
    async with HTTPClient(config) as client:
        with pytest.raises(HTTPTimeoutError) as caught:
            await client.request("GET", proxy.url / "items")
    assert (caught.value.phase, caught.value.sent) == ("read", True)
    assert upstream.hits == 1  # downstream toxic: the server answered, the answer was dropped
    assert "drop" in actions(proxy)


@pytest.mark.asyncio
async def test_timeout_closes_the_connection_after_its_delay(
    proxy: ChaosProxy, upstream: Upstream
) -> None:
    proxy.add_toxic("timeout", stream="upstream", timeout=50)
    async with HTTPClient(CONFIG) as client:
        with pytest.raises(HTTPConnectionError, match="closed the connection before answering"):
            await client.request("GET", proxy.url / "items")
    assert upstream.hits == 0  # upstream toxic: the request never reached the server
    assert actions(proxy) == ["drop", "timeout_close"]


@pytest.mark.asyncio
@pytest.mark.parametrize(("stream", "hits"), [("downstream", 1), ("upstream", 0)])
async def test_reset_peer_resets_the_connection(
    proxy: ChaosProxy, upstream: Upstream, stream: str, hits: int
) -> None:
    proxy.add_toxic("reset_peer", stream=stream, timeout=0)  # type: ignore[arg-type]
    async with HTTPClient(CONFIG) as client:
        with pytest.raises(HTTPConnectionError, match="reset by peer") as caught:
            await client.request("GET", proxy.url / "items")
    assert caught.value.sent is True
    assert upstream.hits == hits
    assert actions(proxy) == ["reset"]


@pytest.mark.asyncio
async def test_slicer_splits_data_without_changing_it(proxy: ChaosProxy) -> None:
    proxy.add_toxic("slicer", average_size=16, size_variation=8, delay=100)
    async with HTTPClient(CONFIG) as client:
        response = await client.request("GET", proxy.url / "items")
    assert response.content == BODY
    slices = [event.detail for event in proxy.log if event.action == "slice"]
    assert sum(slices) >= (len(BODY) + 100) / 24  # at least one write per 24 bytes


@pytest.mark.asyncio
async def test_limit_data_cuts_the_body(proxy: ChaosProxy) -> None:
    proxy.add_toxic("limit_data", bytes=250)
    async with HTTPClient(CONFIG) as client:
        with pytest.raises(HTTPProtocolError, match="of 400 bytes") as caught:
            await client.request("GET", proxy.url / "items")
    assert caught.value.sent is True
    assert actions(proxy) == ["limit_close"]


@pytest.mark.asyncio
async def test_limit_data_inside_the_head_looks_like_a_disconnect(proxy: ChaosProxy) -> None:
    proxy.add_toxic("limit_data", bytes=10)
    async with HTTPClient(CONFIG) as client:
        with pytest.raises((HTTPConnectionError, HTTPProtocolError)):
            await client.request("GET", proxy.url / "items")


@pytest.mark.asyncio
async def test_toxicity_picks_connections_by_seed(upstream: Upstream) -> None:
    fresh = HTTPClientConfig(pool=ConnectionPoolConfig(force_close=True))

    async def outcomes(seed: int) -> list[bool]:
        async with ChaosProxy(upstream.url, seed=seed) as chaos:
            chaos.add_toxic("reset_peer", toxicity=0.5)
            results = []
            async with HTTPClient(fresh) as client:
                for _ in range(16):
                    result = await client.get(chaos.url / "items")
                    results.append(result.is_ok())
            return results

    first = await outcomes(5)
    assert first == await outcomes(5)
    assert 2 <= first.count(True) <= 14
    assert first != await outcomes(6)


@pytest.mark.asyncio
async def test_disable_refuses_connections_and_enable_restores_the_same_port(
    proxy: ChaosProxy,
) -> None:
    port = proxy.port
    async with HTTPClient(CONFIG) as client:
        await client.request("GET", proxy.url / "items")
        await proxy.disable()
        assert not proxy.enabled
        with pytest.raises(HTTPConnectionError) as caught:
            await client.request("GET", proxy.url / "items")
        await proxy.enable()
        response = await client.request("GET", proxy.url / "items")
    assert caught.value.sent in (False, True)  # refused, or the dropped keep-alive connection
    assert proxy.port == port
    assert response.content == BODY


@pytest.mark.asyncio
async def test_disabled_proxy_refuses_new_connections(proxy: ChaosProxy) -> None:
    await proxy.disable()
    async with HTTPClient(CONFIG) as client:
        with pytest.raises(HTTPConnectionError, match=r"Cannot connect to 127\.0\.0\.1") as caught:
            await client.request("GET", proxy.url / "items")
    assert caught.value.sent is False


@pytest.mark.asyncio
async def test_toxics_change_while_connections_are_open(proxy: ChaosProxy) -> None:
    config = HTTPClientConfig(timeouts=TimeoutConfig(read=0.05, total=5.0))
    proxy.add_toxic("latency", name="lag", latency=0)
    async with HTTPClient(config) as client:
        await client.request("GET", proxy.url / "items")
        proxy.update_toxic("lag", latency=300)
        with pytest.raises(HTTPTimeoutError):
            await client.request("GET", proxy.url / "items")
        proxy.reset()
        response = await client.request("GET", proxy.url / "items")
    assert response.content == BODY
    assert proxy.toxics == []


@pytest.mark.asyncio
async def test_a_reset_on_a_reused_connection_is_one_attempt_in_the_client_and_the_logs(
    proxy: ChaosProxy, upstream: Upstream
) -> None:
    """aiohttp would silently re-send a GET whose reused connection was reset;
    httpdeck turns that off, so each reset is one attempt everywhere."""
    counter = FaultInjectionTransport(AiohttpTransport(CONFIG))  # no faults: counts attempts

    async def no_sleep(seconds: float) -> None:
        return None

    retry = RetryPolicy(max_attempts=3, base_delay=0, budget_ratio=None, sleep=no_sleep)
    async with HTTPClient(CONFIG, transport=counter, retry_policy=retry) as client:
        await client.request("GET", proxy.url / "items")  # opens a keep-alive connection
        proxy.add_toxic("reset_peer", timeout=0)
        with pytest.raises(HTTPRetryExhaustedError) as caught:
            await client.request("GET", proxy.url / "items")
    resets = [event for event in proxy.log if event.action == "reset"]
    assert len(caught.value.attempts) == 3
    assert len(resets) == 3  # attempt 1 on the reused connection, 2 and 3 on new ones
    assert proxy.connections == 3
    assert upstream.hits == 1 + 3  # downstream resets: the server saw every attempt
    report = counter.injector.report()
    assert (report.requests, report.attempts, report.retries) == (2, 4, 2)


def test_bad_toxics_and_addresses_are_refused() -> None:
    chaos = ChaosProxy("http://127.0.0.1:9")
    with pytest.raises(ValueError, match="Unknown toxic type 'lag'"):
        chaos.add_toxic("lag")
    with pytest.raises(ValueError, match="has no attribute 'delay'; its attributes are: latency"):
        chaos.add_toxic("latency", delay=1)
    with pytest.raises(ValueError, match="share of connections"):
        chaos.add_toxic("latency", toxicity=2)
    with pytest.raises(ValueError, match="needs rate > 0"):
        chaos.add_toxic("bandwidth")
    with pytest.raises(ValueError, match='"upstream" or "downstream"'):
        chaos.add_toxic("latency", stream="sideways")  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="No toxic named 'nope'"):
        chaos.remove_toxic("nope")
    with pytest.raises(ValueError, match=r"only connects to 127\.0\.0\.1"):
        ChaosProxy("http://10.0.0.1:80")
    with pytest.raises(ValueError, match=r"only connects to 127\.0\.0\.1"):
        ChaosProxy("http://example.com")
    with pytest.raises(RuntimeError, match="not started"):
        _ = chaos.url
