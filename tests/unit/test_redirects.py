"""Redirect rules: which request comes next and what it may carry (no sockets)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from multidict import CIMultiDict
from yarl import URL

from httpdeck.client import (
    ByteStream,
    HTTPClient,
    HTTPClientConfig,
    HTTPRedirectError,
    HttpResponse,
    Request,
    StreamBody,
    TimeoutConfig,
)
from httpdeck.client._redirects import is_redirect, next_request

SECRETS = ("X-Api-Key",)
BODY_HEADERS = {
    "Content-Type": "text/plain",
    "Content-Length": "4",
    "Content-Encoding": "identity",
    "Content-Language": "en",
    "Content-Location": "/x",
    "Transfer-Encoding": "chunked",
}


def redirect(status: int, location: str) -> HttpResponse:
    return HttpResponse(status, headers={"Location": location})


def post(url: str = "http://api.test/a", content: bytes | StreamBody | None = b"body") -> Request:
    headers = CIMultiDict({"X-Trace": "t", **BODY_HEADERS})
    return Request("POST", URL(url), headers, content)


def with_secrets(url: str = "http://api.test/a", method: str = "GET") -> Request:
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in [
        ("Authorization", "Bearer one"),
        ("authorization", "Bearer two"),  # a duplicate in another case
        ("Proxy-Authorization", "Basic p"),
        ("Cookie", "session=1"),
        ("COOKIE", "other=2"),
        ("x-api-key", "k1"),
        ("X-API-KEY", "k2"),
        ("X-Custom-Token", "c"),
        ("X-Trace", "t"),
    ]:
        headers.add(name, value)
    return Request(method, URL(url), headers)


SECRET_NAMES = ("Authorization", "Proxy-Authorization", "Cookie", "X-Api-Key", "X-Custom-Token")


def test_is_redirect_needs_a_redirect_status_and_a_location() -> None:
    assert is_redirect(redirect(302, "/b"))
    assert not is_redirect(HttpResponse(302))
    assert not is_redirect(HttpResponse(304, headers={"Location": "/b"}))
    assert not is_redirect(HttpResponse(200, headers={"Location": "/b"}))


@pytest.mark.parametrize("status", [301, 302, 303])
def test_post_becomes_get_without_body_or_body_headers(status: int) -> None:
    hop = next_request(post(), redirect(status, "/b"), secret_headers=SECRETS)
    assert hop.method == "GET"
    assert hop.content is None
    assert hop.url == URL("http://api.test/b")
    for name in BODY_HEADERS:
        assert name not in hop.headers
    assert hop.headers["X-Trace"] == "t"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_303_turns_any_other_method_into_get(method: str) -> None:
    request = Request(method, URL("http://api.test/a"), CIMultiDict(), b"x")
    hop = next_request(request, redirect(303, "/b"), secret_headers=SECRETS)
    assert (hop.method, hop.content) == ("GET", None)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_head_stays_head(status: int) -> None:
    request = Request("HEAD", URL("http://api.test/a"))
    assert next_request(request, redirect(status, "/b"), secret_headers=SECRETS).method == "HEAD"


@pytest.mark.parametrize("status", [301, 302])
def test_301_and_302_keep_put_and_its_body(status: int) -> None:
    request = Request("PUT", URL("http://api.test/a"), CIMultiDict(), b"x")
    hop = next_request(request, redirect(status, "/b"), secret_headers=SECRETS)
    assert (hop.method, hop.content) == ("PUT", b"x")


@pytest.mark.parametrize("status", [307, 308])
def test_307_and_308_keep_method_body_and_body_headers(status: int) -> None:
    hop = next_request(post(), redirect(status, "/b"), secret_headers=SECRETS)
    assert (hop.method, hop.content) == ("POST", b"body")
    assert hop.headers["Content-Type"] == "text/plain"


async def chunks() -> AsyncIterator[bytes]:
    yield b"bo"
    yield b"dy"


@pytest.mark.parametrize("status", [307, 308])
def test_307_and_308_resend_a_replayable_stream(status: int) -> None:
    body = StreamBody(chunks)
    body.__aiter__()  # the first hop sent it
    hop = next_request(post(content=body), redirect(status, "/b"), secret_headers=SECRETS)
    assert hop.content is body


@pytest.mark.parametrize("status", [307, 308])
def test_307_and_308_refuse_a_consumed_one_shot_stream(status: int) -> None:
    body = StreamBody(chunks())
    body.__aiter__()  # the first hop sent it
    with pytest.raises(HTTPRedirectError, match="one-shot stream") as caught:
        next_request(post(content=body), redirect(status, "/b"), secret_headers=SECRETS)
    assert "content=lambda" in str(caught.value)


def test_303_drops_even_a_one_shot_stream_without_error() -> None:
    body = StreamBody(chunks())
    body.__aiter__()
    hop = next_request(post(content=body), redirect(303, "/b"), secret_headers=SECRETS)
    assert hop.content is None


@pytest.mark.parametrize(
    "location",
    [
        "http://other.test/b",  # host
        "http://api.test:8080/b",  # port
        "https://api.test/b",  # scheme, http -> https
        "//evil.test/b",  # protocol-relative
        "http://API.test.evil/b",
    ],
)
def test_a_cross_origin_hop_drops_every_copy_of_every_secret(location: str) -> None:
    hop = next_request(
        with_secrets(),
        redirect(302, location),
        secret_headers=(*SECRETS, "x-custom-token"),
    )
    for name in SECRET_NAMES:
        assert hop.headers.getall(name, []) == [], name
    assert hop.headers["X-Trace"] == "t"


def test_https_to_http_on_the_same_host_drops_secrets() -> None:
    request = with_secrets("https://api.test/a")
    hop = next_request(request, redirect(301, "http://api.test/b"), secret_headers=SECRETS)
    assert hop.url.scheme == "http"
    for name in ("Authorization", "Proxy-Authorization", "Cookie", "X-Api-Key"):
        assert name not in hop.headers


@pytest.mark.parametrize(
    "location", ["/b", "b", "http://api.test/b", "http://API.TEST:80/b", "?page=2"]
)
def test_a_same_origin_hop_keeps_credentials(location: str) -> None:
    hop = next_request(with_secrets(), redirect(302, location), secret_headers=SECRETS)
    assert hop.headers.getall("Authorization") == ["Bearer one", "Bearer two"]
    assert hop.headers.getall("Cookie") == ["session=1", "other=2"]
    assert hop.headers.getall("X-Api-Key") == ["k1", "k2"]


def test_user_declared_secret_headers_are_dropped_cross_origin_only() -> None:
    request = with_secrets()
    request.headers["X-Tenant"] = "acme"
    same = next_request(request, redirect(302, "/b"), secret_headers=("X-Tenant",))
    other = next_request(request, redirect(302, "http://x.test/"), secret_headers=("x-tenant",))
    assert same.headers["X-Tenant"] == "acme"
    assert "X-Tenant" not in other.headers
    assert HTTPClientConfig().secret_headers == ()


@pytest.mark.parametrize("name", ["X-Api-Key", "Api-Key", "X-Auth-Token", "X-Amz-Security-Token"])
def test_the_shared_secret_header_list_is_dropped_cross_origin_without_declaring_it(
    name: str,
) -> None:
    request = Request(
        "GET", URL("http://api.test/a"), CIMultiDict({name: "s3cret", "X-Trace": "t"})
    )
    other = next_request(request, redirect(302, "http://x.test/"), secret_headers=())
    same = next_request(request, redirect(302, "/b"), secret_headers=())
    assert name not in other.headers
    assert other.headers["X-Trace"] == "t"
    assert same.headers[name] == "s3cret"


def test_the_host_header_never_carries_over() -> None:
    request = Request("GET", URL("http://api.test/a"), CIMultiDict({"Host": "api.test"}))
    assert "Host" not in next_request(request, redirect(302, "/b"), secret_headers=()).headers


def test_the_hop_keeps_options_and_counts() -> None:
    request = Request(
        "GET",
        URL("http://api.test/a#frag"),
        timeout=TimeoutConfig(total=3),
        max_response_bytes=10,
        redirect_hop=2,
        extensions={"k": "v"},
    )
    hop = next_request(request, redirect(302, "/b"), secret_headers=())
    assert hop.url == URL("http://api.test/b#frag")
    assert (hop.timeout, hop.max_response_bytes, hop.redirect_hop) == (
        TimeoutConfig(total=3),
        10,
        3,
    )
    assert hop.extensions == {"k": "v"}
    assert hop.extensions is not request.extensions


@pytest.mark.parametrize(
    "location", ["ftp://api.test/x", "file:///etc/passwd", "javascript:alert(1)", "/a\x00b"]
)
def test_a_non_http_or_malformed_location_is_an_error(location: str) -> None:
    with pytest.raises(HTTPRedirectError, match="redirected to") as caught:
        next_request(post(), redirect(302, location), secret_headers=SECRETS)
    assert caught.value.request is not None


class ScriptedTransport:
    """Answers from a table of URL -> (status, headers); records what was sent."""

    def __init__(self, routes: dict[str, tuple[int, dict[str, str]]]) -> None:
        self.routes = routes
        self.sent: list[Request] = []

    async def send(self, request: Request) -> HttpResponse:
        self.sent.append(request)
        status, headers = self.routes.get(str(request.url), (404, {}))
        return HttpResponse(
            status, headers=headers, stream=ByteStream([b"data: 1\n\n"]), request=request
        )

    async def aclose(self) -> None:
        pass


@pytest.mark.asyncio
async def test_the_client_stops_at_max_redirects_with_a_clear_error() -> None:
    loop = {"http://a.test/": (302, {"Location": "http://a.test/"})}
    transport = ScriptedTransport(loop)
    async with HTTPClient(HTTPClientConfig(max_redirects=3), transport=transport) as client:
        with pytest.raises(HTTPRedirectError, match="max_redirects=3") as caught:
            await client.request("GET", "http://a.test/")
    assert len(transport.sent) == 4  # the first request and three hops
    assert "follow_redirects=False" in str(caught.value)


@pytest.mark.asyncio
async def test_follow_redirects_false_returns_the_redirect() -> None:
    transport = ScriptedTransport({"http://a.test/": (302, {"Location": "/b"})})
    async with HTTPClient(transport=transport) as client:
        response = await client.request("GET", "http://a.test/", follow_redirects=False)
    assert response.status == 302


@pytest.mark.asyncio
async def test_stream_and_sse_follow_redirects_with_the_same_rules() -> None:
    routes = {
        "http://a.test/s": (302, {"Location": "http://b.test/s"}),
        "http://b.test/s": (200, {"Content-Type": "text/event-stream"}),
    }
    transport = ScriptedTransport(routes)
    async with HTTPClient(transport=transport) as client:
        async with client.stream("GET", "http://a.test/s", auth=("u", "p")) as response:
            assert response.url == URL("http://b.test/s")
        async with client.sse("http://a.test/s", headers={"X-Api-Key": "k"}) as events:
            assert [event.data async for event in events] == ["1"]
    hops = [r for r in transport.sent if r.url.host == "b.test"]
    assert len(hops) == 2
    for hop in hops:
        assert "Authorization" not in hop.headers
        assert "X-Api-Key" not in hop.headers
    assert transport.sent[2].headers["Accept"] == "text/event-stream"
