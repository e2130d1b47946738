"""Request, HttpResponse and the interceptor contexts, without sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from multidict import CIMultiDict
from yarl import URL

from httpdeck import (
    ByteStream,
    HTTPDecodeError,
    HttpResponse,
    HTTPStatusError,
    Request,
    RequestContext,
    ResponseContext,
    ResponseNotReadError,
    StreamBody,
    StreamConsumedError,
)

pytestmark = pytest.mark.asyncio

URL_ = URL("http://127.0.0.1:8080/users?page=2")


def _request(method: str = "GET") -> Request:
    return Request(method, URL_, CIMultiDict({"Accept": "application/json"}))


class RecordingStream(ByteStream):
    """A ByteStream that counts aread/aclose calls."""

    def __init__(self, chunks: list[bytes]) -> None:
        super().__init__(chunks)
        self.reads = 0
        self.closes = 0

    async def aread(self) -> bytes:
        self.reads += 1
        return await super().aread()

    async def aclose(self) -> None:
        self.closes += 1
        await super().aclose()


async def _gen(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


# -- Request -------------------------------------------------------------------


async def test_request_defaults_and_repr() -> None:
    request = Request("GET", URL_)
    assert request.content is None
    assert request.body is None
    assert request.attempt == 0
    assert request.redirect_hop == 0
    assert request.timeout is None
    assert request.max_response_bytes is None
    assert request.extensions == {}
    assert isinstance(request.headers, CIMultiDict)
    assert repr(request) == "<Request GET http://127.0.0.1:8080/users?page=2>"


async def test_request_body_is_the_bytes_in_memory_only() -> None:
    assert Request("POST", URL_, content=b"abc").body == b"abc"
    assert Request("POST", URL_, content=StreamBody(_gen(b"a"))).body is None


async def test_request_replayable_depends_on_the_body() -> None:
    assert Request("POST", URL_, content=b"x").replayable
    assert Request("GET", URL_).replayable
    one_shot = StreamBody(_gen(b"a"))
    request = Request("POST", URL_, content=one_shot)
    assert request.replayable
    [chunk async for chunk in one_shot]
    assert not request.replayable
    factory = StreamBody(lambda: _gen(b"a"))
    [chunk async for chunk in factory]
    assert Request("POST", URL_, content=factory).replayable


# -- HttpResponse --------------------------------------------------------------


async def test_response_basics() -> None:
    request = _request("POST")
    response = HttpResponse(
        201, headers={"Content-Type": "application/json"}, content=b'{"id": 1}', request=request
    )
    assert response.ok
    assert response.method == "POST"
    assert response.url == URL_
    assert response.request is request
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"id": 1}
    assert response.text() == '{"id": 1}'
    assert response.is_read
    assert response.stream is None
    assert repr(response) == "<HttpResponse [201] POST http://127.0.0.1:8080/users?page=2>"


async def test_response_without_request_or_body() -> None:
    response = HttpResponse(204)
    assert response.content == b""
    assert response.method == ""
    assert response.url == URL()
    assert response.elapsed == 0.0


async def test_response_url_may_differ_from_the_request_url() -> None:
    response = HttpResponse(200, request=_request(), url="http://127.0.0.1:8080/final")
    assert response.url == URL("http://127.0.0.1:8080/final")


@pytest.mark.parametrize(
    ("status", "ok"),
    [(100, True), (200, True), (304, True), (399, True), (400, False), (599, False)],
)
async def test_ok_is_below_400(status: int, ok: bool) -> None:
    assert HttpResponse(status).ok is ok


async def test_headers_are_case_insensitive_and_keep_repeats() -> None:
    headers = CIMultiDict([("Set-Cookie", "a=1"), ("set-cookie", "b=2")])
    response = HttpResponse(200, headers=headers)
    assert response.headers.getall("SET-COOKIE") == ["a=1", "b=2"]
    assert response.headers is headers


@pytest.mark.parametrize(
    ("content_type", "encoding"),
    [
        ("text/plain; charset=iso-8859-1", "iso-8859-1"),
        ('text/plain; Charset="latin-1"', "latin-1"),
        ("text/plain; format=flowed; charset=utf-16", "utf-16"),
        ("text/plain; charset=", "utf-8"),
        ("text/plain", "utf-8"),
        ("", "utf-8"),
    ],
)
async def test_encoding_comes_from_content_type(content_type: str, encoding: str) -> None:
    response = HttpResponse(200, headers={"Content-Type": content_type} if content_type else None)
    assert response.encoding == encoding


async def test_text_decodes_with_the_declared_charset() -> None:
    response = HttpResponse(
        200,
        headers={"Content-Type": "text/plain; charset=latin-1"},
        content="café".encode("latin-1"),
    )
    assert response.text() == "café"


async def test_text_with_an_unknown_charset_falls_back_to_utf8() -> None:
    response = HttpResponse(
        200, headers={"Content-Type": "text/plain; charset=no-such"}, content="é".encode()
    )
    assert response.text() == "é"


async def test_text_replaces_undecodable_bytes() -> None:
    assert HttpResponse(200, content=b"ok \xff").text() == "ok \ufffd"


async def test_json_error_says_what_the_body_is() -> None:
    response = HttpResponse(
        502,
        headers={"Content-Type": "text/html"},
        content=b"<html>bad gateway</html>",
        request=_request(),
    )
    with pytest.raises(HTTPDecodeError) as info:
        response.json()
    message = str(info.value)
    assert message.startswith(
        "The body of GET http://127.0.0.1:8080/users?page=2 (status 502, text/html, 24 bytes) "
        "cannot be decoded as JSON: it is not valid JSON: "
    )
    assert message.endswith("It starts with b'<html>bad gateway</html>'.")
    assert isinstance(info.value, ValueError)
    assert info.value.request is response.request


@pytest.mark.parametrize(
    ("status", "reason", "message"),
    [
        (404, "Not Found", "Client error 404 Not Found for GET http://127.0.0.1:8080/users?page=2"),
        (503, "", "Server error 503 for GET http://127.0.0.1:8080/users?page=2"),
    ],
)
async def test_raise_for_status(status: int, reason: str, message: str) -> None:
    response = HttpResponse(status, reason=reason, request=_request())
    with pytest.raises(HTTPStatusError) as info:
        response.raise_for_status()
    assert str(info.value) == message
    assert info.value.response is response
    assert info.value.status == status
    assert info.value.request is response.request


async def test_raise_for_status_returns_the_response_below_400() -> None:
    response = HttpResponse(302)
    assert response.raise_for_status() is response


async def test_streamed_body_must_be_read_before_content() -> None:
    response = HttpResponse(200, stream=ByteStream([b"a", b"b"]), request=_request())
    assert not response.is_read
    with pytest.raises(ResponseNotReadError, match=r"call `await response.aread\(\)`"):
        _ = response.content
    with pytest.raises(ResponseNotReadError):
        response.text()


async def test_aread_reads_once_and_closes_the_stream() -> None:
    stream = RecordingStream([b"hello, ", b"world"])
    response = HttpResponse(200, stream=stream)
    assert response.stream is stream
    assert await response.aread() == b"hello, world"
    assert await response.aread() == b"hello, world"
    assert (stream.reads, stream.closes) == (1, 1)
    assert response.content == b"hello, world"
    assert response.stream is None


async def test_aiter_bytes_keeps_chunk_boundaries_and_closes() -> None:
    stream = RecordingStream([b"a", b"", b"bc"])
    response = HttpResponse(200, stream=stream)
    assert [chunk async for chunk in response.aiter_bytes()] == [b"a", b"bc"]
    assert stream.closes == 1


async def test_aiter_bytes_of_a_read_body_yields_it_once() -> None:
    assert [c async for c in HttpResponse(200, content=b"xyz").aiter_bytes()] == [b"xyz"]
    assert [c async for c in HttpResponse(204).aiter_bytes()] == []


async def test_aiter_lines_uses_the_declared_charset() -> None:
    body = "ligne é\r\nzwei\n".encode("latin-1")
    response = HttpResponse(
        200,
        headers={"Content-Type": "text/plain; charset=latin-1"},
        stream=ByteStream([body[:4], body[4:]]),
    )
    assert [line async for line in response.aiter_lines()] == ["ligne é", "zwei"]


async def test_aclose_releases_without_reading() -> None:
    stream = RecordingStream([b"never read"])
    response = HttpResponse(200, stream=stream)
    await response.aclose()
    assert (stream.reads, stream.closes) == (0, 1)
    await HttpResponse(200, content=b"x").aclose()  # nothing to release


# -- contexts ------------------------------------------------------------------


async def test_request_context_is_a_live_view_of_the_request() -> None:
    request = _request()
    request.attempt = 2
    context = RequestContext(request, start_time=0.0, service_name="users")
    assert (context.method, context.url, context.attempt) == ("GET", URL_, 2)
    context.headers["X-Trace"] = "abc"
    assert request.headers["X-Trace"] == "abc"
    context.url = "http://127.0.0.1:8080/other"
    assert request.url == URL("http://127.0.0.1:8080/other")
    context.url = URL("http://127.0.0.1:8080/third")
    assert request.url.path == "/third"


async def test_response_context_success() -> None:
    request = _request()
    response = HttpResponse(200, headers={"Content-Length": "12"}, content=b"hello, world")
    context = ResponseContext(response, request, duration=0.25)
    assert context.status == 200
    assert context.success
    assert context.error is None
    assert context.content_length == 12
    assert context.headers is response.headers
    assert context.attempt == 0
    assert context.duration == 0.25


async def test_response_context_failure() -> None:
    request = _request()
    request.attempt = 1
    context = ResponseContext(HttpResponse(503, reason="Service Unavailable"), request, 0.1)
    assert not context.success
    assert context.error == "HTTP 503 Service Unavailable"
    assert context.content_length is None
    assert context.attempt == 1
    assert ResponseContext(HttpResponse(500), request, 0.0).error == "HTTP 500"


@pytest.mark.parametrize("value", ["-1", "\u00b2", "\u0661\u0662", "9" * 5000])
async def test_response_context_ignores_a_malformed_content_length(value: str) -> None:
    # ASCII digits only ('²' passes str.isdigit()), and no int() of 5,000 digits.
    response = HttpResponse(200, headers={"Content-Length": value})
    assert ResponseContext(response, _request(), 0.0).content_length is None


async def test_a_one_shot_body_cannot_be_sent_twice() -> None:
    body = StreamBody(_gen(b"a", b"b"))
    assert [chunk async for chunk in body] == [b"a", b"b"]
    with pytest.raises(StreamConsumedError) as info:
        [chunk async for chunk in body]
    assert "Pass a zero-argument callable returning a fresh iterable" in str(info.value)
    assert not body.reusable


async def test_a_body_factory_can_be_sent_again() -> None:
    body = StreamBody(lambda: _gen(b"x"))
    assert body.replayable
    for _ in range(3):
        assert [chunk async for chunk in body] == [b"x"]
    assert body.reusable
