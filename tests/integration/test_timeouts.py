"""Timeout phases: the pool wait is its own phase, and the total deadline
bounds the whole exchange however slowly the server trickles."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from rawservers import RawServer, stall, trickle

from conftest import Serve
from httpdeck.client import (
    AiohttpTransport,
    ConnectionPool,
    ConnectionPoolConfig,
    HTTPClient,
    HTTPClientConfig,
    HTTPPoolTimeoutError,
    HTTPTimeoutError,
    TimeoutConfig,
)

pytestmark = pytest.mark.asyncio


def config(*, connections: int = 10, **timeouts: float) -> HTTPClientConfig:
    return HTTPClientConfig(
        pool=ConnectionPoolConfig(max_connections=connections),
        timeouts=TimeoutConfig(**timeouts),
    )


class Gate:
    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.entered = asyncio.Event()

    def set(self) -> None:
        self.open.set()


def gated_app() -> tuple[web.Application, Gate, list[str]]:
    """/hold waits until the gate opens; /fast answers at once."""
    gate = Gate()
    seen: list[str] = []

    async def hold(request: web.Request) -> web.Response:
        seen.append("hold")
        gate.entered.set()
        await gate.open.wait()
        return web.Response(text="held")

    async def fast(request: web.Request) -> web.Response:
        seen.append("fast")
        return web.Response(text="fast")

    app = web.Application()
    app.router.add_get("/hold", hold)
    app.router.add_get("/fast", fast)
    return app, gate, seen


async def test_waiting_for_a_pool_slot_times_out_as_phase_pool(serve: Serve) -> None:
    app, gate, seen = gated_app()
    url = await serve(app)
    async with HTTPClient(config(connections=1, pool=0.1, total=30)) as client:
        holder = asyncio.ensure_future(client.request("GET", url / "hold"))
        await gate.entered.wait()
        with pytest.raises(HTTPTimeoutError) as caught:
            await client.request("GET", url / "fast")
        gate.set()
        assert (await holder).text() == "held"
    error = caught.value
    assert error.phase == "pool"
    assert error.sent is False
    assert "max_connections=1" in str(error)
    assert seen == ["hold"]  # the second request never reached the server
    # Reliability case 11: a type of its own, not the read timeout's.
    assert type(error) is HTTPPoolTimeoutError


async def test_the_pool_wait_does_not_count_against_the_total(serve: Serve) -> None:
    # aiohttp #10313: with total=0.3 aiohttp fails a request that queued 0.5 s
    # for a slot although its own exchange takes no time. httpdeck starts the
    # total clock when the slot is granted.
    app, gate, _seen = gated_app()
    url = await serve(app)
    async with HTTPClient(config(connections=1, pool=5, total=0.3)) as client:
        holder = asyncio.ensure_future(
            client.request("GET", url / "hold", timeout=TimeoutConfig(total=10))
        )
        await gate.entered.wait()
        queued = asyncio.ensure_future(client.request("GET", url / "fast"))
        await asyncio.sleep(0.5)  # the queued request has now waited longer than its total
        assert not queued.done()
        gate.set()
        assert (await queued).text() == "fast"
        await holder


async def test_without_a_pool_timeout_the_wait_is_bounded_by_the_total(serve: Serve) -> None:
    app, gate, _seen = gated_app()
    url = await serve(app)
    async with HTTPClient(config(connections=1, total=0.2)) as client:
        holder = asyncio.ensure_future(
            client.request("GET", url / "hold", timeout=TimeoutConfig(total=10))
        )
        await gate.entered.wait()
        with pytest.raises(HTTPTimeoutError) as caught:
            await client.request("GET", url / "fast")
        gate.set()
        await holder
    assert caught.value.phase == "pool"


async def test_a_trickling_body_is_stopped_by_the_total_deadline() -> None:
    # Each byte comes well within the read timeout (aiohttp's sock_read
    # resets on every byte and let 8 bytes over 4 s through).
    async with (
        RawServer(trickle(b"x" * 1000, interval=0.02)) as server,
        HTTPClient(config(read=1.0, total=0.3)) as client,
    ):
        with pytest.raises(HTTPTimeoutError) as caught:
            await client.request("GET", server.url)
        assert client.transport.pool.connection_counts()[1] == 0  # type: ignore[attr-defined]
    assert caught.value.phase == "total"
    assert caught.value.sent is True
    assert "total timeout of 0.3s" in str(caught.value)


async def test_a_trickling_stream_is_stopped_by_the_total_deadline() -> None:
    received: list[bytes] = []

    async def read_all(client: HTTPClient, server: RawServer) -> None:
        async with client.stream("GET", server.url) as response:
            async for chunk in response.aiter_bytes():
                received.append(chunk)

    async with (
        RawServer(trickle(b"x" * 1000, interval=0.02)) as server,
        HTTPClient(config(read=1.0, total=0.3)) as client,
    ):
        with pytest.raises(HTTPTimeoutError) as caught:
            await read_all(client, server)
    assert caught.value.phase == "total"
    assert 0 < len(b"".join(received)) < 1000


async def test_a_deadline_passing_while_nobody_reads_frees_the_connection() -> None:
    async with (
        RawServer(trickle(b"x" * 100, interval=0.05)) as server,
        HTTPClient(config(read=5.0, total=0.2)) as client,
    ):
        pool = client.transport.pool  # type: ignore[attr-defined]
        async with client.stream("GET", server.url) as response:
            assert pool.connection_counts()[1] == 1
            await asyncio.sleep(0.4)  # past the deadline, not reading
            assert pool.connection_counts()[1] == 0
            with pytest.raises(HTTPTimeoutError) as caught:
                await response.aread()
    assert caught.value.phase == "total"


async def test_a_silent_server_is_a_read_timeout() -> None:
    async with (
        RawServer(stall(after_headers=True)) as server,
        HTTPClient(config(read=0.1, total=10)) as client,
    ):
        with pytest.raises(HTTPTimeoutError) as caught:
            await client.request("GET", server.url)
    assert caught.value.phase == "read"
    assert not isinstance(caught.value, HTTPPoolTimeoutError)


async def test_a_server_that_never_answers_is_stopped_by_the_total() -> None:
    async with RawServer(stall()) as server, HTTPClient(config(total=0.2)) as client:
        with pytest.raises(HTTPTimeoutError) as caught:
            await client.request("GET", server.url)
    assert caught.value.phase == "total"
    assert caught.value.sent is True


async def test_a_per_request_timeout_overrides_the_clients() -> None:
    async with RawServer(stall()) as server, HTTPClient(config(total=30)) as client:
        with pytest.raises(HTTPTimeoutError) as caught:
            await client.request("GET", server.url, timeout=0.2)
    assert caught.value.phase == "total"
    assert "0.2s" in str(caught.value)


async def test_the_callers_own_cancellation_is_not_turned_into_an_http_timeout() -> None:
    async with RawServer(stall()) as server, HTTPClient(config(total=30)) as client:
        with pytest.raises(TimeoutError) as caught:
            async with asyncio.timeout(0.1):
                await client.request("GET", server.url)
        assert not isinstance(caught.value, HTTPTimeoutError)
        assert client.transport.pool.connection_counts()[1] == 0  # type: ignore[attr-defined]


class SlowResolver:
    async def resolve(self, host: str, port: int) -> list[str]:
        await asyncio.sleep(5)
        return ["127.0.0.1"]


async def test_a_slow_lookup_is_bounded_by_the_total_and_nothing_is_sent() -> None:
    cfg = config(total=0.2)
    pool = ConnectionPool(cfg, resolver=SlowResolver())
    async with HTTPClient(cfg, transport=AiohttpTransport(pool=pool)) as client:
        with pytest.raises(HTTPTimeoutError) as caught:
            await client.request("GET", "http://slow-dns.test:1/")
    assert caught.value.phase == "total"
    assert caught.value.sent is False


async def test_a_peer_that_stops_reading_a_streamed_body_is_a_write_timeout() -> None:
    # The server takes the connection and never reads: once the socket buffers
    # are full, a chunk cannot be handed over and the write timeout fires.
    release = asyncio.Event()

    async def never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()
        writer.close()

    server = await asyncio.start_server(never_read, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    async def body() -> AsyncIterator[bytes]:
        for _ in range(512):
            yield b"x" * (1 << 20)

    try:
        async with HTTPClient(config(write=0.2, total=30.0)) as client:
            with pytest.raises(HTTPTimeoutError) as info:
                await client.request("POST", f"http://127.0.0.1:{port}/upload", content=body())
            # The stalled connection was given up, not left checked out of the pool.
            transport = client.transport
            assert isinstance(transport, AiohttpTransport)
            assert transport.pool.connection_counts() == (0, 0)
    finally:
        release.set()
        server.close()
        await server.wait_closed()
    assert info.value.phase == "write"
    assert info.value.sent is True
    assert "write timeout of 0.2s" in str(info.value)


async def test_a_write_timeout_does_not_stop_a_peer_that_keeps_reading(serve: Serve) -> None:
    async def upload(request: web.Request) -> web.Response:
        return web.Response(text=str(len(await request.read())))

    app = web.Application(client_max_size=64 << 20)
    app.router.add_post("/upload", upload)
    url = await serve(app)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(32):
            yield b"x" * (1 << 20)

    async with HTTPClient(config(write=5.0)) as client:
        response = await client.request("POST", url / "upload", content=body())
    assert response.text() == str(32 << 20)
