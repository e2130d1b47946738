"""One error channel: the verbs return `Err` for every runtime outcome, `request()` raises it.

Each resilience outcome (retries exhausted on a status or on an error, a
circuit open, a bulkhead full, a pipeline timeout) runs twice: against a
real aiohttp.web server on 127.0.0.1 and through `FakeHTTPClient`. Adding a
retry policy, a breaker or a bulkhead never turns an `Err` into an exception.
Misuse and test-setup errors are the only things the verbs raise.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from httpdeck.client import (
    Bulkhead,
    CircuitBreaker,
    Err,
    HTTPBulkheadFullError,
    HTTPCircuitOpenError,
    HTTPClient,
    HTTPClientClosedError,
    HTTPClientConfig,
    HTTPClientError,
    HTTPConnectionError,
    HTTPRetryExhaustedError,
    HTTPStatusError,
    HTTPTimeoutError,
    HTTPUnsafeURLError,
    HTTPValidationError,
    Request,
    ResiliencePipeline,
    RetryPolicy,
    set_testing,
)
from httpdeck.testing import FakeError, FakeHTTPClient, FakeResponse, UnmatchedRequestError
from httpdeck.testing._server import LocalServer

pytestmark = pytest.mark.asyncio


@dataclass
class Backend:
    """Where the paths /503, /refused, /stall and /hold are answered: a real server or a fake."""

    kind: str
    make: Callable[..., HTTPClient]
    base: str
    refused: str
    release: asyncio.Event
    arrived: asyncio.Event

    def url(self, path: str) -> str:
        return self.base + path


def _app(release: asyncio.Event, arrived: asyncio.Event, never: asyncio.Event) -> web.Application:
    async def unavailable(request: web.Request) -> web.Response:
        return web.Response(status=503, text="down")

    async def stall(request: web.Request) -> web.Response:
        await never.wait()
        return web.Response(text="late")

    async def hold(request: web.Request) -> web.Response:
        arrived.set()
        await release.wait()
        return web.Response(text="held")

    app = web.Application()
    app.router.add_get("/503", unavailable)
    app.router.add_get("/stall", stall)
    app.router.add_get("/hold", hold)
    return app


@pytest_asyncio.fixture(params=["real", "fake"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    never, release, arrived = asyncio.Event(), asyncio.Event(), asyncio.Event()
    clients: list[HTTPClient] = []
    with set_testing(True):  # no backoff waits
        if request.param == "real":
            closed = LocalServer(web.Application())
            await closed.start()
            refused_url = str(closed.url)
            await closed.stop()  # nothing listens on that port any more
            async with LocalServer(_app(release, arrived, never)) as server:
                base = str(server.url).rstrip("/")

                def make_real(**options: Any) -> HTTPClient:
                    client = HTTPClient(**options)
                    clients.append(client)
                    return client

                yield Backend("real", make_real, base, refused_url, release, arrived)
                release.set()
                never.set()  # let a stalled handler end, so the server stops at once
                for client in clients:
                    await client.stop()
            return

        async def stall(request: Request) -> FakeResponse:
            await never.wait()
            return FakeResponse(200)

        async def hold(request: Request) -> FakeResponse:
            arrived.set()
            await release.wait()
            return FakeResponse(200, text="held")

        def make_fake(**options: Any) -> HTTPClient:
            fake = FakeHTTPClient(base_url="http://api.test", **options)
            fake.route("*", "/503", optional=True).respond(503)
            fake.route("GET", "/refused", optional=True).raise_error(
                FakeError.connection_reset(sent=False)
            )
            fake.route("GET", "/stall", optional=True).respond_with(stall)
            fake.route("GET", "/hold", optional=True).respond_with(hold)
            clients.append(fake)
            return fake

        refused = "http://api.test/refused"
        yield Backend("fake", make_fake, "http://api.test", refused, release, arrived)
        release.set()
        for client in clients:
            await client.stop()


async def _retry_exhausted_on_a_status(b: Backend, call: Call) -> object:
    client = b.make(retry_policy=RetryPolicy(max_attempts=2))
    return await call(client, b.url("/503"))


async def _retry_exhausted_on_an_error(b: Backend, call: Call) -> object:
    client = b.make(retry_policy=RetryPolicy(max_attempts=2))
    return await call(client, b.refused)


async def _circuit_open(b: Backend, call: Call) -> object:
    client = b.make(circuit_breaker=CircuitBreaker(failure_threshold=1, recovery_timeout=60))
    first = await client.get(b.url("/503"))
    assert isinstance(first.unwrap_err(), HTTPStatusError)  # counted, and trips the breaker
    return await call(client, b.url("/503"))


async def _circuit_open_inside_retry(b: Backend, call: Call) -> object:
    client = b.make(
        retry_policy=RetryPolicy(max_attempts=5),
        circuit_breaker=CircuitBreaker(failure_threshold=2, recovery_timeout=60),
    )
    return await call(client, b.url("/503"))


async def _bulkhead_full(b: Backend, call: Call) -> object:
    client = b.make(resilience=ResiliencePipeline(bulkhead=Bulkhead(max_concurrent=1)))
    held = asyncio.create_task(client.get(b.url("/hold")))
    await b.arrived.wait()  # the first request holds the only slot
    try:
        return await call(client, b.url("/hold"))
    finally:
        b.release.set()
        assert (await held).unwrap().text() == "held"


async def _pipeline_timeout(b: Backend, call: Call) -> object:
    client = b.make(resilience=ResiliencePipeline(timeout=0.05))
    return await call(client, b.url("/stall"))


Call = Callable[[HTTPClient, str], Awaitable[object]]
SCENARIOS: dict[str, tuple[Callable[[Backend, Call], Awaitable[object]], type[HTTPClientError]]] = {
    "retry exhausted on a status": (_retry_exhausted_on_a_status, HTTPRetryExhaustedError),
    "retry exhausted on an error": (_retry_exhausted_on_an_error, HTTPRetryExhaustedError),
    "circuit open": (_circuit_open, HTTPCircuitOpenError),
    "circuit open inside a retry": (_circuit_open_inside_retry, HTTPCircuitOpenError),
    "bulkhead full": (_bulkhead_full, HTTPBulkheadFullError),
    "pipeline timeout": (_pipeline_timeout, HTTPTimeoutError),
}


async def _get(client: HTTPClient, url: str) -> object:
    return await client.get(url)


async def _request(client: HTTPClient, url: str) -> object:
    return await client.request("GET", url)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_the_verbs_return_every_resilience_outcome_as_err(
    backend: Backend, scenario: str
) -> None:
    run, expected = SCENARIOS[scenario]
    result = await run(backend, _get)
    assert isinstance(result, Err), f"{scenario} on the {backend.kind} backend: {result!r}"
    assert isinstance(result.error, expected)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_request_raises_every_resilience_outcome(backend: Backend, scenario: str) -> None:
    run, expected = SCENARIOS[scenario]
    with pytest.raises(expected):
        await run(backend, _request)


async def test_a_plain_transport_error_is_an_err_with_or_without_a_policy(
    backend: Backend,
) -> None:
    plain = await backend.make().get(backend.refused)
    assert isinstance(plain.unwrap_err(), HTTPConnectionError)
    post = await backend.make(retry_policy=RetryPolicy(max_attempts=3)).post(
        backend.url("/503"), content=b"x"
    )
    assert isinstance(post.unwrap_err(), HTTPStatusError)  # a POST's 503 is not retried


async def test_misuse_raises_from_the_verbs(backend: Backend) -> None:
    client = backend.make(retry_policy=RetryPolicy(max_attempts=2))
    with pytest.raises(HTTPValidationError):
        await client.get(backend.url("/503"), headers={"X-Bad": "a\r\nb"})
    await client.stop()
    with pytest.raises(HTTPClientClosedError):
        await client.get(backend.url("/503"))


async def test_a_url_the_safety_gate_refuses_is_an_err_from_the_verbs() -> None:
    # The gate's answer depends on DNS (or on a redirect the server sent): a
    # runtime outcome, not misuse. request() raises it.
    async with HTTPClient(HTTPClientConfig(url_safety=True)) as client:
        refused = (await client.get("http://127.0.0.1:9/internal")).unwrap_err()
        assert isinstance(refused, HTTPUnsafeURLError)
        assert (refused.host, refused.address) == ("127.0.0.1", "127.0.0.1")
        with pytest.raises(HTTPUnsafeURLError):
            await client.request("GET", "http://127.0.0.1:9/internal")


async def test_an_unmatched_fake_request_raises_from_the_verbs() -> None:
    # A test-setup error: code under test must not be able to swallow it as an Err.
    async with FakeHTTPClient(retry_policy=RetryPolicy(max_attempts=2)) as fake:
        with pytest.raises(UnmatchedRequestError):
            await fake.get("http://api.test/nothing-here")
        fake.unmatched_requests.clear()
