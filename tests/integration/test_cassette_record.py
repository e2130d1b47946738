"""Record against real aiohttp.web servers on 127.0.0.1, replay with the server stopped."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml
from aiohttp import web
from client_apps import refused_url
from rawservers import RawServer, keep_alive, reset_after_request, stall, truncate

from httpdeck.client import (
    BaseURLHTTPClient,
    HTTPClient,
    HTTPClientConfig,
    HTTPConnectionError,
    HTTPProtocolError,
    HTTPTimeoutError,
    RetryPolicy,
    TimeoutConfig,
)
from httpdeck.testing import CassetteMissError, use_cassette
from httpdeck.testing._server import LocalServer

pytestmark = pytest.mark.asyncio

TOKEN = "sk_live_5f4e3d2c1b0a"
BLOB = bytes(range(256)) * 64


def api_app() -> web.Application:
    app = web.Application()
    hits = {"flaky": 0}

    async def user(request: web.Request) -> web.Response:
        return web.json_response({"id": int(request.match_info["id"]), "name": "Ann"})

    async def login(request: web.Request) -> web.Response:
        sent = await request.json()
        token = request.query.get("api_key", "")
        body = {"access_token": TOKEN, "you_sent": sent, "echo": token}
        headers = {"Location": f"/welcome?token={token}&lang=en"}
        return web.json_response(body, status=201, headers=headers)

    async def blob(request: web.Request) -> web.Response:
        return web.Response(body=BLOB, content_type="application/octet-stream")

    async def compressed(request: web.Request) -> web.Response:
        response = web.Response(text="squeeze me " * 200, content_type="text/plain")
        response.enable_compression(web.ContentCoding.gzip)
        return response

    async def flaky(request: web.Request) -> web.Response:
        hits["flaky"] += 1
        if hits["flaky"] < 3:
            return web.json_response({"try": hits["flaky"]}, status=503)
        return web.json_response({"try": hits["flaky"]})

    app.router.add_get("/users/{id}", user)
    app.router.add_post("/login", login)
    app.router.add_get("/blob", blob)
    app.router.add_get("/gzip", compressed)
    app.router.add_get("/flaky", flaky)
    return app


async def test_recorded_traffic_replays_with_the_server_stopped(tmp_path: Path) -> None:
    path = tmp_path / "api.yaml"
    async with LocalServer(api_app()) as server:
        base = server.url
        async with HTTPClient() as client, use_cassette(client, path, cache_dir=False):
            first = await client.request("GET", base / "users/1")
            data = await client.request("GET", base / "blob")
            squeezed = await client.request("GET", base / "gzip")
    async with (
        HTTPClient() as client,
        use_cassette(client, path, record_mode="none", cache_dir=False) as cassette,
    ):
        again = await client.request("GET", base / "users/1")
        data_again = await client.request("GET", base / "blob")
        squeezed_again = await client.request("GET", base / "gzip")
    assert (again.status, again.json()) == (first.status, first.json())
    assert data_again.content == data.content == BLOB
    assert squeezed_again.text() == squeezed.text() == "squeeze me " * 200
    assert cassette.all_played
    stored = yaml.safe_load(path.read_text())["interactions"][2]["response"]
    assert "Content-Encoding" not in stored["headers"]
    assert stored["body"]["string"] == "squeeze me " * 200


async def test_sse_reaches_the_caller_event_by_event_while_recording(tmp_path: Path) -> None:
    path = tmp_path / "sse.yaml"
    received_first = asyncio.Event()

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"data: first\n\n")
        # The second event is sent only once the client has the first: a
        # recorder that buffered the stream would wait here forever.
        await received_first.wait()
        await response.write(b"data: second\n\n")
        return response

    app = web.Application()
    app.router.add_get("/events", events)
    async with LocalServer(app) as server:
        url = server.url / "events"
        async with (
            HTTPClient() as client,
            use_cassette(client, path, cache_dir=False),
            client.stream("GET", url) as response,
        ):
            chunks = response.aiter_bytes()
            first = await asyncio.wait_for(chunks.__anext__(), timeout=30)
            received_first.set()
            rest = [chunk async for chunk in chunks]
    assert first == b"data: first\n\n"
    assert b"".join(rest) == b"data: second\n\n"
    async with (
        HTTPClient() as client,
        use_cassette(client, path, cache_dir=False),
        client.stream("GET", url) as response,
    ):
        assert [chunk async for chunk in response.aiter_bytes()] == [
            b"data: first\n\n",
            b"data: second\n\n",
        ]


async def test_no_secret_survives_in_the_file_and_matching_still_works(tmp_path: Path) -> None:
    path = tmp_path / "login.yaml"
    async with LocalServer(api_app()) as server:
        url = server.url / "login"
        async with (
            HTTPClient(HTTPClientConfig(follow_redirects=False)) as client,
            use_cassette(client, path, cache_dir=False),
        ):
            await client.request(
                "POST",
                url,
                params={"api_key": TOKEN},
                json={"user": "ann", "password": "pa55word-ann"},
                headers={"Authorization": f"Bearer {TOKEN}", "Cookie": f"sid={TOKEN}"},
            )
    text = path.read_text()
    assert TOKEN not in text
    assert "pa55word-ann" not in text
    stored = yaml.safe_load(text)["interactions"][0]
    assert stored["response"]["headers"]["Location"] == ["/welcome?token=REDACTED&lang=en"]
    async with (
        HTTPClient(HTTPClientConfig(follow_redirects=False)) as client,
        use_cassette(client, path, record_mode="none", cache_dir=False),
    ):
        response = await client.request(
            "POST", url, params={"api_key": TOKEN}, json={"user": "ann", "password": "x"}
        )
    assert response.status == 201
    assert response.json()["access_token"] == "REDACTED"


async def test_every_attempt_of_a_real_retry_loop_is_recorded_and_replayed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "flaky.yaml"
    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    def policy() -> RetryPolicy:
        return RetryPolicy(
            max_attempts=3, base_delay=0.1, jitter=0.0, sleep=sleep, budget_ratio=None
        )

    async with LocalServer(api_app()) as server:
        url = server.url / "flaky"
        async with (
            HTTPClient(retry_policy=policy()) as client,
            use_cassette(client, path, cache_dir=False),
        ):
            assert (await client.request("GET", url)).json() == {"try": 3}
    codes = [
        i["response"]["status"]["code"] for i in yaml.safe_load(path.read_text())["interactions"]
    ]
    assert codes == [503, 503, 200]
    async with (
        HTTPClient(retry_policy=policy()) as client,
        use_cassette(client, path, record_mode="none", cache_dir=False) as cassette,
    ):
        assert (await client.request("GET", url)).json() == {"try": 3}
    assert cassette.play_counts == [1, 1, 1]
    assert sleeps == [0.1, 0.2, 0.1, 0.2]


async def test_base_url_clients_record_and_replay(tmp_path: Path) -> None:
    path = tmp_path / "base.json"
    async with LocalServer(api_app()) as server:
        base = server.url
        async with BaseURLHTTPClient(base) as api, use_cassette(api, path, cache_dir=False):
            await api.get("/users/7")
    async with (
        BaseURLHTTPClient(base) as api,
        use_cassette(api, path, record_mode="none", cache_dir=False),
    ):
        assert (await api.get("/users/7")).unwrap().json() == {"id": 7, "name": "Ann"}
    assert json.loads(path.read_text())["interactions"][0]["request"]["uri"] == str(
        base / "users/7"
    )


async def test_refused_connections_are_recorded_and_replayed(tmp_path: Path) -> None:
    path = tmp_path / "refused.yaml"
    with refused_url() as url:
        async with HTTPClient() as client, use_cassette(client, path, cache_dir=False):
            with pytest.raises(HTTPConnectionError) as live:
                await client.request("GET", url, params={"token": TOKEN})
    async with HTTPClient() as client, use_cassette(client, path, cache_dir=False):
        with pytest.raises(HTTPConnectionError) as replayed:
            await client.request("GET", url, params={"token": TOKEN})
    assert live.value.sent is replayed.value.sent is False
    assert TOKEN not in path.read_text()
    assert TOKEN not in str(replayed.value)


async def test_resets_are_recorded_and_replayed(tmp_path: Path) -> None:
    path = tmp_path / "reset.yaml"
    async with RawServer(reset_after_request()) as server:
        url = server.url / "x"
        async with HTTPClient() as client, use_cassette(client, path, cache_dir=False):
            with pytest.raises(HTTPConnectionError):
                await client.request("GET", url)
    async with HTTPClient() as client, use_cassette(client, path, cache_dir=False):
        with pytest.raises(HTTPConnectionError, match="replayed from a cassette"):
            await client.request("GET", url)


async def test_timeouts_are_recorded_and_replayed_with_their_phase(tmp_path: Path) -> None:
    path = tmp_path / "timeout.yaml"
    config = HTTPClientConfig(timeouts=TimeoutConfig(read=0.2))
    async with RawServer(stall()) as server:
        url = server.url / "slow"
        async with HTTPClient(config) as client, use_cassette(client, path, cache_dir=False):
            with pytest.raises(HTTPTimeoutError) as live:
                await client.request("GET", url)
    async with HTTPClient(config) as client, use_cassette(client, path, cache_dir=False):
        with pytest.raises(HTTPTimeoutError) as replayed:
            await client.request("GET", url)
    assert replayed.value.phase == live.value.phase


async def test_a_body_cut_short_mid_stream_replays_the_same_way(tmp_path: Path) -> None:
    path = tmp_path / "cut.yaml"
    async with RawServer(truncate(100, b"only forty bytes of a hundred..........")) as server:
        url = server.url / "cut"
        for _ in range(2):
            async with HTTPClient() as client, use_cassette(client, path, cache_dir=False):
                with pytest.raises(HTTPProtocolError):
                    async with client.stream("GET", url) as response:
                        await response.aread()
        assert len(server.requests) == 1


async def test_replay_and_misses_never_reach_the_network(tmp_path: Path) -> None:
    path = tmp_path / "raw.yaml"
    async with RawServer(keep_alive(b"hello")) as server:
        async with HTTPClient() as client, use_cassette(client, path, cache_dir=False):
            await client.request("GET", server.url / "a")
        async with HTTPClient() as client, use_cassette(client, path, cache_dir=False):
            assert (await client.request("GET", server.url / "a")).content == b"hello"
            with pytest.raises(CassetteMissError):
                await client.request("GET", server.url / "b")
        assert [r.target for r in server.requests] == ["/a"]
