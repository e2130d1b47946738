"""Type-checked, never run: both clients satisfy HTTPClientProtocol, and the
fake's public API keeps its types. Checked by `mypy tests/typing`."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import assert_type

from httpdeck.client import (
    BaseURLHTTPClient,
    HTTPClient,
    HTTPClientError,
    HTTPClientProtocol,
    HTTPModule,
    HttpResponse,
    Result,
    SimpleContainer,
)
from httpdeck.testing import (
    Call,
    FakeClock,
    FakeDataFactory,
    FakeError,
    FakeHTTPClient,
    FakeResponse,
    FakeTransport,
    Route,
)


class UserService:
    def __init__(self, http: HTTPClientProtocol) -> None:
        self.http = http

    async def names(self) -> list[str]:
        result = await self.http.get("https://api.example.com/users", params={"page": 1})
        assert_type(result, Result[HttpResponse, HTTPClientError])
        return [user["name"] for user in result.unwrap().json()]


def both_clients_fit() -> None:
    UserService(HTTPClient())
    UserService(FakeHTTPClient())
    real: HTTPClientProtocol = HTTPClient()
    fake: HTTPClientProtocol = FakeHTTPClient()
    assert_type(real.stream("GET", "https://x.test"), AbstractAsyncContextManager[HttpResponse])
    del fake
    # The base-URL client is the Result API twin: it fits the protocol too,
    # alone or over a fake it was handed.
    UserService(BaseURLHTTPClient("https://api.example.com"))
    UserService(BaseURLHTTPClient("https://api.example.com", client=FakeHTTPClient()))
    api: HTTPClientProtocol = BaseURLHTTPClient("https://api.example.com")
    del api


async def container_resolution_is_typed() -> None:
    async with HTTPModule.stub().lifespan() as container:
        assert_type(container, SimpleContainer)
        client = container.resolve(HTTPClientProtocol)
        assert_type(client, HTTPClientProtocol)
        fake = container.resolve(FakeHTTPClient)
        assert_type(fake, FakeHTTPClient)


def fake_api_is_typed() -> None:
    fake = FakeHTTPClient(base_url="https://api.example.com", clock=FakeClock())
    route = fake.route("GET", "/users", params={"page": 1}).respond(json=[])
    assert_type(route, Route)
    assert_type(route.respond_sequence([503, FakeResponse(200)]), Route)
    assert_type(route.raise_error(FakeError.connection_reset(sent=True)), Route)
    assert_type(route.calls, list[Call])
    assert_type(fake.transport, FakeTransport)
    assert_type(fake.routes["users"], Route)
    assert_type(fake.requests[0].body, bytes | None)
    factory = FakeDataFactory(seed=1)
    route.respond_with(factory.responder({"id": "uuid4"}))
