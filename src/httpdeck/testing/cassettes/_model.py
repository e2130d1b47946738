"""What a cassette holds, and how it maps onto vcrpy's on-disk dicts.

An interaction on disk is vcrpy's shape:

```yaml
- request:  {method: GET, uri: "http://host/x", body: null, headers: {Accept: [json]}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"id": 1}'}
    httpdeck: {chunks: [4, 5], timing: [0.0, 0.25], partial: false}   # optional
```

The `httpdeck` key holds what vcrpy has no place for (chunk boundaries,
inter-chunk timing, a stream cut short, a recorded transport error). vcrpy
ignores it when it plays a cassette back, and keeps it when it re-saves one.
Interactions loaded from a file keep their dict, so they are written back
exactly as they were read.
"""

from __future__ import annotations

import base64
import io
import json
import marshal
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import ParseResult, parse_qsl, urlencode, urlparse

from multidict import CIMultiDict
from yarl import URL

from httpdeck.client import (
    HTTPClientError,
    HTTPConnectionError,
    HTTPProtocolError,
    HTTPResponseTooLargeError,
    HTTPTimeoutError,
    HTTPTransportError,
    Request,
)
from httpdeck.client._seam import redact_url

Format = Literal["yaml", "json"]
Raw = dict[str, Any]
EXTENSION = "httpdeck"
# The status a recorded transport error carries, so vcrpy can still load it.
ERROR_STATUS = 599


KeyParts = tuple[str, "str | None", str]


def key_parts(method: str, uri: str) -> KeyParts:
    """(method, host, path) as vcrpy's method, host and path matchers see them:
    what replay indexes interactions by."""
    parsed = urlparse(uri)
    return method, parsed.hostname, parsed.path or "/"


class CassetteRequest:
    """A request as a cassette stores and matches it.

    It has the attributes vcrpy's matcher functions read (`method`, `uri`,
    `scheme`, `host`, `port`, `path`, `query`, `headers`, `body`), so a matcher
    written for vcrpy works on it unchanged.
    """

    __slots__ = ("_parsed", "_uri", "body", "headers", "method")

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        body: bytes | None = None,
    ) -> None:
        self.method = method
        self.uri = uri
        self.headers: CIMultiDict[str] = CIMultiDict(headers or ())
        self.body = body

    @property
    def uri(self) -> str:
        """The full URL with its query (vcrpy's `uri`); `before_record_request` may set it."""
        return self._uri

    @uri.setter
    def uri(self, value: str) -> None:
        self._uri = value
        self._parsed: ParseResult | None = None

    @property
    def parsed_uri(self) -> ParseResult:
        """`uri` split by `urllib.parse.urlparse`, cached until `uri` changes."""
        if self._parsed is None:
            self._parsed = urlparse(self._uri)
        return self._parsed

    @property
    def key_parts(self) -> KeyParts:
        """`(method, host, path)`: what replay indexes interactions by."""
        parsed = self.parsed_uri
        return self.method, parsed.hostname, parsed.path or "/"

    @property
    def url(self) -> URL:
        """`uri` as an already-encoded `yarl.URL`."""
        return URL(self.uri, encoded=True)

    @property
    def scheme(self) -> str:
        """The scheme of `uri`, such as `"https"`."""
        return self.parsed_uri.scheme

    @property
    def host(self) -> str | None:
        """The host name from `uri`, lower-cased; None when `uri` has none."""
        return self.parsed_uri.hostname

    @property
    def port(self) -> int | None:
        """The port from `uri`, else 443 for https and 80 for http; None for other schemes."""
        port = self.parsed_uri.port
        if port is None:
            return {"https": 443, "http": 80}.get(self.parsed_uri.scheme)
        return port

    @property
    def path(self) -> str:
        """The path from `uri`, without the query (`""` when the URL has none)."""
        return self.parsed_uri.path

    @property
    def query(self) -> list[tuple[str, str]]:
        """The query as sorted `(name, value)` pairs, blank values kept (vcrpy's `query`)."""
        return sorted(parse_qsl(self.parsed_uri.query, keep_blank_values=True))

    def __repr__(self) -> str:
        return f"<CassetteRequest {self.method} {redact_url(self.uri)}>"


_ERROR_TYPES: dict[str, type[HTTPTransportError]] = {
    cls.__name__: cls
    for cls in (
        HTTPTransportError,
        HTTPConnectionError,
        HTTPTimeoutError,
        HTTPProtocolError,
        HTTPResponseTooLargeError,
    )
}


@dataclass(slots=True)
class RecordedError:
    """A transport error seen while recording, replayed as the same type."""

    type: str
    message: str
    sent: bool = True
    phase: str | None = None
    limit: int | None = None

    @classmethod
    def from_exception(cls, exc: HTTPTransportError, message: str) -> RecordedError:
        return cls(
            type=type(exc).__name__ if type(exc).__name__ in _ERROR_TYPES else "HTTPTransportError",
            message=message,
            sent=exc.sent,
            phase=getattr(exc, "phase", None),
            limit=getattr(exc, "limit", None),
        )

    def to_exception(self, request: Request | None) -> HTTPClientError:
        message = f"{self.message} (replayed from a cassette)"
        kind = _ERROR_TYPES.get(self.type, HTTPTransportError)
        if kind is HTTPTimeoutError:
            phase: Any = self.phase or "total"
            return HTTPTimeoutError(message, request=request, sent=self.sent, phase=phase)
        if kind is HTTPResponseTooLargeError:
            return HTTPResponseTooLargeError(message, request=request, limit=self.limit or 0)
        return kind(message, request=request, sent=self.sent)

    def to_raw(self) -> Raw:
        raw: Raw = {"type": self.type, "message": self.message, "sent": self.sent}
        if self.phase is not None:
            raw["phase"] = self.phase
        if self.limit is not None:
            raw["limit"] = self.limit
        return raw

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> RecordedError:
        return cls(
            type=str(raw.get("type", "HTTPTransportError")),
            message=str(raw.get("message", "recorded transport error")),
            sent=bool(raw.get("sent", True)),
            phase=raw.get("phase"),
            limit=raw.get("limit"),
        )


@dataclass(slots=True)
class CassetteResponse:
    """A recorded response. `chunk_sizes` keeps the boundaries of a streamed
    body (used only while they add up to `len(body)`), `timing` the seconds
    from the headers to each chunk, `partial` marks a stream closed early or
    cut by `error`."""

    status: int
    reason: str = ""
    headers: CIMultiDict[str] = field(default_factory=CIMultiDict)
    body: bytes = b""
    chunk_sizes: list[int] | None = None
    timing: list[float] | None = None
    partial: bool = False
    error: RecordedError | None = None

    def chunks(self) -> list[bytes]:
        """The body split at its recorded boundaries (one chunk if none)."""
        sizes = self.chunk_sizes
        if not sizes or sum(sizes) != len(self.body):
            return [self.body] if self.body else []
        out, start = [], 0
        for size in sizes:
            out.append(self.body[start : start + size])
            start += size
        return out


class Interaction:
    """One recorded request and its response (or transport error)."""

    __slots__ = ("_blob", "_raw", "_request", "_response", "session")

    def __init__(self, raw: Raw | bytes, *, session: bool = False) -> None:
        # From the cache, the dict arrives marshalled and is decoded on first use.
        self._blob = raw if isinstance(raw, bytes) else None
        self._raw = None if isinstance(raw, bytes) else raw
        self.session = session
        self._request: CassetteRequest | None = None
        self._response: CassetteResponse | None = None

    @property
    def raw(self) -> Raw:
        """The interaction as vcrpy's dict."""
        if self._raw is None:
            assert self._blob is not None
            self._raw = marshal.loads(self._blob)
        return self._raw

    def release(self) -> None:
        """Drop the decoded forms of an interaction loaded from the cache (it is
        decoded again if used again), so replay leaves no garbage behind it:
        a long replay then costs the garbage collector as little as a short one."""
        if self._blob is not None:
            self._raw = None
            self._request = None
            self._response = None

    @property
    def request(self) -> CassetteRequest:
        """The recorded request, decoded from `raw` on first use."""
        if self._request is None:
            self._request = request_from_raw(self.raw["request"])
        return self._request

    @property
    def response(self) -> CassetteResponse:
        """The recorded response, decoded from `raw` on first use; a recorded
        transport error has `error` set.
        """
        if self._response is None:
            self._response = response_from_raw(self.raw["response"])
        return self._response

    @property
    def method(self) -> str:
        """The request's method, read from `raw` without building a `CassetteRequest`."""
        return str(self.raw["request"]["method"])

    @property
    def uri(self) -> str:
        """The request's URL, read from `raw` without building a `CassetteRequest`."""
        return str(self.raw["request"]["uri"])

    def __repr__(self) -> str:
        return f"<Interaction {self.method} {redact_url(self.uri)} -> {self.response.status}>"


# -- raw dict -> objects -------------------------------------------------------


FORM = "application/x-www-form-urlencoded"


def form_pairs(value: Any) -> list[tuple[Any, Any]] | None:
    """The fields of a request body stored as form pairs, else None.

    vcrpy's aiohttp stub stores a `data=` argument as it was passed: a list
    of `(name, value)` tuples (YAML `!!python/tuple` items; lists in JSON).
    A list of `[text, scalar]` pairs is read the same way, though a `json=`
    argument of that exact shape would be too."""
    if not isinstance(value, list | tuple) or not value:
        return None
    pairs = []
    for item in value:
        if not isinstance(item, list | tuple) or len(item) != 2 or not isinstance(item[0], str):
            return None
        if not isinstance(item[1], str | bytes | int | float) or isinstance(item[1], bool):
            return None
        pairs.append((item[0], item[1]))
    return pairs


def body_bytes(value: Any) -> bytes | None:
    """A request body as vcrpy may have stored it, as bytes."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, io.BytesIO):
        return value.getvalue()
    if isinstance(value, Mapping) and set(value) == {"base64_string"}:
        return base64.b64decode(value["base64_string"])
    if (pairs := form_pairs(value)) is not None:
        return urlencode(pairs).encode("ascii")
    if isinstance(value, Mapping | list):
        # vcrpy's aiohttp stub stores a `json=` argument as the object itself.
        return json.dumps(value, separators=(",", ":")).encode()
    if isinstance(value, Iterator):
        return b"".join(c if isinstance(c, bytes) else str(c).encode() for c in value)
    return str(value).encode()


def _header_pairs(raw: Any) -> Iterator[tuple[str, str]]:
    """Headers stored as a mapping of name to value(s), or as a list of
    `[name, value]` / `[name, [values]]` pairs (vcrpy's tornado stub)."""
    if isinstance(raw, Mapping):
        items: Iterable[Any] = raw.items()
    elif isinstance(raw, list | tuple):
        items = raw
    else:
        return
    for name, values in items:
        if isinstance(values, list | tuple):
            for value in values:
                yield str(name), str(value)
        else:
            yield str(name), str(values)


def request_from_raw(raw: Mapping[str, Any]) -> CassetteRequest:
    request = CassetteRequest(
        str(raw["method"]),
        str(raw["uri"]),
        _header_pairs(raw.get("headers")),
        body_bytes(raw.get("body")),
    )
    if form_pairs(raw.get("body")) is not None and "Content-Type" not in request.headers:
        # What aiohttp sent with those fields (vcrpy records only the caller's
        # headers), so the body matcher and the redactor read them as a form.
        request.headers["Content-Type"] = FORM
    return request


def is_old_httpx(raw: Mapping[str, Any]) -> bool:
    """vcrpy's httpx stub before 6.0 stored `status_code` and `content`
    (no `status`, no `body`); vcrpy still plays such responses."""
    return "status_code" in raw and "status" not in raw


# What the old httpx format holds in place of `status` and `body`.
_OLD_HTTPX_KEYS = frozenset({"status_code", "http_version", "content"})


def kept_keys(raw: Mapping[str, Any]) -> dict[str, Any]:
    """What to keep of a stored response when it is rewritten, under the keys
    the rewrite does not set (what other tools added). Not the old httpx
    format's keys: the rewrite replaces them (its `content` would keep the
    body as it was, secrets included)."""
    if not is_old_httpx(raw):
        return dict(raw)
    return {key: value for key, value in raw.items() if key not in _OLD_HTTPX_KEYS}


def _reason(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return ""


def response_from_raw(raw: Mapping[str, Any]) -> CassetteResponse:
    if is_old_httpx(raw):
        code = int(raw["status_code"])
        # No reason phrase was stored: httpx derives it from the code, so do we.
        raw = {**raw, "status": {"code": code, "message": _reason(code)}}
        raw["body"] = {"string": raw.get("content")}
    status = raw.get("status") or {}
    body = raw.get("body") or {}
    ext = raw.get(EXTENSION) or {}
    string = body.get("string") if isinstance(body, Mapping) else body
    if string is None and isinstance(body, Mapping) and "base64_string" in body:
        string = base64.b64decode(body["base64_string"])
    error = ext.get("error")
    return CassetteResponse(
        status=int(status.get("code", 200)),
        reason=str(status.get("message") or ""),
        headers=CIMultiDict(_header_pairs(raw.get("headers"))),
        body=body_bytes(string) or b"",
        chunk_sizes=[int(n) for n in ext["chunks"]] if ext.get("chunks") else None,
        timing=[float(t) for t in ext["timing"]] if ext.get("timing") else None,
        partial=bool(ext.get("partial", False)),
        error=RecordedError.from_raw(error) if isinstance(error, Mapping) else None,
    )


# -- objects -> raw dict -------------------------------------------------------


def encode_body(body: bytes, fmt: Format) -> Any:
    """Text as str (readable), anything else as bytes (YAML's !!binary) or,
    in JSON, as `{"base64_string": ...}` (vcrpy's JSON serializer has no bytes)."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        if fmt == "json":
            return {"base64_string": base64.b64encode(body).decode("ascii")}
        return body


def _headers_raw(headers: CIMultiDict[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in headers.items():
        out.setdefault(str(name), []).append(value)
    return out


def request_to_raw(request: CassetteRequest, fmt: Format) -> Raw:
    body = None if request.body is None else encode_body(request.body, fmt)
    return {
        "body": body,
        "headers": _headers_raw(request.headers),
        "method": request.method,
        "uri": request.uri,
    }


def response_to_raw(response: CassetteResponse, fmt: Format) -> Raw:
    encoded = encode_body(response.body, fmt)
    body = encoded if isinstance(encoded, dict) else {"string": encoded}
    raw: Raw = {
        "body": body,
        "headers": _headers_raw(response.headers),
        "status": {"code": response.status, "message": response.reason},
    }
    ext: Raw = {}
    if response.chunk_sizes and len(response.chunk_sizes) > 1:
        ext["chunks"] = list(response.chunk_sizes)
    if response.timing and any(response.timing):
        ext["timing"] = [round(t, 6) for t in response.timing]
    if response.partial:
        ext["partial"] = True
    if response.error is not None:
        ext["error"] = response.error.to_raw()
    if ext:
        raw[EXTENSION] = ext
    return raw


def error_response(error: RecordedError) -> CassetteResponse:
    return CassetteResponse(
        status=ERROR_STATUS,
        reason=f"httpdeck: recorded {error.type}",
        error=error,
    )
