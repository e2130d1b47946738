"""`httpdeck demo`: the main job end to end, on this machine alone."""

from __future__ import annotations

import asyncio
import time
from typing import TextIO

from aiohttp import web

from httpdeck._demo_streaming import add_streaming_routes, streaming_rows
from httpdeck.client import (
    ConnectionPoolConfig,
    Err,
    HTTPClient,
    HTTPClientConfig,
    HTTPConnectionError,
    HTTPStatusError,
    Ok,
    TimeoutConfig,
)
from httpdeck.testing._server import LocalServer


def demo_app() -> web.Application:
    """A small JSON API (users, a slow endpoint), a download and an event stream."""
    users = {1: {"id": 1, "name": "Ada"}, 2: {"id": 2, "name": "Grace"}}

    async def list_users(request: web.Request) -> web.Response:
        return web.json_response(list(users.values()))

    async def get_user(request: web.Request) -> web.Response:
        user = users.get(int(request.match_info["id"]))
        if user is None:
            return web.json_response({"error": "no such user"}, status=404)
        return web.json_response(user)

    async def create_user(request: web.Request) -> web.Response:
        body = await request.json()
        user = {"id": max(users) + 1, "name": body["name"]}
        users[user["id"]] = user
        return web.json_response(user, status=201)

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query.get("seconds", "1")))
        return web.json_response({"slept": True})

    app = web.Application()
    app.router.add_get("/users", list_users)
    app.router.add_get("/users/{id}", get_user)
    app.router.add_post("/users", create_user)
    app.router.add_get("/slow", slow)
    add_streaming_routes(app)
    return app


def _row(out: TextIO, what: str, outcome: str, ms: float) -> None:
    out.write(f"  {what:<38} {outcome:<44} {ms:7.1f} ms\n")


async def run(out: TextIO) -> int:
    out.write("httpdeck demo: a real aiohttp.web server on 127.0.0.1, a real pooled client\n\n")
    config = HTTPClientConfig(
        pool=ConnectionPoolConfig(max_connections=10),
        timeouts=TimeoutConfig(connect=2.0, total=5.0),
    )
    async with LocalServer(demo_app()) as server, HTTPClient(config) as client:
        out.write(f"server: {server.url}\n\n  {'request':<38} {'outcome':<44} {'time':>10}\n")
        base = server.url
        calls = [
            ("GET /users", client.get(base / "users")),
            ("GET /users/1", client.get(base / "users" / "1")),
            ("POST /users", client.post(base / "users", json={"name": "Linus"})),
            ("GET /users/99 (missing)", client.get(base / "users" / "99")),
            (
                "GET /slow?seconds=1 timeout=0.2",
                client.get(base / "slow", params={"seconds": 1}, timeout=0.2),
            ),
        ]
        for what, call in calls:
            started = time.perf_counter()
            result = await call
            ms = (time.perf_counter() - started) * 1000
            match result:
                case Ok(response):
                    _row(out, what, f"Ok {response.status} {response.text()[:36]}", ms)
                case Err(HTTPStatusError() as error):
                    _row(out, what, f"Err HTTPStatusError {error.status}", ms)
                case Err(error):
                    _row(out, what, f"Err {type(error).__name__}", ms)

        started = time.perf_counter()
        results = await asyncio.gather(*(client.get(base / "users") for _ in range(200)))
        ok = sum(result.is_ok() for result in results)
        _row(
            out,
            "200 concurrent GET /users",
            f"{ok} Ok over a pool of 10 connections",
            (time.perf_counter() - started) * 1000,
        )
        await streaming_rows(client, base, lambda what, outcome, ms: _row(out, what, outcome, ms))

        port = server.port
    async with HTTPClient(config) as client:
        started = time.perf_counter()
        result = await client.get(f"http://127.0.0.1:{port}/users")
        ms = (time.perf_counter() - started) * 1000
        refused = isinstance(result, Err) and isinstance(result.error, HTTPConnectionError)
        _row(
            out,
            "GET after the server stopped",
            "Err HTTPConnectionError (refused)" if refused else repr(result),
            ms,
        )
    out.write("\ndone.\n")
    return 0
