"""multipart/form-data encoding (no sockets; the integration tests parse it for real)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from httpdeck.client import HTTPClient, HTTPValidationError, StreamBody
from httpdeck.client._multipart import encode_multipart, multipart_options


async def collect(body: StreamBody) -> bytes:
    return b"".join([chunk async for chunk in body])


def test_text_bytes_and_file_fields_in_memory() -> None:
    body, content_type = encode_multipart(
        {
            "name": "Ada ✓",
            "raw": b"\x00\x01",
            "doc": ("notes.txt", b"hello"),
            "img": ("cat.bin", b"\xff", "image/x-cat"),
        },
        boundary="BOUNDARY",
    )
    assert content_type == "multipart/form-data; boundary=BOUNDARY"
    assert body == (
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="name"\r\n\r\n'
        b"Ada \xe2\x9c\x93\r\n"
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="raw"\r\n\r\n'
        b"\x00\x01\r\n"
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="doc"; filename="notes.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n"
        b"hello\r\n"
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="img"; filename="cat.bin"\r\n'
        b"Content-Type: image/x-cat\r\n\r\n"
        b"\xff\r\n"
        b"--BOUNDARY--\r\n"
    )


def test_unknown_file_types_default_to_octet_stream() -> None:
    body, _ = encode_multipart({"f": ("blob.zzz-unknown", b"x")}, boundary="b")
    assert isinstance(body, bytes)
    assert b"Content-Type: application/octet-stream\r\n" in body


def test_repeated_names_from_a_sequence_of_pairs() -> None:
    body, _ = encode_multipart([("tag", "a"), ("tag", "b")], boundary="b")
    assert isinstance(body, bytes)
    assert body.count(b'name="tag"') == 2


def test_quotes_cr_and_lf_in_names_cannot_break_out_of_the_header() -> None:
    body, _ = encode_multipart({'evil"\r\nX-Injected: 1': ('a"b\r\n.txt', b"x")}, boundary="b")
    assert isinstance(body, bytes)
    assert b"X-Injected: 1\r\n" not in body
    assert b'name="evil%22%0D%0AX-Injected: 1"; filename="a%22b%0D%0A.txt"' in body


def test_a_random_boundary_by_default() -> None:
    first = encode_multipart({"a": "1"})[1]
    second = encode_multipart({"a": "1"})[1]
    assert first != second
    assert len(first.rsplit("=", 1)[1]) == 32


@pytest.mark.parametrize("boundary", ["", "a" * 71, "bad\r\nboundary", "ends in space "])
def test_an_invalid_boundary_is_refused(boundary: str) -> None:
    with pytest.raises(HTTPValidationError, match="boundary"):
        encode_multipart({"a": "1"}, boundary=boundary)


@pytest.mark.parametrize("value", [1, None, ("only-name",), ("a", b"b", "c", "d"), ["list", b"x"]])
def test_an_invalid_value_names_the_field(value: object) -> None:
    with pytest.raises(HTTPValidationError, match="'field'"):
        encode_multipart({"field": value}, boundary="b")  # type: ignore[dict-item]


def test_a_content_type_with_cr_lf_is_refused() -> None:
    with pytest.raises(HTTPValidationError, match="content type"):
        encode_multipart({"f": ("a.txt", b"x", "text/plain\r\nX: 1")}, boundary="b")


async def parts() -> AsyncIterator[bytes]:
    yield b"chunk-1,"
    yield b"chunk-2"


@pytest.mark.asyncio
async def test_a_streamed_part_gives_the_same_bytes_as_in_memory() -> None:
    streamed, _ = encode_multipart({"a": "1", "f": ("f.txt", parts())}, boundary="b")
    in_memory, _ = encode_multipart({"a": "1", "f": ("f.txt", b"chunk-1,chunk-2")}, boundary="b")
    assert isinstance(streamed, StreamBody)
    assert await collect(streamed) == in_memory


@pytest.mark.asyncio
async def test_a_one_shot_part_makes_a_one_shot_body_and_a_factory_a_replayable_one() -> None:
    one_shot, _ = encode_multipart({"f": ("f", parts())}, boundary="b")
    assert isinstance(one_shot, StreamBody)
    assert not one_shot.replayable
    replayable, _ = encode_multipart({"f": ("f", parts)}, boundary="b")
    assert isinstance(replayable, StreamBody)
    assert replayable.replayable
    assert await collect(replayable) == await collect(replayable)


@pytest.mark.asyncio
async def test_a_streamed_part_must_yield_bytes() -> None:
    async def words() -> AsyncIterator[bytes]:
        yield "text"  # type: ignore[misc]

    body, _ = encode_multipart({"f": ("f", words())}, boundary="b")
    assert isinstance(body, StreamBody)
    with pytest.raises(HTTPValidationError, match="yielded str"):
        await collect(body)


def test_options_add_the_content_type_after_the_callers_headers() -> None:
    options = multipart_options({"a": "1"}, "b", {"headers": {"X-Trace": "t"}, "timeout": 2.0})
    assert options["headers"] == [
        ("X-Trace", "t"),
        ("Content-Type", "multipart/form-data; boundary=b"),
    ]
    assert options["timeout"] == 2.0
    assert isinstance(options["content"], bytes)


@pytest.mark.asyncio
@pytest.mark.parametrize("clash", ["json", "data", "content"])
async def test_post_multipart_refuses_a_second_body(clash: str) -> None:
    async with HTTPClient() as client:
        with pytest.raises(HTTPValidationError, match=f"{clash}="):
            await client.post_multipart("http://a.test/", {"a": "1"}, **{clash: b"x"})  # type: ignore[arg-type]
