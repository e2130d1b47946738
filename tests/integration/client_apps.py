"""aiohttp.web apps for the client's integration tests, and what they observed.

`Observed` is the server's own account of the traffic: the connections it
accepted (by peer address), the requests in flight and the most that ever
were, so tests about pooling and keep-alive never trust the client's word.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from yarl import URL

__all__ = ["Observed", "echo_app", "proxy_app", "refused_url"]


@dataclass
class Observed:
    """What the server saw. `gate`, when set, holds `/gate` requests until it opens."""

    peers: list[tuple[str, int]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    gate: asyncio.Event | None = None
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def connections(self) -> int:
        """Distinct TCP connections that carried at least one request."""
        return len(set(self.peers))

    async def wait_in_flight(self, count: int) -> None:
        """Wait until `count` requests are inside `/gate` at once."""
        async with self.arrived:
            await self.arrived.wait_for(lambda: self.in_flight >= count)


def _peer(request: web.Request) -> tuple[str, int]:
    assert request.transport is not None
    host, port = request.transport.get_extra_info("peername")[:2]
    return host, port


async def _describe(request: web.Request) -> dict[str, Any]:
    body = await request.read()
    return {
        "method": request.method,
        "path": request.path,
        "raw_path": request.raw_path,
        "query": [[k, v] for k, v in request.query.items()],
        "headers": {k.lower(): v for k, v in request.headers.items()},
        "header_lists": {k.lower(): request.headers.getall(k) for k in set(request.headers.keys())},
        "body": body.decode("utf-8", errors="replace"),
        "body_length": len(body),
        "cookies": dict(request.cookies),
        "chunked": request.headers.get("Transfer-Encoding", "").lower() == "chunked",
    }


def echo_app(observed: Observed | None = None) -> web.Application:
    """Echo, status, gzip, cookies, slow and gated endpoints, redirects and auth checks."""
    seen = observed if observed is not None else Observed()

    @web.middleware
    async def observe(request: web.Request, handler: Any) -> web.StreamResponse:
        seen.peers.append(_peer(request))
        return await handler(request)  # type: ignore[no-any-return]

    async def echo(request: web.Request) -> web.Response:
        described = await _describe(request)
        seen.requests.append(described)
        return web.json_response(described, headers={"X-Method": request.method})

    async def status(request: web.Request) -> web.Response:
        code = int(request.match_info["code"])
        return web.Response(status=code, text=f"status {code}")

    async def gzipped(request: web.Request) -> web.Response:
        body = gzip.compress(json.dumps({"compressed": True, "pad": "x" * 2000}).encode())
        return web.Response(
            body=body, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
        )

    async def set_cookie(request: web.Request) -> web.Response:
        response = web.Response(text="set")
        response.set_cookie("theme", "dark")
        return response

    # Slow handlers wait for the server to stop (aiohttp would otherwise wait up
    # to its 60 s shutdown timeout for them), never on a clock.
    stopping = asyncio.Event()

    async def release(app: web.Application) -> None:
        stopping.set()
        if seen.gate is not None:
            seen.gate.set()

    async def forever(request: web.Request) -> web.Response:
        await stopping.wait()
        return web.Response(status=503, text="server stopping")

    async def stall_body(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "100"})
        await response.prepare(request)
        await response.write(b"x" * 10)
        await stopping.wait()
        return response

    async def gate(request: web.Request) -> web.Response:
        async with seen.arrived:
            seen.in_flight += 1
            seen.max_in_flight = max(seen.max_in_flight, seen.in_flight)
            seen.arrived.notify_all()
        try:
            if seen.gate is not None:
                await seen.gate.wait()
            return web.Response(text="through")
        finally:
            seen.in_flight -= 1

    async def redirect(request: web.Request) -> web.Response:
        hops = int(request.match_info["hops"])
        if hops == 0:
            return await echo(request)
        status = int(request.query.get("status", "302"))
        location = f"/redirect/{hops - 1}?status={status}"
        raise web.HTTPFound(location) if status == 302 else _redirect(status, location)

    def _redirect(status: int, location: str) -> web.HTTPException:
        classes = {
            301: web.HTTPMovedPermanently,
            303: web.HTTPSeeOther,
            307: web.HTTPTemporaryRedirect,
            308: web.HTTPPermanentRedirect,
        }
        return classes[status](location)

    app = web.Application(middlewares=[observe])
    app.on_shutdown.append(release)
    app.router.add_route("*", "/echo{tail:.*}", echo)
    app.router.add_route("*", "/status/{code}", status)
    app.router.add_get("/gzip", gzipped)
    app.router.add_get("/set-cookie", set_cookie)
    app.router.add_get("/forever", forever)
    app.router.add_get("/stall-body", stall_body)
    app.router.add_get("/gate", gate)
    app.router.add_route("*", "/redirect/{hops}", redirect)
    return app


def proxy_app(name: str, observed: Observed) -> web.Application:
    """A forward proxy that answers every request itself, naming itself.

    A request that came through a proxy has an absolute-form target
    (`GET http://host/path HTTP/1.1`), which aiohttp keeps in `raw_path`.
    """

    async def answer(request: web.Request) -> web.Response:
        observed.requests.append({"target": request.raw_path, "proxy": name})
        return web.json_response({"via": name, "target": request.raw_path})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


@contextmanager
def refused_url() -> Iterator[URL]:
    """A URL on 127.0.0.1 whose port is bound but not listening: connecting is refused.

    The socket stays bound for the block, so no other test can take the port.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        yield URL.build(scheme="http", host="127.0.0.1", port=port, path="/nothing")
    finally:
        sock.close()
