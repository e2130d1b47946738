"""Keep-alive connections the server closes behind the client's back.

aiohttp #7297/#9138: a server promises keep-alive, then closes the
connection while it sits idle in the pool. Reusing it fails. aiohttp hides
this with a silent re-send (which would make attempt counts lie, so httpdeck
turns it off). httpdeck never reuses an idle connection whose peer has
closed it; when the close races the request (the server closes just as the
request is written), an idempotent request is sent once more on a new
connection, as an attempt of its own: every attempt the client reports is
one request on the wire, and the caller sees no error.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from rawservers import (
    Behaviour,
    RawServer,
    close_after_response,
    close_on_reuse,
    close_when_idle,
    keep_alive,
    reset_on_reuse,
)

from httpdeck.client import (
    ConnectionPoolConfig,
    HTTPClient,
    HTTPClientConfig,
    HTTPConnectionError,
    HTTPTimeoutError,
    RequestContext,
    RequestDispatched,
    RetryPolicy,
)
from httpdeck.client._transports import _connector

pytestmark = pytest.mark.asyncio


class CountAttempts:
    def __init__(self) -> None:
        self.attempts = 0
        self.numbers: list[int] = []

    async def intercept_request(self, context: RequestContext) -> None:
        self.attempts += 1
        self.numbers.append(context.attempt)


async def test_1000_sequential_gets_lose_every_keep_alive_race_and_see_no_error() -> None:
    # Deterministic: the server answers one request per connection and closes
    # the connection when the next one arrives on it, so each of requests
    # 2..1000 is written into a connection that dies unanswered, and each is
    # sent again, once, on a new connection. No retry policy is configured.
    counter = CountAttempts()
    async with (
        RawServer(close_on_reuse(b"pong")) as server,
        HTTPClient(interceptors=[counter]) as client,
    ):
        for _ in range(1000):
            result = await client.get(server.url / "ping")
            assert result.unwrap().content == b"pong"
    # 999 re-sends, each its own attempt (numbered 1) and its own request on the wire.
    assert counter.numbers.count(0) == 1000
    assert counter.numbers.count(1) == 999
    assert counter.attempts == len(server.requests) == 1999
    assert server.connections == 1000
    assert [r.connection for r in server.requests if r.index == 0] == list(range(1000))


@pytest.mark.parametrize("behaviour", [close_on_reuse, reset_on_reuse], ids=["fin", "rst"])
@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])
async def test_an_idempotent_request_on_a_dead_reused_connection_is_sent_again_once(
    behaviour: Callable[[], Behaviour], method: str
) -> None:
    counter = CountAttempts()
    async with RawServer(behaviour()) as server, HTTPClient(interceptors=[counter]) as client:
        await client.request(method, server.url)  # opens the connection
        response = await client.request(method, server.url, content=b"same bytes")
    assert response.status == 200
    assert counter.numbers == [0, 0, 1]
    assert [(r.connection, r.index) for r in server.requests] == [(0, 0), (0, 1), (1, 0)]
    assert server.requests[1].body == server.requests[2].body == b"same bytes"


@pytest.mark.parametrize("behaviour", [close_on_reuse, reset_on_reuse], ids=["fin", "rst"])
@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_a_post_on_a_dead_reused_connection_is_never_sent_again(
    behaviour: Callable[[], Behaviour], method: str
) -> None:
    # Its bytes reached the server, which may have acted on them before dying.
    counter = CountAttempts()
    async with RawServer(behaviour()) as server, HTTPClient(interceptors=[counter]) as client:
        await client.request(method, server.url)
        with pytest.raises(HTTPConnectionError) as caught:
            await client.request(method, server.url, content=b"once")
    assert caught.value.sent is True
    assert caught.value.stale is False
    assert counter.numbers == [0, 0]
    assert len(server.requests) == 2


async def test_a_one_shot_stream_body_is_never_sent_again() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"one shot"

    async with RawServer(close_on_reuse()) as server, HTTPClient() as client:
        await client.request("PUT", server.url)
        with pytest.raises(HTTPConnectionError) as caught:
            await client.request("PUT", server.url, content=body())
    assert caught.value.stale is False
    assert len(server.requests) == 2


async def test_the_re_send_is_reported_as_its_own_attempt_in_events() -> None:
    dispatched: list[int] = []
    async with RawServer(close_on_reuse()) as server, HTTPClient() as client:
        client.events.subscribe(lambda e: dispatched.append(e.attempt), RequestDispatched)
        await client.request("GET", server.url)
        await client.request("GET", server.url)
    assert dispatched == [0, 0, 1]


async def test_a_re_send_under_a_policy_that_does_not_retry_it_keeps_its_attempt_number() -> None:
    # The policy leaves connection errors alone, so the client re-sends the
    # stale one itself: still attempt 1, not a fresh attempt 0.
    dispatched: list[int] = []
    policy = RetryPolicy(max_attempts=3, retry_on=(HTTPTimeoutError,))
    async with RawServer(close_on_reuse()) as server, HTTPClient(retry_policy=policy) as client:
        client.events.subscribe(lambda e: dispatched.append(e.attempt), RequestDispatched)
        await client.request("GET", server.url)
        await client.request("GET", server.url)
    assert dispatched == [0, 0, 1]
    assert len(server.requests) == 3


async def test_1000_sequential_gets_against_a_server_closing_after_each_response() -> None:
    counter = CountAttempts()
    async with (
        RawServer(close_after_response(b"pong")) as server,
        HTTPClient(interceptors=[counter]) as client,
    ):
        for _ in range(1000):
            response = await client.request("GET", server.url / "ping")
            assert response.content == b"pong"
    # No user-visible error, no hidden re-send: one attempt, one request on the wire.
    assert counter.attempts == len(server.requests) == 1000
    assert server.connections == 1000


async def test_an_idle_timeout_on_the_server_is_harmless() -> None:
    # The server closes a connection idle for 10 ms. Every tenth request waits
    # 20 ms first: the connection in the pool is then closed by the peer and
    # not reused. On a loaded machine both timers can come due in one loop
    # turn, the close then lands just after the request was written, and the
    # request is sent again on a new connection: one more attempt, one more
    # connection, still no error.
    counter = CountAttempts()
    async with (
        RawServer(close_when_idle(0.01)) as server,
        HTTPClient(interceptors=[counter]) as client,
    ):
        for i in range(200):
            if i % 10 == 9:
                await asyncio.sleep(0.02)
            assert (await client.request("GET", server.url)).status == 200
    resent = counter.attempts - 200
    assert len(server.requests) == 200
    assert server.connections == 1 + 200 // 10 + resent


async def test_healthy_keep_alive_connections_are_still_reused() -> None:
    async with RawServer(keep_alive()) as server, HTTPClient() as client:
        for _ in range(50):
            await client.request("GET", server.url)
        assert server.connections == 1
        assert client.transport.pool.connection_counts() == (1, 0)  # type: ignore[attr-defined]


async def test_without_the_dead_connection_check_the_race_is_still_harmless(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The check only saves attempts: without it, requests are written into
    # connections the server already closed (it never reads them) and are
    # sent again. The caller still sees no error, the server each request once.
    monkeypatch.setattr(_connector, "_peer_closed", lambda proto: False)
    counter = CountAttempts()
    async with (
        RawServer(close_after_response()) as server,
        HTTPClient(interceptors=[counter]) as client,
    ):
        for _ in range(200):
            assert (await client.request("GET", server.url)).status == 200
    assert len(server.requests) == 200


async def test_force_close_pools_open_a_connection_per_request() -> None:
    config = HTTPClientConfig(pool=ConnectionPoolConfig(force_close=True))
    async with RawServer(keep_alive()) as server, HTTPClient(config) as client:
        for _ in range(5):
            await client.request("GET", server.url)
    assert server.connections == 5
