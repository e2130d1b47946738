"""Names carried over from unittest.mock and respx work on the fake's routes, or
answer with the name to use instead."""

from __future__ import annotations

import pytest

from httpdeck.testing import FakeError, FakeHTTPClient, Route

URL = "https://api.example.com/users"


@pytest.mark.asyncio
async def test_assert_called_once_with_checks_the_count_and_the_call() -> None:
    async with FakeHTTPClient() as fake:
        route = fake.route("POST", URL).respond(201)
        await fake.post(URL, json={"name": "Ada"})
        route.assert_called_once_with("POST", URL, json={"name": "Ada"})
        with pytest.raises(AssertionError, match="does not match"):
            route.assert_called_once_with("POST", URL, json={"name": "Bob"})
        await fake.post(URL, json={"name": "Ada"})
        with pytest.raises(AssertionError, match="called once; it was called 2 times"):
            route.assert_called_once_with("POST", URL, json={"name": "Ada"})


@pytest.mark.asyncio
async def test_respond_takes_status_code_as_respx_spells_it() -> None:
    async with FakeHTTPClient() as fake:
        fake.route("GET", URL).respond(status_code=404, json={"error": "gone"})
        error = (await fake.get(URL)).unwrap_err()
    assert error.status == 404  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="status=503 and status_code=404; give one"):
        Route("GET", URL).respond(503, status_code=404)


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("call_args", "did you mean 'last_call'?"),
        ("call_args_list", "did you mean 'calls'?"),
        ("callcount", "did you mean 'call_count'"),
        ("assert_called_once_wth", "did you mean 'assert_called_once_with'"),
        ("side_effect", "did you mean 'respond_sequence([...])'"),
        ("optinal", "did you mean 'optional'"),  # an instance attribute
    ],
)
def test_a_missing_route_attribute_suggests_the_closest_name(name: str, suggestion: str) -> None:
    route = Route("GET", URL)
    with pytest.raises(AttributeError, match=f"'Route' object has no attribute '{name}'") as info:
        getattr(route, name)
    assert suggestion in str(info.value)
    assert info.value.name == name


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("conection_reset", "did you mean 'connection_reset'?"),
        ("timout", "did you mean 'timeout'?"),
        ("connection_refused", "did you mean 'connection_reset(sent=False)'?"),
    ],
)
def test_a_missing_fake_error_constructor_suggests_the_closest_name(
    name: str, suggestion: str
) -> None:
    with pytest.raises(AttributeError, match=suggestion.replace("(", r"\(").replace(")", r"\)")):
        getattr(FakeError, name)


def test_an_unknown_name_with_nothing_close_says_so_plainly() -> None:
    with pytest.raises(AttributeError) as info:
        Route("GET", URL).zzzz  # noqa: B018 - the attribute access is the test
    assert str(info.value) == "'Route' object has no attribute 'zzzz'"


@pytest.mark.asyncio
async def test_assert_not_called_lets_the_route_go_uncalled_at_teardown() -> None:
    async with FakeHTTPClient() as fake:
        never = fake.route("DELETE", URL)
        used = fake.route("GET", URL)
        await fake.get(URL)
        used.assert_called_once()
        never.assert_not_called()
        fake.assert_all_called()  # the route asserted uncalled is not required
