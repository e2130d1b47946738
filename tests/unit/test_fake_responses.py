"""What routes answer: bodies, headers, streams, SSE, redirects, callables,
errors, sequences and virtual delays."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from yarl import URL as YarlURL

from httpdeck.client import (
    ByteStream,
    Err,
    HTTPClientConfig,
    HTTPConnectionError,
    HttpResponse,
    HTTPStatusError,
    HTTPTimeoutError,
    Ok,
    Request,
    TimeoutConfig,
)
from httpdeck.testing import (
    FakeClock,
    FakeError,
    FakeHTTPClient,
    FakeResponse,
    UnmatchedRequestError,
)

pytestmark = pytest.mark.asyncio

URL = "https://api.example.com/data"
URL_OBJECT = YarlURL(URL)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeHTTPClient]:
    async with FakeHTTPClient() as client:
        yield client


async def ok(fake: FakeHTTPClient, method: str = "GET", url: str = URL) -> HttpResponse:
    return await fake.request(method, url)


async def test_default_answer_is_an_empty_200(fake: FakeHTTPClient) -> None:
    fake.route("GET", URL)
    response = await ok(fake)
    assert (response.status, response.reason, response.content) == (200, "OK", b"")
    assert response.headers["Content-Length"] == "0"


async def test_json_body(fake: FakeHTTPClient) -> None:
    fake.route("GET", URL).respond(json={"id": 1, "name": "Ann"})
    response = await ok(fake)
    assert response.json() == {"id": 1, "name": "Ann"}
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Content-Length"] == str(len(response.content))


async def test_text_bytes_headers_content_type_and_reason(fake: FakeHTTPClient) -> None:
    fake.route("GET", f"{URL}/t").respond(text="héllo")
    fake.route("GET", f"{URL}/b").respond(content=b"\x89PNG", content_type="image/png")
    fake.route("GET", f"{URL}/h").respond(
        418, headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")], reason="Short And Stout"
    )
    text = await ok(fake, url=f"{URL}/t")
    assert (text.text(), text.headers["Content-Type"]) == ("héllo", "text/plain; charset=utf-8")
    raw = await ok(fake, url=f"{URL}/b")
    assert (raw.content, raw.headers["Content-Type"]) == (b"\x89PNG", "image/png")
    teapot = await ok(fake, url=f"{URL}/h")
    assert teapot.status == 418
    assert teapot.reason == "Short And Stout"
    assert teapot.headers.getall("Set-Cookie") == ["a=1", "b=2"]


async def test_response_headers_are_read_only_like_aiohttps(fake: FakeHTTPClient) -> None:
    fake.route("GET", URL).respond(headers={"X-A": "1"})
    first = await ok(fake)
    with pytest.raises(TypeError):
        first.headers["X-A"] = "changed"  # type: ignore[index]
    assert (await ok(fake)).headers["X-A"] == "1"


async def test_head_keeps_headers_and_drops_the_body(fake: FakeHTTPClient) -> None:
    fake.route("*", URL).respond(json={"big": "body"})
    head = await ok(fake, "HEAD")
    assert head.content == b""
    assert head.headers["Content-Length"] == str(len(b'{"big":"body"}'))


async def test_status_errors_go_through_the_result(fake: FakeHTTPClient) -> None:
    fake.route("GET", URL).respond(404, json={"error": "missing"})
    result = await fake.get(URL)
    assert isinstance(result, Err)
    assert isinstance(result.error, HTTPStatusError)
    assert result.error.response.json() == {"error": "missing"}


async def test_streamed_chunks_keep_their_boundaries(fake: FakeHTTPClient) -> None:
    fake.route("GET", URL).respond(chunks=[b"ab", "cd", b"ef"])
    async with fake.stream("GET", URL) as response:
        assert response.headers.get("Content-Length") is None
        assert [chunk async for chunk in response.aiter_bytes()] == [b"ab", b"cd", b"ef"]


async def test_streamed_lines_and_ndjson(fake: FakeHTTPClient) -> None:
    fake.route("GET", f"{URL}/lines").respond(chunks=[b"one\ntw", b"o\nthree"])
    fake.route("GET", f"{URL}/nd").respond(ndjson=[{"n": 1}, {"n": 2}])
    async with fake.stream("GET", f"{URL}/lines") as response:
        assert [line async for line in response.aiter_lines()] == ["one", "two", "three"]
    async with fake.stream("GET", f"{URL}/nd") as response:
        assert response.headers["Content-Type"] == "application/x-ndjson"
        assert [line async for line in response.aiter_lines()] == ['{"n":1}', '{"n":2}']


async def test_sse_events_one_chunk_each(fake: FakeHTTPClient) -> None:
    class Event:
        event, id, retry, comment = "done", None, None, None
        data = "bye"

    fake.route("GET", URL).respond(
        sse=[
            "hello",
            {"event": "tick", "id": "7", "retry": 1000, "data": "line1\nline2"},
            {"comment": "keep-alive"},
            {"data": {"json": True}},
            Event(),
        ]
    )
    async with fake.stream("GET", URL) as response:
        chunks = [chunk async for chunk in response.aiter_bytes()]
    assert response.headers["Content-Type"] == "text/event-stream"
    assert chunks == [
        b"data: hello\n\n",
        b"event: tick\nid: 7\nretry: 1000\ndata: line1\ndata: line2\n\n",
        b": keep-alive\n\n",
        b'data: {"json":true}\n\n',
        b"event: done\ndata: bye\n\n",
    ]


async def test_unknown_sse_field_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"Unknown SSE field\(s\) \['name'\]"):
        FakeResponse(sse=[{"name": "x"}])


async def test_redirects_are_followed_by_the_client(fake: FakeHTTPClient) -> None:
    fake.route("POST", URL).redirect("/data/1", status=303)
    fake.route("GET", f"{URL}/1").respond(json={"id": 1})
    response = await ok(fake, "POST")
    assert response.json() == {"id": 1}
    assert [(c.method, str(c.url)) for c in fake.requests] == [
        ("POST", URL),
        ("GET", f"{URL}/1"),
    ]
    no_follow = await fake.request("POST", URL, follow_redirects=False)
    assert (no_follow.status, no_follow.headers["Location"]) == (303, "/data/1")


@pytest.mark.parametrize("is_async", [False, True])
async def test_respond_with_sync_or_async_callable(fake: FakeHTTPClient, is_async: bool) -> None:
    def build(request: Request) -> FakeResponse:
        return FakeResponse(
            200, json={"echo": request.url.query.get("q"), "attempt": request.attempt}
        )

    async def build_async(request: Request) -> FakeResponse:
        return build(request)

    fake.route("GET", URL).respond_with(build_async if is_async else build)
    response = await fake.request("GET", URL, params={"q": "x"})
    assert response.json() == {"echo": "x", "attempt": 0}


async def test_respond_with_an_http_response(fake: FakeHTTPClient) -> None:
    fake.route("GET", URL).respond_with(lambda request: HttpResponse(202, stream=ByteStream(b"ok")))
    response = await ok(fake)
    assert (response.status, response.content, response.request is not None) == (202, b"ok", True)


async def test_respond_with_a_bad_return_value_says_so(fake: FakeHTTPClient) -> None:
    fake.route("GET", URL).respond_with(lambda request: {"not": "a response"})  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match=r"returned \{'not': 'a response'\}; return a FakeResponse"):
        await ok(fake)


async def test_raise_error_raises_a_fresh_copy_with_the_request(fake: FakeHTTPClient) -> None:
    template = HTTPConnectionError("boom", sent=False)
    fake.route("GET", URL).raise_error(template)
    errors = []
    for _ in range(2):
        result = await fake.get(URL)
        assert isinstance(result, Err)
        errors.append(result.error)
    assert errors[0] is not errors[1]
    assert errors[0] is not template
    assert isinstance(errors[0], HTTPConnectionError)
    assert errors[0].request is not None
    assert str(errors[0].request.url) == URL
    assert (str(errors[0]), errors[0].sent, template.request) == ("boom", False, None)


async def test_raise_error_rejects_a_class() -> None:
    with pytest.raises(TypeError, match="takes an exception instance"):
        FakeError.of(HTTPConnectionError)  # type: ignore[arg-type]


@pytest.mark.parametrize("sent", [False, True])
async def test_connection_reset_before_or_after_send(fake: FakeHTTPClient, sent: bool) -> None:
    fake.route("GET", URL).raise_error(FakeError.connection_reset(sent=sent))
    result = await fake.get(URL)
    assert isinstance(result, Err)
    error = result.error
    assert isinstance(error, HTTPConnectionError)
    assert error.sent is sent
    # Worded by the same constructor as a real reset (the client's seam).
    expected = (
        f"The server reset the connection after GET {URL} went out "
        "([Errno 104] Connection reset by peer)."
        if sent
        else f"Cannot connect to api.example.com:443 for GET {URL}: Connection reset by peer "
        "[Errno 104]. Check that the server is up and listening on that host and port."
    )
    assert str(error) == expected


@pytest.mark.parametrize(
    ("phase", "sent"),
    [("connect", False), ("pool", False), ("read", True), ("write", True), ("total", True)],
)
async def test_timeouts_of_each_phase(fake: FakeHTTPClient, phase: Any, sent: bool) -> None:
    fake.route("GET", URL).raise_error(FakeError.timeout(phase))
    result = await fake.get(URL)
    assert isinstance(result, Err)
    assert isinstance(result.error, HTTPTimeoutError)
    assert (result.error.phase, result.error.sent) == (phase, sent)


async def test_unknown_timeout_phase() -> None:
    with pytest.raises(ValueError, match="Unknown timeout phase 'dns'"):
        FakeError.timeout("dns")  # type: ignore[arg-type]


async def test_sequence_then_repeat_the_last(fake: FakeHTTPClient) -> None:
    fake.route("GET", URL).respond_sequence(
        [503, FakeError.connection_reset(), FakeResponse(200, json={"ok": True})]
    )
    outcomes = []
    for _ in range(5):
        result = await fake.get(URL)
        outcomes.append(
            result.value.status if isinstance(result, Ok) else type(result.error).__name__
        )
    assert outcomes == ["HTTPStatusError", "HTTPConnectionError", 200, 200, 200]


async def test_sequence_then_error(fake: FakeHTTPClient) -> None:
    route = fake.route("GET", URL).respond_sequence([200, 201], then="error")
    assert (await ok(fake)).status == 200
    assert (await ok(fake)).status == 201
    with pytest.raises(UnmatchedRequestError):
        await ok(fake)
    assert route.call_count == 3
    assert len(fake.unmatched_requests) == 1
    route.reset()
    assert (await ok(fake)).status == 200


@pytest.mark.parametrize(
    ("answers", "then", "message"),
    [
        ([], "repeat", "needs at least one answer"),
        ([200], "loop", "then must be 'repeat' or 'error'"),
        ([True], "repeat", "cannot be a bool"),
        (["200"], "repeat", "Cannot answer with '200'"),
    ],
)
async def test_bad_sequences(answers: list[Any], then: Any, message: str) -> None:
    async with FakeHTTPClient() as fake:
        with pytest.raises((ValueError, TypeError), match=message):
            fake.route("GET", URL).respond_sequence(answers, then=then)


async def test_delay_advances_the_virtual_clock_without_sleeping() -> None:
    clock = FakeClock(start=100.0)
    async with FakeHTTPClient(clock=clock) as fake:
        fake.route("GET", URL).respond(json=[], delay=2.5)
        response = await ok(fake)
    assert response.status == 200
    assert fake.clock is clock
    assert (clock.now, clock.sleeps) == (102.5, [2.5])


@pytest.mark.parametrize(
    ("timeouts", "phase", "waited"),
    [
        (TimeoutConfig(read=1.0), "read", 1.0),
        (TimeoutConfig(total=3.0), "total", 3.0),
        (TimeoutConfig(read=4.0, total=2.0), "total", 2.0),
    ],
)
async def test_a_delay_past_the_timeout_becomes_the_transports_timeout(
    timeouts: TimeoutConfig, phase: str, waited: float
) -> None:
    async with FakeHTTPClient(HTTPClientConfig(timeouts=timeouts)) as fake:
        fake.route("GET", URL).respond(delay=10.0)
        result = await fake.get(URL)
        assert isinstance(result, Err)
        assert isinstance(result.error, HTTPTimeoutError)
        assert (result.error.phase, result.error.sent) == (phase, True)
        assert fake.clock.now == waited


async def test_a_per_request_timeout_bounds_the_delay(fake: FakeHTTPClient) -> None:
    fake.route("GET", URL).respond(delay=5.0)
    result = await fake.get(URL, timeout=0.5)
    assert isinstance(result, Err)
    assert str(result.error) == (
        f"GET {URL} did not complete within its total timeout of 0.5s; "
        "raise TimeoutConfig.total or pass timeout=... for this request."
    )
    assert fake.clock.now == 0.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": 99}, "from 100 to 599, got 99"),
        ({"status": True}, "got True"),
        ({"delay": -1}, "delay must be >= 0"),
        ({"json": 1, "text": "x"}, "Give one body per response, got json, text"),
    ],
)
async def test_fake_response_validation(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FakeResponse(**kwargs)


async def test_redirect_needs_a_redirect_status() -> None:
    with pytest.raises(ValueError, match="301, 302, 303, 307 or 308, got 200"):
        FakeResponse.redirect("/x", status=200)


async def test_fake_response_properties_and_unknown_status_phrase() -> None:
    response = FakeResponse(599, text="x", headers={"X-A": "1"})
    assert (response.reason, response.body, response.headers["X-A"]) == ("", b"x", "1")
    response.headers["X-A"] = "2"  # a copy
    assert response.headers["X-A"] == "1"
    assert repr(response) == "<FakeResponse [599] 1 bytes>"
    assert repr(FakeError.timeout("read")) == "<FakeError read timeout>"


async def test_sequences_take_exceptions_and_callables(fake: FakeHTTPClient) -> None:
    fake.route("GET", URL).respond_sequence(
        [HTTPConnectionError("down", sent=False), lambda request: FakeResponse(201)]
    )
    first = await fake.get(URL)
    assert isinstance(first, Err)
    assert str(first.error) == "down"
    assert (await ok(fake)).status == 201


async def test_a_responder_response_keeps_its_own_request(fake: FakeHTTPClient) -> None:
    other = Request("GET", URL_OBJECT)
    fake.route("GET", URL).respond_with(lambda request: HttpResponse(200, request=other))
    assert (await ok(fake)).request is other


async def test_a_failing_passthrough_is_recorded() -> None:
    class Down:
        async def send(self, request: Request) -> HttpResponse:
            raise HTTPConnectionError("refused", request=request, sent=False)

        async def aclose(self) -> None:
            raise AssertionError("not ours to close")

    async with FakeHTTPClient(
        passthrough_hosts=["api.example.com"], passthrough_transport=Down()
    ) as fake:
        result = await fake.get(URL)
        assert isinstance(result, Err)
        call = fake.requests[0]
        assert (call.passthrough, str(call.error)) == (True, "refused")
        assert fake.unmatched_requests == []
