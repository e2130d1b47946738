"""Turning the caller's request options into a `Request`."""

from __future__ import annotations

import base64
import dataclasses
import json as _json
import re
from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypedDict
from urllib.parse import urlencode

from multidict import CIMultiDict
from yarl import URL

from httpdeck.client._config import HTTPClientConfig, TimeoutConfig
from httpdeck.client._exceptions import HTTPValidationError
from httpdeck.client._models import Request
from httpdeck.client._redaction import is_secret_name
from httpdeck.client._streaming import StreamBody

ParamValue: TypeAlias = str | int | float | bool | None
Params: TypeAlias = (
    Mapping[str, ParamValue | Sequence[ParamValue]] | Sequence[tuple[str, ParamValue]]
)
HeaderInput: TypeAlias = Mapping[str, str] | Sequence[tuple[str, str]]
Content: TypeAlias = (
    bytes | str | AsyncIterable[bytes] | Callable[[], AsyncIterable[bytes]] | StreamBody
)


@dataclass(frozen=True, slots=True)
class BasicAuth:
    """HTTP Basic credentials; `auth=("user", "pass")` is the same."""

    username: str
    password: str = ""

    def header(self) -> str:
        """The `Authorization` value: `"Basic "` and base64 of `username:password` (UTF-8)."""
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True, slots=True)
class BearerAuth:
    """A bearer token sent as `Authorization: Bearer <token>`."""

    token: str

    def header(self) -> str:
        """The `Authorization` value: `"Bearer <token>"`."""
        return f"Bearer {self.token}"


Auth: TypeAlias = BasicAuth | BearerAuth | tuple[str, str]


class RequestOptions(TypedDict, total=False):
    """Keyword options accepted by `request()`, `stream()` and every verb."""

    params: Params
    headers: HeaderInput
    json: Any
    data: Mapping[str, Any] | bytes | str
    content: Content
    cookies: Mapping[str, str]
    timeout: float | TimeoutConfig | None
    follow_redirects: bool
    auth: Auth
    max_response_bytes: int


# \Z, not $: "$" also matches before a trailing newline, so "GET\n" would pass.
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_FORBIDDEN = re.compile(r"[\r\n\x00]")
_UNSAFE_IN_URL = re.compile(r"[\x00-\x20\x7f]")


def check_header(name: str, value: str) -> None:
    """Reject header names and values that would split or corrupt the request."""
    if not _TOKEN.match(name):
        msg = f"Invalid header name {name!r}: names are RFC 9110 tokens (no spaces, CR, LF, ':')."
        raise HTTPValidationError(msg)
    if _FORBIDDEN.search(value):
        shown = "its (secret, not shown) value" if is_secret_name(name) else repr(value)
        msg = f"Invalid value for header {name!r}: {shown} contains CR, LF or NUL."
        raise HTTPValidationError(msg)


_METHODS = {m: m for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")}


def check_method(method: str) -> str:
    if (known := _METHODS.get(method)) is not None:
        return known
    if not _TOKEN.match(method):
        msg = f"Invalid HTTP method {method!r}: a method is an RFC 9110 token like GET or POST."
        raise HTTPValidationError(msg)
    return method.upper()


def to_url(url: str | URL) -> URL:
    """Parse and check an absolute http(s) URL."""
    if isinstance(url, str):
        if _FORBIDDEN.search(url):
            msg = f"Invalid URL {url!r}: it contains CR, LF or NUL."
            raise HTTPValidationError(msg)
        try:
            parsed = URL(url)
        except (ValueError, TypeError) as exc:
            msg = f"Invalid URL {url!r}: {exc}."
            raise HTTPValidationError(msg) from exc
    elif isinstance(url, URL):
        parsed = url
        # yarl encodes what it parses; only a URL built with encoded=True can
        # hold raw controls or spaces, which would corrupt the request line.
        if _UNSAFE_IN_URL.search(str(url)):
            msg = (
                f"Invalid URL {str(url)!r}: it contains CR, LF or NUL, another control "
                "character or a raw space (build it without encoded=True to have it encoded)."
            )
            raise HTTPValidationError(msg)
    else:
        msg = f"A URL must be a str or yarl.URL, got {type(url).__name__}: {url!r}."
        raise HTTPValidationError(msg)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        msg = (
            f"Invalid URL {str(url)!r}: expected an absolute http:// or https:// URL "
            "with a host (BaseURLHTTPClient joins relative paths to its base_url)."
        )
        raise HTTPValidationError(msg)
    return parsed


def _query_items(params: Params) -> list[tuple[str, str]]:
    pairs: Iterable[tuple[str, Any]] = params.items() if isinstance(params, Mapping) else params
    items: list[tuple[str, str]] = []
    for key, value in pairs:
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if item is None:
                continue
            text = ("true" if item else "false") if isinstance(item, bool) else str(item)
            items.append((key, text))
    return items


def _content(content: Content) -> bytes | StreamBody:
    if isinstance(content, bytes | StreamBody):
        return content
    if isinstance(content, str):
        return content.encode()
    if isinstance(content, AsyncIterable) or callable(content):
        return StreamBody(content)
    msg = (
        f"content must be bytes, str, an async iterable of bytes or a callable returning one, "
        f"got {type(content).__name__}."
    )
    raise HTTPValidationError(msg)


def build_request(
    method: str,
    url: str | URL,
    options: RequestOptions,
    config: HTTPClientConfig,
    default_headers: CIMultiDict[str],
) -> Request:
    """Build the `Request` for `method url` with the caller's options applied."""
    target = to_url(url)
    headers = default_headers.copy()
    if not options:
        return Request(
            check_method(method),
            target,
            headers,
            max_response_bytes=config.max_response_bytes,
        )
    if (params := options.get("params")) is not None:
        target = target.extend_query(_query_items(params))
    if (extra := options.get("headers")) is not None:
        pairs = extra.items() if isinstance(extra, Mapping) else extra
        # A name the caller gives replaces the default; given twice, both are sent.
        given: set[str] = set()
        for name, value in pairs:
            value = str(value)
            check_header(name, value)
            key = name.lower()
            if key in given:
                headers.add(name, value)
            else:
                headers[name] = value
                given.add(key)
    body: bytes | StreamBody | None = None
    if "json" in options:
        body = _json.dumps(options["json"], separators=(",", ":")).encode()
        headers.setdefault("Content-Type", "application/json")
    elif (data := options.get("data")) is not None:
        if isinstance(data, Mapping):
            body = urlencode(_query_items(data)).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        else:
            body = data.encode() if isinstance(data, str) else data
    elif (content := options.get("content")) is not None:
        body = _content(content)
    if (cookies := options.get("cookies")) is not None:
        pairs_text = "; ".join(f"{k}={v}" for k, v in cookies.items())
        check_header("Cookie", pairs_text)
        existing = headers.get("Cookie")
        headers["Cookie"] = f"{existing}; {pairs_text}" if existing else pairs_text
    if (auth := options.get("auth")) is not None:
        if isinstance(auth, tuple):
            auth = BasicAuth(*auth)
        headers["Authorization"] = auth.header()
    timeout = options.get("timeout")
    request_timeout: TimeoutConfig | None
    if timeout is None or isinstance(timeout, TimeoutConfig):
        request_timeout = timeout
    else:
        try:
            request_timeout = dataclasses.replace(config.timeouts, total=timeout)
        except ValueError as exc:
            msg = f"Invalid timeout={timeout!r}: {exc}"
            raise HTTPValidationError(msg) from exc
    return Request(
        check_method(method),
        target,
        headers,
        body,
        timeout=request_timeout,
        max_response_bytes=options.get("max_response_bytes", config.max_response_bytes),
    )


def default_headers(config: HTTPClientConfig) -> CIMultiDict[str]:
    """The headers every request of a client starts with."""
    headers: CIMultiDict[str] = CIMultiDict({"User-Agent": config.user_agent})
    for name, value in config.headers.items():
        check_header(name, value)
        headers[name] = value
    return headers
