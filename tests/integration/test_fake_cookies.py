"""The fake keeps cookies as the real client does: the same script of responses
setting cookies, played once against a real server through `HTTPClient` and once
against `FakeHTTPClient` routes, sends the same `Cookie` headers."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from conftest import Serve
from httpdeck.client import AiohttpTransport, ConnectionPool, HTTPClient, HTTPClientConfig, Request
from httpdeck.testing import FakeHTTPClient, FakeResponse

pytestmark = pytest.mark.asyncio

# What each path answers in Set-Cookie headers; every host serves the same paths.
SET_COOKIES: dict[str, list[str]] = {
    "/login": [
        "sid=s1; Path=/",
        "shared=s2; Domain=example.test; Path=/",
        "acct=s3; Path=/account",
        "sec=s4; Path=/; Secure",
        "gone=s5",
        'quoted="a b"; Path=/',
    ],
    "/logout": ["gone=; Max-Age=0", "sid=s9; Path=/"],
    "/redirect": ["hop=h1; Path=/"],
}

# (host, path, per-request cookies) in order; the answer to each says which Cookie header came.
SCRIPT: list[tuple[str, str, dict[str, str] | None]] = [
    ("a.example.test", "/login", None),
    ("a.example.test", "/account/profile", None),
    ("a.example.test", "/other", None),
    ("b.example.test", "/", None),
    ("other.test", "/", None),
    ("a.example.test", "/logout", None),
    ("a.example.test", "/after", None),
    ("a.example.test", "/mine", {"extra": "x", "sid": "mine"}),
    ("a.example.test", "/redirect", None),
]


class LocalNames:
    """Resolves every name to 127.0.0.1, so the real client reaches the local server."""

    async def resolve(self, host: str, port: int) -> Sequence[str]:
        return ["127.0.0.1"]


def cookie_app() -> web.Application:
    async def answer(request: web.Request) -> web.Response:
        headers = CIMultiDict(("Set-Cookie", value) for value in SET_COOKIES.get(request.path, []))
        if request.path == "/redirect":
            raise web.HTTPFound("/landed", headers=headers)
        return web.json_response({"cookie": request.headers.get("Cookie")}, headers=headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


def fake_answer(request: Request) -> FakeResponse:
    headers = [("Set-Cookie", value) for value in SET_COOKIES.get(request.url.path, [])]
    if request.url.path == "/redirect":
        return FakeResponse(302, headers=[*headers, ("Location", "/landed")])
    return FakeResponse(json={"cookie": request.headers.get("Cookie")}, headers=headers)


async def play(client: HTTPClient, port: int) -> list[str | None]:
    seen = []
    for host, path, cookies in SCRIPT:
        url = URL.build(scheme="http", host=host, port=port, path=path)
        options = {"cookies": cookies} if cookies else {}
        response = await client.request("GET", url, **options)  # type: ignore[arg-type]
        seen.append(response.json()["cookie"])
    return seen


@pytest.mark.parametrize("jar", [True, False], ids=["jar", "no-jar"])
async def test_the_fake_sends_the_cookies_the_real_client_sends(serve: Serve, jar: bool) -> None:
    config = HTTPClientConfig(cookie_jar=jar)
    port = (await serve(cookie_app())).port
    assert port is not None
    transport = AiohttpTransport(pool=ConnectionPool(config, resolver=LocalNames()))
    async with HTTPClient(config, transport=transport) as client:
        real = await play(client, port)
    async with FakeHTTPClient(config) as fake:
        fake.route().respond_with(fake_answer)
        faked = await play(fake, port)

    assert faked == real
    if jar:  # the rules that matter, spelled out (what the real client did above)
        assert real[1] == 'acct=s3; gone=s5; quoted="a b"; shared=s2; sid=s1'  # no Secure on http
        assert real[2] == 'gone=s5; quoted="a b"; shared=s2; sid=s1'  # Path=/account only there
        assert real[3:5] == ["shared=s2", None]  # Domain= reaches b.; other.test gets none
        assert real[6] == 'quoted="a b"; shared=s2; sid=s9'  # Max-Age=0 removed `gone`
        # The request's own cookies first, as written; its sid wins over the jar's.
        assert real[7] == 'extra=x; sid=mine; quoted="a b"; shared=s2'
        assert real[8] == 'hop=h1; quoted="a b"; shared=s2; sid=s9'  # set by the redirect
    else:
        assert real == [None] * 7 + ["extra=x; sid=mine", None]


async def test_reset_forgets_the_cookies() -> None:
    async with FakeHTTPClient(base_url="https://api.example.com") as fake:
        fake.route("POST", "/login").respond(headers={"Set-Cookie": "sid=1"})
        me = fake.route("GET", "/me", headers={"Cookie": "sid=1"}).respond(200)
        await fake.post("/login")
        assert (await fake.get("/me")).unwrap().status == 200
        fake.reset()
        assert me.call_count == 0
        fake.route("GET", "/me").respond(401)
        assert (await fake.request("GET", "/me")).status == 401


async def test_unmatched_passthrough_requests_share_the_fakes_cookies(serve: Serve) -> None:
    base = await serve(cookie_app())
    async with FakeHTTPClient(passthrough_hosts=["127.0.0.1"]) as fake:
        fake.route("GET", base / "fake-login").respond(headers={"Set-Cookie": "sid=fake"})
        await fake.get(base / "fake-login")
        real = (await fake.get(base / "login")).unwrap()  # passed through to the server
        assert real.json()["cookie"] == "sid=fake"
        fake.route("GET", base / "check").respond_with(fake_answer)
        cookies = (await fake.get(base / "check")).unwrap().json()["cookie"]
    # The server's Set-Cookie headers reached the fake's jar (sid is the server's now).
    assert sorted(cookies.split("; ")) == ["gone=s5", 'quoted="a b"', "sid=s1"]
