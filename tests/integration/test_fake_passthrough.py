"""Unmatched requests to allowed hosts pass through the fake to a real local server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from conftest import Serve
from httpdeck.testing import FakeHTTPClient, UnmatchedRequestError

pytestmark = pytest.mark.asyncio


def echo_app(seen: list[tuple[str, bytes]]) -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append((request.path, body))
        return web.json_response({"path": request.path, "body": body.decode()})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


async def test_unmatched_requests_to_allowed_hosts_reach_the_real_server(serve: Serve) -> None:
    seen: list[tuple[str, bytes]] = []
    base = await serve(echo_app(seen))
    async with FakeHTTPClient(passthrough_hosts=["127.0.0.1"]) as fake:
        fake.route("GET", base / "faked").respond(json={"from": "fake"})
        faked = await fake.request("GET", base / "faked")
        real = await fake.request("POST", base / "real", json={"a": 1})
        assert faked.json() == {"from": "fake"}
        assert real.json() == {"path": "/real", "body": '{"a":1}'}
        assert seen == [("/real", b'{"a":1}')]
        call = fake.requests[-1]
        assert (call.passthrough, call.route, call.response is real) == (True, None, True)
        fake.assert_all_requests_were_expected()
        with pytest.raises(UnmatchedRequestError):
            await fake.get("https://api.example.com/not-allowed")


async def test_a_streamed_body_is_matched_then_still_sent(serve: Serve) -> None:
    seen: list[tuple[str, bytes]] = []
    base = await serve(echo_app(seen))

    async def body() -> AsyncIterator[bytes]:
        yield b"chunk-1,"
        yield b"chunk-2"

    async with FakeHTTPClient(passthrough_hosts=["127.0.0.1"]) as fake:
        response = await fake.request("PUT", base / "upload", content=body())
        assert response.status == 200
    assert seen == [("/upload", b"chunk-1,chunk-2")]
    assert fake.requests[0].body == b"chunk-1,chunk-2"


async def test_a_passthrough_response_can_be_streamed(serve: Serve) -> None:
    async def lines(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for n in range(3):
            await response.write(f"line {n}\n".encode())
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/lines", lines)
    base = await serve(app)
    async with (
        FakeHTTPClient(passthrough_hosts=["127.0.0.1"]) as fake,
        fake.stream("GET", base / "lines") as response,
    ):
        assert [line async for line in response.aiter_lines()] == ["line 0", "line 1", "line 2"]
