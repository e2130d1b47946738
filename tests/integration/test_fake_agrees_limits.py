"""Fake and real agree on max_response_bytes: the same scenario against a
FakeHTTPClient and against an aiohttp.web server on 127.0.0.1 fails with the
same HTTPResponseTooLargeError, the same message (the URL aside) and at the
same moment: a declared Content-Length at once, a chunked body while
`client.stream()` reads it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from yarl import URL

from httpdeck.client import (
    HTTPClient,
    HTTPClientConfig,
    HttpResponse,
    HTTPResponseTooLargeError,
    Request,
)
from httpdeck.testing import FakeHTTPClient, FakeResponse
from httpdeck.testing._server import LocalServer

pytestmark = pytest.mark.asyncio

Side = Callable[[int | None], "AsyncIterator[tuple[HTTPClient, URL]]"]
CHUNK = 1000


def body_of(size: int, chunked: bool) -> FakeResponse:
    if chunked:
        return FakeResponse(200, chunks=[b"x" * CHUNK] * (size // CHUNK))
    return FakeResponse(200, content=b"x" * size)


def app() -> web.Application:
    async def sized(request: web.Request) -> web.StreamResponse:
        size = int(request.query["size"])
        if request.query.get("chunked"):
            response = web.StreamResponse()
            response.enable_chunked_encoding()
            await response.prepare(request)
            for _ in range(size // CHUNK):
                await response.write(b"x" * CHUNK)
            await response.write_eof()
            return response
        return web.Response(body=b"x" * size)

    application = web.Application()
    application.router.add_route("*", "/sized", sized)
    return application


@asynccontextmanager
async def real(limit: int | None) -> AsyncIterator[tuple[HTTPClient, URL]]:
    async with (
        LocalServer(app()) as server,
        HTTPClient(HTTPClientConfig(max_response_bytes=limit)) as client,
    ):
        yield client, server.url


@asynccontextmanager
async def fake(limit: int | None) -> AsyncIterator[tuple[HTTPClient, URL]]:
    base = URL("http://api.test")

    def answer(request: Request) -> FakeResponse:
        query = request.url.query
        return body_of(int(query["size"]), bool(query.get("chunked")))

    async with FakeHTTPClient(HTTPClientConfig(max_response_bytes=limit)) as client:
        client.route("*", f"{base}/sized").respond_with(answer)
        yield client, base


SIDES = {"real": real, "fake": fake}


async def outcome(
    side: str, call: Callable[[HTTPClient, URL], Awaitable[object]], limit: int | None
) -> tuple[str, object]:
    async with SIDES[side](limit) as (client, base):
        try:
            return "ok", await call(client, base)
        except HTTPResponseTooLargeError as exc:
            shown = str(exc).replace(str(base), "BASE")
            return type(exc).__name__, f"{shown} [limit={exc.limit}]"


async def declared(client: HTTPClient, base: URL) -> object:
    return (await client.request("GET", base / "sized", params={"size": "5000"})).status


async def per_request(client: HTTPClient, base: URL) -> object:
    url = base / "sized"
    response = await client.request("GET", url, params={"size": "5000"}, max_response_bytes=1000)
    return response.status


async def head(client: HTTPClient, base: URL) -> object:
    return (await client.request("HEAD", base / "sized", params={"size": "5000"})).status


async def at_the_limit(client: HTTPClient, base: URL) -> object:
    return len((await client.request("GET", base / "sized", params={"size": "1000"})).content)


async def streamed(client: HTTPClient, base: URL) -> object:
    params = {"size": "5000", "chunked": "1"}
    async with client.stream("GET", base / "sized", params=params) as response:
        opened = response.status  # the stream opens: the error comes with the body
        received = 0
        try:
            async for chunk in response.aiter_bytes():
                received += len(chunk)
        except HTTPResponseTooLargeError:
            assert opened == 200
            assert received <= 1000
            raise
    return received


EXPECTED = {
    declared: (
        "HTTPResponseTooLargeError",
        "The response to GET BASE/sized?size=5000 declares 5000 bytes, over "
        "max_response_bytes=1000 (counted after decompression). Raise the limit for this "
        "request with max_response_bytes=..., or read it with client.stream() and aiter_bytes()."
        " [limit=1000]",
    ),
    head: ("ok", 200),
    at_the_limit: ("ok", 1000),
    streamed: (
        "HTTPResponseTooLargeError",
        "The response to GET BASE/sized?size=5000&chunked=1 passed that size, over "
        "max_response_bytes=1000 (counted after decompression). Raise the limit for this "
        "request with max_response_bytes=..., or read it with client.stream() and aiter_bytes()."
        " [limit=1000]",
    ),
}


@pytest.mark.parametrize("side", sorted(SIDES))
@pytest.mark.parametrize("scenario", list(EXPECTED), ids=lambda f: f.__name__)
async def test_fake_and_real_agree_on_max_response_bytes(
    side: str, scenario: Callable[[HTTPClient, URL], Awaitable[object]]
) -> None:
    assert await outcome(side, scenario, 1000) == EXPECTED[scenario]


@pytest.mark.parametrize("side", sorted(SIDES))
async def test_the_per_request_option_applies_too(side: str) -> None:
    kind, message = await outcome(side, per_request, None)
    assert kind == "HTTPResponseTooLargeError"
    assert message == EXPECTED[declared][1]


async def test_a_responders_own_http_response_is_held_to_the_limit_too() -> None:
    config = HTTPClientConfig(max_response_bytes=1000)
    async with FakeHTTPClient(config) as client:
        client.route("GET", "http://api.test/own").respond_with(
            lambda request: HttpResponse(200, content=b"x" * 1001)
        )
        with pytest.raises(HTTPResponseTooLargeError, match="passed that size"):
            await client.request("GET", "http://api.test/own")
