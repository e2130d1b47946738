"""Against a server no one here wrote: httpbin (pytest-httpbin's local server
on 127.0.0.1, plain and TLS), for redirects, cookies, compression, streaming,
drip, delays and multipart."""

from __future__ import annotations

import json
from typing import Any

import pytest

from httpdeck.client import (
    ConnectionPoolConfig,
    Err,
    HTTPClient,
    HTTPClientConfig,
    HTTPRedirectError,
    HTTPResponseTooLargeError,
    HTTPStatusError,
    HTTPTimeoutError,
    Ok,
    TimeoutConfig,
)

pytestmark = pytest.mark.asyncio

Httpbin = Any  # pytest_httpbin.serve.Server: .url, .host, .port


async def test_relative_and_absolute_redirect_chains(httpbin: Httpbin) -> None:
    async with HTTPClient() as client:
        relative = await client.request("GET", f"{httpbin.url}/relative-redirect/3")
        absolute = await client.request("GET", f"{httpbin.url}/absolute-redirect/3")
    assert relative.status == absolute.status == 200
    assert relative.url.path == absolute.url.path == "/get"


async def test_the_hop_limit_against_httpbin(httpbin: Httpbin) -> None:
    async with HTTPClient(HTTPClientConfig(max_redirects=2)) as client:
        with pytest.raises(HTTPRedirectError, match="max_redirects=2"):
            await client.request("GET", f"{httpbin.url}/redirect/3")


@pytest.mark.parametrize(("status", "method"), [(302, "GET"), (303, "GET"), (307, "POST")])
async def test_post_redirect_semantics(httpbin: Httpbin, status: int, method: str) -> None:
    async with HTTPClient() as client:
        response = await client.request(
            "POST",
            f"{httpbin.url}/redirect-to",
            params={"url": "/anything", "status_code": status},
            json={"amount": 10},
        )
    echoed = response.json()
    assert echoed["method"] == method
    assert (echoed["json"] == {"amount": 10}) is (method == "POST")


async def test_credentials_do_not_follow_a_redirect_to_another_host(httpbin: Httpbin) -> None:
    # 127.0.0.1 and localhost are the same server but not the same origin.
    other_host = f"http://localhost:{httpbin.port}/headers"
    async with HTTPClient() as client:
        response = await client.request(
            "GET",
            f"{httpbin.url}/redirect-to",
            params={"url": other_host},
            headers={"Authorization": "Bearer s3cret", "X-Api-Key": "k", "X-Trace": "t"},
        )
    headers = response.json()["headers"]
    assert "Authorization" not in headers
    assert "X-Api-Key" not in headers
    assert headers["X-Trace"] == "t"


async def test_https_to_http_drops_credentials(httpbin: Httpbin, httpbin_secure: Httpbin) -> None:
    config = HTTPClientConfig(pool=ConnectionPoolConfig(verify_ssl=False))  # httpbin's own CA
    async with HTTPClient(config) as client:
        response = await client.request(
            "GET",
            f"{httpbin_secure.url}/redirect-to",
            params={"url": f"{httpbin.url}/headers"},
            auth=("user", "pass"),
            cookies={"session": "s"},
        )
    assert response.url.scheme == "http"
    headers = response.json()["headers"]
    assert "Authorization" not in headers
    assert "Cookie" not in headers


async def test_cookies_set_by_a_redirecting_response_are_sent_on(httpbin: Httpbin) -> None:
    async with HTTPClient() as client:
        response = await client.request(
            "GET", f"{httpbin.url}/cookies/set", params={"flavour": "oat"}
        )
        again = await client.request("GET", f"{httpbin.url}/cookies")
    assert response.url.path == "/cookies"
    assert response.json() == {"cookies": {"flavour": "oat"}}
    assert again.json() == {"cookies": {"flavour": "oat"}}


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_compressed_bodies_are_decoded(httpbin: Httpbin, encoding: str) -> None:
    async with HTTPClient() as client:
        response = await client.request("GET", f"{httpbin.url}/{encoding}")
    assert response.headers["Content-Encoding"] == encoding
    assert response.json()[{"gzip": "gzipped", "deflate": "deflated"}[encoding]] is True


async def test_the_size_limit_counts_decoded_bytes(httpbin: Httpbin) -> None:
    async with HTTPClient() as client:
        plain = await client.request("GET", f"{httpbin.url}/gzip")
        decoded = len(plain.content)
        with pytest.raises(HTTPResponseTooLargeError):
            await client.request("GET", f"{httpbin.url}/gzip", max_response_bytes=decoded - 1)
        fits = await client.request("GET", f"{httpbin.url}/gzip", max_response_bytes=decoded)
    assert len(fits.content) == decoded


async def test_streamed_json_lines(httpbin: Httpbin) -> None:
    async with HTTPClient() as client, client.stream("GET", f"{httpbin.url}/stream/20") as r:
        lines = [line async for line in r.aiter_lines()]
    assert len(lines) == 20
    assert [json.loads(line)["id"] for line in lines] == list(range(20))


async def test_streamed_bytes_in_chunks(httpbin: Httpbin) -> None:
    url = f"{httpbin.url}/stream-bytes/102400"
    async with HTTPClient() as client, client.stream("GET", url, params={"chunk_size": 1024}) as r:
        sizes = [len(chunk) async for chunk in r.aiter_bytes()]
    assert sum(sizes) == 102400


async def test_drip_is_stopped_by_the_total_deadline(httpbin: Httpbin) -> None:
    # 10 bytes over 2 s: each gap (0.2 s) is within the read timeout, so only
    # the total deadline can stop it (aiohttp's sock_read let it through).
    config = HTTPClientConfig(timeouts=TimeoutConfig(read=1.0, total=0.5))
    async with HTTPClient(config) as client:
        with pytest.raises(HTTPTimeoutError) as caught:
            await client.request(
                "GET", f"{httpbin.url}/drip", params={"duration": 2, "numbytes": 10, "delay": 0}
            )
    assert caught.value.phase == "total"


async def test_delays(httpbin: Httpbin) -> None:
    async with HTTPClient() as client:
        quick = await client.request("GET", f"{httpbin.url}/delay/0.1", timeout=5)
        with pytest.raises(HTTPTimeoutError) as caught:
            await client.request("GET", f"{httpbin.url}/delay/2", timeout=0.3)
    assert quick.status == 200
    assert caught.value.phase == "total"


async def test_multipart_fields_and_files_as_httpbin_parses_them(httpbin: Httpbin) -> None:
    # (pytest-httpbin's WSGI server refuses chunked uploads with a 501, so the
    # streamed parts are checked against aiohttp.web in test_streaming.py.)
    async with HTTPClient() as client:
        result = await client.post_multipart(
            f"{httpbin.url}/post",
            {
                "title": "Ada ✓",
                "raw": b"bytes",
                "doc": ("notes.txt", b"hello file", "text/plain"),
                "quote": ('a "quoted" name.txt', b"q"),
            },
        )
    assert isinstance(result, Ok)
    echoed = result.value.json()
    assert echoed["form"] == {"title": "Ada ✓", "raw": "bytes"}
    assert echoed["files"] == {"doc": "hello file", "quote": "q"}


async def test_basic_auth_and_statuses(httpbin: Httpbin) -> None:
    async with HTTPClient() as client:
        authorised = await client.get(f"{httpbin.url}/basic-auth/ada/pw", auth=("ada", "pw"))
        teapot = await client.get(f"{httpbin.url}/status/418")
    assert isinstance(authorised, Ok)
    assert isinstance(teapot, Err)
    assert isinstance(teapot.error, HTTPStatusError)
    assert teapot.error.status == 418
