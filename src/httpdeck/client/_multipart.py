"""`multipart/form-data` request bodies, built in memory or streamed.

A field value is one of:

- `str`: a text field;
- `bytes`: a field with raw bytes;
- `(filename, data)` or `(filename, data, content_type)`: a file part.
  `data` is bytes, str, an async iterable of bytes (streamed, sent once) or
  a zero-argument callable returning one (streamed and replayable). The
  content type defaults to a guess from the file name, else
  `application/octet-stream`.

When every value is in memory the body is bytes (with a Content-Length);
otherwise it is a `StreamBody` sent with chunked encoding, never held in
memory whole.
"""

from __future__ import annotations

import mimetypes
import re
import secrets
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import TypeAlias

from httpdeck.client._build import RequestOptions
from httpdeck.client._exceptions import HTTPValidationError
from httpdeck.client._streaming import StreamBody

__all__ = ["FieldValue", "Fields", "encode_multipart", "multipart_options"]

FileData: TypeAlias = bytes | str | AsyncIterable[bytes] | Callable[[], AsyncIterable[bytes]]
FieldValue: TypeAlias = str | bytes | tuple[str, FileData] | tuple[str, FileData, str]
Fields: TypeAlias = Mapping[str, FieldValue] | Sequence[tuple[str, FieldValue]]

_BOUNDARY = re.compile(r"^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$")
_ESCAPES = {'"': "%22", "\r": "%0D", "\n": "%0A"}
_UNSAFE = re.compile(r'["\r\n]')


def _quote(value: str) -> str:
    # The WHATWG form encoding: names and file names are quoted strings in
    # which '"', CR and LF are percent-encoded, so a name cannot end the
    # header or start another one.
    return _UNSAFE.sub(lambda m: _ESCAPES[m.group()], value)


def _check_content_type(name: str, content_type: str) -> str:
    if _UNSAFE.search(content_type) or "\x00" in content_type:
        msg = f"Invalid content type {content_type!r} for multipart field {name!r}."
        raise HTTPValidationError(msg)
    return content_type


Part = tuple[bytes, FileData]  # (the part's head, its data)


def _parts(fields: Fields, boundary: str) -> list[Part]:
    items: Iterable[tuple[str, FieldValue]] = (
        fields.items() if isinstance(fields, Mapping) else fields
    )
    parts: list[Part] = []
    for name, value in items:
        if not isinstance(name, str):
            msg = f"Multipart field names must be str, got {type(name).__name__}: {name!r}."
            raise HTTPValidationError(msg)
        disposition = f'form-data; name="{_quote(name)}"'
        content_type: str | None = None
        data: FileData
        if isinstance(value, str | bytes):
            data = value
        elif isinstance(value, tuple) and len(value) in (2, 3):
            filename, data = value[0], value[1]
            disposition += f'; filename="{_quote(filename)}"'
            guessed = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            content_type = _check_content_type(name, value[2] if len(value) == 3 else guessed)
        else:
            msg = (
                f"Invalid value for multipart field {name!r}: {value!r}. Use str, bytes, "
                "(filename, data) or (filename, data, content_type)."
            )
            raise HTTPValidationError(msg)
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if content_type is not None:
            head += f"Content-Type: {content_type}\r\n"
        parts.append(((head + "\r\n").encode(), data))
    return parts


def encode_multipart(
    fields: Fields, *, boundary: str | None = None
) -> tuple[bytes | StreamBody, str]:
    """The body and the Content-Type header value for `fields`.

    >>> body, content_type = encode_multipart({"a": "1"}, boundary="b")
    >>> body
    b'--b\\r\\nContent-Disposition: form-data; name="a"\\r\\n\\r\\n1\\r\\n--b--\\r\\n'
    """
    if boundary is None:
        boundary = secrets.token_hex(16)
    elif not _BOUNDARY.match(boundary):
        msg = (
            f"Invalid multipart boundary {boundary!r}: 1 to 70 characters from "
            "letters, digits and '()+_,-./:=? (not ending in a space)."
        )
        raise HTTPValidationError(msg)
    content_type = f"multipart/form-data; boundary={boundary}"
    parts = _parts(fields, boundary)
    closing = f"--{boundary}--\r\n".encode()
    in_memory = [(head, data) for head, data in parts if isinstance(data, str | bytes)]
    if len(in_memory) == len(parts):
        chunks = [chunk for head, data in in_memory for chunk in (head, _bytes(data), b"\r\n")]
        return b"".join([*chunks, closing]), content_type
    if all(isinstance(data, str | bytes) or callable(data) for _, data in parts):
        return StreamBody(lambda: _stream(parts, closing)), content_type
    return StreamBody(_stream(parts, closing)), content_type


def _bytes(data: str | bytes) -> bytes:
    return data.encode() if isinstance(data, str) else data


async def _stream(parts: list[Part], closing: bytes) -> AsyncIterator[bytes]:
    for head, data in parts:
        yield head
        if isinstance(data, str | bytes):
            yield _bytes(data)
        else:
            source = data() if callable(data) else data
            async for chunk in source:
                if not isinstance(chunk, bytes | bytearray | memoryview):
                    msg = f"A streamed multipart part yielded {type(chunk).__name__}, not bytes."
                    raise HTTPValidationError(msg)
                yield bytes(chunk)
        yield b"\r\n"
    yield closing


def multipart_options(
    fields: Fields, boundary: str | None, options: RequestOptions
) -> RequestOptions:
    """`options` with the multipart body and its Content-Type added."""
    clash = [name for name in ("json", "data", "content") if name in options]
    if clash:
        msg = (
            f"post_multipart() builds the body from `fields`; do not also pass "
            f"{', '.join(clash)}=. Put every part in `fields`."
        )
        raise HTTPValidationError(msg)
    body, content_type = encode_multipart(fields, boundary=boundary)
    headers = options.get("headers") or {}
    pairs = list(headers.items() if isinstance(headers, Mapping) else headers)
    merged: RequestOptions = {**options, "content": body}
    merged["headers"] = [*pairs, ("Content-Type", content_type)]
    return merged
