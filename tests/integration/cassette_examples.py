"""The project's example cassettes (top-level `cassettes/`): the server they were
recorded against, the calls they hold, and the code that records them.

Re-record them with `.venv/bin/python tests/integration/cassette_examples.py`.
They are recorded against a local aiohttp.web server, stored under the stable
host `api.example.test` (a `before_record_request` hook rewrites 127.0.0.1:<port>),
and replayed by tests and the docs without any server.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from aiohttp import web
from yarl import URL

from httpdeck.client import HTTPClient, RetryPolicy
from httpdeck.testing import CassetteRequest, use_cassette
from httpdeck.testing._server import LocalServer

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
HOST = URL("http://api.example.test")
TOKEN = "example-token-0123456789"
EVENTS = [b"event: tick\ndata: 1\n\n", b"event: tick\ndata: 2\n\n", b"event: done\ndata: {}\n\n"]


def stable_host(request: CassetteRequest) -> CassetteRequest:
    """Store requests to the local stand-in under `api.example.test`."""
    url = request.url
    if url.host == "127.0.0.1":
        request.uri = str(url.with_host(HOST.host or "").with_port(None))
    return request


def app() -> web.Application:
    application = web.Application()
    users = {1: {"id": 1, "name": "Ann", "email": "ann@example.com"}}
    attempts = {"flaky": 0}

    async def list_users(request: web.Request) -> web.Response:
        page = int(request.query.get("page", "1"))
        return web.json_response({"page": page, "users": list(users.values()) if page == 1 else []})

    async def get_user(request: web.Request) -> web.Response:
        user = users.get(int(request.match_info["id"]))
        if user is None:
            return web.json_response({"error": "no such user"}, status=404)
        return web.json_response(user)

    async def create_user(request: web.Request) -> web.Response:
        body = await request.json()
        user = {"id": len(users) + 1, **body}
        users[user["id"]] = user
        return web.json_response(user, status=201)

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for event in EVENTS:
            await response.write(event)
            await asyncio.sleep(0.05)
        return response

    async def flaky(request: web.Request) -> web.Response:
        attempts["flaky"] += 1
        if attempts["flaky"] == 1:
            return web.json_response({"error": "busy"}, status=503, headers={"Retry-After": "0"})
        return web.json_response({"status": "ok", "attempt": attempts["flaky"]})

    application.router.add_get("/users", list_users)
    application.router.add_get("/users/{id}", get_user)
    application.router.add_post("/users", create_user)
    application.router.add_get("/events", events)
    application.router.add_get("/flaky", flaky)
    return application


async def users_calls(client: HTTPClient, base: URL) -> list[Any]:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    listed = await client.request("GET", base / "users", params={"page": 1}, headers=auth)
    one = await client.request("GET", base / "users/1", headers=auth)
    missing = await client.request("GET", base / "users/99", headers=auth)
    created = await client.request(
        "POST", base / "users", json={"name": "Bob", "email": "bob@example.com"}, headers=auth
    )
    return [(r.status, r.json()) for r in (listed, one, missing, created)]


async def events_calls(client: HTTPClient, base: URL) -> list[bytes]:
    async with client.stream("GET", base / "events") as response:
        return [chunk async for chunk in response.aiter_bytes()]


async def flaky_calls(client: HTTPClient, base: URL) -> Any:
    return (await client.request("GET", base / "flaky")).json()


def retry_policy() -> RetryPolicy:
    async def no_wait(delay: float) -> None:
        return None

    return RetryPolicy(max_attempts=3, base_delay=0.0, jitter=0.0, sleep=no_wait, budget_ratio=None)


async def record_examples(directory: Path) -> None:
    """Record every example cassette into `directory` (rewriting them)."""
    async with LocalServer(app()) as server:
        base = server.url
        async with HTTPClient(retry_policy=retry_policy()) as client:
            for name, calls in (
                ("users", users_calls),
                ("events", events_calls),
                ("flaky", flaky_calls),
            ):
                async with use_cassette(
                    client,
                    directory / f"{name}.yaml",
                    record_mode="rewrite",
                    before_record_request=stable_host,
                    cache_dir=False,
                ):
                    await calls(client, base)


if __name__ == "__main__":
    asyncio.run(record_examples(Path(sys.argv[1]) if len(sys.argv) > 1 else CASSETTES))
    print(f"recorded the example cassettes into {CASSETTES}")
