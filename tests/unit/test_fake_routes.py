"""Route matching: every matcher of `fake.route(...)`, precedence and the index."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from yarl import URL

from httpdeck.client import BaseURLHTTPClient, HTTPClient, Ok
from httpdeck.testing import FakeHTTPClient, FakeTransport, Route, UnmatchedRequestError

pytestmark = pytest.mark.asyncio

API = "https://api.example.com"


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeHTTPClient]:
    async with FakeHTTPClient() as client:
        yield client


async def status_of(fake: HTTPClient, method: str, url: str, **options: object) -> int | str:
    """The status answered, or 'unmatched'."""
    try:
        response = await fake.request(method, url, **options)  # type: ignore[arg-type]
    except UnmatchedRequestError:
        return "unmatched"
    return response.status


@pytest.mark.parametrize(
    ("method", "expected"),
    [("GET", 200), ("get", 200), ("POST", "unmatched")],
)
async def test_method_must_match(fake: FakeHTTPClient, method: str, expected: int | str) -> None:
    fake.route("GET", f"{API}/users").respond(200)
    assert await status_of(fake, method, f"{API}/users") == expected


async def test_any_method_with_star(fake: FakeHTTPClient) -> None:
    fake.route("*", f"{API}/users").respond(204)
    assert await status_of(fake, "DELETE", f"{API}/users") == 204
    assert await status_of(fake, "PATCH", f"{API}/users") == 204


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{API}/users", 200),
        (f"{API}/users?page=2", 200),  # a route URL without a query ignores the query
        (f"{API}/users/", "unmatched"),
        (f"{API}/user", "unmatched"),
        ("http://api.example.com/users", "unmatched"),
        ("https://api.example.com:8443/users", "unmatched"),
        ("https://other.example.com/users", "unmatched"),
        ("https://API.EXAMPLE.COM:443/users#top", 200),
    ],
)
async def test_exact_url_without_query(fake: FakeHTTPClient, url: str, expected: int | str) -> None:
    fake.route("GET", f"{API}/users").respond(200)
    assert await status_of(fake, "GET", url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{API}/users?page=1&sort=name", 200),
        (f"{API}/users?sort=name&page=1", 200),  # order does not matter
        (f"{API}/users?page=1", "unmatched"),
        (f"{API}/users?page=1&sort=name&extra=1", "unmatched"),
        (f"{API}/users", "unmatched"),
    ],
)
async def test_exact_url_with_query_matches_the_query_exactly(
    fake: FakeHTTPClient, url: str, expected: int | str
) -> None:
    fake.route("GET", f"{API}/users?page=1&sort=name").respond(200)
    assert await status_of(fake, "GET", url) == expected


async def test_yarl_url_is_an_exact_url(fake: FakeHTTPClient) -> None:
    fake.route("GET", URL(API) / "users" / "a b").respond(200)
    assert await status_of(fake, "GET", f"{API}/users/a%20b") == 200
    assert await status_of(fake, "GET", f"{API}/users/a") == "unmatched"


async def test_percent_encoding_and_repeated_params_are_normalised(fake: FakeHTTPClient) -> None:
    fake.route("GET", f"{API}/search?q=a%20b&tag=x&tag=y").respond(200)
    assert (
        await status_of(fake, "GET", f"{API}/search", params={"q": "a b", "tag": ["y", "x"]}) == 200
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"page": 1}, 200),
        ({"page": "1", "sort": "name"}, 200),  # extra params are allowed
        ({"page": 2}, "unmatched"),
        ({}, "unmatched"),
    ],
)
async def test_params_are_a_subset_by_default(
    fake: FakeHTTPClient, params: dict[str, object], expected: int | str
) -> None:
    fake.route("GET", f"{API}/users", params={"page": 1}).respond(200)
    assert await status_of(fake, "GET", f"{API}/users", params=params) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [({"page": "1"}, 200), ({"page": "1", "sort": "name"}, "unmatched")],
)
async def test_exact_params(
    fake: FakeHTTPClient, params: dict[str, str], expected: int | str
) -> None:
    fake.route("GET", f"{API}/users", params={"page": "1"}, exact_params=True).respond(200)
    assert await status_of(fake, "GET", f"{API}/users", params=params) == expected


async def test_param_values_are_compared_as_text(fake: FakeHTTPClient) -> None:
    fake.route("GET", f"{API}/flags", params={"on": True, "ids": [2, 1]}).respond(200)
    assert await status_of(fake, "GET", f"{API}/flags?on=true&ids=1&ids=2") == 200


async def test_query_in_url_and_params_together_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"either in the URL .* or as params=, not both"):
        Route("GET", f"{API}/users?page=1", params={"sort": "name"})


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{API}/users/42", 200),
        (f"{API}/users/42?full=1", 200),  # a glob without '?' ignores the query
        (f"{API}/users/42/posts", "unmatched"),  # '*' stays within one segment
        (f"{API}/users/", 200),
        ("https://api.example.org/users/42", "unmatched"),
    ],
)
async def test_glob_star(fake: FakeHTTPClient, url: str, expected: int | str) -> None:
    fake.route("GET", f"{API}/users/*").respond(200)
    assert await status_of(fake, "GET", url) == expected


async def test_glob_double_star_crosses_segments_and_hosts(fake: FakeHTTPClient) -> None:
    fake.route("GET", "https://*.example.com/files/**").respond(200)
    assert await status_of(fake, "GET", "https://cdn.example.com/files/a/b/c.txt") == 200
    assert await status_of(fake, "GET", "https://cdn.example.org/files/a") == "unmatched"


async def test_glob_with_query_matches_the_whole_url(fake: FakeHTTPClient) -> None:
    fake.route("GET", f"{API}/search?q=*").respond(200)
    assert await status_of(fake, "GET", f"{API}/search?q=cats") == 200
    assert await status_of(fake, "GET", f"{API}/search?page=1") == "unmatched"


async def test_regex_matches_from_the_start_of_the_url(fake: FakeHTTPClient) -> None:
    fake.route("GET", re.compile(r"https://api\.example\.com/users/\d+$")).respond(200)
    assert await status_of(fake, "GET", f"{API}/users/17") == 200
    assert await status_of(fake, "GET", f"{API}/users/abc") == "unmatched"
    assert await status_of(fake, "GET", f"{API}/users/17?x=1") == "unmatched"


async def test_no_url_matches_any_url(fake: FakeHTTPClient) -> None:
    fake.route("POST").respond(201)
    assert await status_of(fake, "POST", "https://anything.example.net/x?y=1") == 201


async def test_bare_path_matches_any_host_only_when_asked(fake: FakeHTTPClient) -> None:
    with pytest.raises(ValueError, match=r"has no host.*any_host=True"):
        fake.route("GET", "/health")
    with pytest.raises(ValueError, match=r"has no host.*any_host=True"):
        fake.route("GET", "/items/*")
    fake.route("GET", "/health", any_host=True).respond(200)
    fake.route("GET", "/items/*", any_host=True).respond(202)
    assert await status_of(fake, "GET", "https://a.example.com/health") == 200
    assert await status_of(fake, "GET", "http://127.0.0.1:8080/health?probe=1") == 200
    assert await status_of(fake, "GET", "http://b.example.com/items/9") == 202
    assert await status_of(fake, "GET", "https://a.example.com/healthz") == "unmatched"


async def test_paths_join_the_base_url() -> None:
    async with FakeHTTPClient(base_url=f"{API}/v1") as fake:
        fake.route("GET", "/users").respond(200)
        fake.route("GET", "/users/*").respond(201)
        assert await status_of(fake, "GET", f"{API}/v1/users") == 200
        assert await status_of(fake, "GET", f"{API}/v1/users/3") == 201
        assert await status_of(fake, "GET", "https://other.example.com/v1/users") == "unmatched"


@pytest.mark.parametrize("url", ["ftp://api.example.com/x", "api.example.com/users"])
async def test_urls_that_cannot_be_routes(url: str) -> None:
    with pytest.raises(ValueError, match="Route URL"):
        Route("GET", url)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Team": "payments", "X-Other": "1"}, 200),
        ({"x-team": "payments"}, 200),  # names are case-insensitive
        ({"X-Team": "billing"}, "unmatched"),
        ({}, "unmatched"),
    ],
)
async def test_headers_are_a_subset(
    fake: FakeHTTPClient, headers: dict[str, str], expected: int | str
) -> None:
    fake.route("GET", f"{API}/users", headers={"X-Team": "payments"}).respond(200)
    assert await status_of(fake, "GET", f"{API}/users", headers=headers) == expected


async def test_header_value_regex(fake: FakeHTTPClient) -> None:
    fake.route("GET", f"{API}/me", headers={"Authorization": re.compile(r"Bearer \w+")}).respond(
        200
    )
    assert await status_of(fake, "GET", f"{API}/me", headers={"Authorization": "Bearer abc"}) == 200
    assert (
        await status_of(fake, "GET", f"{API}/me", headers={"Authorization": "Basic x"})
        == "unmatched"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"name": "Ann", "tags": ["a", "b"]}, 201),
        ({"tags": ["a", "b"], "name": "Ann"}, 201),
        ({"name": "Ann", "tags": ["b", "a"]}, "unmatched"),
        ({"name": "Ann", "tags": ["a", "b"], "extra": 1}, "unmatched"),
    ],
)
async def test_json_body_equal(fake: FakeHTTPClient, body: object, expected: int | str) -> None:
    fake.route("POST", f"{API}/users", json={"name": "Ann", "tags": ["a", "b"]}).respond(201)
    assert await status_of(fake, "POST", f"{API}/users", json=body) == expected


async def test_json_true_is_not_one(fake: FakeHTTPClient) -> None:
    fake.route("POST", f"{API}/flags", json={"on": True}).respond(200)
    assert await status_of(fake, "POST", f"{API}/flags", json={"on": 1}) == "unmatched"
    assert await status_of(fake, "POST", f"{API}/flags", json={"on": True}) == 200


async def test_json_null_body_is_a_value(fake: FakeHTTPClient) -> None:
    fake.route("POST", f"{API}/null", json=None).respond(200)
    assert await status_of(fake, "POST", f"{API}/null", json=None) == 200
    assert await status_of(fake, "POST", f"{API}/null", content=b"") == "unmatched"


async def test_json_predicate(fake: FakeHTTPClient) -> None:
    fake.route("POST", f"{API}/orders", json=lambda body: body["total"] > 100).respond(202)
    assert await status_of(fake, "POST", f"{API}/orders", json={"total": 150}) == 202
    assert await status_of(fake, "POST", f"{API}/orders", json={"total": 5}) == "unmatched"
    assert await status_of(fake, "POST", f"{API}/orders", content=b"not json") == "unmatched"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"user": "ann", "scope": ["read", "write"]}, 200),
        ({"scope": ["write", "read"], "user": "ann"}, 200),
        ({"user": "ann"}, "unmatched"),
        ({"user": "ann", "scope": ["read", "write"], "extra": "1"}, "unmatched"),
    ],
)
async def test_form_data_must_be_equal(
    fake: FakeHTTPClient, data: dict[str, object], expected: int | str
) -> None:
    fake.route("POST", f"{API}/token", data={"user": "ann", "scope": ["read", "write"]}).respond(
        200
    )
    assert await status_of(fake, "POST", f"{API}/token", data=data) == expected


async def test_raw_content_bytes_str_and_predicate(fake: FakeHTTPClient) -> None:
    fake.route("PUT", f"{API}/blob/1", content=b"\x00\x01").respond(200)
    fake.route("PUT", f"{API}/blob/2", content="héllo").respond(201)
    fake.route("PUT", f"{API}/blob/3", content=lambda body: body.startswith(b"%PDF")).respond(202)
    assert await status_of(fake, "PUT", f"{API}/blob/1", content=b"\x00\x01") == 200
    assert await status_of(fake, "PUT", f"{API}/blob/1", content=b"\x00") == "unmatched"
    assert await status_of(fake, "PUT", f"{API}/blob/2", content="héllo".encode()) == 201
    assert await status_of(fake, "PUT", f"{API}/blob/3", content=b"%PDF-1.7 ...") == 202
    assert await status_of(fake, "PUT", f"{API}/blob/3", content=b"GIF89a") == "unmatched"


async def test_streamed_request_body_is_matched_and_consumed_once(fake: FakeHTTPClient) -> None:
    fake.route("POST", f"{API}/upload", content=b"part1part2").respond(200)

    async def body() -> AsyncIterator[bytes]:
        yield b"part1"
        yield b"part2"

    assert await status_of(fake, "POST", f"{API}/upload", content=lambda: body()) == 200
    assert fake.requests[-1].body == b"part1part2"


async def test_first_declared_route_wins_across_exact_and_pattern_routes(
    fake: FakeHTTPClient,
) -> None:
    fake.route("GET", f"{API}/users/*").respond(201)  # declared first: wins over the exact one
    fake.route("GET", f"{API}/users/1").respond(200)
    fake.route("GET", f"{API}/items/1").respond(202)
    fake.route("GET", f"{API}/items/*").respond(203)
    assert await status_of(fake, "GET", f"{API}/users/1") == 201
    assert await status_of(fake, "GET", f"{API}/items/1") == 202
    assert await status_of(fake, "GET", f"{API}/items/2") == 203


async def test_a_specific_route_declared_first_shadows_a_general_one(fake: FakeHTTPClient) -> None:
    fake.route("GET", f"{API}/users", params={"page": "2"}).respond(206)
    fake.route("GET", f"{API}/users").respond(200)
    assert await status_of(fake, "GET", f"{API}/users?page=2") == 206
    assert await status_of(fake, "GET", f"{API}/users?page=3") == 200


async def test_identical_route_is_the_same_route_and_respond_replaces(fake: FakeHTTPClient) -> None:
    first = fake.route("GET", f"{API}/users").respond(200)
    second = fake.route("GET", f"{API}/users").respond(503)
    assert first is second
    assert len(fake.routes) == 1
    assert await status_of(fake, "GET", f"{API}/users") == 503


async def test_named_routes(fake: FakeHTTPClient) -> None:
    fake.route("GET", f"{API}/users", name="users").respond(200)
    assert fake.routes["users"].name == "users"
    assert "users" in fake.routes
    with pytest.raises(KeyError, match=r"No route is named 'orders' \(named routes: 'users'\)"):
        fake.routes["orders"]
    with pytest.raises(ValueError, match="A route named 'users' already exists"):
        fake.route("POST", f"{API}/users", name="users")


async def test_one_thousand_exact_routes_each_find_their_own(fake: FakeHTTPClient) -> None:
    for i in range(1000):
        fake.route("GET", f"{API}/users/{i}").respond(200, json={"id": i})
    for i in (0, 499, 999):
        result = await fake.get(f"{API}/users/{i}")
        assert isinstance(result, Ok)
        assert result.value.json() == {"id": i}
    assert fake.routes[999].call_count == 1


async def test_routes_built_apart_are_copied_into_each_fake() -> None:
    shared = Route("GET", f"{API}/users").respond(json=[])
    async with FakeHTTPClient(routes=[shared]) as one, FakeHTTPClient(routes=[shared]) as two:
        await one.get(f"{API}/users")
        assert one.routes[0] is shared
        assert two.routes[0] is not shared
        assert (shared.call_count, two.routes[0].call_count) == (1, 0)


async def test_transport_plugs_into_a_users_own_client() -> None:
    transport = FakeTransport(base_url=API)
    transport.route("GET", "/users").respond(json=[1])
    async with HTTPClient(transport=transport) as client:
        result = await client.get(f"{API}/users")
    assert isinstance(result, Ok)
    assert result.value.json() == [1]
    assert len(transport.requests) == 1


async def test_transport_plugs_into_a_base_url_client() -> None:
    fake = FakeTransport()
    fake.route("GET", f"{API}/v1/users/7").respond(json={"id": 7})
    async with BaseURLHTTPClient(f"{API}/v1", transport=fake) as api:
        response = (await api.get("/users/7")).unwrap()
    assert response.json() == {"id": 7}
    assert fake.requests[0].headers["User-Agent"].startswith("httpdeck/")


async def test_first_declared_wins_between_any_method_and_one_method(fake: FakeHTTPClient) -> None:
    fake.route("*", f"{API}/users").respond(200)
    fake.route("GET", f"{API}/users").respond(201)
    fake.route("POST", f"{API}/items").respond(202)
    fake.route("*", f"{API}/items").respond(203)
    assert await status_of(fake, "GET", f"{API}/users") == 200
    assert await status_of(fake, "POST", f"{API}/items") == 202
    assert await status_of(fake, "PUT", f"{API}/items") == 203


async def test_bad_fake_arguments() -> None:
    with pytest.raises(TypeError, match="config must be an HTTPClientConfig, got dict"):
        FakeHTTPClient({"timeout": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="config must be an HTTPClientConfig, got str"):
        FakeTransport(config="fast")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="base_url must be an absolute http"):
        FakeTransport(base_url="/v1")


async def test_route_lists_and_reprs(fake: FakeHTTPClient) -> None:
    users = fake.route("GET", f"{API}/users", name="users")
    assert list(fake.routes) == [users]
    assert users in fake.routes
    assert fake.routes[:1] == [users]
    assert repr(users) == f"<Route 'users' GET {API}/users (0 calls)>"
    assert repr(fake) == "<FakeHTTPClient 1 routes>"
    assert repr(fake.transport) == "<FakeTransport 1 routes>"


async def test_a_fake_client_over_a_given_transport_shares_its_routes() -> None:
    transport = FakeTransport()
    transport.route("GET", f"{API}/a").respond(201)
    async with FakeHTTPClient(transport=transport, routes=[Route("GET", f"{API}/b")]) as fake:
        assert fake.transport is transport
        assert await status_of(fake, "GET", f"{API}/a") == 201
        assert await status_of(fake, "GET", f"{API}/b") == 200
    assert len(transport.requests) == 2
