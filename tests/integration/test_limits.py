"""max_response_bytes: counted after decompression, per client and per request.

aiohttp and httpx both grew by ~267 MB reading a 256 KiB gzip body that
inflates to 256 MiB. httpdeck stops at the limit with memory flat.
"""

from __future__ import annotations

import functools
import tracemalloc
import zlib

import pytest
from aiohttp import web

from conftest import Serve
from httpdeck.client import (
    HTTPClient,
    HTTPClientConfig,
    HTTPResponseTooLargeError,
    HTTPTransportError,
)

pytestmark = pytest.mark.asyncio

MiB = 1024 * 1024


@functools.cache
def gzip_bomb(size: int = 256 * MiB) -> bytes:
    """`size` zero bytes, gzip-compressed (about 1/1000 of the size)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(MiB)
    parts = [compressor.compress(block) for _ in range(size // MiB)]
    return b"".join([*parts, compressor.flush()])


def app() -> web.Application:
    async def bomb(request: web.Request) -> web.Response:
        return web.Response(body=gzip_bomb(), headers={"Content-Encoding": "gzip"})

    async def sized(request: web.Request) -> web.StreamResponse:
        size = int(request.query["size"])
        if request.query.get("chunked"):
            response = web.StreamResponse()
            response.enable_chunked_encoding()
            await response.prepare(request)
            for start in range(0, size, 1000):
                await response.write(b"x" * min(1000, size - start))
            await response.write_eof()
            return response
        return web.Response(body=b"x" * size)

    application = web.Application()
    application.router.add_get("/bomb", bomb)
    application.router.add_get("/sized", sized)
    return application


def limited(limit: int | None) -> HTTPClient:
    return HTTPClient(HTTPClientConfig(max_response_bytes=limit))


async def test_a_gzip_bomb_is_stopped_at_the_limit_with_memory_flat(serve: Serve) -> None:
    bomb = gzip_bomb()
    assert len(bomb) < 300 * 1024  # 256 KiB on the wire...
    url = await serve(app())
    async with limited(10 * MiB) as client:
        tracemalloc.start()
        try:
            with pytest.raises(HTTPResponseTooLargeError) as caught:
                await client.request("GET", url / "bomb")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert client.transport.pool.connection_counts() == (0, 0)  # type: ignore[attr-defined]
    # ...256 MiB once inflated; at most the 10 MiB limit (and a little) was held.
    assert peak < 32 * MiB, f"peak {peak / MiB:.1f} MiB"
    error = caught.value
    assert error.limit == 10 * MiB
    assert isinstance(error, HTTPTransportError)
    assert "max_response_bytes=10485760" in str(error)
    assert "after decompression" in str(error)


async def test_a_gzip_bomb_read_as_a_stream_is_stopped_too(serve: Serve) -> None:
    url = await serve(app())
    received: list[int] = []

    async def read_all(client: HTTPClient) -> None:
        async with client.stream("GET", url / "bomb") as response:
            async for chunk in response.aiter_bytes():
                received.append(len(chunk))

    async with limited(4 * MiB) as client:
        with pytest.raises(HTTPResponseTooLargeError):
            await read_all(client)
    assert 0 < sum(received) <= 4 * MiB


@pytest.mark.parametrize("chunked", [False, True])
async def test_the_limit_is_inclusive(serve: Serve, chunked: bool) -> None:
    url = (await serve(app())) / "sized"
    query = {"chunked": "1"} if chunked else {}
    async with limited(5000) as client:
        response = await client.request("GET", url, params={"size": 5000, **query})
        assert len(response.content) == 5000
        with pytest.raises(HTTPResponseTooLargeError):
            await client.request("GET", url, params={"size": 5001, **query})


async def test_a_declared_length_over_the_limit_fails_before_the_body_is_read(
    serve: Serve,
) -> None:
    url = await serve(app())
    async with limited(1000) as client:
        with pytest.raises(HTTPResponseTooLargeError, match="declares 2000000 bytes"):
            await client.request("GET", url / "sized", params={"size": 2_000_000})
        # The unread body is not left on a pooled connection.
        assert client.transport.pool.connection_counts() == (0, 0)  # type: ignore[attr-defined]
        # A HEAD response declares the length of a body it does not have.
        head = await client.request("HEAD", url / "sized", params={"size": 2_000_000})
        assert head.status == 200


async def test_a_per_request_limit_overrides_the_clients(serve: Serve) -> None:
    url = (await serve(app())) / "sized"
    async with limited(None) as client:
        with pytest.raises(HTTPResponseTooLargeError) as caught:
            await client.request("GET", url, params={"size": 3000}, max_response_bytes=2000)
        assert caught.value.limit == 2000
        assert len((await client.request("GET", url, params={"size": 3000})).content) == 3000
    async with limited(100) as client:
        response = await client.request(
            "GET", url, params={"size": 3000}, max_response_bytes=10_000
        )
        assert len(response.content) == 3000


async def test_the_verbs_return_the_error_as_err(serve: Serve) -> None:
    url = (await serve(app())) / "sized"
    async with limited(10) as client:
        result = await client.get(url, params={"size": 11, "chunked": "1"})
    assert isinstance(result.error, HTTPResponseTooLargeError)  # type: ignore[union-attr]


async def test_without_a_limit_the_stream_is_read_in_bounded_chunks(serve: Serve) -> None:
    # Even unlimited, nothing below the caller buffers the body: read 8 MiB of
    # the bomb, stop, and the connection is dropped.
    url = await serve(app())
    received = 0
    async with limited(None) as client:
        async with client.stream("GET", url / "bomb") as response:
            async for chunk in response.aiter_bytes():
                assert len(chunk) <= 4 * MiB
                received += len(chunk)
                if received >= 8 * MiB:
                    break
        assert client.transport.pool.connection_counts() == (0, 0)  # type: ignore[attr-defined]
