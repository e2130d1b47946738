"""InterceptorChain and how HTTPClient runs it: order, shapes, per-attempt context, errors.

An in-memory transport stands in for the network (no sockets); the client on top
is the real one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from yarl import URL

from httpdeck import (
    ByteStream,
    CallNext,
    HTTPClient,
    HTTPConnectionError,
    HTTPInterceptorError,
    HttpResponse,
    InterceptorChain,
    Ok,
    Request,
    RequestContext,
    ResponseContext,
)

pytestmark = pytest.mark.asyncio

URL_ = "http://127.0.0.1:9/things"


class MemoryTransport:
    """Answers every request with 200 and a body naming the attempt; records what it got."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[Request] = []
        self.closed = False

    async def send(self, request: Request) -> HttpResponse:
        self.requests.append(request)
        body = f"attempt {request.attempt}".encode()
        return HttpResponse(self.status, stream=ByteStream([body]), request=request)

    async def aclose(self) -> None:
        self.closed = True


class Hooks:
    """A lexigram-style interceptor with async hooks that logs its calls."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    async def intercept_request(self, context: RequestContext) -> None:
        self.log.append(f"{self.name}:request:{context.attempt}")
        context.headers.add("X-Seen-By", self.name)

    async def intercept_response(self, context: ResponseContext) -> None:
        self.log.append(f"{self.name}:response:{context.attempt}")


class Around:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    async def intercept(self, request: Request, call_next: CallNext) -> HttpResponse:
        self.log.append(f"{self.name}:before")
        response = await call_next(request)
        self.log.append(f"{self.name}:after")
        return response


class TwoAttempts:
    """A resilience strategy that always makes two attempts and keeps the second."""

    async def execute(
        self, request: Request, send: Callable[[Request], Awaitable[HttpResponse]]
    ) -> HttpResponse:
        await send(request)
        request.attempt += 1
        return await send(request)


async def _client(*interceptors: Any, **kwargs: Any) -> tuple[HTTPClient, MemoryTransport]:
    transport = MemoryTransport()
    return HTTPClient(transport=transport, interceptors=interceptors, **kwargs), transport


async def test_requests_pass_in_order_and_responses_in_reverse() -> None:
    log: list[str] = []
    client, transport = await _client(Hooks("a", log), Around("b", log), Hooks("c", log))
    async with client:
        response = await client.request("GET", URL_)
    assert log == [
        "a:request:0",
        "b:before",
        "c:request:0",
        "c:response:0",
        "b:after",
        "a:response:0",
    ]
    assert transport.requests[0].headers.getall("X-Seen-By") == ["a", "c"]
    assert response.content == b"attempt 0"


async def test_interceptors_run_once_per_attempt_with_the_attempt_number() -> None:
    log: list[str] = []
    seen: list[tuple[int, float]] = []

    class Timing:
        def intercept_response(self, context: ResponseContext) -> None:
            seen.append((context.attempt, context.duration))

    client, transport = await _client(Hooks("a", log), Timing(), retry_policy=TwoAttempts())
    async with client:
        response = await client.request("GET", URL_)
    assert log == ["a:request:0", "a:response:0", "a:request:1", "a:response:1"]
    assert [attempt for attempt, _ in seen] == [0, 1]
    assert all(duration >= 0 for _, duration in seen)
    assert [r.attempt for r in transport.requests] == [1, 1]  # the same Request, mutated
    assert response.content == b"attempt 1"


async def test_hooks_may_be_sync_and_may_return_a_new_context() -> None:
    class Rewrite:
        def intercept_request(self, context: RequestContext) -> RequestContext:
            context.url = URL_ + "/rewritten"
            return context

        def intercept_response(self, context: ResponseContext) -> ResponseContext:
            replaced = HttpResponse(299, content=b"replaced", request=context.request)
            return ResponseContext(replaced, context.request, context.duration)

    client, transport = await _client(Rewrite())
    async with client:
        response = await client.request("GET", URL_)
    assert str(transport.requests[0].url) == URL_ + "/rewritten"
    assert (response.status, response.content) == (299, b"replaced")


async def test_response_hook_may_assign_the_response() -> None:
    class Replace:
        async def intercept_response(self, context: ResponseContext) -> None:
            context.response = HttpResponse(202, content=b"mine")

    client, _ = await _client(Replace())
    async with client:
        response = await client.request("GET", URL_)
    assert (response.status, response.content) == (202, b"mine")


async def test_around_interceptor_may_answer_without_the_transport() -> None:
    class Cache:
        async def intercept(self, request: Request, call_next: CallNext) -> HttpResponse:
            return HttpResponse(200, stream=ByteStream([b"cached"]), request=request)

    client, transport = await _client(Cache())
    async with client:
        result = await client.get(URL_)
    assert transport.requests == []
    assert isinstance(result, Ok)
    # The verb reads a short-circuited stream body, so content works at once.
    assert result.value.content == b"cached"


async def test_interceptor_sees_whether_the_attempt_streams() -> None:
    flags: list[bool] = []

    class Probe:
        def intercept_request(self, context: RequestContext) -> None:
            flags.append(context.request.extensions["stream"])

    client, _ = await _client(Probe())
    async with client:
        await client.request("GET", URL_)
        async with client.stream("GET", URL_) as response:
            assert not response.is_read
            assert await response.aread() == b"attempt 0"
    assert flags == [False, True]


async def test_response_interceptor_sees_a_read_body_for_verbs() -> None:
    bodies: list[bytes] = []

    class Body:
        def intercept_response(self, context: ResponseContext) -> None:
            bodies.append(context.response.content)

    client, _ = await _client(Body())
    async with client:
        await client.get(URL_)
    assert bodies == [b"attempt 0"]


async def test_an_interceptor_that_raises_becomes_an_interceptor_error_naming_it() -> None:
    class Broken:
        def intercept_request(self, context: RequestContext) -> None:
            msg = "token store unavailable"
            raise RuntimeError(msg)

    broken = Broken()
    client, transport = await _client(broken)
    async with client:
        with pytest.raises(HTTPInterceptorError) as info:
            await client.request("GET", URL_)
        result = await client.get(URL_)
    error = info.value
    assert str(error) == (
        "Interceptor Broken raised RuntimeError: token store unavailable "
        f"(while handling GET {URL_}, attempt 0)."
    )
    assert error.interceptor is broken
    assert error.request is not None
    assert isinstance(error.__cause__, RuntimeError)
    assert transport.requests == []
    # The verbs hand it back as Err, like any other client error.
    assert not isinstance(result, Ok)
    assert isinstance(result.error, HTTPInterceptorError)


async def test_an_error_in_a_response_hook_is_wrapped_too() -> None:
    class Broken:
        async def intercept_response(self, context: ResponseContext) -> None:
            raise KeyError("trace-id")

    client, _ = await _client(Broken())
    async with client:
        with pytest.raises(HTTPInterceptorError, match="Interceptor Broken raised KeyError"):
            await client.request("GET", URL_)


async def test_client_errors_raised_by_interceptors_pass_through_unchanged() -> None:
    refused = HTTPConnectionError("injected refusal", sent=False)

    class Fault:
        async def intercept(self, request: Request, call_next: CallNext) -> HttpResponse:
            raise refused

    client, _ = await _client(Fault())
    async with client:
        with pytest.raises(HTTPConnectionError) as info:
            await client.request("GET", URL_)
    assert info.value is refused


async def test_an_error_from_further_down_the_chain_is_not_blamed_on_the_interceptor() -> None:
    class BrokenTransport(MemoryTransport):
        async def send(self, request: Request) -> HttpResponse:
            raise KeyError("bug in the transport")

    log: list[str] = []
    client = HTTPClient(
        transport=BrokenTransport(), interceptors=[Around("a", log), Hooks("b", log)]
    )
    async with client:
        with pytest.raises(KeyError, match="bug in the transport"):
            await client.request("GET", URL_)
    assert log == ["a:before", "b:request:0"]


async def test_add_and_remove_interceptors_on_a_live_client() -> None:
    log: list[str] = []
    first, second = Hooks("first", log), Hooks("second", log)
    client, _ = await _client()
    async with client:
        client.interceptors.add_interceptor(second)
        client.interceptors.add_interceptor(first, first=True)
        await client.request("GET", URL_)
        assert log[:2] == ["first:request:0", "second:request:0"]
        log.clear()
        client.interceptors.remove_interceptor(first)
        await client.request("GET", URL_)
    assert log == ["second:request:0", "second:response:0"]
    assert list(client.interceptors) == [second]
    assert len(client.interceptors) == 1


async def test_remove_an_unknown_interceptor_is_a_value_error() -> None:
    chain = InterceptorChain()
    with pytest.raises(ValueError, match="is not in this interceptor chain"):
        chain.remove_interceptor(Hooks("x", []))


async def test_remove_uses_identity_not_equality() -> None:
    class Same:
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = object.__hash__

        def intercept_request(self, context: RequestContext) -> None:
            pass

    a, b = Same(), Same()
    chain = InterceptorChain([a, b])
    chain.remove_interceptor(b)
    (remaining,) = chain
    assert remaining is a


async def test_an_object_without_hooks_is_rejected_when_added() -> None:
    with pytest.raises(TypeError, match="is not an interceptor: define intercept_request"):
        InterceptorChain([object()])  # type: ignore[list-item]


async def test_chain_send_without_interceptors_calls_the_handler() -> None:
    async def handler(request: Request) -> HttpResponse:
        return HttpResponse(204, request=request)

    response = await InterceptorChain().send(Request("GET", URL(URL_)), handler)
    assert response.status == 204


async def test_interceptor_may_call_next_twice() -> None:
    class Twice:
        async def intercept(self, request: Request, call_next: CallNext) -> HttpResponse:
            await (await call_next(request)).aread()
            return await call_next(request)

    client, transport = await _client(Twice())
    async with client:
        await client.request("GET", URL_)
    assert len(transport.requests) == 2


async def test_a_strategy_without_execute_is_refused() -> None:
    with pytest.raises(TypeError, match="is not a resilience strategy: it needs execute"):
        HTTPClient(transport=MemoryTransport(), retry_policy=object())  # type: ignore[arg-type]


async def test_a_transport_without_start_is_started_once_and_closed_once() -> None:
    transport = MemoryTransport()
    client = HTTPClient(transport=transport)
    await client.start()
    await client.start()  # idempotent
    assert client.is_started()
    await client.stop()
    await client.stop()
    assert transport.closed
