"""Turning request options into a `Request`: params, headers, bodies, cookies, auth, timeouts."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from multidict import CIMultiDict
from yarl import URL

from httpdeck import (
    BasicAuth,
    BearerAuth,
    HTTPClient,
    HTTPClientConfig,
    HTTPConfigError,
    HTTPValidationError,
    StreamBody,
    TimeoutConfig,
)

BASE = "http://127.0.0.1:8080/items"


@pytest.fixture
def client() -> HTTPClient:
    # build_request never opens the pool, so this client owns no connections.
    return HTTPClient(HTTPClientConfig(headers={"X-Team": "payments"}))


async def _gen() -> AsyncIterator[bytes]:
    yield b"chunk"


def test_minimal_request(client: HTTPClient) -> None:
    request = client.build_request("get", BASE)
    assert request.method == "GET"
    assert request.url == URL(BASE)
    assert request.content is None
    assert request.timeout is None
    assert dict(request.headers) == {
        "User-Agent": client.config.user_agent,
        "X-Team": "payments",
    }


def test_each_request_gets_its_own_headers(client: HTTPClient) -> None:
    first = client.build_request("GET", BASE)
    first.headers["X-Mutated"] = "1"
    assert "X-Mutated" not in client.build_request("GET", BASE).headers


def test_url_object_is_accepted(client: HTTPClient) -> None:
    url = URL(BASE).with_query(a="1")
    assert client.build_request("GET", url).url == url


@pytest.mark.parametrize(
    ("params", "query"),
    [
        ({"page": 2, "q": "a b"}, "page=2&q=a+b"),
        ({"tag": ["x", "y"], "empty": None}, "tag=x&tag=y"),
        ({"on": True, "off": False, "ratio": 0.5}, "on=true&off=false&ratio=0.5"),
        ([("k", "1"), ("k", "2")], "k=1&k=2"),
        ({"tags": ("a", None, "b")}, "tags=a&tags=b"),
    ],
)
def test_params(client: HTTPClient, params: Any, query: str) -> None:
    assert client.build_request("GET", BASE, params=params).url.raw_query_string == query


def test_params_extend_an_existing_query(client: HTTPClient) -> None:
    request = client.build_request("GET", BASE + "?a=1", params={"b": 2})
    assert request.url.raw_query_string == "a=1&b=2"


def test_headers_mapping_and_pairs_override_defaults(client: HTTPClient) -> None:
    request = client.build_request("GET", BASE, headers={"x-team": "search", "X-Count": 3})  # type: ignore[dict-item]
    assert request.headers.getall("X-Team") == ["search"]
    assert request.headers["X-Count"] == "3"
    request = client.build_request("GET", BASE, headers=[("Accept", "text/html")])
    assert request.headers["Accept"] == "text/html"


def test_a_header_given_twice_is_sent_twice_and_replaces_the_default() -> None:
    client = HTTPClient(HTTPClientConfig(headers={"Accept": "text/html"}))
    request = client.build_request(
        "GET", BASE, headers=[("accept", "application/json"), ("Accept", "text/plain")]
    )
    assert request.headers.getall("Accept") == ["application/json", "text/plain"]


def test_user_agent_can_be_replaced_per_request(client: HTTPClient) -> None:
    request = client.build_request("GET", BASE, headers={"User-Agent": "probe/1"})
    assert request.headers.getall("User-Agent") == ["probe/1"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("X Bad", "v", "Invalid header name 'X Bad'"),
        ("X-Bad:", "v", "Invalid header name 'X-Bad:'"),
        ("", "v", "Invalid header name ''"),
        (
            "X-Inject",
            "a\r\nEvil: 1",
            "Invalid value for header 'X-Inject': 'a\\r\\nEvil: 1' contains CR, LF or NUL.",
        ),
        ("X-Nul", "a\x00b", "contains CR, LF or NUL"),
    ],
)
def test_header_injection_is_rejected(
    client: HTTPClient, name: str, value: str, message: str
) -> None:
    with pytest.raises(HTTPValidationError) as info:
        client.build_request("GET", BASE, headers={name: value})
    assert message in str(info.value)


def test_bad_default_header_fails_when_the_client_is_built() -> None:
    with pytest.raises(HTTPValidationError, match="Invalid value for header 'X-A'"):
        HTTPClient(HTTPClientConfig(headers={"X-A": "1\n2"}))


def test_json_body_is_compact_utf8_with_content_type(client: HTTPClient) -> None:
    request = client.build_request("POST", BASE, json={"name": "Zoë", "n": [1, 2]})
    assert request.content == b'{"name":"Zo\\u00eb","n":[1,2]}'  # compact, ASCII-safe
    assert json.loads(request.content) == {"name": "Zoë", "n": [1, 2]}
    assert request.headers["Content-Type"] == "application/json"


def test_json_none_is_sent_as_null(client: HTTPClient) -> None:
    assert client.build_request("POST", BASE, json=None).content == b"null"


def test_json_keeps_an_explicit_content_type(client: HTTPClient) -> None:
    request = client.build_request(
        "POST", BASE, json=[1], headers={"Content-Type": "application/vnd.api+json"}
    )
    assert request.headers.getall("Content-Type") == ["application/vnd.api+json"]


def test_form_data(client: HTTPClient) -> None:
    request = client.build_request("POST", BASE, data={"name": "a b", "tags": ["x", "y"]})
    assert request.content == b"name=a+b&tags=x&tags=y"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize(("data", "body"), [(b"raw", b"raw"), ("text é", "text é".encode())])
def test_raw_data(client: HTTPClient, data: bytes | str, body: bytes) -> None:
    request = client.build_request("PUT", BASE, data=data)
    assert request.content == body
    assert "Content-Type" not in request.headers


@pytest.mark.parametrize(("content", "body"), [(b"\x00\x01", b"\x00\x01"), ("ü", "ü".encode())])
def test_content_bytes_and_text(client: HTTPClient, content: bytes | str, body: bytes) -> None:
    assert client.build_request("POST", BASE, content=content).content == body


@pytest.mark.asyncio
async def test_content_async_iterable_is_a_one_shot_stream(client: HTTPClient) -> None:
    request = client.build_request("POST", BASE, content=_gen())
    assert isinstance(request.content, StreamBody)
    assert not request.content.replayable
    assert [c async for c in request.content] == [b"chunk"]
    assert not request.replayable


@pytest.mark.asyncio
async def test_content_factory_is_replayable(client: HTTPClient) -> None:
    request = client.build_request("POST", BASE, content=_gen)
    assert isinstance(request.content, StreamBody)
    assert request.content.replayable
    assert [c async for c in request.content] == [b"chunk"]
    assert [c async for c in request.content] == [b"chunk"]


def test_stream_body_passes_through(client: HTTPClient) -> None:
    body = StreamBody(_gen)
    assert client.build_request("POST", BASE, content=body).content is body


def test_content_of_another_type_is_rejected(client: HTTPClient) -> None:
    with pytest.raises(
        HTTPValidationError,
        match=r"content=\[b.a.\] \(list\): expected bytes, str, an async iterable",
    ):
        client.build_request("POST", BASE, content=[b"a"])  # type: ignore[arg-type]


def test_json_wins_over_data_and_content(client: HTTPClient) -> None:
    request = client.build_request("POST", BASE, json={"a": 1}, data=b"ignored", content=b"no")
    assert request.content == b'{"a":1}'


def test_cookies_join_an_existing_cookie_header(client: HTTPClient) -> None:
    request = client.build_request("GET", BASE, cookies={"a": "1", "b": "2"})
    assert request.headers["Cookie"] == "a=1; b=2"
    request = client.build_request(
        "GET", BASE, headers={"Cookie": "session=x"}, cookies={"theme": "dark"}
    )
    assert request.headers.getall("Cookie") == ["session=x; theme=dark"]


def test_cookie_value_injection_is_rejected(client: HTTPClient) -> None:
    with pytest.raises(HTTPValidationError, match="Invalid value for header 'Cookie'"):
        client.build_request("GET", BASE, cookies={"a": "1\r\nX-Evil: 1"})


@pytest.mark.parametrize(
    ("auth", "header"),
    [
        (("ada", "s3cret"), "Basic " + base64.b64encode(b"ada:s3cret").decode()),
        (BasicAuth("ada"), "Basic " + base64.b64encode(b"ada:").decode()),
        (
            BasicAuth("zoë", "pässword"),
            "Basic " + base64.b64encode("zoë:pässword".encode()).decode(),
        ),
        (BearerAuth("tok.en"), "Bearer tok.en"),
    ],
)
def test_auth(client: HTTPClient, auth: Any, header: str) -> None:
    assert client.build_request("GET", BASE, auth=auth).headers["Authorization"] == header


def test_auth_replaces_an_authorization_header(client: HTTPClient) -> None:
    request = client.build_request(
        "GET", BASE, headers={"Authorization": "old"}, auth=BearerAuth("new")
    )
    assert request.headers.getall("Authorization") == ["Bearer new"]


def test_timeout_number_sets_total_and_keeps_the_other_phases() -> None:
    config = HTTPClientConfig(timeouts=TimeoutConfig(connect=1.5, read=4.0))
    request = HTTPClient(config).build_request("GET", BASE, timeout=2)
    assert request.timeout == TimeoutConfig(connect=1.5, read=4.0, total=2)


def test_timeout_config_is_used_as_given(client: HTTPClient) -> None:
    timeouts = TimeoutConfig(connect=None, read=0.5)
    assert client.build_request("GET", BASE, timeout=timeouts).timeout is timeouts


def test_timeout_none_keeps_the_client_timeouts(client: HTTPClient) -> None:
    assert client.build_request("GET", BASE, timeout=None).timeout is None


@pytest.mark.parametrize("timeout", [0, -1, float("nan")])
def test_bad_timeout_is_a_validation_error(client: HTTPClient, timeout: float) -> None:
    with pytest.raises(HTTPValidationError) as info:
        client.build_request("GET", BASE, timeout=timeout)
    assert str(info.value).startswith(
        f"Invalid request option timeout={timeout!r}: TimeoutConfig.total must be"
    )
    assert isinstance(info.value.__cause__, HTTPConfigError)


def test_max_response_bytes_per_request_and_from_config() -> None:
    client = HTTPClient(HTTPClientConfig(max_response_bytes=1000))
    assert client.build_request("GET", BASE).max_response_bytes == 1000
    assert client.build_request("GET", BASE, max_response_bytes=10).max_response_bytes == 10
    assert client.build_request("GET", BASE, params={}).max_response_bytes == 1000


@pytest.mark.parametrize("method", ["GET\r\nX: 1", "GE T", "", "G:ET"])
def test_bad_method_is_rejected(client: HTTPClient, method: str) -> None:
    with pytest.raises(HTTPValidationError, match="Invalid HTTP method"):
        client.build_request(method, BASE)


def test_custom_method_token_is_upper_cased(client: HTTPClient) -> None:
    assert client.build_request("purge", BASE).method == "PURGE"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://127.0.0.1/a\r\nHost: evil",
            "Invalid URL 'http://127.0.0.1/a\\r\\nHost: evil': it contains CR, LF or NUL.",
        ),
        ("/relative", "Invalid URL '/relative': expected an absolute http:// or https:// URL"),
        (
            "ftp://127.0.0.1/file",
            "Invalid URL 'ftp://127.0.0.1/file': expected an absolute http://",
        ),
        ("http://", "expected an absolute http:// or https:// URL with a host"),
        ("http://[::1", "Invalid URL 'http://[::1'"),
    ],
)
def test_bad_url_is_rejected_before_sending(client: HTTPClient, url: str, message: str) -> None:
    with pytest.raises(HTTPValidationError) as info:
        client.build_request("GET", url)
    assert message in str(info.value)


def test_url_of_another_type_is_rejected(client: HTTPClient) -> None:
    with pytest.raises(HTTPValidationError, match=r"A URL must be a str or yarl\.URL, got bytes"):
        client.build_request("GET", b"http://127.0.0.1/")  # type: ignore[arg-type]


def test_url_object_with_a_newline_is_rejected(client: HTTPClient) -> None:
    url = URL.build(scheme="http", host="127.0.0.1", path="/a", query_string="x=1\n2", encoded=True)
    with pytest.raises(HTTPValidationError, match="it contains CR, LF or NUL"):
        client.build_request("GET", url)


def test_request_headers_are_a_case_insensitive_multidict(client: HTTPClient) -> None:
    request = client.build_request("GET", BASE)
    assert isinstance(request.headers, CIMultiDict)
    assert request.headers["user-agent"] == client.config.user_agent
