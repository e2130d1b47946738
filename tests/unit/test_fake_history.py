"""Call history and the assertions on it, with the text users read when they fail."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from httpdeck.client import HTTPClient, RequestContext
from httpdeck.testing import Call, FakeHTTPClient, UnmatchedRequestError

pytestmark = pytest.mark.asyncio

API = "https://api.example.com"


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeHTTPClient]:
    async with FakeHTTPClient() as client:
        yield client


async def test_every_request_is_recorded_with_its_route_and_outcome(fake: FakeHTTPClient) -> None:
    users = fake.route("POST", f"{API}/users").respond(201, json={"id": 7})
    await fake.post(f"{API}/users", json={"name": "Ann"}, headers={"X-Trace": "t1"})
    with pytest.raises(UnmatchedRequestError):
        await fake.get(f"{API}/nothing")
    first, second = fake.requests
    assert isinstance(first, Call)
    assert (first.method, str(first.url), first.route) == ("POST", f"{API}/users", users)
    assert first.headers["X-Trace"] == "t1"
    assert first.json() == {"name": "Ann"}
    assert first.text == '{"name":"Ann"}'
    assert first.response is not None
    assert first.response.status == 201
    assert first.error is None
    assert first.attempt == 0
    assert (second.route, type(second.error)) == (None, UnmatchedRequestError)
    assert fake.unmatched_requests == [second]
    assert repr(first) == f"<Call POST {API}/users -> 201>"


async def test_call_params(fake: FakeHTTPClient) -> None:
    fake.route("GET", f"{API}/users")
    await fake.get(f"{API}/users", params={"page": 2, "tag": ["a", "b"]})
    call = fake.routes[0].last_call
    assert call.params.getall("tag") == ["a", "b"]
    assert call.params["page"] == "2"


async def test_route_counters(fake: FakeHTTPClient) -> None:
    route = fake.route("GET", f"{API}/users")
    assert (route.called, route.call_count) == (False, 0)
    route.assert_not_called()
    await fake.get(f"{API}/users")
    await fake.get(f"{API}/users")
    assert (route.called, route.call_count, len(route.calls)) == (True, 2, 2)
    route.assert_called()
    route.assert_call_count(2)


async def test_interceptor_changes_are_what_the_fake_records() -> None:
    class AddTrace:
        def intercept_request(self, ctx: RequestContext) -> None:
            ctx.headers["X-Trace"] = f"attempt-{ctx.attempt}"

    async with FakeHTTPClient(interceptors=[AddTrace()]) as fake:
        fake.route("GET", f"{API}/users", headers={"X-Trace": "attempt-0"})
        await fake.get(f"{API}/users")
        assert fake.requests[0].headers["X-Trace"] == "attempt-0"


async def test_assert_called_once_fails_with_the_count(fake: FakeHTTPClient) -> None:
    route = fake.route("GET", f"{API}/users", name="users")
    with pytest.raises(AssertionError) as never:
        route.assert_called_once()
    assert str(never.value) == (
        f"Expected route 'users' GET {API}/users to be called once; it was never called."
    )
    for _ in range(3):
        await fake.get(f"{API}/users")
    with pytest.raises(AssertionError) as thrice:
        route.assert_called_once()
    assert str(thrice.value) == (
        f"Expected route 'users' GET {API}/users to be called once; it was called 3 times."
    )


async def test_assert_not_called_lists_the_calls(fake: FakeHTTPClient) -> None:
    route = fake.route("GET", f"{API}/users/*")
    await fake.get(f"{API}/users/1")
    await fake.get(f"{API}/users/2?full=1")
    with pytest.raises(AssertionError) as caught:
        route.assert_not_called()
    assert str(caught.value) == (
        f"Expected route GET {API}/users/* not to be called; it was called 2 times:\n"
        f"  - GET {API}/users/1\n"
        f"  - GET {API}/users/2?full=1"
    )


async def test_assert_called_with_checks_the_last_call(fake: FakeHTTPClient) -> None:
    route = fake.route("POST", f"{API}/users")
    await fake.post(f"{API}/users", json={"name": "Ann"}, params={"v": 1})
    await fake.post(f"{API}/users", json={"name": "Bob", "age": 3}, headers={"X-Team": "a"})
    route.assert_called_with(json={"name": "Bob", "age": 3})
    route.assert_called_with("POST", f"{API}/users", headers={"x-team": "a"})
    route.assert_any_call(json={"name": "Ann"}, params={"v": "1"})
    with pytest.raises(AssertionError) as caught:
        route.assert_called_with(json={"name": "Ann"}, headers={"X-Team": "b"})
    assert str(caught.value) == (
        f"The last call to route POST {API}/users does not match "
        "headers={'X-Team': 'b'} json={'name': 'Ann'}:\n"
        f"  - POST {API}/users: header X-Team='b' expected, got 'a'; "
        "json body differs: at $.name expected 'Ann', got 'Bob'; at $.age unexpected 3"
    )


async def test_assert_any_call_lists_every_call(fake: FakeHTTPClient) -> None:
    route = fake.route("GET", f"{API}/users")
    await fake.get(f"{API}/users", params={"page": 1})
    await fake.get(f"{API}/users", params={"page": 2})
    with pytest.raises(AssertionError) as caught:
        route.assert_any_call(params={"page": 3})
    assert str(caught.value) == (
        f"No call to route GET {API}/users matches params={{'page': '3'}}:\n"
        f"  - GET {API}/users?page=1: query param page='3' expected, got page='1'\n"
        f"  - GET {API}/users?page=2: query param page='3' expected, got page='2'"
    )


async def test_assert_called_with_on_a_route_never_called(fake: FakeHTTPClient) -> None:
    route = fake.route("GET", f"{API}/users")
    with pytest.raises(AssertionError) as caught:
        route.assert_called_with(params={"page": "1"})
    assert str(caught.value) == (
        f"Expected route GET {API}/users to be called with params={{'page': '1'}}; "
        "it was never called."
    )
    with pytest.raises(AssertionError, match="was never called"):
        route.last_call  # noqa: B018 - the property raises


async def test_assert_all_called_lists_the_routes_never_called(fake: FakeHTTPClient) -> None:
    fake.route("GET", f"{API}/users", name="users")
    fake.route("DELETE", f"{API}/users/*")
    fake.route("GET", f"{API}/optional", optional=True)
    fake.route("GET", f"{API}/used")
    await fake.get(f"{API}/used")
    with pytest.raises(AssertionError) as caught:
        fake.assert_all_called()
    assert str(caught.value) == (
        "2 routes were never called:\n"
        f"  - 'users' GET {API}/users\n"
        f"  - DELETE {API}/users/*\n"
        "Call them, remove them, or declare them with optional=True."
    )


async def test_assert_all_requests_were_expected_even_when_swallowed(fake: FakeHTTPClient) -> None:
    fake.route("GET", f"{API}/users")
    await fake.get(f"{API}/users")
    with contextlib.suppress(UnmatchedRequestError):  # the code under test swallows it
        await fake.get(f"{API}/orders")
    fake.assert_all_called()
    with pytest.raises(AssertionError) as caught:
        fake.assert_all_requests_were_expected()
    assert str(caught.value).startswith(
        "1 request matched no route:\n"
        f"  - GET {API}/orders\n"
        "The first one failed with:\n"
        f"No route matched GET {API}/orders (1 route declared)."
    )


async def test_the_unexpected_requests_listing_hides_url_secrets(fake: FakeHTTPClient) -> None:
    with contextlib.suppress(UnmatchedRequestError):
        await fake.get(f"{API}/orders", params={"api_key": "key-canary-55"})
    with pytest.raises(AssertionError) as caught:
        fake.assert_all_requests_were_expected()
    assert "key-canary-55" not in str(caught.value)
    assert f"  - GET {API}/orders?api_key=REDACTED\n" in str(caught.value)


async def test_reset_forgets_history_but_keeps_routes(fake: FakeHTTPClient) -> None:
    route = fake.route("GET", f"{API}/users").respond_sequence([201, 202])
    await fake.get(f"{API}/users")
    with pytest.raises(UnmatchedRequestError):
        await fake.get(f"{API}/other")
    fake.reset()
    assert (fake.requests, fake.unmatched_requests, route.calls) == ([], [], [])
    assert (await fake.request("GET", f"{API}/users")).status == 201
    fake.assert_all_requests_were_expected()


async def test_history_of_a_transport_shared_with_a_users_client(fake: FakeHTTPClient) -> None:
    fake.route("GET", f"{API}/users")
    async with HTTPClient(transport=fake.transport) as mine:
        await mine.get(f"{API}/users")
    await fake.get(f"{API}/users")
    assert fake.routes[0].call_count == 2
    # closing the user's client leaves the fake usable
    assert (await fake.request("GET", f"{API}/users")).status == 200
