"""Undo a body's Content-Encoding (gzip, x-gzip, deflate, br) in bounded steps.

Used by `httpdeck cassette lint` to check a compressed body against its
Content-Type, by `cassette redact`, and by replay to hand a body stored
compressed over decoded. Inflating stops as soon as the output passes `limit` bytes, so
a decompression bomb stored in a cassette costs at most `limit` bytes of
memory. br needs the `brotlicffi` or `Brotli` package (the ones aiohttp
uses), 1.2 or later for the bounded API; without it a br body is not decoded.
"""

from __future__ import annotations

import functools
import importlib
import zlib
from typing import Any

# Output is produced in steps of this size (also when the limit is larger),
# so a small body never makes a decoder allocate `limit` bytes up front.
_STEP = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"


class Undecodable(Exception):
    """The body does not decode as `encoding` says.

    `certain` is true when the body is that encoding's data and is broken
    (gzip's magic bytes, or output already produced before it failed); false
    when it does not look like that encoding at all, as when a recorder kept
    `Content-Encoding` on a body it stored decoded.
    """

    def __init__(self, encoding: str, reason: str, *, certain: bool) -> None:
        super().__init__(reason)
        self.encoding = encoding
        self.reason = reason
        self.certain = certain


class TooLarge(Exception):
    """The body inflates past `limit` bytes (decoding stopped there).

    `partial` is what was inflated by then: more than `limit` bytes, so a
    caller that counts it against the same limit (replay's `BodyLimit`) fails
    as a body of that size would.
    """

    def __init__(self, encoding: str, limit: int, partial: bytes = b"") -> None:
        super().__init__(f"{encoding} body inflates past {limit} bytes")
        self.encoding = encoding
        self.limit = limit
        self.partial = partial


def content_codings(values: list[str]) -> list[str]:
    """The codings of Content-Encoding header values, in the order they were
    applied (`identity` and empty entries left out)."""
    out = []
    for value in values:
        for part in value.split(","):
            coding = part.strip().lower()
            if coding and coding != "identity":
                out.append(coding)
    return out


def can_decode(coding: str) -> bool:
    """Whether `decode` handles `coding` here (br: only with a Brotli package)."""
    return coding in ("gzip", "x-gzip", "deflate") or (coding == "br" and _brotli() is not None)


def decode(body: bytes, codings: list[str], *, limit: int) -> bytes:
    """`body` with `codings` undone (the last applied first).

    Raises `Undecodable` when a coding does not decode, `TooLarge` when the
    output passes `limit` bytes, and `ValueError` for a coding that
    `can_decode` says no to.
    """
    for coding in reversed(codings):
        if coding in ("gzip", "x-gzip"):
            body = _gzip(body, coding, limit)
        elif coding == "deflate":
            body = _deflate(body, limit)
        elif coding == "br" and (brotli := _brotli()) is not None:
            body = _br(brotli, body, limit)
        else:
            msg = f"Content-Encoding {coding!r} is not supported here."
            raise ValueError(msg)
    return body


def _gzip(body: bytes, coding: str, limit: int) -> bytes:
    if body[:2] != _GZIP_MAGIC:
        raise Undecodable(coding, "it does not start with gzip's magic bytes", certain=False)
    out = bytearray()
    rest = body
    # Several gzip members in a row are one body (RFC 1952); padding after the
    # last one is ignored, as aiohttp and browsers do.
    while rest[:2] == _GZIP_MAGIC:
        rest = _inflate(zlib.decompressobj(16 + zlib.MAX_WBITS), rest, out, coding, limit)
    return bytes(out)


def _deflate(body: bytes, limit: int) -> bytes:
    # "deflate" is meant as zlib-wrapped (RFC 9110) but some servers send raw
    # deflate; aiohttp accepts both, by the zlib header's check bits.
    wrapped = len(body) >= 2 and body[0] & 0x0F == 8 and (body[0] << 8 | body[1]) % 31 == 0
    wbits = zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS
    out = bytearray()
    # Raw deflate has no header, and plain text often starts a valid block:
    # only a zlib header that decoded part way makes a failure certain.
    _inflate(zlib.decompressobj(wbits), body, out, "deflate", limit, sure=wrapped)
    return bytes(out)


def _inflate(
    decoder: Any, data: bytes, out: bytearray, coding: str, limit: int, *, sure: bool = True
) -> bytes:
    """Inflate one zlib/gzip stream into `out`; returns the bytes after it.
    `sure`: the data has its coding's header (gzip: checked by the caller)."""
    start = len(out)
    while True:
        try:
            out += decoder.decompress(data, min(_STEP, limit + 1 - len(out)))
        except zlib.error as exc:
            certain = sure and (coding != "deflate" or len(out) > start)
            raise Undecodable(coding, str(exc), certain=certain) from exc
        if len(out) > limit:
            raise TooLarge(coding, limit, bytes(out))
        if decoder.eof:
            return bytes(decoder.unused_data)
        data = decoder.unconsumed_tail
        if not data:
            certain = sure and (coding != "deflate" or len(out) > start)
            reason = "truncated: the data ends before the stream does"
            raise Undecodable(coding, reason, certain=certain)


def _br(brotli: Any, body: bytes, limit: int) -> bytes:
    decoder = brotli.Decompressor()
    out = bytearray()
    data = body
    while True:
        try:
            out += decoder.process(data, output_buffer_limit=min(_STEP, limit + 1 - len(out)))
        except brotli.error as exc:
            reason = exc.args[0] if exc.args else exc
            if isinstance(reason, bytes):
                reason = reason.decode("ascii", "replace")
            raise Undecodable("br", str(reason), certain=bool(out)) from exc
        data = b""
        if len(out) > limit:
            raise TooLarge("br", limit, bytes(out))
        if decoder.is_finished():
            return bytes(out)
        if decoder.can_accept_more_data():  # every input byte used, and no end yet
            reason = "truncated: the data ends before the stream does"
            raise Undecodable("br", reason, certain=bool(out))


@functools.cache
def _brotli() -> Any:
    """The Brotli module aiohttp would use, if it has the bounded API (1.2+)."""
    for name in ("brotlicffi", "brotli"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module.Decompressor, "can_accept_more_data"):
            return module
    return None
