"""The demo's streaming part: a download, server-sent events and a size limit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiohttp import web
from yarl import URL

from httpdeck.client import Err, HTTPClient, HTTPResponseTooLargeError, Ok

Row = Callable[[str, str, float], None]
MiB = 1024 * 1024


def add_streaming_routes(app: web.Application) -> None:
    """`/download?mib=N` streams N MiB; `/events?n=N` sends N server-sent events."""

    async def download(request: web.Request) -> web.StreamResponse:
        size = int(request.query.get("mib", "1")) * MiB
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = size
        await response.prepare(request)
        block = bytes(64 * 1024)
        try:
            for _ in range(size // len(block)):
                await response.write(block)
            await response.write_eof()
        except ConnectionError:
            pass  # the client stopped reading (the size-limit row does)
        return response

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b": the stream starts\nretry: 500\n\n")
        for n in range(1, int(request.query.get("n", "5")) + 1):
            await asyncio.sleep(0.01)
            await response.write(f'event: tick\nid: {n}\ndata: {{"n": {n}}}\n\n'.encode())
        await response.write_eof()
        return response

    app.router.add_get("/download", download)
    app.router.add_get("/events", events)


async def streaming_rows(client: HTTPClient, base: URL, row: Row) -> None:
    """Stream 64 MiB, read five events, and hit a response size limit."""
    started = time.perf_counter()
    size = chunks = 0
    async with client.stream("GET", base / "download", params={"mib": 64}) as response:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            chunks += 1
    seconds = time.perf_counter() - started
    row(
        "stream GET /download?mib=64",
        f"Ok {size // MiB} MiB in {chunks} chunks, {size / MiB / seconds:.0f} MiB/s",
        seconds * 1000,
    )

    started = time.perf_counter()
    async with client.sse(base / "events", params={"n": 5}) as events:
        ticks = [event.json()["n"] async for event in events]
    row(
        "sse GET /events?n=5",
        f"{len(ticks)} events {ticks}, last id {events.last_event_id}",
        (time.perf_counter() - started) * 1000,
    )

    started = time.perf_counter()
    result = await client.get(base / "download", params={"mib": 8}, max_response_bytes=MiB)
    match result:
        case Err(HTTPResponseTooLargeError() as error):
            outcome = f"Err HTTPResponseTooLargeError (limit {error.limit // MiB} MiB)"
        case Ok(response):
            outcome = f"Ok {response.status} (the limit did not apply?)"
        case Err(error):
            outcome = f"Err {type(error).__name__}"
    row("GET /download?mib=8 max 1 MiB", outcome, (time.perf_counter() - started) * 1000)
