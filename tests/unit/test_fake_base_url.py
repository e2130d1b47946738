"""`FakeHTTPClient(base_url=...)`: relative URLs in requests, joined as `BaseURLHTTPClient` joins them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from yarl import URL

from httpdeck.client import BaseURLHTTPClient, HTTPClientProtocol, HTTPValidationError
from httpdeck.testing import FakeHTTPClient, FakeTransport

pytestmark = pytest.mark.asyncio

API = "https://api.example.com"


@pytest.mark.parametrize(
    ("base", "path"),
    [
        (f"{API}/v1", "/users"),
        (f"{API}/v1", "users"),
        (f"{API}/v1/", "/users/7"),
        (API, "/users"),
        (f"{API}/v1", "search?q=a b"),
        (f"{API}/v1", ""),
        (f"{API}/v1", URL("/users/%2F")),
        (f"{API}/v1", "https://other.example.com/x"),
    ],
)
async def test_requests_join_paths_exactly_as_the_base_url_client(
    base: str, path: str | URL
) -> None:
    expected = BaseURLHTTPClient(base).url_for(path)
    async with FakeHTTPClient(base_url=base) as fake:
        fake.route().respond(204)
        response = (await fake.get(path)).unwrap()
    assert response.url == expected
    assert fake.requests[0].url == expected


SendPath = Callable[[FakeHTTPClient, str], Awaitable[object]]


async def via_verb(fake: FakeHTTPClient, path: str) -> object:
    return (await fake.post(path, json={"a": 1})).unwrap()


async def via_request(fake: FakeHTTPClient, path: str) -> object:
    return await fake.request("POST", path)


async def via_stream(fake: FakeHTTPClient, path: str) -> object:
    async with fake.stream("POST", path) as response:
        return await response.aread()


async def via_sse(fake: FakeHTTPClient, path: str) -> object:
    async with fake.sse(path, method="POST") as events:
        return [event.data async for event in events]


async def via_multipart(fake: FakeHTTPClient, path: str) -> object:
    return (await fake.post_multipart(path, {"title": "cat"})).unwrap()


async def via_built_request(fake: FakeHTTPClient, path: str) -> object:
    return await fake.send(fake.build_request("POST", path))


@pytest.mark.parametrize(
    "send",
    [via_verb, via_request, via_stream, via_sse, via_multipart, via_built_request],
    ids=["verb", "request", "stream", "sse", "post_multipart", "build_request"],
)
async def test_every_way_of_sending_joins_a_relative_url(send: SendPath) -> None:
    async with FakeHTTPClient(base_url=f"{API}/v1") as fake:
        events = fake.route("POST", "/events").respond(sse=[{"data": "hi"}])
        await send(fake, "/events")
    events.assert_called_once()
    assert events.last_call.url == URL(f"{API}/v1/events")


async def test_a_base_url_from_the_transport_joins_too() -> None:
    async with FakeHTTPClient(transport=FakeTransport(base_url=API)) as fake:
        users = fake.route("GET", "/users").respond(json=[])
        assert (await fake.get("/users")).unwrap().json() == []
    users.assert_called_once()


@pytest.mark.parametrize("url", ["/users", "users", URL("/users")])
async def test_a_relative_url_without_a_base_url_is_a_clear_error(url: str | URL) -> None:
    async with FakeHTTPClient() as fake:
        fake.route().respond(200)
        with pytest.raises(HTTPValidationError) as raised:
            await fake.get(url)
        with pytest.raises(HTTPValidationError):
            await fake.request("GET", url)
        with pytest.raises(HTTPValidationError):
            async with fake.stream("GET", url):
                pass
    assert str(raised.value) == (
        f"Cannot send a request to {str(url)!r}: the URL is relative and this FakeHTTPClient "
        "has no base_url. Pass an absolute URL, or give the fake a base_url "
        "(FakeHTTPClient(base_url=...), or the httpdeck_fake marker's)."
    )
    assert fake.requests == []


async def test_a_protocol_relative_path_is_refused_as_by_the_base_url_client() -> None:
    async with FakeHTTPClient(base_url=API) as fake:
        with pytest.raises(HTTPValidationError, match=r"'//evil\.example/x' is protocol-relative"):
            await fake.get("//evil.example/x")


async def test_a_url_of_the_wrong_type_gets_the_clients_own_error() -> None:
    async with FakeHTTPClient() as fake:
        with pytest.raises(HTTPValidationError, match=r"A URL must be a str or yarl\.URL, got int"):
            await fake.get(42)  # type: ignore[arg-type]


async def test_the_fake_and_the_base_url_client_both_satisfy_the_protocol() -> None:
    fake = FakeHTTPClient(base_url=API)
    over_fake = BaseURLHTTPClient(f"{API}/v1", client=fake)
    own = BaseURLHTTPClient(f"{API}/v1", transport=FakeTransport())
    for client in (fake, over_fake, own):
        assert isinstance(client, HTTPClientProtocol), type(client).__name__
    fake.route("GET", "/v1/users").respond(json=[])
    fake.route("GET", "/v1/missing").respond(404)
    assert (await over_fake.get("users")).unwrap().json() == []
    assert (await over_fake.get("missing")).unwrap_err().status == 404  # type: ignore[attr-defined]
    await own.close()
    await over_fake.close()
    assert not fake.is_closed  # a client handed in stays open for its owner
    assert own.client.is_closed  # the one it built is closed
    await fake.stop()
