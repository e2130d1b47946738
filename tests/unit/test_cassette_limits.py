"""Replay applies max_response_bytes as the real transport does: counted after
decompression, with the same error, and without inflating a bomb in memory."""

from __future__ import annotations

import tracemalloc
import zlib
from pathlib import Path

import brotlicffi
import pytest
from cassette_helpers import ScriptTransport
from multidict import CIMultiDict

from httpdeck.client import HTTPClient, HTTPClientConfig, HTTPResponseTooLargeError
from httpdeck.testing import use_cassette
from httpdeck.testing.cassettes._decode import decoded
from httpdeck.testing.cassettes._format import write_cassette
from httpdeck.testing.cassettes._model import CassetteResponse

MiB = 1 << 20
URL = "http://api.test/bomb"


def gzip_bomb(size: int) -> bytes:
    """`size` zero bytes as one gzip member (about size / 1000 bytes), built in steps."""
    encoder = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(MiB)
    parts = [encoder.compress(block) for _ in range(size // MiB)]
    return b"".join([*parts, encoder.flush()])


@pytest.fixture(scope="module")
def bomb_cassette(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "bomb.yaml"
    body = gzip_bomb(256 * MiB)
    assert len(body) < 300 * 1024
    write_cassette(
        path, [interaction(body, {"Content-Encoding": ["gzip"]})], "yaml", cache_dir=None
    )
    return path


def interaction(body: bytes, headers: dict[str, list[str]]) -> dict[str, object]:
    return {
        "request": {"body": None, "headers": {}, "method": "GET", "uri": URL},
        "response": {
            "body": {"string": body},
            "headers": headers,
            "status": {"code": 200, "message": "OK"},
        },
    }


@pytest.mark.asyncio
async def test_a_gzip_bomb_in_a_cassette_stops_at_max_response_bytes(bomb_cassette: Path) -> None:
    tracemalloc.start()
    try:
        async with (
            HTTPClient(transport=ScriptTransport()) as client,
            use_cassette(client, bomb_cassette, record_mode="none", cache_dir=False),
        ):
            with pytest.raises(HTTPResponseTooLargeError) as caught:
                await client.request("GET", URL, max_response_bytes=10 * MiB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.limit == 10 * MiB
    assert "max_response_bytes=10485760 (counted after decompression)" in str(caught.value)
    assert f"GET {URL}" in str(caught.value)
    assert peak < 40 * MiB  # the limit, one decoding step and a copy; never the 256 MiB


@pytest.mark.asyncio
async def test_a_streamed_replay_counts_the_chunks_as_they_are_read(bomb_cassette: Path) -> None:
    config = HTTPClientConfig(max_response_bytes=MiB)  # the client's limit applies as well
    async with (
        HTTPClient(config, transport=ScriptTransport()) as client,
        use_cassette(client, bomb_cassette, record_mode="none", cache_dir=False),
        client.stream("GET", URL) as response,
    ):
        assert response.status == 200  # the error comes with the body, as on the wire
        with pytest.raises(HTTPResponseTooLargeError) as caught:
            await response.aread()
    assert caught.value.limit == MiB


async def read(client: HTTPClient, *, stream: bool, max_response_bytes: int) -> bytes:
    if not stream:
        return (await client.request("GET", URL, max_response_bytes=max_response_bytes)).content
    async with client.stream("GET", URL, max_response_bytes=max_response_bytes) as response:
        return await response.aread()


@pytest.mark.asyncio
@pytest.mark.parametrize("stream", [False, True])
async def test_a_plain_body_over_the_limit_fails_on_its_declared_length(
    tmp_path: Path, stream: bool
) -> None:
    path = tmp_path / "big.yaml"
    record = interaction(b"x" * 2000, {"Content-Length": ["2000"]})
    write_cassette(path, [record, record], "yaml", cache_dir=None)
    async with (
        HTTPClient(transport=ScriptTransport()) as client,
        use_cassette(client, path, record_mode="none", cache_dir=False),
    ):
        with pytest.raises(HTTPResponseTooLargeError, match="declares 2000 bytes"):
            await read(client, stream=stream, max_response_bytes=1999)
        fits = await client.request("GET", URL, max_response_bytes=2000)
    assert len(fits.content) == 2000


@pytest.mark.asyncio
async def test_a_plain_body_without_a_length_is_counted(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    write_cassette(path, [interaction(b"x" * 2000, {})], "yaml", cache_dir=None)
    async with (
        HTTPClient(transport=ScriptTransport()) as client,
        use_cassette(client, path, record_mode="none", cache_dir=False),
    ):
        with pytest.raises(HTTPResponseTooLargeError, match="passed that size"):
            await client.request("GET", URL, max_response_bytes=1000)


def test_replay_decodes_every_gzip_member_and_keeps_what_does_not_decode() -> None:
    member = zlib.compressobj(6, zlib.DEFLATED, 31)
    one = member.compress(b"hello ") + member.flush()
    again = zlib.compressobj(6, zlib.DEFLATED, 31)
    two = again.compress(b"world") + again.flush()

    def stored(body: bytes, coding: str) -> CassetteResponse:
        headers = CIMultiDict({"Content-Encoding": coding, "Content-Length": str(len(body))})
        return CassetteResponse(200, "OK", headers, body)

    both = decoded(stored(one + two + b"\0\0", "gzip"))
    assert both.body == b"hello world"
    assert "Content-Encoding" not in both.headers
    assert both.headers["Content-Length"] == "11"
    assert decoded(stored(b"not compressed", "gzip")).body == b"not compressed"
    cut = decoded(stored(zlib.compress(b"abc" * 1000), "deflate"), max_size=10)
    assert 10 < len(cut.body) < 3000  # cut short, still past the limit


def test_replay_decodes_a_br_body_stored_compressed() -> None:
    body = brotlicffi.compress(b'{"ok": true}')
    response = CassetteResponse(200, "OK", CIMultiDict({"Content-Encoding": "br"}), body)
    assert decoded(response).body == b'{"ok": true}'
