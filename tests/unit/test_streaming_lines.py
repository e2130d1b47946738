"""`iter_lines`: splitting a chunked byte stream into text lines, whatever the chunking."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest

from httpdeck.client._streaming import iter_lines

pytestmark = pytest.mark.asyncio


async def _chunks(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def _lines(*chunks: bytes, encoding: str = "utf-8") -> list[str]:
    return [line async for line in iter_lines(_chunks(*chunks), encoding)]


@pytest.mark.parametrize(
    ("body", "lines"),
    [
        (b"", []),
        (b"one", ["one"]),
        (b"one\n", ["one"]),
        (b"one\ntwo", ["one", "two"]),
        (b"one\r\ntwo\r\n", ["one", "two"]),
        (b"one\rtwo\r", ["one", "two"]),
        (b"a\n\nb\n", ["a", "", "b"]),
        (b"\n", [""]),
        (b"\r\n\r\n", ["", ""]),
        (b"a\r\r\nb", ["a", "", "b"]),
        (b"mixed\rends\r\nand\nmore", ["mixed", "ends", "and", "more"]),
    ],
)
async def test_every_split_point_gives_the_same_lines(body: bytes, lines: list[str]) -> None:
    assert await _lines(body) == lines
    # One byte at a time, and every two-chunk split: chunk boundaries never show.
    assert await _lines(*(body[i : i + 1] for i in range(len(body)))) == lines
    for cut in range(len(body) + 1):
        assert await _lines(body[:cut], body[cut:]) == lines, cut


async def test_crlf_split_across_chunks_is_one_line_end() -> None:
    assert await _lines(b"first\r", b"\nsecond\r", b"\n") == ["first", "second"]


async def test_cr_then_data_in_the_next_chunk_ends_the_line() -> None:
    assert await _lines(b"first\r", b"second") == ["first", "second"]


async def test_lines_are_yielded_as_soon_as_they_are_complete() -> None:
    seen: list[str] = []

    async def chunks() -> AsyncIterator[bytes]:
        yield b"event: a\n"
        # The line above must be out before the stream goes on.
        assert seen == ["event: a"]
        yield b"data: b"
        yield b"\n"

    async for line in iter_lines(chunks()):
        seen.append(line)
    assert seen == ["event: a", "data: b"]


async def test_multibyte_character_split_across_chunks() -> None:
    body = "naïve café\n日本語\n".encode()
    for cut in range(len(body) + 1):
        assert await _lines(body[:cut], body[cut:]) == ["naïve café", "日本語"]


async def test_encoding_is_applied_per_line() -> None:
    assert await _lines("é\nü".encode("latin-1"), encoding="latin-1") == ["é", "ü"]


async def test_undecodable_bytes_are_replaced() -> None:
    assert await _lines(b"ok\xff\n") == ["ok\ufffd"]


async def test_empty_chunks_are_ignored() -> None:
    assert await _lines(b"", b"a", b"", b"\n", b"") == ["a"]


async def test_only_cr_lf_and_crlf_end_lines() -> None:
    # Form feed, vertical tab and NEL are ordinary characters in HTTP bodies.
    assert await _lines(b"a\x0cb\x0bc\x1cd\n") == ["a\x0cb\x0bc\x1cd"]


async def test_a_long_line_in_many_small_chunks() -> None:
    parts = [b"x" * 1000] * 2000 + [b"\n", b"tail"]
    assert await _lines(*parts) == ["x" * 2_000_000, "tail"]


async def test_many_lines_in_one_chunk_and_across_chunks() -> None:
    body = b"".join(b"line %d\n" % i for i in range(500))
    expected = [f"line {i}" for i in range(500)]
    chunked = [body[i : i + 7] for i in range(0, len(body), 7)]
    assert await _lines(body) == expected
    assert await _lines(*chunked) == expected


@pytest.mark.parametrize("sizes", list(itertools.product([1, 2, 3], repeat=3)))
async def test_small_chunk_patterns(sizes: tuple[int, ...]) -> None:
    body = b"ab\r\ncd\ref\n\ngh"
    chunks, start = [], 0
    for size in itertools.cycle(sizes):
        if start >= len(body):
            break
        chunks.append(body[start : start + size])
        start += size
    assert await _lines(*chunks) == ["ab", "cd", "ef", "", "gh"]
