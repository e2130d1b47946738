"""--httpdeck-block-network: httpdeck's client and raw sockets, hosts by name and address.

Only loopback addresses are contacted: the "forbidden" host is a server on
127.0.0.2, which the tests prove never sees a connection.
"""

from __future__ import annotations

import pytest
from plugin_project import Project

CONFTEST = """
    import asyncio

    import pytest
    import pytest_asyncio
    from aiohttp import web

    class Counting:
        def __init__(self):
            self.connections = 0

        async def handle(self, reader, writer):
            self.connections += 1
            await reader.readuntil(b"\\r\\n\\r\\n")
            writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nok")
            await writer.drain()
            writer.close()

    @pytest_asyncio.fixture
    async def forbidden():
        # An HTTP server on 127.0.0.2, an address no test allows.
        counting = Counting()
        server = await asyncio.start_server(counting.handle, "127.0.0.2", 0)
        counting.port = server.sockets[0].getsockname()[1]
        yield counting
        server.close()
        await server.wait_closed()

    def make_app():
        async def hello(request):
            return web.Response(text="hello")

        app = web.Application()
        app.router.add_get("/", hello)
        return app

    @pytest.fixture
    def httpdeck_app():
        return make_app()
"""

TESTS = """
    import asyncio
    import socket

    import aiohttp
    import httpx
    import pytest

    from httpdeck import HTTPConnectionError
    from httpdeck.testing.plugin._network import NetworkBlockedError
    from httpdeck.testing._server import LocalServer
    from conftest import make_app

    pytestmark = pytest.mark.asyncio

    async def test_httpdeck_client_gets_its_own_connection_error(httpdeck_client, forbidden):
        url = f"http://127.0.0.2:{forbidden.port}/users"
        error = (await httpdeck_client.get(url)).unwrap_err()
        assert isinstance(error, HTTPConnectionError)
        assert error.sent is False
        assert error.request.url.host == "127.0.0.2"
        print("CLIENT:", error)
        assert forbidden.connections == 0

    async def test_raw_sockets_of_other_libraries_are_blocked(forbidden):
        with pytest.raises(NetworkBlockedError) as caught:
            socket.create_connection(("127.0.0.2", forbidden.port))
        assert isinstance(caught.value, PermissionError)
        with pytest.raises(OSError, match="httpdeck blocked a connection to 127.0.0.2"):
            await asyncio.open_connection("127.0.0.2", forbidden.port)
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientConnectorError, match="httpdeck blocked"):
                await session.get(f"http://127.0.0.2:{forbidden.port}/")
        assert forbidden.connections == 0

    @pytest.mark.parametrize("host", ["127.0.0.2", "localhost"])
    async def test_other_clients_errors_carry_the_block_message(forbidden, host):
        url = f"http://{host}:{forbidden.port}/users"
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientConnectorError) as aio:
                await session.get(url)
        async with httpx.AsyncClient() as client:
            with pytest.raises(httpx.ConnectError) as hx:
                await client.get(url)
        for error in (aio.value, hx.value):
            text = str(error)
            assert "httpdeck blocked a connection to" in text, text
            assert "--httpdeck-block-network" in text, text
            assert "add the host to --httpdeck-allow-hosts" in text, text
            assert "@pytest.mark.httpdeck_block_network(allow_hosts=[...])" in text, text
        assert forbidden.connections == 0

    @pytest.mark.httpdeck_block_network(allow_hosts=["localhost"])
    async def test_allowing_localhost_allows_its_address(httpdeck_client):
        async with LocalServer(make_app()) as server:
            for host in ("127.0.0.1", "localhost"):
                url = f"http://{host}:{server.port}/"
                assert (await httpdeck_client.get(url)).unwrap().text() == "hello"

    @pytest.mark.httpdeck_block_network(allow_hosts=["127.0.0.1"])
    async def test_allowing_an_address_allows_names_that_resolve_to_it(httpdeck_client):
        async with LocalServer(make_app()) as server:
            url = f"http://localhost:{server.port}/"
            assert (await httpdeck_client.get(url)).unwrap().text() == "hello"

    async def test_the_plugins_own_server_is_always_reachable(httpdeck_client, httpdeck_server):
        assert (await httpdeck_client.get(httpdeck_server.url)).unwrap().text() == "hello"

    async def test_the_command_line_allows_hosts():
        # The run passes --httpdeck-allow-hosts=127.0.0.3.
        server = await asyncio.start_server(lambda reader, writer: writer.close(), "127.0.0.3", 0)
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.3", port)
        writer.close()
        server.close()
        await server.wait_closed()

    @pytest.mark.httpdeck_block_network(False)
    async def test_a_marker_turns_blocking_off(httpdeck_client, forbidden):
        url = f"http://127.0.0.2:{forbidden.port}/"
        assert (await httpdeck_client.get(url)).unwrap().text() == "ok"
        assert forbidden.connections == 1

    @pytest.mark.httpdeck_block_network(False)
    async def test_blocking_is_undone_after_each_test():
        assert "connect" not in vars(socket.socket)
"""


def test_block_network_blocks_real_connections_to_hosts_not_allowed(
    pytester: pytest.Pytester,
) -> None:
    project = Project(pytester)
    project.conftest(CONFTEST)
    project.tests(TESTS)
    result = project.run("-s", "--httpdeck-block-network", "--httpdeck-allow-hosts=127.0.0.3")
    result.assert_outcomes(passed=10)
    result.stdout.fnmatch_lines(
        [
            "*CLIENT: httpdeck blocked GET http://127.0.0.2:*/users: the network is blocked for "
            "this test (--httpdeck-block-network) and 127.0.0.2 is not an allowed host "
            "(allowed: 127.0.0.3). To let the test reach it, add the host to "
            "--httpdeck-allow-hosts (ini: httpdeck_allow_hosts) or mark the test "
            # fnmatch: [[] and []] are a literal [ and ].
            "@pytest.mark.httpdeck_block_network(allow_hosts=[[]...[]]); to test without the "
            "network, record a cassette once (the httpdeck_cassette fixture with "
            "--httpdeck-record-mode=once) and replay it.",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*= httpdeck =*",
            "blocked connections: *",
            "  test_generated.py::test_httpdeck_client_gets_its_own_connection_error -> "
            "127.0.0.2:*",
            "  test_generated.py::test_raw_sockets_of_other_libraries_are_blocked -> 127.0.0.2:*",
            "  test_generated.py::test_raw_sockets_of_other_libraries_are_blocked -> 127.0.0.2:*",
            "  test_generated.py::test_raw_sockets_of_other_libraries_are_blocked -> 127.0.0.2:*",
        ]
    )
