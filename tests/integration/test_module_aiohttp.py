"""HTTPModule wired into a real aiohttp.web app through `cleanup_ctx` (the
example of docs/di.md): production uses `configure()` against a real upstream,
tests swap in `stub()`, and the app code is the same."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from conftest import Serve
from httpdeck.client import Err, HTTPClient, HTTPClientProtocol, HTTPModule, Ok
from httpdeck.testing import FakeHTTPClient, Route
from httpdeck.testing._server import LocalServer

pytestmark = pytest.mark.asyncio

# -- the example app ----------------------------------------------------------------

HTTP_CLIENT = web.AppKey[HTTPClientProtocol]("http_client")
UPSTREAM = web.AppKey[str]("upstream")


def create_app(http: HTTPModule, upstream: str) -> web.Application:
    """A weather front end: one pooled client, booted and shut down with the app."""
    app = web.Application()
    app[UPSTREAM] = upstream

    async def http_client_ctx(app: web.Application) -> AsyncIterator[None]:
        async with http.lifespan() as container:
            app[HTTP_CLIENT] = container.resolve(HTTPClientProtocol)
            yield

    async def weather(request: web.Request) -> web.Response:
        client = request.app[HTTP_CLIENT]
        city = request.query["city"]
        url = f"{request.app[UPSTREAM]}/forecast"
        match await client.get(url, params={"city": city}):
            case Ok(response):
                return web.json_response({"city": city, "summary": response.json()["summary"]})
            case Err(error):
                return web.json_response({"error": type(error).__name__}, status=502)

    app.cleanup_ctx.append(http_client_ctx)
    app.router.add_get("/weather", weather)
    return app


# -- the tests ----------------------------------------------------------------------


async def ask(base: str, city: str) -> tuple[int, object]:
    async with HTTPClient() as client:
        response = await client.request("GET", f"{base}/weather", params={"city": city})
        return response.status, response.json()


async def test_production_wiring_calls_the_real_upstream(serve: Serve) -> None:
    seen: list[str] = []

    async def forecast(request: web.Request) -> web.Response:
        seen.append(request.query["city"])
        return web.json_response({"summary": "sunny"})

    upstream = web.Application()
    upstream.router.add_get("/forecast", forecast)
    upstream_url = await serve(upstream)
    base = await serve(create_app(HTTPModule.configure(), str(upstream_url)))
    assert await ask(str(base), "Oslo") == (200, {"city": "Oslo", "summary": "sunny"})
    assert seen == ["Oslo"]


async def test_the_stub_swaps_in_a_fake_with_one_line(serve: Serve) -> None:
    upstream = "https://weather.example.com"
    forecast = Route("GET", f"{upstream}/forecast", params={"city": "Oslo"}).respond(
        json={"summary": "snow"}
    )
    app = create_app(HTTPModule.stub(routes=[forecast]), upstream)
    base = await serve(app)
    assert await ask(str(base), "Oslo") == (200, {"city": "Oslo", "summary": "snow"})
    forecast.assert_called_once()
    fake = app[HTTP_CLIENT]
    assert isinstance(fake, FakeHTTPClient)
    fake.route("GET", f"{upstream}/forecast").respond(503)
    assert await ask(str(base), "Bergen") == (502, {"error": "HTTPStatusError"})


async def test_the_client_lives_exactly_as_long_as_the_app() -> None:
    module = HTTPModule.stub()
    app = create_app(module, "https://weather.example.com")
    async with LocalServer(app):
        assert (await module.provider.health_check()).healthy
        client = app[HTTP_CLIENT]
        assert client.is_started()
    assert not (await module.provider.health_check()).healthy
    assert module.provider.client.is_closed
