"""JSON past Python's limits (nested 100,000 deep, or an integer of 5,000
digits) is opaque bytes everywhere in testing/: recorded from a real server on
127.0.0.1 and replayed (not a RecursionError wrapped in HTTPInterceptorError),
scrubbed of known secret values, anonymized as is, linted as "too deeply nested
to check", matched byte for byte by the fake."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web

from httpdeck.cli import main
from httpdeck.client import HTTPClient
from httpdeck.testing import Anonymizer, FakeHTTPClient, FakeResponse, use_cassette
from httpdeck.testing._server import LocalServer

pytestmark = pytest.mark.asyncio

TOKEN = "tok-canary-8x2q7"
BODIES = {
    "deep": b'{"token": "' + TOKEN.encode() + b'", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "long": b'{"token": "' + TOKEN.encode() + b'", "n": ' + b"7" * 5_000 + b"}",
}
FINDINGS = {
    "deep": "is too deeply nested to check (past Python's recursion limit)",
    "long": "holds a number too long to check (more than Python's 4,300 digits)",
}


def app(body: bytes) -> web.Application:
    application = web.Application()

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, content_type="application/json")

    application.router.add_post("/doc", answer)
    return application


@pytest.mark.parametrize("kind", sorted(BODIES))
async def test_recorded_replayed_linted_anonymized(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = BODIES[kind]
    path = tmp_path / "limits.yaml"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    async with LocalServer(app(body)) as server:
        url = server.url / "doc"
        async with (
            HTTPClient() as client,
            use_cassette(client, path, cache_dir=False, anonymize=Anonymizer(["email"], seed=1)),
        ):
            recorded = await client.request("POST", url, content=body, headers=headers)
        assert recorded.status == 200
        assert recorded.content == body
        stored = path.read_bytes()
        # Not redacted by JSON key, but scrubbed of the known secret value.
        assert TOKEN.encode() not in stored
        async with (
            HTTPClient() as client,
            use_cassette(client, path, cache_dir=False, record_mode="none"),
        ):
            replayed = await client.request("POST", url, content=body, headers=headers)
    assert replayed.status == 200
    assert replayed.content == body.replace(TOKEN.encode(), b"REDACTED")

    assert main(["cassette", "lint", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert [line.split(": ", 2)[2] for line in out] == [
        f"the request body {FINDINGS[kind]}",
        f"the response body {FINDINGS[kind]}",
    ]
    assert main(["cassette", "redact", str(path)]) == 0
    assert path.read_bytes() == stored


@pytest.mark.parametrize("kind", sorted(BODIES))
async def test_fake_matches_such_bodies_as_bytes(kind: str) -> None:
    body = BODIES[kind]
    async with FakeHTTPClient() as fake:
        fake.route("POST", "http://api.test/doc", json={"token": TOKEN}).respond(400)
        fake.route("POST", "http://api.test/doc", content=body).respond(200)
        response = await fake.request("POST", "http://api.test/doc", content=body)
        assert response.status == 200
        with pytest.raises(ValueError, match=r"the request body .* to parse .*; read it as bytes"):
            fake.requests[0].json()


async def test_fake_json_response_too_deep_is_a_value_error() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ValueError, match=r"json= is nested too deeply to encode .* content="):
        FakeResponse(200, json=deep)
    with pytest.raises(ValueError, match=r"ndjson= line 2 holds an integer too long"):
        FakeResponse(200, ndjson=[1, 10**5000])
