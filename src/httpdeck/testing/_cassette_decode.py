"""Decoding a recorded gzip or deflate body, in bounded steps.

A cassette can hold a body stored compressed (`decode_compressed_response=False`,
or recorded by another tool). Replay decodes it before handing it over, and a
small body can inflate a thousandfold, so decoding stops one step past
`max_size` (the request's `max_response_bytes`): what replay counts against the
limit (`httpdeck.client._limits.BodyLimit`, as the real transport does) is then
already over it, and memory never grows past the limit plus one step.
"""

from __future__ import annotations

import zlib
from dataclasses import replace

from httpdeck.testing._cassette_model import CassetteResponse

_STEP = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b"


def _encoding(response: CassetteResponse) -> str:
    return response.headers.get("Content-Encoding", "").strip().lower()


def is_compressed(response: CassetteResponse) -> bool:
    return _encoding(response) in ("gzip", "x-gzip", "deflate")


def inflate(data: bytes, *, gzip: bool, max_size: int | None = None) -> bytes | None:
    """`data` decoded (all gzip members), or None when it does not decode
    (then it was not actually compressed). With `max_size`, stops once the
    output passes it, so the result may be cut short, but is then longer
    than `max_size`."""
    out: list[bytes] = []
    size = 0
    rest = data
    while rest:
        decoder = zlib.decompressobj(31 if gzip else 15)
        pending = rest
        try:
            while pending and not decoder.eof:
                chunk = decoder.decompress(pending, _STEP)
                out.append(chunk)
                size += len(chunk)
                if max_size is not None and size > max_size:
                    return b"".join(out)
                pending = decoder.unconsumed_tail
        except zlib.error:
            return None
        if not decoder.eof:
            return None  # truncated
        rest = decoder.unused_data
        if not (gzip and rest.startswith(_GZIP_MAGIC)):
            break  # trailing padding after the last member, as gzip.decompress allows
    return b"".join(out)


def decoded(response: CassetteResponse, *, max_size: int | None = None) -> CassetteResponse:
    """The body decoded and Content-Encoding dropped (Content-Length fixed up).
    aiohttp already hands over decoded bodies, so only the headers change then."""
    if not is_compressed(response):
        return response
    body = response.body
    sizes = response.chunk_sizes
    gzip = body[:2] == _GZIP_MAGIC
    if gzip or (body and _encoding(response) == "deflate"):
        inflated = inflate(body, gzip=gzip, max_size=max_size)
        if inflated is not None:  # else not actually compressed: decoded already
            body, sizes = inflated, None
    headers = response.headers.copy()
    headers.popall("Content-Encoding", None)
    if "Content-Length" in headers:
        headers["Content-Length"] = str(len(body))
    timing = response.timing if sizes is not None else None
    return replace(response, headers=headers, body=body, chunk_sizes=sizes, timing=timing)
