"""Interop with vcrpy, both ways: our cassettes play under vcrpy with plain aiohttp, and
cassettes vcrpy recorded with aiohttp play here. Recorded against aiohttp.web on
127.0.0.1; replayed with the server stopped."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest
import vcr  # type: ignore[import-untyped]
from aiohttp import web
from yarl import URL

from httpdeck.client import HTTPClient, HTTPConnectionError
from httpdeck.testing import use_cassette
from httpdeck.testing._server import LocalServer
from httpdeck.testing.cassettes._format import dump, parse
from httpdeck.testing.cassettes._model import (
    request_from_raw,
    request_to_raw,
    response_from_raw,
    response_to_raw,
)

pytestmark = pytest.mark.asyncio

BLOB = bytes(range(256)) * 8
EVENTS = b"data: one\n\ndata: two\n\n"


def app() -> web.Application:
    application = web.Application()

    async def user(request: web.Request) -> web.Response:
        return web.json_response({"id": int(request.match_info["id"]), "q": request.query.get("q")})

    async def create(request: web.Request) -> web.Response:
        return web.json_response({"created": await request.json()}, status=201)

    async def blob(request: web.Request) -> web.Response:
        return web.Response(body=BLOB, content_type="application/octet-stream")

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for line in EVENTS.split(b"\n\n")[:-1]:
            await response.write(line + b"\n\n")
        return response

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/users/2?q=moved")

    async def cookies(request: web.Request) -> web.Response:
        response = web.Response(text="é and ü", headers={"X-Note": "two values"})
        response.headers.add("Set-Cookie", "a=1; Path=/")
        response.headers.add("Set-Cookie", "b=2; Path=/")
        return response

    async def empty(request: web.Request) -> web.Response:
        return web.Response(status=204)

    application.router.add_get("/users/{id}", user)
    application.router.add_post("/users", create)
    application.router.add_get("/blob", blob)
    application.router.add_get("/events", events)
    application.router.add_get("/moved", moved)
    application.router.add_get("/cookies", cookies)
    application.router.add_post("/empty", empty)
    return application


def vcrpy(path: Path, mode: str, **options: object) -> object:
    return vcr.VCR(record_mode=mode, **options).use_cassette(str(path))


async def aiohttp_calls(base: URL) -> list[tuple[int, bytes]]:
    """The same calls, made with plain aiohttp."""
    out = []
    async with aiohttp.ClientSession() as session:
        for method, url, kwargs in (
            ("GET", base / "users/1" % {"q": "a"}, {}),
            ("POST", base / "users", {"json": {"name": "ann"}}),
            ("GET", base / "blob", {}),
            ("GET", base / "events", {}),
            ("GET", base / "moved", {}),
        ):
            async with session.request(method, url, **kwargs) as response:  # type: ignore[arg-type]
                out.append((response.status, await response.read()))
    return out


async def httpdeck_calls(client: HTTPClient, base: URL) -> list[tuple[int, bytes]]:
    out = []
    for method, url, kwargs in (
        ("GET", base / "users/1" % {"q": "a"}, {}),
        ("POST", base / "users", {"json": {"name": "ann"}}),
        ("GET", base / "blob", {}),
    ):
        response = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
        out.append((response.status, response.content))
    async with client.stream("GET", base / "events") as response:
        out.append((response.status, b"".join([c async for c in response.aiter_bytes()])))
    response = await client.request("GET", base / "moved")
    out.append((response.status, response.content))
    return out


@pytest.mark.parametrize("suffix", ["yaml", "json"])
async def test_a_cassette_recorded_here_plays_back_under_vcrpy_with_aiohttp(
    tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"ours.{suffix}"
    async with LocalServer(app()) as server:
        base = server.url
        async with HTTPClient() as client, use_cassette(client, path, cache_dir=False):
            live = await httpdeck_calls(client, base)
    if suffix == "json":  # vcrpy's JSON serializer has no bytes: binary is base64 there
        live[2] = (200, b"")
    with vcrpy(path, "none", serializer=suffix) as cassette:  # type: ignore[attr-defined]
        replayed = await aiohttp_calls(base)
    assert replayed == live
    assert cassette.all_played
    assert len(cassette) == 6  # the redirect hop is an interaction of its own


async def test_a_cassette_recorded_by_vcrpy_with_aiohttp_plays_back_here(tmp_path: Path) -> None:
    path = tmp_path / "theirs.yaml"
    async with LocalServer(app()) as server:
        base = server.url
        with vcrpy(path, "once"):
            live = await aiohttp_calls(base)
    async with (
        HTTPClient() as client,
        use_cassette(
            client, path, record_mode="none", match_on=["method", "uri", "body"], cache_dir=False
        ) as cassette,
    ):
        replayed = await httpdeck_calls(client, base)
    assert replayed == live
    assert cassette.all_played
    # vcrpy stores aiohttp's `json=` argument as a mapping; it still matches our JSON body.
    assert cassette.interactions[1].request.body == b'{"name":"ann"}'


async def test_a_recorded_transport_error_still_loads_in_vcrpy(tmp_path: Path) -> None:
    path = tmp_path / "error.yaml"
    server = LocalServer(app())
    await server.start()
    url = server.url / "users/1"
    await server.stop()  # the port is closed: connecting is refused
    async with HTTPClient() as client, use_cassette(client, path, cache_dir=False):
        with pytest.raises(HTTPConnectionError):
            await client.request("GET", url)
    with vcrpy(path, "none") as cassette:  # type: ignore[attr-defined]
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 599
    assert cassette.play_count == 1


async def test_vcrpy_rewrites_our_extensions_intact(tmp_path: Path) -> None:
    """vcrpy keeps the `httpdeck` key of a response when it re-saves a cassette."""
    path = tmp_path / "sse.yaml"
    async with LocalServer(app()) as server:
        base = server.url
        async with (
            HTTPClient() as client,
            use_cassette(client, path, cache_dir=False),
            client.stream("GET", base / "events") as response,
        ):
            chunks = [c async for c in response.aiter_bytes()]
        with vcrpy(path, "new_episodes"):
            async with aiohttp.ClientSession() as session, session.get(base / "users/3") as r:
                await r.read()
    async with HTTPClient() as client, use_cassette(client, path, cache_dir=False) as cassette:
        async with client.stream("GET", base / "events") as response:
            assert [c async for c in response.aiter_bytes()] == chunks
        assert json.loads((await client.request("GET", base / "users/3")).content)["id"] == 3
    assert cassette.all_played


@pytest.mark.parametrize("suffix", ["yaml", "json"])
async def test_the_bytes_written_for_vcrpys_interactions_are_the_bytes_vcrpy_wrote(
    tmp_path: Path, suffix: str
) -> None:
    """vcrpy records with aiohttp; the same interactions, taken apart into
    httpdeck's objects and written the way a recording writes them, give the
    same file byte for byte (JSON: vcrpy's key order and indent; YAML: its dumper).
    (Not a redirect: vcrpy's aiohttp stub cannot read a hop's body and writes
    `body: {}`; httpdeck records the hop as it read it.)"""
    path = tmp_path / f"theirs.{suffix}"
    async with LocalServer(app()) as server:
        base = server.url
        with vcrpy(path, "once", serializer=suffix):
            async with aiohttp.ClientSession() as session:
                for method, url, kwargs in (
                    ("GET", base / "users/1" % {"q": "a b"}, {"headers": {"Accept": "*/*"}}),
                    ("POST", base / "empty", {"data": b'{"name": "ann"}'}),
                    ("GET", base / "cookies", {}),
                    ("GET", base / "users/2", {}),
                    *((("GET", base / "blob", {}),) if suffix == "yaml" else ()),
                ):
                    async with session.request(method, url, **kwargs) as response:  # type: ignore[arg-type]
                        await response.read()
    theirs = path.read_bytes()
    raw, _ = parse(theirs, suffix, path)  # type: ignore[arg-type]
    assert len(raw) == (5 if suffix == "yaml" else 4)
    ours = [
        {
            "request": request_to_raw(request_from_raw(item["request"]), suffix),  # type: ignore[arg-type]
            "response": response_to_raw(response_from_raw(item["response"]), suffix),  # type: ignore[arg-type]
        }
        for item in raw
    ]
    assert dump(ours, suffix) == theirs  # type: ignore[arg-type]
