"""Bad request options are refused at the verb boundary, naming the option,
its value and what is expected (not a TypeError from deep inside aiohttp)."""

from __future__ import annotations

from typing import Any

import pytest

from httpdeck import HTTPClient, HTTPClientConfig, HTTPConfigError, HTTPValidationError
from httpdeck.testing import FakeHTTPClient

BASE = "http://127.0.0.1:8080/items"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout": "5"}, "timeout='5' (str): expected a number of seconds"),
        ({"timeout": True}, "timeout=True (bool): expected a number of seconds"),
        ({"max_response_bytes": "x"}, "max_response_bytes must be a positive integer"),
        ({"max_response_bytes": -1}, "or None for no limit, got -1."),
        ({"max_response_bytes": 0}, "or None for no limit, got 0."),
        ({"max_response_bytes": 2.5}, "got 2.5."),
        ({"headers": 5}, "headers=5 (int): expected a mapping or a sequence of (name, value)"),
        ({"headers": ["X-A"]}, "headers=['X-A'] (list): expected a mapping"),
        ({"headers": {1: "a"}}, "(a name is int)"),
        ({"headers": {"X-A": None}}, "headers['X-A']=None (NoneType): expected a str (or an int)"),
        ({"params": 5}, "params=5 (int): expected a mapping or a sequence of (name, value)"),
        ({"params": "a=b"}, "params='a=b' (str)"),
        ({"params": {"a": object()}}, "params['a']=<object object"),
        ({"data": {"a": [object()]}}, "data['a']=<object object"),
        ({"data": 5}, "data=5 (int): expected a mapping (a form), bytes or str"),
        ({"cookies": {"a": 1}}, "cookies={'a': 1} (dict): expected a mapping of str names"),
        ({"auth": "token"}, "auth='token' (str): expected BasicAuth(...), BearerAuth(...)"),
        ({"auth": ("user",)}, "auth=('user',) (tuple)"),
        ({"json": {1, 2}}, "json=...: it cannot be encoded as JSON"),
        ({"timout": 5}, "Unknown request option timout= (known: auth, "),
    ],
)
def test_a_bad_option_names_itself_its_value_and_what_is_expected(
    options: dict[str, Any], message: str
) -> None:
    client = HTTPClient()
    with pytest.raises(HTTPValidationError) as info:
        client.build_request("GET", BASE, **options)
    assert message in str(info.value)


def test_an_unknown_option_suggests_the_closest_one() -> None:
    with pytest.raises(HTTPValidationError, match=r"Did you mean timeout=\?"):
        HTTPClient().build_request("GET", BASE, timout=5)  # type: ignore[call-arg]


@pytest.mark.asyncio
async def test_the_verbs_raise_a_bad_option_before_sending_anything() -> None:
    fake = FakeHTTPClient()
    fake.route("GET", "https://api.test/x").respond(text="ok")
    async with fake:
        for options in ({"timeout": "5"}, {"max_response_bytes": "x"}, {"follow_redirects": 3}):
            with pytest.raises(HTTPValidationError) as info:
                await fake.get("https://api.test/x", **options)  # type: ignore[arg-type]
            assert next(iter(options)) in str(info.value)
    assert fake.requests == []


@pytest.mark.asyncio
async def test_follow_redirects_must_be_a_bool() -> None:
    fake = FakeHTTPClient()
    fake.route("GET", "https://api.test/x").respond(text="ok")
    async with fake:
        with pytest.raises(HTTPValidationError) as info:
            await fake.request("GET", "https://api.test/x", follow_redirects=3)  # type: ignore[arg-type]
    assert "follow_redirects=3 (int): expected True, False or None" in str(info.value)


@pytest.mark.parametrize("value", [0, -1, "10", True])
def test_config_max_response_bytes_must_be_positive(value: object) -> None:
    with pytest.raises(HTTPConfigError) as info:
        HTTPClientConfig(max_response_bytes=value)  # type: ignore[arg-type]
    assert str(info.value) == (
        "HTTPClientConfig.max_response_bytes must be a positive integer (bytes, counted after "
        f"decompression) or None for no limit, got {value!r}."
    )


def test_from_env_max_response_bytes_names_the_variable() -> None:
    with pytest.raises(HTTPConfigError) as info:
        HTTPClientConfig.from_env(environ={"HTTPDECK_HTTP__MAX_RESPONSE_BYTES": "-1"})
    assert "(loaded from HTTPDECK_HTTP__MAX_RESPONSE_BYTES='-1')" in str(info.value)


def test_good_options_still_build() -> None:
    request = HTTPClient().build_request(
        "GET",
        BASE,
        timeout=5,
        max_response_bytes=1,
        headers={"X-Count": 3},  # type: ignore[dict-item]
        params=[("a", 1), ("b", None)],
        cookies={"s": "1"},
        auth=("u", "p"),
    )
    assert request.max_response_bytes == 1
    assert request.timeout is not None
    assert request.timeout.total == 5
    assert request.headers["X-Count"] == "3"
    assert str(request.url) == f"{BASE}?a=1"
