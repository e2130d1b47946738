"""The unmatched-request error: its type, where it goes, and the exact text users read."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from httpdeck.client import HTTPClientError, HTTPTransportError, RetryPolicy
from httpdeck.testing import FakeHTTPClient, UnmatchedRequestError

pytestmark = pytest.mark.asyncio

API = "https://api.example.com"
HINT = (
    'Declare it, e.g. fake.route("{method}", "{url}").respond(...), '
    "or let it through with passthrough_hosts=['api.example.com']."
)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeHTTPClient]:
    async with FakeHTTPClient() as client:
        yield client


async def message(fake: FakeHTTPClient, method: str, url: str, **options: object) -> str:
    with pytest.raises(UnmatchedRequestError) as caught:
        await fake.request(method, url, **options)  # type: ignore[arg-type]
    return str(caught.value)


async def test_it_is_a_client_error_but_not_a_transport_error(fake: FakeHTTPClient) -> None:
    assert issubclass(UnmatchedRequestError, HTTPClientError)
    assert not issubclass(UnmatchedRequestError, HTTPTransportError)
    assert UnmatchedRequestError.raised_by_verbs


async def test_verbs_raise_it_instead_of_returning_err(fake: FakeHTTPClient) -> None:
    with pytest.raises(UnmatchedRequestError) as caught:
        await fake.get(f"{API}/users")
    assert caught.value.request is not None
    assert str(caught.value.request.url) == f"{API}/users"


async def test_a_retry_policy_does_not_retry_it() -> None:
    async with FakeHTTPClient(retry_policy=RetryPolicy(max_attempts=3)) as fake:
        with pytest.raises(UnmatchedRequestError):
            await fake.get(f"{API}/users")
        assert len(fake.requests) == 1


async def test_no_routes_declared(fake: FakeHTTPClient) -> None:
    text = await message(fake, "GET", f"{API}/users")
    assert text == (
        f"No route matched GET {API}/users (no routes are declared).\n"
        + HINT.format(method="GET", url=f"{API}/users")
    )


async def test_method_path_and_query_differences(fake: FakeHTTPClient) -> None:
    fake.route("GET", f"{API}/users", params={"page": "1"}, name="users")
    fake.route("POST", f"{API}/users")
    fake.route("GET", f"{API}/orders")
    text = await message(fake, "GET", f"{API}/users?page=2")
    assert text == (
        f"No route matched GET {API}/users?page=2 (3 routes declared).\n"
        "Closest routes:\n"
        f"  - 'users' GET {API}/users params={{'page': '1'}}: "
        "query param page='1' expected, got page='2'\n"
        f"  - POST {API}/users: method differs: expected POST, got GET\n"
        f"  - GET {API}/orders: path differs: expected /orders, got /users\n"
        + HINT.format(method="GET", url=f"{API}/users?page=2")
    )


async def test_origin_exact_query_glob_and_regex_differences(fake: FakeHTTPClient) -> None:
    fake.route("GET", "http://api.example.com:8080/users")
    fake.route("GET", f"{API}/users?page=1&sort=asc")
    fake.route("GET", f"{API}/v*/users")
    fake.route("GET", re.compile(r"https://api\.example\.com/v\d+/"))
    text = await message(fake, "GET", f"{API}/users?page=2")
    assert text.splitlines()[1:6] == [
        "Closest routes:",
        f"  - GET {API}/users?page=1&sort=asc: query differs: expected page=1&sort=asc, got page=2",
        f"  - GET {API}/v*/users: URL does not match the glob",
        r"  - GET regex(https://api\.example\.com/v\d+/): URL does not match the regex",
        "  (1 more not shown)",
    ]
    # the fourth route is not shown; its differences name the scheme and the port
    hidden = fake.routes[0].pattern.differences(fake.requests[-1].seen())
    assert [text for _, text in hidden] == [
        "scheme differs: expected http, got https",
        "port differs: expected 8080, got 443",
    ]


async def test_header_differences_hide_secret_values(fake: FakeHTTPClient) -> None:
    fake.route("GET", f"{API}/me", headers={"Authorization": "Bearer right", "X-Team": "a"})
    text = await message(
        fake, "GET", f"{API}/me", headers={"Authorization": "Bearer wrong", "X-Team": "b"}
    )
    assert "right" not in text
    assert "wrong" not in text
    assert text.splitlines()[1:4] == [
        "  request headers: {'User-Agent': 'httpdeck/0.1.0', 'Authorization': '***', "
        "'X-Team': 'b'}".replace("0.1.0", _user_agent_version()),
        "Closest routes:",
        f"  - GET {API}/me headers={{'Authorization': '***', 'X-Team': 'a'}}: "
        "header Authorization='***' expected, got '***' (secret values hidden); "
        "header X-Team='a' expected, got 'b'",
    ]


def _user_agent_version() -> str:
    from httpdeck.client._config import __version__

    return __version__


async def test_json_body_differences_are_a_compact_diff(fake: FakeHTTPClient) -> None:
    fake.route("POST", f"{API}/users", json={"name": "Ann", "tags": ["x"], "address": {"zip": "1"}})
    text = await message(
        fake,
        "POST",
        f"{API}/users",
        json={"name": "Bob", "tags": ["x", "y"], "address": {}, "admin": True},
    )
    lines = text.splitlines()
    assert lines[1] == (
        '  request body: b\'{"name":"Bob","tags":["x","y"],"address":{},"admin":true}\''
    )
    assert lines[3] == (
        f"  - POST {API}/users json={{'name': 'Ann', 'tags': ['x'], 'address': {{'zip...: "
        "json body differs: at $.name expected 'Ann', got 'Bob'; "
        "at $.tags expected 1 item, got 2; at $.address.zip missing (expected '1') (and 1 more)"
    )


async def test_json_expected_but_not_json(fake: FakeHTTPClient) -> None:
    fake.route("POST", f"{API}/users", json={"name": "Ann"})
    text = await message(fake, "POST", f"{API}/users", content=b"name=Ann")
    assert text.splitlines()[3].endswith(
        "json body expected, got a body that is not JSON: b'name=Ann'"
    )


async def test_json_predicate_names_the_predicate(fake: FakeHTTPClient) -> None:
    def is_admin(body: dict[str, object]) -> bool:
        return body.get("role") == "admin"

    fake.route("POST", f"{API}/users", json=is_admin)
    text = await message(fake, "POST", f"{API}/users", json={"role": "user"})
    assert text.splitlines()[3] == (
        f"  - POST {API}/users json=test_json_predicate_names_the_predicate.<locals>.is_admin: "
        "json body rejected by test_json_predicate_names_the_predicate.<locals>.is_admin"
    )


async def test_form_and_content_differences(fake: FakeHTTPClient) -> None:
    fake.route("POST", f"{API}/token", data={"user": "ann"})
    fake.route("PUT", f"{API}/blob", content=b"hello world")
    form = await message(fake, "POST", f"{API}/token", data={"user": "bob", "extra": "1"})
    assert form.splitlines()[3] == (
        f"  - POST {API}/token data={{'user': 'ann'}}: "
        "form data differs: field user='ann' expected, got user='bob'; field extra='1' not expected"
    )
    json_body = await message(fake, "POST", f"{API}/token", json={"user": "ann"})
    assert json_body.splitlines()[3].endswith(
        "form data expected, got Content-Type application/json"
    )
    blob = await message(fake, "PUT", f"{API}/blob", content=b"hello there")
    assert blob.splitlines()[3] == (
        f"  - PUT {API}/blob content=b'hello world': content differs: expected b'hello world' "
        "(11 bytes), got b'hello there' (11 bytes), first difference at byte 6"
    )


async def test_request_headers_and_body_show_only_when_a_route_looks_at_them(
    fake: FakeHTTPClient,
) -> None:
    fake.route("POST", f"{API}/other")
    text = await message(fake, "POST", f"{API}/users", json={"a": 1}, headers={"X-A": "1"})
    assert "request headers" not in text
    assert "request body" not in text


async def test_candidates_are_on_the_error(fake: FakeHTTPClient) -> None:
    route = fake.route("POST", f"{API}/users")
    with pytest.raises(UnmatchedRequestError) as caught:
        await fake.get(f"{API}/users")
    assert caught.value.candidates == [(route, ["method differs: expected POST, got GET"])]


async def test_exhausted_sequence_says_how_to_fix_it(fake: FakeHTTPClient) -> None:
    fake.route("GET", f"{API}/users").respond_sequence([200], then="error")
    await fake.get(f"{API}/users")
    text = await message(fake, "GET", f"{API}/users")
    assert text == (
        f"Route GET {API}/users gave all 1 answer of its sequence; GET {API}/users (call 2) "
        "has none left. Add answers, or pass then='repeat' to repeat the last one."
    )


async def test_no_passthrough_hint_when_passthrough_is_configured() -> None:
    async with FakeHTTPClient(passthrough_hosts=["127.0.0.1"]) as fake:
        text = await message(fake, "GET", f"{API}/users")
    assert text.endswith(f'fake.route("GET", "{API}/users").respond(...).')
