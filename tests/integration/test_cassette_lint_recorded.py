"""`httpdeck cassette lint` over cassettes as recorders really write them: vcrpy
with aiohttp, httpx, requests and urllib.request, and httpdeck's own recorder,
against an aiohttp.web server on 127.0.0.1 that answers with gzip, deflate
and br bodies, JSON lines, problem+json, server-sent events, Latin-1 HTML and
binary. Every cassette must lint clean: a finding here is a false alarm."""

from __future__ import annotations

import asyncio
import gzip
import json
import urllib.request
import zlib
from pathlib import Path

import aiohttp
import brotlicffi  # type: ignore[import-untyped]
import httpx
import pytest
import requests
import vcr  # type: ignore[import-untyped]
from aiohttp import web
from yarl import URL

from httpdeck.cli import main
from httpdeck.client import HTTPClient
from httpdeck.testing import use_cassette
from httpdeck.testing._server import LocalServer

pytestmark = pytest.mark.asyncio

DOC = json.dumps({"id": 1, "name": "Zoë", "tags": list(range(50))}).encode()
CODINGS = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotlicffi.compress}
PATHS = [
    "gzip",
    "deflate",
    "br",
    "ndjson",
    "problem",
    "events",
    "latin1",
    "blob",
    "plain",
]


def app() -> web.Application:
    application = web.Application()

    async def compressed(request: web.Request) -> web.Response:
        coding = request.match_info["coding"]
        return web.Response(
            body=CODINGS[coding](DOC),
            headers={"Content-Type": "application/json", "Content-Encoding": coding},
        )

    async def ndjson(request: web.Request) -> web.Response:
        body = b"".join(json.dumps({"n": n}).encode() + b"\n" for n in range(5))
        return web.Response(body=body, content_type="application/x-ndjson")

    async def problem(request: web.Request) -> web.Response:
        body = {"type": "about:blank", "title": "Not Found", "status": 404}
        return web.json_response(body, status=404, content_type="application/problem+json")

    async def events(request: web.Request) -> web.Response:
        body = b'event: tick\ndata: {"n": 1}\n\ndata: [DONE]\n\n'
        return web.Response(body=body, content_type="text/event-stream")

    async def latin1(request: web.Request) -> web.Response:
        return web.Response(
            body="<p>Caf\u00e9</p>".encode("latin-1"),
            headers={"Content-Type": "text/html; charset=ISO-8859-1"},
        )

    async def blob(request: web.Request) -> web.Response:
        return web.Response(body=bytes(range(256)), content_type="application/octet-stream")

    async def plain(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    application.router.add_get("/{coding:gzip|deflate|br}", compressed)
    for name, handler in (
        ("ndjson", ndjson),
        ("problem", problem),
        ("events", events),
        ("latin1", latin1),
        ("blob", blob),
        ("plain", plain),
    ):
        application.router.add_get(f"/{name}", handler)
    return application


def lints_clean(paths: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["cassette", "lint", *map(str, paths)])
    out = capsys.readouterr().out
    assert out == "".join(f"{path}: ok ({len(PATHS)} interactions)\n" for path in paths)
    assert code == 0


async def test_cassettes_vcrpy_writes_lint_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def blocking(base: URL, path: Path, client: str) -> None:
        with vcr.VCR(record_mode="once").use_cassette(str(path)):
            for name in PATHS:
                url = str(base / name)
                if client == "requests":
                    requests.get(url, timeout=10)
                else:
                    try:
                        with urllib.request.urlopen(url, timeout=10) as response:
                            response.read()
                    except urllib.error.HTTPError as exc:  # the 404 of /problem
                        exc.read()
                        exc.close()

    async with LocalServer(app()) as server:
        base = server.url
        theirs = {
            c: tmp_path / f"vcrpy-{c}.yaml" for c in ("aiohttp", "httpx", "requests", "urllib")
        }
        with vcr.VCR(record_mode="once").use_cassette(str(theirs["aiohttp"])):
            async with aiohttp.ClientSession() as session:
                for name in PATHS:
                    async with session.get(base / name) as response:
                        await response.read()
        with vcr.VCR(record_mode="once").use_cassette(str(theirs["httpx"])):
            async with httpx.AsyncClient() as client:
                for name in PATHS:
                    await client.get(str(base / name))
        for client in ("requests", "urllib"):
            await asyncio.to_thread(blocking, base, theirs[client], client)
    # urllib (http.client) stores the bytes as they came: compressed, as !!binary.
    assert "!!binary" in theirs["urllib"].read_text()
    lints_clean(list(theirs.values()), capsys)


@pytest.mark.parametrize("decode", [True, False])
async def test_cassettes_httpdeck_writes_lint_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], decode: bool
) -> None:
    path = tmp_path / "ours.yaml"
    async with (
        LocalServer(app()) as server,
        HTTPClient() as client,
        use_cassette(client, path, cache_dir=False, decode_compressed_response=decode),
    ):
        for name in PATHS:
            await client.get(server.url / name)
    lints_clean([path], capsys)
