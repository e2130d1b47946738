"""The body checks of `httpdeck cassette lint`: is each body what its
Content-Encoding and Content-Type say?

- Content-Encoding is undone first (`cassettes._content_coding`), bounded by
  `max_inflated_bytes`. A body that has gzip's magic bytes, or decodes part
  way, and then fails is reported as not decompressing. A body that does not
  look like its coding at all is checked as stored: recorders (httpdeck's
  with `decode_compressed_response=False`, vcrpy's aiohttp stub) keep the
  header on a body they store decoded, and replay serves it that way.
- JSON: `application/json`, `text/json`, `application/x-json`, AWS's
  `application/x-amz-json-1.0/1.1` and every `+json` type must hold one JSON
  document (several JSON lines under `application/json`, as Docker's API
  streams them, pass too).
- JSON lines: `application/x-ndjson`, `application/ndjson`,
  `application/jsonl`, `application/x-jsonl`, `application/jsonlines`,
  `application/stream+json` are checked line by line (blank lines skipped);
  `application/json-seq` and `+json-seq` record by record (RFC 7464).
- Text: a body whose Content-Type names a charset must decode in it;
  `text/event-stream` must be UTF-8 (its only encoding). A type without a
  charset is not checked: it does not say what the bytes are.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

from multidict import CIMultiDict

from httpdeck.testing._json_limits import json_problem
from httpdeck.testing.cassettes._content_coding import (
    TooLarge,
    Undecodable,
    can_decode,
    content_codings,
)
from httpdeck.testing.cassettes._content_coding import decode as decode_content

MAX_INFLATED_BYTES = 64 * 1024 * 1024

_JSON = frozenset({"application/json", "text/json", "application/x-json", "text/x-json"})
_AWS_JSON = re.compile(r"application/x-amz-json-1\.[01]")
_JSON_LINES = frozenset(
    {
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/x-jsonl",
        "application/jsonlines",
        "application/x-jsonlines",
        # Spring WebFlux's name for newline-delimited JSON: not one document.
        "application/stream+json",
    }
)
_UTF8_ONLY = frozenset({"text/event-stream"})


def body_problems(
    where: str,
    part: str,
    headers: CIMultiDict[str],
    body: bytes | None,
    *,
    max_inflated_bytes: int = MAX_INFLATED_BYTES,
) -> Iterator[str]:
    """Findings for one body (`part` is "request" or "response"), one line each."""
    if not body:
        return
    codings = content_codings(headers.getall("Content-Encoding", []))
    if not all(can_decode(coding) for coding in codings):
        return  # zstd, compress, br without Brotli...: nothing to say about the bytes
    content_type = headers.get("Content-Type", "")
    shown = f"the {part} body"
    fallback = None
    if codings:
        try:
            decoded = decode_content(body, codings, limit=max_inflated_bytes)
        except TooLarge as exc:
            yield (
                f"{where}: {shown} inflates past {exc.limit} bytes as {exc.encoding} "
                "(a decompression bomb?); not checked further. Raise the bound with "
                "--max-inflated-bytes if the body is meant to be that large"
            )
            return
        except Undecodable as exc:
            if exc.certain:
                yield (
                    f"{where}: {shown} does not decompress as its Content-Encoding "
                    f"{exc.encoding} says ({exc.reason})"
                )
                return
            fallback = exc
            decoded = body  # stored decoded, header kept: replay serves it as is
        else:
            shown = f"{shown} ({', '.join(codings)}-decoded)"
    else:
        decoded = body
    problem = _content_problem(content_type, decoded)
    if problem is None:
        return
    if fallback is not None:
        problem += (
            f"; nor does it decompress as its Content-Encoding {fallback.encoding} "
            f"says ({fallback.reason})"
        )
    yield f"{where}: {shown} {problem}"


def _content_problem(content_type: str, body: bytes) -> str | None:
    kind, charset = _media_type(content_type)
    if not body.strip():
        return None
    if kind in _JSON_LINES:
        return _lines_problem(kind, charset, _split_lines(body))
    if kind == "application/json-seq" or kind.endswith("+json-seq"):
        return _lines_problem(kind, charset, _split_records(body))
    if kind in _JSON or kind.endswith("+json") or _AWS_JSON.fullmatch(kind):
        error = _json_error(body, charset)
        if error is None:
            return None
        if error[0] == "limits":
            return error[1]  # valid JSON, maybe: not called invalid
        lines = _split_lines(body)
        if len(lines) > 1 and _lines_problem(kind, charset, lines) is None:
            return None  # a stream of JSON documents, one a line
        return f"is not valid JSON as its Content-Type {kind} says ({error[1]})"
    if charset is None and kind in _UTF8_ONLY:
        charset = "utf-8"
    if charset is None:
        return None
    try:
        body.decode(charset)
    except UnicodeDecodeError as exc:
        return (
            f"is not {charset} text as its Content-Type {kind} says "
            f"({exc.reason} at byte {exc.start})"
        )
    return None


def _media_type(content_type: str) -> tuple[str, str | None]:
    """(lower-case media type, charset if named and known to Python)."""
    kind, *params = content_type.split(";")
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            value = value.strip().strip('"').lower()
            try:
                codecs.lookup(value)
            except LookupError:
                continue  # "binary" and other names Python has no codec for
            charset = value
    return kind.strip().lower(), charset


def _json_error(body: bytes, charset: str | None) -> tuple[str, str] | None:
    """("invalid", why) or ("limits", why) (`json_problem`), or None when it parses."""
    # json.loads reads UTF-8/16/32 bytes itself (a BOM too); other charsets
    # are decoded first.
    unicode = charset is None or codecs.lookup(charset).name.startswith("utf-")
    try:
        return json_problem(body if unicode else body.decode(charset or "utf-8"))
    except UnicodeDecodeError as exc:
        return "invalid", f"not {charset or 'UTF-8'} text: {exc.reason} at byte {exc.start}"


def _split_lines(body: bytes) -> list[tuple[int, bytes]]:
    return [(n, line) for n, line in enumerate(body.split(b"\n"), 1) if line.strip()]


def _split_records(body: bytes) -> list[tuple[int, bytes]]:
    return [(n, record) for n, record in enumerate(body.split(b"\x1e"), 0) if record.strip()]


def _lines_problem(kind: str, charset: str | None, lines: list[tuple[int, bytes]]) -> str | None:
    unit = "record" if "json-seq" in kind else "line"
    for number, line in lines:
        error = _json_error(line, charset)
        if error is not None:
            if error[0] == "limits":
                return f"{error[1]} at {unit} {number}"
            return (
                f"is not valid JSON at {unit} {number}, as its Content-Type {kind} says "
                f"({error[1]})"
            )
    return None
