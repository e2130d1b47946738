"""The world the documentation's examples run in: example hosts served from 127.0.0.1.

The docs call `https://api.example.com/users` and friends, as docs do. While
`DocsWorld` is installed, a request from httpdeck's real transport
(`AiohttpTransport`) to an example host (`example.com`, `example.org`,
`example.test`, `api.test` and their subdomains) is sent to a local
aiohttp.web server instead, with its path, query, headers and body intact
(the `Host` header keeps the example name); the response reports the URL the
example asked for. Everything else runs unchanged: the pool, the
interceptors, retries, redirects.

Nothing may leave the machine: a request to any other host that is not on
127.0.0.1 fails with `HTTPConnectionError`, and as a backstop, name lookups
and socket connections to anything but loopback raise `PermissionError`.

Used by tests/test_docs_examples.py in process, and by the pytest projects it
generates for the docs' test-module examples (through `pytest_plugin`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import json
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from httpdeck.client import AiohttpTransport, HTTPConnectionError, HttpResponse, Request
from httpdeck.testing._server import LocalServer

FLAKY_CALLS = web.AppKey("flaky_calls", list[str])
EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net", "example.test", "api.test")
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1"}

USERS = [
    {"id": 1, "name": "Ann", "email": "ann@example.com"},
    {"id": 2, "name": "Bob", "email": "bob@example.com"},
]
EVENTS = [
    b"retry: 10\nid: 1\nevent: tick\ndata: 1\n\n",
    b"id: 2\nevent: tick\ndata: 2\n\n",
    b"id: 3\nevent: done\ndata: {}\n\n",
]


def is_example_host(host: str | None) -> bool:
    host = (host or "").lower().rstrip(".")
    return any(host == domain or host.endswith("." + domain) for domain in EXAMPLE_DOMAINS)


def is_loopback(host: str | None) -> bool:
    host = (host or "").strip("[]").lower()
    if host in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- the example API ---------------------------------------------------------


async def _users(request: web.Request) -> web.Response:
    if request.method == "POST":
        body = await request.json() if request.can_read_body else {}
        return web.json_response({"id": 3, **body}, status=201)
    return web.json_response(USERS)


async def _user(request: web.Request) -> web.Response:
    user_id = int(request.match_info["id"])
    for user in USERS:
        if user["id"] == user_id:
            return web.json_response(user)
    return web.json_response({"error": "no such user"}, status=404)


async def _events(request: web.Request) -> web.StreamResponse:
    """Three events with ids; a client resuming after the last one gets 204 (the end)."""
    if request.headers.get("Last-Event-ID") == "3":
        return web.Response(status=204)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for event in EVENTS:
        await response.write(event)
    await response.write_eof()
    return response


async def _ndjson(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    for user in USERS:
        await response.write(json.dumps(user).encode() + b"\n")
    await response.write_eof()
    return response


async def _download(request: web.Request) -> web.Response:
    return web.Response(body=b"\x00" * 65536, content_type="application/octet-stream")


async def _forecast(request: web.Request) -> web.Response:
    return web.json_response({"city": request.query.get("city"), "summary": "snow"})


async def _status(request: web.Request) -> web.Response:
    return web.json_response(
        {"status": int(request.match_info["code"])}, status=int(request.match_info["code"])
    )


async def _redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound(location=request.query.get("to", "/users"))


async def _flaky(request: web.Request) -> web.Response:
    """503 on odd calls, 200 on even ones: a retry always gets through."""
    calls = request.app[FLAKY_CALLS]
    calls.append(request.path)
    if len(calls) % 2:
        return web.json_response({"error": "try again"}, status=503)
    return web.json_response({"ok": True})


async def _loop(request: web.Request) -> web.Response:
    raise web.HTTPFound(location="/loop")


async def _anything(request: web.Request) -> web.Response:
    """Every other path answers 200 with what it received."""
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "host": request.host,
            "path": request.path,
            "query": dict(request.query),
            "headers": dict(request.headers),
            "body_bytes": len(body),
        }
    )


def example_app() -> web.Application:
    """The API every example host plays."""
    app = web.Application()
    app.router.add_route("*", "/users", _users)
    app.router.add_route("*", "/v1/users", _users)
    app.router.add_get("/users/{id:\\d+}", _user)
    app.router.add_get("/v1/users/{id:\\d+}", _user)
    app.router.add_get("/events", _events)
    app.router.add_get("/exports/users", _ndjson)
    app.router.add_get("/v1/exports/users", _ndjson)
    app.router.add_get("/big.tar", _download)
    app.router.add_get("/forecast", _forecast)
    app.router.add_get("/status/{code:\\d+}", _status)
    app.router.add_get("/redirect", _redirect)
    app.router.add_get("/loop", _loop)
    app.router.add_route("*", "/flaky", _flaky)
    app[FLAKY_CALLS] = []
    app.router.add_route("*", "/{tail:.*}", _anything)
    return app


# -- routing example hosts to the local server ------------------------------


class DocsWorld:
    """A local server that plays every example host, and a guard for everything else."""

    def __init__(self) -> None:
        self.server = LocalServer(example_app())
        self.sent: list[URL] = []  # the example URLs served locally, in order

    @property
    def url(self) -> URL:
        return self.server.url

    def local_url(self, url: URL) -> URL:
        return URL.build(
            scheme="http",
            host="127.0.0.1",
            port=self.server.port,
            path=url.raw_path or "/",
            query_string=url.raw_query_string,
            encoded=True,
        )

    @contextmanager
    def installed(self) -> Iterator[DocsWorld]:
        """Route example hosts to the server and refuse the rest, for the block."""
        world = self
        real_send = AiohttpTransport.send

        async def send(transport: AiohttpTransport, request: Request) -> HttpResponse:
            url = request.url
            if is_example_host(url.host):
                headers = CIMultiDict(request.headers)
                headers["Host"] = url.raw_authority
                local = dataclasses.replace(request, url=world.local_url(url), headers=headers)
                world.sent.append(url)
                response = await real_send(transport, local)
                response.url = url
                response.request = request
                return response
            if not is_loopback(url.host) and transport.pool.url_safety is None:
                msg = (
                    f"The docs' examples may only reach 127.0.0.1 and the example hosts "
                    f"({', '.join(EXAMPLE_DOMAINS)}); {request.method} {url} goes elsewhere."
                )
                raise HTTPConnectionError(msg, request=request, sent=False)
            return await real_send(transport, request)

        with _loopback_only():
            AiohttpTransport.send = send  # type: ignore[method-assign]
            try:
                yield self
            finally:
                AiohttpTransport.send = real_send  # type: ignore[method-assign]

    @asynccontextmanager
    async def running(self) -> AsyncIterator[DocsWorld]:
        async with self.server:
            with self.installed():
                yield self


@contextmanager
def _loopback_only() -> Iterator[None]:
    """The backstop: no name lookup or socket connection beyond loopback."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and not is_loopback(str(name)):
            msg = f"The docs' examples may not look up {name!r}: only 127.0.0.1 is reachable."
            raise PermissionError(msg)
        return real_getaddrinfo(host, *args, **kwargs)

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(str(address[0])):
            msg = f"The docs' examples may not connect to {address[0]}: only 127.0.0.1."
            raise PermissionError(msg)

    def connect(sock: socket.socket, address: Any) -> Any:
        check(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> Any:
        check(sock, address)
        return real_connect_ex(sock, address)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.getaddrinfo = real_getaddrinfo
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]


# -- for generated pytest projects (the docs' test-module examples) ---------


class WorldPlugin:
    """A pytest plugin: the world runs for each test (its own server, in the test's loop)."""

    def pytest_runtest_setup(self, item: Any) -> None:
        self._world = DocsWorld()
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._world.server.start())
        self._installed = self._world.installed()
        self._installed.__enter__()
        # the server's loop runs in a thread, so tests in their own loops can reach it
        import threading

        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def pytest_runtest_teardown(self, item: Any) -> None:
        self._installed.__exit__(None, None, None)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.run_until_complete(self._world.server.stop())
        self._loop.close()
