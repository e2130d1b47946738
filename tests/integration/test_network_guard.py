"""NetworkGuard (what --httpdeck-block-network installs), against real loopback servers.

The "forbidden" server listens on 127.0.0.2; the tests prove it never sees a
connection while the guard is active.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web

from conftest import Serve
from httpdeck import HTTPClient, HTTPClientConfig, HTTPConnectionError
from httpdeck.client._transports import _common as transport_module
from httpdeck.testing.plugin._network import (
    BlockedAttempt,
    HostPolicy,
    NetworkBlockedError,
    NetworkGuard,
)

pytestmark = pytest.mark.asyncio


class Forbidden:
    def __init__(self) -> None:
        self.connections = 0
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.close()


@pytest_asyncio.fixture
async def forbidden() -> AsyncIterator[Forbidden]:
    counting = Forbidden()
    server = await asyncio.start_server(counting.handle, "127.0.0.2", 0)
    counting.port = server.sockets[0].getsockname()[1]
    yield counting
    server.close()
    await server.wait_closed()


def hello_app() -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    app = web.Application()
    app.router.add_get("/", hello)
    return app


async def test_client_requests_to_blocked_hosts_fail_before_any_connection(
    serve: Serve, forbidden: Forbidden
) -> None:
    url = await serve(hello_app())
    seen: list[BlockedAttempt] = []
    guard = NetworkGuard(HostPolicy([("localhost", None)]), on_block=seen.append)
    async with HTTPClient() as client:
        with guard.active():
            assert transport_module.connect_guard is not None
            allowed = await client.get(url)
            blocked = await client.get(f"http://127.0.0.2:{forbidden.port}/x")
        after = transport_module.connect_guard
    assert allowed.unwrap().text() == "hello"
    error = blocked.unwrap_err()
    assert isinstance(error, HTTPConnectionError)
    assert error.sent is False
    assert str(error).startswith(
        f"httpdeck blocked GET http://127.0.0.2:{forbidden.port}/x: the network is blocked "
        "for this test (--httpdeck-block-network) and 127.0.0.2 is not an allowed host "
        "(allowed: localhost)."
    )
    assert seen == [BlockedAttempt("127.0.0.2", forbidden.port, "httpdeck")]
    assert guard.blocked == seen
    assert forbidden.connections == 0
    assert after is None


async def test_a_proxy_is_checked_in_place_of_the_host_it_reaches(serve: Serve) -> None:
    url = await serve(hello_app())
    guard = NetworkGuard(HostPolicy([("127.0.0.1", None)]))
    config = HTTPClientConfig(proxy="http://127.0.0.3:3128")
    async with HTTPClient(config) as client:
        with guard.active():
            error = (await client.get(url)).unwrap_err()
    assert isinstance(error, HTTPConnectionError)
    assert str(error).startswith(
        f"httpdeck blocked GET {url} (through proxy http://127.0.0.3:3128): the network is "
        "blocked for this test (--httpdeck-block-network) and 127.0.0.3 is not an allowed host"
    )


async def test_raw_sockets_are_blocked_and_restored(forbidden: Forbidden) -> None:
    guard = NetworkGuard(HostPolicy())
    address = ("127.0.0.2", forbidden.port)
    # Restored means exactly what was there before: another plugin in the same
    # session (pytest-recording's --block-network) may leave its own assignment.
    before = {name: vars(socket.socket).get(name) for name in ("connect", "connect_ex")}
    with guard.active():
        with pytest.raises(NetworkBlockedError) as caught:
            socket.create_connection(address)
        probe = socket.socket()
        with pytest.raises(NetworkBlockedError):
            probe.connect_ex(address)
        probe.close()
        with pytest.raises(NetworkBlockedError):
            await asyncio.open_connection(*address)
        left, right = socket.socketpair()  # unix sockets are never blocked
        left.close()
        right.close()
    assert caught.value.errno is not None
    assert (caught.value.host, caught.value.port) == address
    assert {name: vars(socket.socket).get(name) for name in before} == before
    assert forbidden.connections == 0
    # Without the guard the same connection goes through.
    with socket.create_connection(address):
        pass
