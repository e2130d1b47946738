"""client.sse() against a real aiohttp.web event stream."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from conftest import Serve
from httpdeck.client import (
    BaseURLHTTPClient,
    HTTPClient,
    HTTPClientConfig,
    HTTPProtocolError,
    HTTPStatusError,
    HTTPTimeoutError,
    HTTPTransportError,
    ServerSentEvent,
    TimeoutConfig,
)

pytestmark = pytest.mark.asyncio

TOTAL = 10


class EventServer:
    """Events 0..TOTAL-1; a connection carries at most `per_connection` of them
    (then ends cleanly, or breaks with `breaks=True`), resuming after the
    client's Last-Event-ID; once all were sent, 204 says "do not reconnect"."""

    def __init__(self, *, per_connection: int = TOTAL, breaks: bool = False) -> None:
        self.per_connection = per_connection
        self.breaks = breaks
        self.last_event_ids: list[str | None] = []
        self.methods: list[str] = []
        self.bodies: list[bytes] = []

    async def events(self, request: web.Request) -> web.StreamResponse:
        last = request.headers.get("Last-Event-ID")
        self.last_event_ids.append(last)
        self.methods.append(request.method)
        self.bodies.append(await request.read())
        start = int(last) + 1 if last is not None else 0
        if start >= TOTAL:
            return web.Response(status=204)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b": hello\nretry: 1\n\n")
        for n in range(start, min(start + self.per_connection, TOTAL)):
            await response.write(f"event: tick\nid: {n}\ndata: {n}\ndata: line2\n\n".encode())
        if self.breaks and start + self.per_connection < TOTAL:
            assert request.transport is not None
            request.transport.close()  # cut mid-body: the chunked stream never ends
            return response
        await response.write_eof()
        return response

    def app(self) -> web.Application:
        async def slow(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            for n in range(int(request.query["n"])):
                await asyncio.sleep(float(request.query["every"]))
                await response.write(f"data: {n}\n\n".encode())
            await response.write_eof()
            return response

        async def text(request: web.Request) -> web.Response:
            return web.Response(text="data: 1\n\n")

        async def error(request: web.Request) -> web.Response:
            return web.Response(status=500, text="boom")

        async def moved(request: web.Request) -> web.Response:
            raise web.HTTPFound("/events")

        application = web.Application()
        application.router.add_route("*", "/events", self.events)
        application.router.add_get("/slow", slow)
        application.router.add_get("/text", text)
        application.router.add_get("/error", error)
        application.router.add_get("/moved", moved)
        return application


def ticks(events: list[ServerSentEvent]) -> list[int]:
    return [int(event.data.split("\n")[0]) for event in events]


async def test_events_are_parsed_as_they_arrive(serve: Serve) -> None:
    server = EventServer()
    url = await serve(server.app())
    async with HTTPClient() as client, client.sse(url / "events") as events:
        received = [event async for event in events]
    assert ticks(received) == list(range(TOTAL))
    assert received[3] == ServerSentEvent("tick", "3\nline2", "3", None)
    assert server.last_event_ids == [None]


async def test_reconnect_resumes_from_the_last_event_id(serve: Serve) -> None:
    server = EventServer(per_connection=3)
    url = await serve(server.app())
    async with HTTPClient() as client:
        events = client.sse(url / "events", reconnect=True)
        async with events:
            received = [event async for event in events]
    assert ticks(received) == list(range(TOTAL))  # each exactly once
    assert server.last_event_ids == [None, "2", "5", "8", "9"]
    assert events.reconnects == 4
    assert events.retry == 0.001  # the server's `retry: 1` (milliseconds)


async def test_reconnect_after_the_connection_breaks(serve: Serve) -> None:
    server = EventServer(per_connection=4, breaks=True)
    url = await serve(server.app())
    async with HTTPClient() as client, client.sse(url / "events", reconnect=True) as events:
        received = [event async for event in events]
    assert ticks(received) == list(range(TOTAL))
    assert server.last_event_ids == [None, "3", "7", "9"]


async def test_without_reconnect_a_broken_stream_raises(serve: Serve) -> None:
    server = EventServer(per_connection=4, breaks=True)
    url = await serve(server.app())
    received: list[ServerSentEvent] = []

    async def read_all(client: HTTPClient) -> None:
        async with client.sse(url / "events") as events:
            async for event in events:
                received.append(event)

    async with HTTPClient() as client:
        with pytest.raises(HTTPTransportError):
            await read_all(client)
    assert ticks(received) == [0, 1, 2, 3]


async def test_max_reconnects_bounds_the_attempts(serve: Serve) -> None:
    server = EventServer(per_connection=2)
    url = await serve(server.app())
    async with (
        HTTPClient() as client,
        client.sse(url / "events", reconnect=True, max_reconnects=2) as events,
    ):
        received = [event async for event in events]
    assert ticks(received) == [0, 1, 2, 3, 4, 5]
    assert len(server.last_event_ids) == 3


async def test_a_given_last_event_id_is_sent_on_the_first_request(serve: Serve) -> None:
    server = EventServer()
    url = await serve(server.app())
    async with HTTPClient() as client, client.sse(url / "events", last_event_id="6") as events:
        assert ticks([event async for event in events]) == [7, 8, 9]
    assert server.last_event_ids == ["6"]


async def test_204_means_no_events_and_no_reconnect(serve: Serve) -> None:
    server = EventServer()
    url = await serve(server.app())
    async with (
        HTTPClient() as client,
        client.sse(url / "events", reconnect=True, last_event_id="9") as events,
    ):
        assert [event async for event in events] == []
    assert server.last_event_ids == ["9"]


async def test_a_body_that_is_not_an_event_stream_is_an_error(serve: Serve) -> None:
    url = await serve(EventServer().app())
    async with HTTPClient() as client, client.sse(url / "text", reconnect=True) as events:
        with pytest.raises(HTTPProtocolError, match="text/event-stream"):
            await anext(events)


async def test_an_error_status_raises_and_is_not_retried(serve: Serve) -> None:
    url = await serve(EventServer().app())
    async with HTTPClient() as client, client.sse(url / "error", reconnect=True) as events:
        with pytest.raises(HTTPStatusError) as caught:
            await anext(events)
    assert caught.value.status == 500


async def test_the_total_timeout_does_not_cut_a_long_stream(serve: Serve) -> None:
    url = await serve(EventServer().app())
    config = HTTPClientConfig(timeouts=TimeoutConfig(total=0.2, read=2.0))
    async with HTTPClient(config) as client:
        async with client.sse(url / "slow", params={"n": 6, "every": 0.1}) as events:
            received = [event.data async for event in events]
        # The same body through stream() is bounded by the total, as documented.
        with pytest.raises(HTTPTimeoutError) as caught:
            async with client.stream("GET", url / "slow", params={"n": 6, "every": 0.1}) as r:
                await r.aread()
    assert received == [str(n) for n in range(6)]
    assert caught.value.phase == "total"


async def test_the_read_timeout_still_applies_between_events(serve: Serve) -> None:
    url = await serve(EventServer().app())
    config = HTTPClientConfig(timeouts=TimeoutConfig(read=0.05))
    async with (
        HTTPClient(config) as client,
        client.sse(url / "slow", params={"n": 2, "every": 0.5}) as events,
    ):
        with pytest.raises(HTTPTimeoutError) as caught:
            await anext(events)
    assert caught.value.phase == "read"


async def test_redirects_are_followed(serve: Serve) -> None:
    server = EventServer()
    url = await serve(server.app())
    async with HTTPClient() as client, client.sse(url / "moved") as events:
        assert len([event async for event in events]) == TOTAL


async def test_post_with_a_json_body_and_a_base_url_client(serve: Serve) -> None:
    server = EventServer()
    url = await serve(server.app())
    async with (
        BaseURLHTTPClient(url) as api,
        api.sse("/events", method="POST", json={"prompt": "hi"}) as events,
    ):
        assert len([event async for event in events]) == TOTAL
    assert server.methods == ["POST"]
    assert server.bodies == [b'{"prompt":"hi"}']


async def test_leaving_early_releases_the_connection(serve: Serve) -> None:
    url = await serve(EventServer().app())
    async with HTTPClient() as client:
        pool = client.transport.pool  # type: ignore[attr-defined]
        async with client.sse(url / "slow", params={"n": 100, "every": 0.01}) as events:
            assert (await anext(events)).data == "0"
            assert pool.connection_counts()[1] == 1
        assert pool.connection_counts()[1] == 0
        # Iterating to the end without a block releases it too.
        events = client.sse(url / "slow", params={"n": 2, "every": 0.001})
        assert [event.data async for event in events] == ["0", "1"]
        assert pool.connection_counts()[1] == 0


async def test_the_request_asks_for_an_event_stream(serve: Serve) -> None:
    seen: list[dict[str, str]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.Response(status=204)

    application = web.Application()
    application.router.add_get("/", handler)
    url = await serve(application)
    async with HTTPClient() as client, client.sse(url) as events:
        assert [event async for event in events] == []
    assert seen[0]["Accept"] == "text/event-stream"
    assert seen[0]["Cache-Control"] == "no-store"
    assert "Last-Event-ID" not in seen[0]
