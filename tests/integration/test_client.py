"""HTTPClient against a real aiohttp.web server on 127.0.0.1: verbs, bodies, Result, errors.

Pooling, keep-alive, proxies and env config are in test_client_pool.py;
lifecycle, BaseURLHTTPClient, interceptors, auth and redirects in
test_client_usage.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from client_apps import Observed, echo_app, refused_url
from yarl import URL

from conftest import Serve
from httpdeck import (
    ConnectionPoolConfig,
    Err,
    HTTPClient,
    HTTPClientConfig,
    HTTPConnectionError,
    HttpResponse,
    HTTPStatusError,
    HTTPTimeoutError,
    Ok,
    Result,
    TimeoutConfig,
)
from httpdeck.client import HTTPClientError

pytestmark = pytest.mark.asyncio


def _ok(result: Result[HttpResponse, HTTPClientError]) -> HttpResponse:
    assert isinstance(result, Ok), result
    return result.value


def _err(result: Result[HttpResponse, HTTPClientError]) -> HTTPClientError:
    assert isinstance(result, Err), result
    return result.error


@pytest.fixture
def observed() -> Observed:
    return Observed()


@pytest_asyncio.fixture
async def base(serve: Serve, observed: Observed) -> URL:
    return await serve(echo_app(observed))


@pytest_asyncio.fixture
async def client() -> AsyncIterator[HTTPClient]:
    async with HTTPClient() as client:
        yield client


# -- verbs -------------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["get", "post", "put", "patch", "delete", "options"])
async def test_every_verb_reaches_the_server(client: HTTPClient, base: URL, verb: str) -> None:
    result = await getattr(client, verb)(base / "echo" / "items")
    response = _ok(result)
    assert response.status == 200
    assert response.method == verb.upper()
    assert response.json()["method"] == verb.upper()
    assert response.json()["path"] == "/echo/items"
    assert response.headers["x-method"] == verb.upper()


async def test_head_returns_headers_and_no_body(client: HTTPClient, base: URL) -> None:
    response = _ok(await client.head(base / "echo"))
    assert response.status == 200
    assert response.headers["X-Method"] == "HEAD"
    assert int(response.headers["Content-Length"]) > 0
    assert response.content == b""


@pytest.mark.parametrize("method", ["GET", "POST", "PURGE"])
async def test_request_with_any_method(client: HTTPClient, base: URL, method: str) -> None:
    response = await client.request(method, base / "echo")
    assert response.json()["method"] == method


async def test_response_describes_itself(client: HTTPClient, base: URL) -> None:
    response = _ok(await client.get(str(base / "echo"), params={"a": "1"}))
    assert response.url == base.with_path("/echo").with_query(a="1")
    assert response.request is not None
    assert response.request.url == response.url
    assert response.reason == "OK"
    assert response.elapsed > 0
    assert response.ok
    assert response.headers["content-type"].startswith("application/json")


async def test_default_request_headers(client: HTTPClient, base: URL) -> None:
    headers = _ok(await client.get(base / "echo")).json()["headers"]
    assert headers["user-agent"] == client.config.user_agent
    assert headers["user-agent"].startswith("httpdeck/")
    assert "gzip" in headers["accept-encoding"]


# -- what a request carries ---------------------------------------------------------


async def test_json_body(client: HTTPClient, base: URL) -> None:
    payload = {"name": "Zoë", "tags": ["a", "b"], "n": 1.5, "none": None}
    seen = _ok(await client.post(base / "echo", json=payload)).json()
    assert seen["headers"]["content-type"] == "application/json"
    assert json.loads(seen["body"]) == payload


async def test_form_body(client: HTTPClient, base: URL) -> None:
    seen = _ok(await client.post(base / "echo", data={"user": "ada lovelace", "n": [1, 2]})).json()
    assert seen["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert seen["body"] == "user=ada+lovelace&n=1&n=2"


async def test_raw_bytes_body(client: HTTPClient, base: URL) -> None:
    body = bytes(range(256)) * 4096  # 1 MiB
    seen = _ok(await client.put(base / "echo", content=body)).json()
    assert seen["body_length"] == len(body)
    assert seen["headers"]["content-length"] == str(len(body))


async def test_streamed_body_is_sent_chunked(client: HTTPClient, base: URL) -> None:
    async def parts() -> AsyncIterator[bytes]:
        for i in range(5):
            yield f"part {i};".encode()

    seen = _ok(await client.post(base / "echo", content=parts())).json()
    assert seen["body"] == "part 0;part 1;part 2;part 3;part 4;"
    assert seen["chunked"]


async def test_params_are_encoded_and_extend_the_query(client: HTTPClient, base: URL) -> None:
    url = str(base / "echo") + "?fixed=1"
    params: dict[str, Any] = {"q": "a b&c", "tag": ["x", "y"], "on": True, "skip": None}
    seen = _ok(await client.get(url, params=params)).json()
    assert seen["query"] == [
        ["fixed", "1"],
        ["q", "a b&c"],
        ["tag", "x"],
        ["tag", "y"],
        ["on", "true"],
    ]


async def test_headers_per_request_and_from_config(serve: Serve) -> None:
    base = await serve(echo_app())
    config = HTTPClientConfig(headers={"X-Team": "payments", "X-Env": "test"})
    async with HTTPClient(config) as client:
        response = await client.request(
            "GET",
            base / "echo",
            headers=[("X-Env", "override"), ("X-Multi", "1"), ("X-Multi", "2")],
        )
    seen = response.json()["header_lists"]
    assert seen["x-team"] == ["payments"]
    assert seen["x-env"] == ["override"]
    assert seen["x-multi"] == ["1", "2"]


async def test_cookies_per_request(client: HTTPClient, base: URL) -> None:
    seen = _ok(await client.get(base / "echo", cookies={"session": "abc", "theme": "light"})).json()
    assert seen["cookies"] == {"session": "abc", "theme": "light"}


async def test_cookie_jar_keeps_cookies_the_server_set(client: HTTPClient, base: URL) -> None:
    _ok(await client.get(base / "set-cookie"))
    assert _ok(await client.get(base / "echo")).json()["cookies"] == {"theme": "dark"}
    # Per-request cookies are sent alongside the jar's.
    both = _ok(await client.get(base / "echo", cookies={"extra": "1"})).json()["cookies"]
    assert both == {"theme": "dark", "extra": "1"}


async def test_the_requests_own_cookie_beats_the_jars(client: HTTPClient, base: URL) -> None:
    _ok(await client.get(base / "set-cookie"))  # the jar now holds theme=dark
    mine = _ok(await client.get(base / "echo", cookies={"theme": "light"})).json()["headers"]
    assert mine["cookie"] == "theme=light"
    # A raw Cookie header is the request's own too, and reaches the server as written.
    raw = 'token=abc/def==; q="a;b"; theme=blue'
    seen = _ok(await client.get(base / "echo", headers={"Cookie": raw})).json()["headers"]
    assert seen["cookie"] == raw


async def test_without_a_cookie_jar_nothing_is_kept(base: URL) -> None:
    async with HTTPClient(HTTPClientConfig(cookie_jar=False)) as client:
        _ok(await client.get(base / "set-cookie"))
        assert _ok(await client.get(base / "echo")).json()["cookies"] == {}


async def test_gzip_body_is_decompressed(client: HTTPClient, base: URL) -> None:
    response = _ok(await client.get(base / "gzip"))
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.json()["compressed"] is True
    assert len(response.content) > int(response.headers["Content-Length"])


# -- Result mapping -------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 204, 304])
async def test_success_and_redirect_statuses_are_ok(
    client: HTTPClient, base: URL, status: int
) -> None:
    assert _ok(await client.get(base / "status" / str(status))).status == status


async def test_3xx_not_followed_is_ok(client: HTTPClient, base: URL) -> None:
    response = _ok(await client.get(base / "redirect" / "1", follow_redirects=False))
    assert response.status == 302
    assert response.headers["Location"] == "/redirect/0?status=302"


@pytest.mark.parametrize("status", [400, 404, 429, 500, 503])
async def test_4xx_and_5xx_are_err_status_error_with_the_response(
    client: HTTPClient, base: URL, status: int
) -> None:
    error = _err(await client.get(base / "status" / str(status)))
    assert isinstance(error, HTTPStatusError)
    assert error.status == status
    assert error.response.content == f"status {status}".encode()
    assert error.request is not None
    kind = "Client error" if status < 500 else "Server error"
    assert str(error).startswith(f"{kind} {status} ")
    assert str(error).endswith(f"for GET {base}/status/{status}")


async def test_status_error_in_a_match(client: HTTPClient, base: URL) -> None:
    match await client.delete(base / "status" / "404"):
        case Err(HTTPStatusError(status=404) as error):
            assert error.response.text() == "status 404"
        case other:
            pytest.fail(f"expected Err(HTTPStatusError), got {other!r}")


async def test_connection_refused_is_err_connection_error_not_sent(client: HTTPClient) -> None:
    with refused_url() as url:
        error = _err(await client.get(url))
    assert isinstance(error, HTTPConnectionError)
    assert error.sent is False
    assert error.request is not None
    assert error.request.url == url
    assert str(error).startswith(f"Cannot connect to 127.0.0.1:{url.port} for GET {url}:")
    assert "Connection refused [Errno 111]. Check that the server is up" in str(error)


async def test_connection_refused_post_is_not_sent_either(client: HTTPClient) -> None:
    with refused_url() as url:
        error = _err(await client.post(url, json={"charge": 100}))
    assert isinstance(error, HTTPConnectionError)
    assert error.sent is False


async def test_timeout_is_err_timeout_error_with_its_phase(client: HTTPClient, base: URL) -> None:
    error = _err(await client.get(base / "forever", timeout=0.1))
    assert isinstance(error, HTTPTimeoutError)
    assert error.phase == "total"
    assert error.sent is True
    assert f"GET {base}/forever" in str(error)


async def test_request_returns_4xx_and_5xx_responses(client: HTTPClient, base: URL) -> None:
    for status in (404, 500):
        response = await client.request("GET", base / "status" / str(status))
        assert response.status == status
        assert not response.ok
        assert response.text() == f"status {status}"


async def test_request_raises_on_transport_failure(client: HTTPClient, base: URL) -> None:
    with refused_url() as url, pytest.raises(HTTPConnectionError) as refused:
        await client.request("GET", url)
    assert refused.value.sent is False
    with pytest.raises(HTTPTimeoutError) as timed_out:
        await client.request("GET", base / "forever", timeout=0.1)
    assert timed_out.value.phase == "total"


async def test_aiohttp_exceptions_never_escape(client: HTTPClient) -> None:
    with refused_url() as url, pytest.raises(Exception) as info:  # noqa: PT011 - checked below
        await client.request("GET", url)
    assert isinstance(info.value, HTTPClientError)
    assert type(info.value).__module__.split(".")[0] == "httpdeck"
    assert type(info.value.__cause__).__module__.startswith("aiohttp")


# -- timeouts by phase ----------------------------------------------------------------


async def test_read_timeout_while_the_body_stalls(serve: Serve) -> None:
    base = await serve(echo_app())
    config = HTTPClientConfig(timeouts=TimeoutConfig(read=0.1))
    async with HTTPClient(config) as client:
        error = _err(await client.get(base / "stall-body"))
    assert isinstance(error, HTTPTimeoutError)
    assert error.phase == "read"
    assert error.sent is True
    assert "read" in str(error)


async def test_read_timeout_while_waiting_for_the_response_head(serve: Serve) -> None:
    base = await serve(echo_app())
    async with HTTPClient() as client:
        error = _err(await client.get(base / "forever", timeout=TimeoutConfig(read=0.1)))
    assert isinstance(error, HTTPTimeoutError)
    assert error.phase == "read"


async def test_total_timeout_from_the_config(serve: Serve) -> None:
    base = await serve(echo_app())
    async with HTTPClient(HTTPClientConfig(timeouts=TimeoutConfig(total=0.1))) as client:
        error = _err(await client.get(base / "forever"))
    assert isinstance(error, HTTPTimeoutError)
    assert error.phase == "total"


async def test_pool_timeout_while_every_connection_is_busy(serve: Serve) -> None:
    observed = Observed(gate=asyncio.Event())
    base = await serve(echo_app(observed))
    config = HTTPClientConfig(pool=ConnectionPoolConfig(max_connections=1))
    async with HTTPClient(config) as client:
        busy = asyncio.ensure_future(client.get(base / "gate"))
        await observed.wait_in_flight(1)
        error = _err(await client.get(base / "echo", timeout=TimeoutConfig(pool=0.1)))
        assert observed.gate is not None
        observed.gate.set()
        assert _ok(await busy).text() == "through"
    assert isinstance(error, HTTPTimeoutError)
    assert error.phase == "pool"
    assert error.sent is False
    assert observed.requests == []  # the timed-out request never reached the server


async def test_a_timed_out_client_still_works(client: HTTPClient, base: URL) -> None:
    _err(await client.get(base / "forever", timeout=0.1))
    assert _ok(await client.get(base / "echo")).status == 200
