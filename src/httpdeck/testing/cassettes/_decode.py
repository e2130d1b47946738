"""Decoding a body a cassette stores compressed, for replay.

A cassette can hold a body stored compressed (`decode_compressed_response=False`,
or recorded by another tool, vcrpy's `!!binary`). Replay decodes it before
handing it over, with the same bounded decoder as `httpdeck cassette lint`
(`cassettes._content_coding`: gzip, deflate, br). A small body can inflate a
thousandfold, so decoding stops once past `max_size` (the request's
`max_response_bytes`): what replay then counts against the limit
(`httpdeck.client._limits.BodyLimit`, as the real transport does) is already
over it, and memory never grows past the limit plus one step.
"""

from __future__ import annotations

from dataclasses import replace

from httpdeck.testing.cassettes._content_coding import (
    TooLarge,
    Undecodable,
    can_decode,
    content_codings,
    decode,
)
from httpdeck.testing.cassettes._model import CassetteResponse

# No limit asked for (recording with decode_compressed_response): a bound all
# the same, far above any body a cassette is meant to hold.
_UNBOUNDED = 1 << 40


def _codings(response: CassetteResponse) -> list[str]:
    return content_codings(response.headers.getall("Content-Encoding", []))


def is_compressed(response: CassetteResponse) -> bool:
    """Whether the body carries a Content-Encoding that replay can undo."""
    codings = _codings(response)
    return bool(codings) and all(can_decode(coding) for coding in codings)


def decoded(response: CassetteResponse, *, max_size: int | None = None) -> CassetteResponse:
    """The body decoded and Content-Encoding dropped (Content-Length fixed up).

    A body that does not decode as its header says was stored decoded
    already (aiohttp hands over decoded bodies): only the headers change. Past
    `max_size` the body is cut short, still longer than `max_size`.
    """
    if not is_compressed(response):
        return response
    body, sizes = response.body, response.chunk_sizes
    try:
        body = decode(body, _codings(response), limit=_UNBOUNDED if max_size is None else max_size)
        sizes = None
    except TooLarge as exc:
        body, sizes = exc.partial, None
    except Undecodable:
        pass  # not actually compressed: decoded already
    headers = response.headers.copy()
    headers.popall("Content-Encoding", None)
    if "Content-Length" in headers:
        headers["Content-Length"] = str(len(body))
    timing = response.timing if sizes is not None else None
    return replace(response, headers=headers, body=body, chunk_sizes=sizes, timing=timing)
