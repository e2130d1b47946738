"""`response.json()` on bodies Python's JSON decoder refuses, from a real server:
the client's `HTTPDecodeError` (a ValueError) with the reason and the URL,
never a bare RecursionError or ValueError."""

from __future__ import annotations

import sys

import pytest
from aiohttp import web

from conftest import Serve
from httpdeck.client import HTTPClient, HTTPDecodeError

pytestmark = pytest.mark.asyncio

DEEP = b"[" * 100_000 + b"]" * 100_000
LONG_INT = b'{"id": ' + b"7" * (sys.get_int_max_str_digits() + 1) + b"}"


def _app() -> web.Application:
    async def deep(request: web.Request) -> web.Response:
        return web.Response(body=DEEP, content_type="application/json")

    async def long_int(request: web.Request) -> web.Response:
        return web.Response(body=LONG_INT, content_type="application/json")

    app = web.Application()
    app.router.add_get("/deep", deep)
    app.router.add_get("/long-int", long_int)
    return app


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/deep", "it nests arrays or objects deeper than Python's JSON decoder can go"),
        ("/long-int", f"it holds an integer of more than {sys.get_int_max_str_digits()} digits"),
    ],
)
async def test_json_the_decoder_refuses_is_a_decode_error_naming_the_reason_and_url(
    serve: Serve, path: str, reason: str
) -> None:
    base = await serve(_app())
    url = (base / path.lstrip("/")).with_query(page="2")
    async with HTTPClient() as client:
        response = (await client.get(url)).unwrap()
    with pytest.raises(HTTPDecodeError) as info:
        response.json()
    message = str(info.value)
    assert f"The body of GET {url} (status 200, application/json" in message
    assert f"cannot be decoded as JSON: {reason}" in message
    assert isinstance(info.value, ValueError)
    assert info.value.request is response.request
