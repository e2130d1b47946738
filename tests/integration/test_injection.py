"""CR, LF or NUL in a header, the method or the URL is refused before any byte
is written: the server (counting every byte it receives) sees nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from rawservers import RawServer, keep_alive, record_bytes
from yarl import URL

from httpdeck.client import HTTPClient, HTTPClientConfig, HTTPValidationError, RequestContext

pytestmark = pytest.mark.asyncio

BAD = ["\r\n", "\n", "\r", "\x00", "x\r\nInjected: 1"]


@pytest_asyncio.fixture
async def server() -> AsyncIterator[RawServer]:
    async with RawServer(record_bytes()) as raw:
        yield raw


async def refused(server: RawServer, method: str, url: str | URL, **options: Any) -> str:
    async with HTTPClient() as client:
        with pytest.raises(HTTPValidationError) as caught:
            await client.request(method, url, **options)
    assert server.connections == 0
    assert server.bytes_received == 0
    return str(caught.value)


@pytest.mark.parametrize("bad", BAD)
async def test_in_a_header_value(server: RawServer, bad: str) -> None:
    message = await refused(server, "GET", server.url, headers={"X-Note": f"a{bad}b"})
    assert "X-Note" in message


@pytest.mark.parametrize(
    "name", ["X\r\nName", "X\nName", "X-Name\n", "X\rName", "X\x00Name", "X Name", "X:Name", ""]
)
async def test_in_a_header_name(server: RawServer, name: str) -> None:
    await refused(server, "GET", server.url, headers={name: "v"})


@pytest.mark.parametrize("bad", [*BAD, " "])
async def test_in_the_method(server: RawServer, bad: str) -> None:
    message = await refused(server, f"GET{bad}", server.url)
    assert "method" in message


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("where", ["path", "query", "fragment"])
async def test_in_a_url_string(server: RawServer, bad: str, where: str) -> None:
    url = {"path": f"{server.url}/a{bad}b", "query": f"{server.url}/?q=a{bad}b"}.get(
        where, f"{server.url}/#a{bad}b"
    )
    message = await refused(server, "GET", url)
    assert "CR, LF or NUL" in message


@pytest.mark.parametrize("bad", ["\x00", " ", "x\r\nInjected: 1", "\x7f", "\x1b"])
async def test_controls_and_spaces_in_a_pre_encoded_yarl_url(server: RawServer, bad: str) -> None:
    # A raw space would split the request line ("GET /a b HTTP/1.1").
    await refused(server, "GET", URL(f"{server.url}/a{bad}b", encoded=True))


@pytest.mark.parametrize("bad", ["\r\n", "\n", "\r"])
async def test_yarl_strips_cr_and_lf_from_a_url_so_nothing_is_injected(bad: str) -> None:
    # yarl removes tab, CR and LF while parsing (as the WHATWG URL standard
    # does), even from an "encoded" URL: they never reach the wire.
    async with RawServer(keep_alive()) as server, HTTPClient() as client:
        await client.request("GET", URL(f"{server.url}/a{bad}b", encoded=True))
    (request,) = server.requests
    assert "injected" not in request.headers
    assert request.target == "/ab"


@pytest.mark.parametrize("bad", BAD)
async def test_in_a_cookie(server: RawServer, bad: str) -> None:
    await refused(server, "GET", server.url, cookies={"session": f"a{bad}b"})


@pytest.mark.parametrize("bad", BAD)
async def test_in_a_configured_default_header(bad: str) -> None:
    with pytest.raises(HTTPValidationError):
        HTTPClient(HTTPClientConfig(headers={"X-Team": f"a{bad}b"}))


class SetHeader:
    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value

    async def intercept_request(self, context: RequestContext) -> None:
        context.headers[self.name] = self.value


@pytest.mark.parametrize(("name", "value"), [("X-Late", "a\r\nb"), ("X-Late", "a\x00b")])
async def test_set_by_an_interceptor_after_the_request_was_built(
    server: RawServer, name: str, value: str
) -> None:
    # The last line of defence is aiohttp's serialiser: the connection may be
    # open by then, but not one byte goes out.
    async with HTTPClient(interceptors=[SetHeader(name, value)]) as client:
        with pytest.raises(HTTPValidationError, match="control character"):
            await client.request("GET", server.url)
    assert server.bytes_received == 0


async def test_params_are_percent_encoded_so_nothing_is_injected() -> None:
    async with RawServer(keep_alive()) as server, HTTPClient() as client:
        await client.request("GET", server.url, params={"q": "a\r\nInjected: 1"})
    (request,) = server.requests
    assert "injected" not in request.headers
    assert request.target == "/?q=a%0D%0AInjected:+1"
