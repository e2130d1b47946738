"""`httpdeck demo`: the main job end to end, on this machine alone.

1. real requests over a pooled client to an aiohttp.web server on 127.0.0.1;
2. the same kind of calls recorded into a cassette (secrets redacted);
3. the cassette replayed with the server stopped;
4. a seeded chaos run through a retry policy and a circuit breaker
   (`_demo_chaos`), with a progress bar;
5. a summary table.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from aiohttp import web
from yarl import URL

from httpdeck._demo_cassette import record, replay
from httpdeck._demo_chaos import REQUESTS, run_chaos
from httpdeck._demo_report import Style, section, table
from httpdeck._demo_streaming import add_streaming_routes, streaming_rows
from httpdeck.client import (
    ConnectionPoolConfig,
    Err,
    HTTPClient,
    HTTPClientConfig,
    HTTPClientError,
    HttpResponse,
    HTTPStatusError,
    Ok,
    Result,
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


Rows = list[list[str]]


def _timed_row(rows: Rows) -> Callable[[str, str, float], None]:
    def row(what: str, outcome: str, ms: float) -> None:
        rows.append([what, outcome, f"{ms:.1f} ms"])

    return row


def _describe(result: Result[HttpResponse, HTTPClientError]) -> str:
    match result:
        case Ok(response):
            return f"Ok {response.status} {response.text()[:36]}"
        case Err(HTTPStatusError() as error):
            return f"Err HTTPStatusError {error.status}"
        case Err(error):
            return f"Err {type(error).__name__}"
    return repr(result)  # pragma: no cover - Result is Ok or Err


async def real_requests(out: TextIO, client: HTTPClient, base: URL) -> float:
    """Part 1: single calls, 200 concurrent ones over a pool of 10, streams."""
    rows: Rows = []
    row = _timed_row(rows)
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
    first = time.perf_counter()
    for what, call in calls:
        started = time.perf_counter()
        result = await call
        row(what, _describe(result), (time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    results = await asyncio.gather(*(client.get(base / "users") for _ in range(200)))
    ok = sum(result.is_ok() for result in results)
    row(
        "200 concurrent GET /users",
        f"{ok} Ok over a pool of 10 connections",
        (time.perf_counter() - started) * 1000,
    )
    await streaming_rows(client, base, row)
    out.write(table(["request", "outcome", "time"], rows, align="llr") + "\n")
    return (time.perf_counter() - first) * 1000


async def run(out: TextIO) -> int:
    """The demo: real requests, a cassette recorded and replayed, a chaos run, a summary."""
    style = Style(out)
    out.write(
        style.bold("httpdeck demo") + ": the whole job on this machine (only 127.0.0.1 is used)\n"
    )
    config = HTTPClientConfig(
        pool=ConnectionPoolConfig(max_connections=10),
        timeouts=TimeoutConfig(connect=2.0, total=5.0),
    )
    summary: Rows = []
    with tempfile.TemporaryDirectory(prefix="httpdeck-demo-") as folder:
        cassette_path = Path(folder) / "demo.yaml"
        async with LocalServer(demo_app()) as server:
            section(out, 1, f"Real requests: aiohttp.web on {server.url}, one pooled client")
            async with HTTPClient(config) as client:
                ms = await real_requests(out, client, server.url)
            summary.append(["real requests", "single calls, 200 concurrent, streams", _ms(ms)])

            section(out, 2, "Record: the same kind of calls, into a cassette")
            recorded, ms = await record(out, server.url, cassette_path, config)
            summary.append(["record", f"{len(recorded)} interactions, secrets redacted", _ms(ms)])
            base = server.url
        section(out, 3, "Replay: the server is stopped, the cassette answers")
        played, identical, ms = await replay(out, base, cassette_path, config, recorded)
        same = "identical to the recording" if identical else "DIFFERENT from the recording"
        summary.append(["replay", f"{played} replayed with no server, {same}", _ms(ms)])

    async with LocalServer(demo_app()) as server:
        section(out, 4, "Chaos: a seeded fault scenario through retries and a circuit breaker")
        chaos = await run_chaos(out, server.url, config)
    report = chaos.report
    summary.append(
        [
            "chaos",
            f"{REQUESTS} requests, {report.retries} retries, {report.fault_total} faults: "
            f"{chaos.ok} ok, {chaos.refused} refused by the breaker, {chaos.gave_up} gave up",
            _ms(chaos.ms),
        ]
    )
    section(out, 5, "Summary")
    out.write(table(["part", "what happened", "time"], summary, align="llr") + "\n")
    healthy = identical and bool(report.transitions) and report.transitions[-1].new == "closed"
    out.write(
        "\n" + (style.green("done.") if healthy else style.red("done, with surprises.")) + "\n"
    )
    return 0 if healthy else 1


def _ms(ms: float) -> str:
    return f"{ms:,.0f} ms"
