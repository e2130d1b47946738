"""Streaming without buffering, in both directions."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from rawservers import RawConnection, RawServer, truncate

from conftest import Serve
from httpdeck.client import (
    BaseURLHTTPClient,
    HTTPClient,
    HTTPProtocolError,
    HTTPRedirectError,
    HTTPTransportError,
)

pytestmark = pytest.mark.asyncio

MiB = 1024 * 1024


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def app(step: asyncio.Event) -> web.Application:
    async def chunks(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"first")
        await step.wait()  # the second chunk only once the client has the first
        await response.write(b"second")
        await response.write_eof()
        return response

    async def ndjson(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        text = "".join(json.dumps({"n": n}) + "\n" for n in range(100))
        data = text.encode()
        for start in range(0, len(data), 7):  # lines split across chunks
            await response.write(data[start : start + 7])
        await response.write_eof()
        return response

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"z" * (4 * MiB))

    async def upload(request: web.Request) -> web.Response:
        size = 0
        async for chunk in request.content.iter_any():
            size += len(chunk)
        return web.json_response(
            {"size": size, "chunked": request.headers.get("Transfer-Encoding") == "chunked"}
        )

    async def moved(request: web.Request) -> web.Response:
        await request.read()
        raise web.HTTPTemporaryRedirect("/upload")

    async def form(request: web.Request) -> web.Response:
        fields = await request.post()
        parsed = {
            name: (value.filename, value.content_type, value.file.read().decode())
            if isinstance(value, web.FileField)
            else value
            for name, value in fields.items()
        }
        chunked = request.headers.get("Transfer-Encoding") == "chunked"
        return web.json_response({"fields": parsed, "chunked": chunked})

    application = web.Application()
    application.router.add_post("/form", form)
    application.router.add_get("/chunks", chunks)
    application.router.add_get("/ndjson", ndjson)
    application.router.add_get("/big", big)
    application.router.add_post("/upload", upload)
    application.router.add_post("/moved", moved)
    return application


async def test_chunks_arrive_as_the_server_sends_them(serve: Serve) -> None:
    step = asyncio.Event()
    url = await serve(app(step))
    received: list[bytes] = []
    async with HTTPClient() as client, client.stream("GET", url / "chunks") as response:
        async for chunk in response.aiter_bytes():
            received.append(chunk)
            step.set()  # had the client buffered, it would wait here forever
    assert b"".join(received) == b"firstsecond"
    assert received[0] == b"first"


async def test_ndjson_lines_through_a_base_url_client(serve: Serve) -> None:
    url = await serve(app(asyncio.Event()))
    async with (
        BaseURLHTTPClient(url) as api,
        api.stream("GET", "/ndjson") as response,
    ):
        rows = [json.loads(line) async for line in response.aiter_lines()]
    assert rows == [{"n": n} for n in range(100)]


async def test_aread_inside_the_block_then_content(serve: Serve) -> None:
    url = await serve(app(asyncio.Event()))
    async with HTTPClient() as client:
        async with client.stream("GET", url / "big") as response:
            assert len(await response.aread()) == 4 * MiB
            assert response.content[:3] == b"zzz"
        pool = client.transport.pool  # type: ignore[attr-defined]
        assert pool.connection_counts() == (1, 0)


async def test_leaving_the_block_early_drops_the_connection(serve: Serve) -> None:
    url = await serve(app(asyncio.Event()))
    async with HTTPClient() as client:
        pool = client.transport.pool  # type: ignore[attr-defined]
        async with client.stream("GET", url / "big") as response:
            async for _ in response.aiter_bytes():
                assert pool.connection_counts() == (0, 1)
                break
        # The rest of the body was never read: the connection is closed, not pooled.
        assert pool.connection_counts() == (0, 0)
        # And an explicit aclose() does the same.
        async with client.stream("GET", url / "big") as response:
            await response.aclose()
            assert pool.connection_counts() == (0, 0)


async def one_gibibyte(conn: RawConnection) -> None:
    if await conn.read_request() is None:
        return
    conn.send(f"HTTP/1.1 200 OK\r\nContent-Length: {1024 * MiB}\r\n\r\n".encode())
    block = bytes(MiB)
    for _ in range(1024):
        conn.send(block)
        await conn.writer.drain()


@pytest.mark.slow
async def test_one_gibibyte_streams_with_flat_memory() -> None:
    async with RawServer(one_gibibyte) as server, HTTPClient() as client:
        before = peak = rss()
        total = 0
        async with client.stream("GET", server.url) as response:
            async for chunk in response.aiter_bytes():
                total += len(chunk)
                if total % (64 * MiB) < len(chunk):
                    peak = max(peak, rss())
        peak = max(peak, rss())
    assert total == 1024 * MiB
    # A sanity bound, far below the body: the transfer is not held anywhere.
    assert peak - before < 64 * MiB, f"RSS grew by {(peak - before) / MiB:.0f} MiB"


async def test_a_streamed_request_body_is_sent_chunked(serve: Serve) -> None:
    url = await serve(app(asyncio.Event()))

    async def body() -> AsyncIterator[bytes]:
        for _ in range(64):
            yield b"u" * 16384

    async with HTTPClient() as client:
        response = await client.request("POST", url / "upload", content=body())
    assert response.json() == {"size": 64 * 16384, "chunked": True}


async def test_a_replayable_streamed_body_follows_a_307(serve: Serve) -> None:
    url = await serve(app(asyncio.Event()))

    async def body() -> AsyncIterator[bytes]:
        yield b"a" * 1000
        yield b"b" * 1000

    async with HTTPClient() as client:
        response = await client.request("POST", url / "moved", content=body)
        assert response.json()["size"] == 2000
        with pytest.raises(HTTPRedirectError, match="one-shot stream"):
            await client.request("POST", url / "moved", content=body())


async def test_a_truncated_body_is_a_protocol_error() -> None:
    async with RawServer(truncate(100, b"x" * 40)) as server, HTTPClient() as client:
        with pytest.raises(HTTPProtocolError) as caught:
            await client.request("GET", server.url)
        assert caught.value.sent is True
        received: list[bytes] = []
        with pytest.raises(HTTPTransportError):
            await read_stream(client, server, received)
    assert b"".join(received) == b"x" * 40


async def read_stream(client: HTTPClient, server: RawServer, into: list[bytes]) -> None:
    async with client.stream("GET", server.url) as response:
        async for chunk in response.aiter_bytes():
            into.append(chunk)


async def reset_mid_body(conn: RawConnection) -> None:
    if await conn.read_request() is not None:
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"y" * 10)
        await conn.writer.drain()
        conn.reset()


async def test_a_reset_in_the_middle_of_the_body_is_a_transport_error() -> None:
    async with RawServer(reset_mid_body) as server, HTTPClient() as client:
        received: list[bytes] = []
        with pytest.raises(HTTPTransportError) as caught:
            await read_stream(client, server, received)
        assert client.transport.pool.connection_counts() == (0, 0)  # type: ignore[attr-defined]
    assert caught.value.sent is True


async def test_multipart_with_a_streamed_file_part(serve: Serve) -> None:
    url = await serve(app(asyncio.Event()))

    async def lines() -> AsyncIterator[bytes]:
        for n in range(1000):
            yield f"line {n}\n".encode()

    async with HTTPClient() as client:
        result = await client.post_multipart(
            url / "form",
            [
                ("title", "Ada ✓"),
                ("tag", "a"),
                ("tag", "b"),
                ("log", ("app.log", lines(), "text/plain")),
                ("blob", ("x.bin", b"\x00\x01")),
            ],
        )
    echoed = result.unwrap().json()
    assert echoed["chunked"] is True
    fields = echoed["fields"]
    assert fields["title"] == "Ada ✓"
    assert fields["log"] == ["app.log", "text/plain", "".join(f"line {n}\n" for n in range(1000))]
    assert fields["blob"][:2] == ["x.bin", "application/octet-stream"]
