"""What a loaded interaction must look like before replay trusts it.

`problem(item)` names the first thing wrong with one interaction dict, or
returns None. It accepts every shape vcrpy itself plays back:

- the current one: `response: {status: {code, message}, headers, body: {string}}`;
- the httpx stub's before vcrpy 6 (`response: {status_code, http_version,
  headers, content}`);
- headers as a mapping of name to value or list of values, or as a list of
  `[name, value]` / `[name, [values]]` pairs (the tornado stub's);
- request bodies as text, bytes, a JSON value or a list of form pairs (the
  aiohttp stub stores `json=` and `data=` arguments as they were passed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from httpdeck.testing.cassettes._model import EXTENSION, is_old_httpx

_SCALARS = (str, int, float)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text)} characters)"


def _status(code: Any) -> str | None:
    if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
        return f"its status code {_shown(code)} is not an HTTP status (an integer from 100 to 599)"
    return None


def _headers(part: str, headers: Any) -> str | None:
    if headers is None:
        return None
    if isinstance(headers, Mapping):
        pairs: list[Any] = list(headers.items())
    elif isinstance(headers, list | tuple):
        pairs = list(headers)
        for pair in pairs:
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                return (
                    f"its {part} headers are a list, so each must be a [name, value] pair, "
                    f"not {_shown(pair)}"
                )
    else:
        return (
            f"its {part} headers must be a mapping of names to values (or a list of "
            f"[name, value] pairs), not {_kind(headers)} {_shown(headers)}"
        )
    for name, values in pairs:
        if not isinstance(name, str):
            return f"its {part} header name {_shown(name)} is not text"
        items = values if isinstance(values, list | tuple) else [values]
        for value in items:
            if not isinstance(value, _SCALARS) or isinstance(value, bool):
                return f"its {part} header {name} has the value {_shown(value)}, not text"
    return None


def _response_body(body: Any) -> str | None:
    if body is None:
        return None
    if not isinstance(body, Mapping):
        return (
            f"its response body must be a mapping with `string`, not {_kind(body)} {_shown(body)}"
        )
    string = body.get("string")
    if string is not None and not isinstance(string, str | bytes):
        return f"its response body `string` must be text or bytes, not {_kind(string)}"
    encoded = body.get("base64_string")
    if encoded is not None and not isinstance(encoded, str):
        return f"its response body `base64_string` must be text, not {_kind(encoded)}"
    return None


def _extension(ext: Any) -> str | None:
    if ext is None:
        return None
    if not isinstance(ext, Mapping):
        return f"its `{EXTENSION}` key must be a mapping, not {_kind(ext)}"
    chunks = ext.get("chunks")
    if chunks is not None and (
        not isinstance(chunks, list)
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in chunks)
    ):
        return f"its `{EXTENSION}.chunks` must be a list of byte counts, not {_shown(chunks)}"
    timing = ext.get("timing")
    if timing is not None:
        if not isinstance(timing, list):
            return f"its `{EXTENSION}.timing` must be a list of seconds, not {_shown(timing)}"
        for seconds in timing:
            if (
                isinstance(seconds, bool)
                or not isinstance(seconds, int | float)
                or not math.isfinite(seconds)
                or seconds < 0
            ):
                return (
                    f"its `{EXTENSION}.timing` holds {seconds!r}: each entry must be a finite "
                    "number of seconds, 0 or more (replay_timing would wait that long)"
                )
    error = ext.get("error")
    if error is not None and not isinstance(error, Mapping):
        return f"its `{EXTENSION}.error` must be a mapping, not {_kind(error)}"
    return None


def _response(response: Any) -> str | None:
    if not isinstance(response, Mapping):
        return "its response needs a mapping with `status: {code, message}`"
    if is_old_httpx(response):
        if (problem := _status(response["status_code"])) is not None:
            return problem
        content = response.get("content")
        if content is not None and not isinstance(content, str | bytes):
            return f"its response `content` must be text or bytes, not {_kind(content)}"
    else:
        status = response.get("status")
        if not isinstance(status, Mapping) or "code" not in status:
            return "its response needs a mapping with `status: {code, message}`"
        if (problem := _status(status["code"])) is not None:
            return problem
        message = status.get("message")
        if message is not None and not isinstance(message, str):
            return f"its status message {_shown(message)} is not text"
        if (problem := _response_body(response.get("body"))) is not None:
            return problem
    return _headers("response", response.get("headers")) or _extension(response.get(EXTENSION))


def problem(item: Any) -> str | None:
    """What is wrong with one interaction dict, or None when replay can use it."""
    if not isinstance(item, Mapping):
        return f"an interaction must be a mapping, got {_kind(item)}"
    request = item.get("request")
    if not isinstance(request, Mapping) or "method" not in request or "uri" not in request:
        return "its request needs a mapping with `method` and `uri`"
    for key in ("method", "uri"):
        if not isinstance(request[key], str):
            return f"its request {key} {_shown(request[key])} is not text"
    return _headers("request", request.get("headers")) or _response(item.get("response"))
