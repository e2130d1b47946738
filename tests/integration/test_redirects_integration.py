"""Redirects followed by the client itself, against two real servers
(a different port is a different origin)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from conftest import Serve
from httpdeck.client import HTTPClient, HTTPClientConfig, HTTPRedirectError, RequestContext

pytestmark = pytest.mark.asyncio


class Recorder:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def app(self) -> web.Application:
        async def echo(request: web.Request) -> web.Response:
            record = {
                "method": request.method,
                "path": request.path,
                "headers": list(request.headers.items()),
                "body": await request.read(),
            }
            self.requests.append(record)
            return web.json_response({"method": request.method, "path": request.path})

        async def redirect(request: web.Request) -> web.Response:
            self.requests.append({"method": request.method, "path": request.path})
            await request.read()
            status = int(request.match_info["status"])
            return web.Response(status=status, headers={"Location": request.query["to"]})

        async def loop(request: web.Request) -> web.Response:
            self.requests.append({"method": request.method, "path": request.path})
            raise web.HTTPFound("/loop")

        application = web.Application()
        application.router.add_route("*", "/echo", echo)
        application.router.add_route("*", "/redirect/{status}", redirect)
        application.router.add_get("/loop", loop)
        return application


def secret_headers() -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in [
        ("Authorization", "Bearer one"),
        ("Authorization", "Bearer two"),
        ("Proxy-Authorization", "Basic cHJveHk="),
        ("Cookie", "session=1"),
        ("cookie", "other=2"),
        ("X-Api-Key", "k1"),
        ("X-Api-Key", "k2"),
        ("X-Tenant-Token", "t"),
        ("X-Trace", "trace"),
    ]:
        headers.add(name, value)
    return headers


class AddSecrets:
    """Adds every secret header, duplicates included, on the first hop only
    (interceptors run on every hop; later hops carry what the rules kept)."""

    async def intercept_request(self, context: RequestContext) -> None:
        if context.request.redirect_hop == 0:
            context.headers.extend(secret_headers())


def names(record: dict[str, Any]) -> list[str]:
    return [name.lower() for name, _ in record["headers"]]


SECRETS = ["authorization", "proxy-authorization", "cookie", "x-api-key", "x-tenant-token"]
CONFIG = HTTPClientConfig(secret_headers=("X-Api-Key", "X-Tenant-Token"))


async def test_a_cross_origin_hop_drops_every_secret_header(serve: Serve) -> None:
    a, b = Recorder(), Recorder()
    url_a, url_b = await serve(a.app()), await serve(b.app())
    async with HTTPClient(CONFIG, interceptors=[AddSecrets()]) as client:
        response = await client.request(
            "GET", url_a / "redirect" / "302", params={"to": str(url_b / "echo")}
        )
    assert response.json() == {"method": "GET", "path": "/echo"}
    assert response.url == url_b / "echo"
    (hop,) = b.requests
    for name in SECRETS:
        assert name not in names(hop), name
    assert ("X-Trace", "trace") in hop["headers"]


async def test_a_same_origin_hop_keeps_them_duplicates_included(serve: Serve) -> None:
    a = Recorder()
    url = await serve(a.app())
    async with HTTPClient(CONFIG, interceptors=[AddSecrets()]) as client:
        await client.request("GET", url / "redirect" / "301", params={"to": "/echo"})
    hop = a.requests[1]
    # (aiohttp folds several Cookie headers into one; other duplicates go out as they are.)
    assert names(hop).count("authorization") == 2
    assert names(hop).count("x-api-key") == 2
    for name in SECRETS:
        assert name in names(hop)


async def test_auth_and_cookies_options_are_dropped_cross_origin_too(serve: Serve) -> None:
    a, b = Recorder(), Recorder()
    url_a, url_b = await serve(a.app()), await serve(b.app())
    async with (
        HTTPClient(HTTPClientConfig(cookie_jar=False)) as client,
        client.stream(
            "GET",
            url_a / "redirect" / "307",
            params={"to": str(url_b / "echo")},
            auth=("user", "secret"),
            cookies={"session": "s"},
        ) as response,
    ):
        await response.aread()
    assert "authorization" not in names(b.requests[0])
    assert "cookie" not in names(b.requests[0])


@pytest.mark.parametrize("status", [301, 302, 303])
async def test_post_then_redirect_becomes_get_without_a_body(serve: Serve, status: int) -> None:
    a = Recorder()
    url = await serve(a.app())
    async with HTTPClient() as client:
        response = await client.request(
            "POST", url / "redirect" / str(status), params={"to": "/echo"}, json={"pay": 100}
        )
    assert response.json()["method"] == "GET"
    hop = a.requests[1]
    assert hop["body"] == b""
    assert "content-type" not in names(hop)


@pytest.mark.parametrize("status", [307, 308])
async def test_307_and_308_resend_method_and_body(serve: Serve, status: int) -> None:
    a = Recorder()
    url = await serve(a.app())
    async with HTTPClient() as client:
        response = await client.request(
            "PUT", url / "redirect" / str(status), params={"to": "/echo"}, content=b"payload"
        )
    assert response.json()["method"] == "PUT"
    assert a.requests[1]["body"] == b"payload"


async def test_the_hop_limit_is_a_clear_error(serve: Serve) -> None:
    a = Recorder()
    url = await serve(a.app())
    async with HTTPClient(HTTPClientConfig(max_redirects=5)) as client:
        with pytest.raises(HTTPRedirectError, match="max_redirects=5"):
            await client.request("GET", url / "loop")
        assert client.transport.pool.connection_counts()[1] == 0  # type: ignore[attr-defined]
    assert len(a.requests) == 6


async def test_redirects_can_be_turned_off(serve: Serve) -> None:
    a = Recorder()
    url = await serve(a.app())
    async with HTTPClient(HTTPClientConfig(follow_redirects=False)) as client:
        response = await client.request("GET", url / "redirect" / "302", params={"to": "/echo"})
        assert response.status == 302
        followed = await client.request(
            "GET", url / "redirect" / "302", params={"to": "/echo"}, follow_redirects=True
        )
        assert followed.url.path == "/echo"


async def test_a_non_http_location_is_refused(serve: Serve) -> None:
    a = Recorder()
    url = await serve(a.app())
    async with HTTPClient() as client:
        with pytest.raises(HTTPRedirectError, match="not an http"):
            await client.request("GET", url / "redirect" / "302", params={"to": "file:///etc"})


async def test_a_relative_location_resolves_against_the_request(serve: Serve) -> None:
    a = Recorder()
    url = await serve(a.app())
    async with HTTPClient() as client:
        response = await client.request("GET", url / "redirect" / "302", params={"to": "../echo"})
    assert response.url == URL(str(url)).with_path("/echo")
