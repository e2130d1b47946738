"""Faults over the real AiohttpTransport, and parity with real failures.

Each injected error must be what the real client raises for the real
failure: the same type, `sent` flag, phase and message. The real failures
come from raw socket servers that misbehave on purpose.
"""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from rawservers import RawConnection, RawServer, reset_after_request, stall, truncate
from yarl import URL

from conftest import Serve
from httpdeck.client import (
    AiohttpTransport,
    ConnectionPoolConfig,
    HTTPClient,
    HTTPClientConfig,
    HTTPClientError,
    HTTPConnectionError,
    HTTPProtocolError,
    HTTPTimeoutError,
    HTTPTransportError,
    TimeoutConfig,
)
from httpdeck.testing import FaultInjectionTransport, faults, schedules

pytestmark = pytest.mark.asyncio

BODY = b"0123456789" * 40


def app() -> web.Application:
    async def items(request: web.Request) -> web.Response:
        return web.Response(body=BODY, content_type="application/json")

    application = web.Application()
    application.router.add_route("*", "/items", items)
    return application


class Clock:
    def __init__(self) -> None:
        self.slept = 0.0

    async def sleep(self, seconds: float) -> None:
        self.slept += seconds


CONFIG = HTTPClientConfig(timeouts=TimeoutConfig(read=1.0, total=5.0))

CATALOG: list[tuple[faults.Fault, type[HTTPTransportError], bool, str | None]] = [
    (faults.ConnectionRefused(), HTTPConnectionError, False, None),
    (faults.DNSFailure(), HTTPConnectionError, False, None),
    (faults.TLSFailure(), HTTPConnectionError, False, None),
    (faults.PoolExhausted(), HTTPTimeoutError, False, "pool"),
    (faults.ConnectionReset(after_send=False), HTTPConnectionError, False, None),
    (faults.ConnectionReset(), HTTPConnectionError, True, None),
    (faults.ConnectionReset(processed=True), HTTPConnectionError, True, None),
    (faults.Disconnect(processed=True), HTTPConnectionError, True, None),
    (faults.Timeout("connect"), HTTPTimeoutError, False, "connect"),
    (faults.Timeout("read", processed=True), HTTPTimeoutError, True, "read"),
    (faults.Timeout("total"), HTTPTimeoutError, True, "total"),
    (faults.TruncatedBody(), HTTPProtocolError, True, None),
    (faults.BadContentLength(25), HTTPProtocolError, True, None),
    (faults.BadContentLength(-25), HTTPProtocolError, True, None),
    (faults.StallBody(), HTTPTimeoutError, True, "read"),
    (faults.SlowDrip(100, interval=1.0), HTTPTimeoutError, True, "read"),
    (faults.BlackHole(), HTTPTimeoutError, True, "read"),
    (faults.Latency(3.0), HTTPTimeoutError, True, "read"),
]


@pytest.mark.parametrize(("fault", "error", "sent", "phase"), CATALOG, ids=repr)
async def test_each_fault_over_the_real_transport(
    serve: Serve, fault: faults.Fault, error: type[Exception], sent: bool, phase: str | None
) -> None:
    url = await serve(app())
    clock = Clock()
    inner = AiohttpTransport(CONFIG)
    transport = FaultInjectionTransport(
        inner, faults=[fault], schedule=schedules.First(1), sleep=clock.sleep
    )
    async with HTTPClient(CONFIG, transport=transport) as client:
        with pytest.raises(error) as caught:
            await client.request("GET", url / "items")
        # The connection a body fault damaged is released (and closed, as a
        # real cut-off body would leave it), never leaked.
        assert inner.pool.connection_counts()[1] == 0
        after = await client.request("GET", url / "items")
    assert caught.value.sent is sent  # type: ignore[attr-defined]
    assert getattr(caught.value, "phase", None) == phase
    assert after.content == BODY  # the pool works on after the fault


async def test_body_faults_leave_the_pool_clean_and_status_faults_skip_the_server(
    serve: Serve,
) -> None:
    hits = 0

    async def items(request: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        return web.Response(body=BODY)

    application = web.Application()
    application.router.add_get("/items", items)
    url = await serve(application)
    inner = AiohttpTransport(CONFIG)
    transport = FaultInjectionTransport(inner)
    transport.on("GET", "*/items").inject(faults.Status(503, retry_after=1)).first(1)
    transport.on("GET", "*/items", name="cut").inject(faults.TruncatedBody(after_bytes=5)).first(1)
    async with HTTPClient(CONFIG, transport=transport) as client:
        unavailable = await client.request("GET", url / "items")
        with pytest.raises(HTTPProtocolError, match="received 5 of 400 bytes"):
            await client.request("GET", url / "items")
        fine = await client.request("GET", url / "items")
        idle, in_use = inner.pool.connection_counts()
    assert (unavailable.status, unavailable.headers["Retry-After"]) == (503, "1")
    assert fine.content == BODY
    assert hits == 2  # the 503 never reached the server
    assert in_use == 0
    assert idle <= 1
    assert [event.kind for event in transport.log] == ["status.503", "truncated_body"]


# -- parity with real failures ------------------------------------------------------


async def _real_and_injected(
    url: URL, fault: faults.Fault, config: HTTPClientConfig = CONFIG, method: str = "GET"
) -> tuple[HTTPClientError, HTTPClientError]:
    """The error of a real request to `url`, and of the same request with `fault`
    injected in front of a real transport (the fault answers before any socket)."""
    async with HTTPClient(config) as client:
        with pytest.raises(HTTPClientError) as real:
            await client.request(method, url)
    transport = FaultInjectionTransport(AiohttpTransport(config), faults=[fault])
    async with HTTPClient(config, transport=transport) as client:
        with pytest.raises(HTTPClientError) as injected:
            await client.request(method, url)
    return real.value, injected.value


def _same(real: HTTPClientError, injected: HTTPClientError, *, exact: bool = True) -> None:
    assert type(injected) is type(real)
    assert getattr(injected, "sent", None) == getattr(real, "sent", None)
    assert getattr(injected, "phase", None) == getattr(real, "phase", None)
    assert real.__cause__ is not None
    assert injected.__cause__ is not None
    if exact:
        # A fault that answers before any socket: the real cause is aiohttp's
        # exception, the injected one the plain OS-level exception it stands
        # for, never a transport library's.
        assert type(injected.__cause__).__module__ in {"builtins", "socket", "ssl"}
    if exact:
        assert str(injected) == str(real)


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_matches_a_closed_port() -> None:
    url = URL.build(scheme="http", host="127.0.0.1", port=_closed_port(), path="/items")
    _same(*await _real_and_injected(url, faults.ConnectionRefused()))


async def test_connection_reset_matches_a_server_resetting_after_the_request() -> None:
    async with RawServer(reset_after_request()) as server:
        _same(*await _real_and_injected(server.url / "items", faults.ConnectionReset()))


async def test_disconnect_matches_a_server_closing_without_answering() -> None:
    async def close_silently(conn: RawConnection) -> None:
        if await conn.read_request() is not None:
            conn.close()

    async with RawServer(close_silently) as server:
        _same(*await _real_and_injected(server.url / "items", faults.Disconnect()))


async def test_read_and_total_timeouts_match_a_server_that_never_answers() -> None:
    read_config = HTTPClientConfig(timeouts=TimeoutConfig(read=0.05, total=5.0))
    total_config = HTTPClientConfig(timeouts=TimeoutConfig(read=None, total=0.1))
    async with RawServer(stall()) as server:
        url = server.url / "items"
        _same(*await _real_and_injected(url, faults.Timeout("read"), read_config))
        _same(*await _real_and_injected(url, faults.Timeout("total"), total_config))


async def test_truncated_body_matches_a_server_closing_mid_body(serve: Serve) -> None:
    async with RawServer(truncate(declared=10, sent=b"abc")) as server:
        async with HTTPClient(CONFIG) as client:
            with pytest.raises(HTTPClientError) as real:
                await client.request("GET", server.url / "items")

        async def ten_bytes(request: web.Request) -> web.Response:
            return web.Response(body=b"0123456789")

        application = web.Application()
        application.router.add_get("/items", ten_bytes)
        good = await serve(application)
        transport = FaultInjectionTransport(
            AiohttpTransport(CONFIG), faults=[faults.TruncatedBody(after_bytes=3)]
        )
        async with HTTPClient(CONFIG, transport=transport) as client:
            with pytest.raises(HTTPClientError) as injected:
                await client.request("GET", good / "items")
    real_text = str(real.value).replace(str(server.url), "URL")
    injected_text = str(injected.value).replace(str(good), "URL")
    assert injected_text == real_text
    _same(real.value, injected.value, exact=False)


async def test_bad_content_length_matches_a_body_longer_than_declared() -> None:
    async def overlong(conn: RawConnection) -> None:
        if await conn.read_request() is not None:
            conn.send(b"HTTP/1.1 200 Raw\r\nContent-Length: 3\r\n\r\nabcdefgh")
            await conn.writer.drain()
            await asyncio.Event().wait()

    async with RawServer(overlong) as server:
        real, injected = await _real_and_injected(server.url / "items", faults.BadContentLength(-5))
    _same(real, injected, exact=False)
    assert str(real).startswith(f"The server sent a malformed response to GET {server.url}")
    assert str(injected).startswith(f"The server sent a malformed response to GET {server.url}")


async def test_pool_exhausted_matches_a_full_pool(serve: Serve) -> None:
    config = HTTPClientConfig(
        pool=ConnectionPoolConfig(max_connections=1, max_connections_per_host=1),
        timeouts=TimeoutConfig(pool=0.05, total=5.0),
    )
    release = asyncio.Event()

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"x")
        await release.wait()
        return response

    application = web.Application()
    application.router.add_get("/items", endless)
    url = await serve(application)
    try:
        async with HTTPClient(config) as client, client.stream("GET", url / "items"):
            # The only connection is held by the open stream.
            with pytest.raises(HTTPClientError) as real:
                await client.request("GET", url / "items")
    finally:
        release.set()
    transport = FaultInjectionTransport(AiohttpTransport(config), faults=[faults.PoolExhausted()])
    async with HTTPClient(config, transport=transport) as client:
        with pytest.raises(HTTPClientError) as injected:
            await client.request("GET", url / "items")
    _same(real.value, injected.value, exact=False)
    assert str(injected.value) == str(real.value)


async def test_tls_failure_matches_a_handshake_with_a_plain_http_server(serve: Serve) -> None:
    url = (await serve(app())).with_scheme("https") / "items"
    real, injected = await _real_and_injected(url, faults.TLSFailure())
    _same(real, injected, exact=False)
    assert str(real).startswith(f"TLS handshake failed for GET {url}: ")
    assert str(injected).startswith(f"TLS handshake failed for GET {url}: ")
