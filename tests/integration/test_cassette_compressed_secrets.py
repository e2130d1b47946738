"""A secret inside a compressed body of a cassette vcrpy itself wrote (urllib
stores gzip and br bodies as they came: `!!binary`, Content-Encoding kept):
`httpdeck cassette lint` finds it and `httpdeck cassette redact` removes it,
storing the body decoded without Content-Encoding, so vcrpy's own replay and
httpdeck's both serve the redacted JSON."""

from __future__ import annotations

import asyncio
import gzip
import json
import urllib.request
from pathlib import Path

import brotlicffi  # type: ignore[import-untyped]
import pytest
import vcr  # type: ignore[import-untyped]
from aiohttp import web
from yarl import URL

from httpdeck.cli import main
from httpdeck.client import HTTPClient
from httpdeck.testing import use_cassette
from httpdeck.testing._server import LocalServer

pytestmark = pytest.mark.asyncio

TOKEN = "tok-canary-gz-5v8q1"
DOC = json.dumps({"access_token": TOKEN, "expires_in": 3600}).encode()
CODINGS = {"gzip": gzip.compress, "br": brotlicffi.compress}
DECODE = {"gzip": gzip.decompress, "br": brotlicffi.decompress}


def app(coding: str) -> web.Application:
    async def token(request: web.Request) -> web.Response:
        return web.Response(
            body=CODINGS[coding](DOC),
            headers={"Content-Type": "application/json", "Content-Encoding": coding},
        )

    application = web.Application()
    application.router.add_post("/token", token)
    return application


def fetch(url: str, path: Path) -> tuple[str | None, bytes]:
    """POST with urllib under vcrpy: (Content-Encoding, the body as urllib saw it)."""
    with vcr.VCR(record_mode="once").use_cassette(str(path)):
        request = urllib.request.Request(url, data=b"grant_type=client_credentials")
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers.get("Content-Encoding"), response.read()


def payload(coding: str | None, body: bytes) -> object:
    return json.loads(DECODE[coding](body) if coding else body)


@pytest.mark.parametrize("coding", sorted(CODINGS))
async def test_lint_finds_and_redact_removes_a_secret_in_a_compressed_body(
    coding: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "vcrpy.yaml"
    async with LocalServer(app(coding)) as server:
        url = str(server.url / "token")
        await asyncio.to_thread(fetch, url, path)
    assert "!!binary" in path.read_text()

    assert main(["cassette", "lint", str(path)]) == 1
    assert capsys.readouterr().out == (
        f"{path}: interaction #1 (POST {url}): unredacted secret in the response body "
        f"({coding}-decoded)\n"
    )
    assert main(["cassette", "redact", str(path)]) == 0
    capsys.readouterr()
    assert main(["cassette", "lint", str(path)]) == 0
    capsys.readouterr()

    # vcrpy's own replay (no server running now) serves the redacted JSON...
    replayed_coding, body = await asyncio.to_thread(fetch, url, path)
    assert replayed_coding is None
    assert payload(replayed_coding, body) == {"access_token": "REDACTED", "expires_in": 3600}
    # ...and so does httpdeck's.
    async with (
        HTTPClient() as client,
        use_cassette(client, path, cache_dir=False, record_mode="none"),
    ):
        response = await client.request("POST", URL(url), content=b"grant_type=client_credentials")
    assert response.json() == {"access_token": "REDACTED", "expires_in": 3600}
