"""How the public API reads to a type checker. Never run, only type-checked.

`make lint` runs `mypy --strict` on this folder (and tests/test_typing.py runs
it in the suite). Each `# type: ignore[code]` marks a misuse that must stay a
type error: with `warn_unused_ignores`, mypy fails if it stops being one.
pytest does not collect this file (its name does not start with `test_`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal, assert_type

from multidict import CIMultiDict
from yarl import URL

from httpdeck import (
    BaseURLHTTPClient,
    BasicAuth,
    BearerAuth,
    ByteStream,
    CallNext,
    ConnectionPoolConfig,
    Err,
    HTTPClient,
    HTTPClientConfig,
    HTTPClientError,
    HTTPConnectionError,
    HttpResponse,
    HTTPStatusError,
    HTTPTimeoutError,
    InterceptorChain,
    Ok,
    Request,
    RequestContext,
    ResponseContext,
    Result,
    TimeoutConfig,
    Transport,
    build_url,
    validate_url,
)


async def verbs_return_results(client: HTTPClient, url: str) -> None:
    result = await client.get(url, params={"page": 1, "tags": ["a", "b"]}, timeout=2.5)
    assert_type(result, Result[HttpResponse, HTTPClientError])
    match result:
        case Ok(response):
            assert_type(response, HttpResponse)
            assert_type(response.status, int)
            assert_type(response.json(), Any)
            assert_type(response.text(), str)
            assert_type(response.content, bytes)
            assert_type(response.ok, bool)
            assert_type(response.elapsed, float)
            assert_type(response.url, URL)
        case Err(HTTPStatusError() as error):
            assert_type(error.response, HttpResponse)
            assert_type(error.status, int)
        case Err(HTTPTimeoutError() as error):
            assert_type(error.phase, Literal["connect", "pool", "read", "write", "total"])
            assert_type(error.sent, bool)
        case Err(error):
            assert_type(error, HTTPClientError)

    if result.is_ok():
        pass
    response = result.unwrap()
    assert_type(response, HttpResponse)
    fallback = (await client.delete(URL(url))).unwrap_or(None)
    assert_type(fallback, HttpResponse | None)
    status = (await client.head(url)).map(lambda r: r.status)
    assert_type(status, Ok[int] | Err[HTTPClientError])


async def options_are_typed(client: HTTPClient, url: URL) -> None:
    await client.post(url, json={"name": "Ada"}, headers={"X-Team": "payments"})
    await client.put(url, data={"a": "1"}, cookies={"session": "s"})
    await client.patch(url, content=b"raw", auth=("user", "pass"))
    await client.options(url, auth=BearerAuth("token"), follow_redirects=False)
    await client.get(url, auth=BasicAuth("user"), timeout=TimeoutConfig(read=1.0))
    await client.get(url, headers=[("Accept", "a"), ("Accept", "b")], max_response_bytes=1024)

    async def parts() -> AsyncIterator[bytes]:
        yield b"part"

    await client.post(url, content=parts())
    await client.post(url, content=parts)  # a factory makes the body replayable

    await client.get(url, params=object())  # type: ignore[arg-type]
    await client.get(url, timeout="2s")  # type: ignore[arg-type]
    await client.get(url, retries=3)  # type: ignore[call-arg]
    await client.get(42)  # type: ignore[arg-type]


async def request_and_stream(client: HTTPClient, url: str) -> None:
    response = await client.request("GET", url)
    assert_type(response, HttpResponse)
    async with client.stream("GET", url) as streamed:
        assert_type(streamed, HttpResponse)
        async for chunk in streamed.aiter_bytes():
            assert_type(chunk, bytes)
        async for line in streamed.aiter_lines():
            assert_type(line, str)
        assert_type(await streamed.aread(), bytes)


async def lifecycle() -> None:
    config = HTTPClientConfig(
        pool=ConnectionPoolConfig(max_connections=100, max_keepalive_connections=20),
        timeouts=TimeoutConfig(connect=2.0, read=5.0, total=10.0),
        headers={"X-Team": "payments"},
        follow_redirects=False,
    )
    HTTPClientConfig(max_redirects="3")  # type: ignore[arg-type]
    ConnectionPoolConfig(10)  # type: ignore[call-arg]
    assert_type(HTTPClientConfig.from_env(), HTTPClientConfig)
    assert_type(HTTPClientConfig.from_env("BILLING", environ={}), HTTPClientConfig)

    async with HTTPClient(config) as client:
        assert_type(client, HTTPClient)
    async with HTTPClient.session_context(config) as client:
        assert_type(client, HTTPClient)
    client = HTTPClient()
    await client.start()
    assert_type(client.is_started(), bool)
    await client.stop()


async def base_url_client() -> None:
    async with BaseURLHTTPClient("http://127.0.0.1:8080/v1", headers={"X-Key": "k"}) as api:
        assert_type(api, BaseURLHTTPClient)
        result = await api.get("/users/42", params={"expand": "teams"})
        assert_type(result, Result[HttpResponse, HTTPClientError])
        assert_type(
            await api.post("users", json={"name": "Ada"}), Result[HttpResponse, HTTPClientError]
        )
        assert_type(await api.request("GET", "/users/42"), HttpResponse)
        assert_type(api.url_for("users"), URL)
        async with api.stream("GET", "/events") as streamed:
            assert_type(streamed, HttpResponse)
    BaseURLHTTPClient("http://h", timeout="30")  # type: ignore[arg-type]


class AddTrace:
    async def intercept_request(self, context: RequestContext) -> None:
        context.headers["X-Trace"] = str(context.attempt)
        assert_type(context.url, URL)


class Timing:
    def intercept_response(self, context: ResponseContext) -> None:
        assert_type(context.duration, float)
        assert_type(context.status, int)
        assert_type(context.error, str | None)


class Cache:
    async def intercept(self, request: Request, call_next: CallNext) -> HttpResponse:
        if request.method == "GET" and request.url.path == "/cached":
            return HttpResponse(200, content=b"hit", request=request)
        return await call_next(request)


def interceptors() -> None:
    chain = InterceptorChain([AddTrace(), Timing(), Cache()])
    chain.add_interceptor(Cache(), first=True)
    HTTPClient(interceptors=[AddTrace(), Cache()])
    HTTPClient(interceptors=[object()])  # type: ignore[list-item]


class EchoTransport:
    """A transport is any object with `send` and `aclose`."""

    async def send(self, request: Request) -> HttpResponse:
        return HttpResponse(200, stream=ByteStream([request.body or b""]), request=request)

    async def aclose(self) -> None:
        pass


def transports() -> None:
    transport: Transport = EchoTransport()
    HTTPClient(transport=transport)
    HTTPClient(transport=object())  # type: ignore[arg-type]
    request = Request("GET", URL("http://127.0.0.1/"), CIMultiDict({"Accept": "*/*"}))
    assert_type(request.attempt, int)


def errors(error: HTTPClientError) -> None:
    if isinstance(error, HTTPConnectionError):
        assert_type(error.sent, bool)
    assert_type(error.request, Request | None)


def helpers() -> None:
    assert_type(build_url("http://h", "/x", {"a": 1}), str)
    validate_url("http://h")
    build_url(1)  # type: ignore[arg-type]
