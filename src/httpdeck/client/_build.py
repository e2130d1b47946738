"""Turning the caller's request options into a `Request`."""

from __future__ import annotations

import base64
import dataclasses
import difflib
import json as _json
import re
from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypedDict
from urllib.parse import urlencode

from multidict import CIMultiDict
from yarl import URL

from httpdeck.client._config import HTTPClientConfig, TimeoutConfig, check_byte_limit
from httpdeck.client._exceptions import HTTPConfigError, HTTPValidationError
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


_OPTIONS = frozenset(RequestOptions.__annotations__)
_PARAM_TYPES = (str, int, float, bool)


def _bad_option(name: str, value: object, expected: str) -> HTTPValidationError:
    return HTTPValidationError(
        f"Invalid request option {name}={value!r} ({type(value).__name__}): expected {expected}."
    )


def _check_option_names(options: RequestOptions) -> None:
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(_OPTIONS), n=1)
        hint = f" Did you mean {close[0]}=?" if close else ""
        msg = f"Unknown request option {unknown[0]}= (known: {', '.join(sorted(_OPTIONS))}).{hint}"
        raise HTTPValidationError(msg)


def _pairs(name: str, value: object, expected: str) -> Iterable[tuple[Any, Any]]:
    """The (key, value) pairs of a mapping or a sequence of 2-tuples."""
    if isinstance(value, Mapping):
        return value.items()
    if isinstance(value, list | tuple) and all(
        isinstance(pair, list | tuple) and len(pair) == 2 for pair in value
    ):
        return value
    raise _bad_option(name, value, expected)


def _query_items(params: object, name: str = "params") -> list[tuple[str, str]]:
    expected = (
        "a mapping or a sequence of (name, value) pairs, each value a str, int, float, "
        "bool or None, or a list of them"
    )
    items: list[tuple[str, str]] = []
    for key, value in _pairs(name, params, expected):
        if not isinstance(key, str):
            raise _bad_option(name, params, f"{expected} (names are str)")
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if item is None:
                continue
            if not isinstance(item, _PARAM_TYPES):
                raise _bad_option(f"{name}[{key!r}]", item, expected)
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
    raise _bad_option(
        "content", content, "bytes, str, an async iterable of bytes or a callable returning one"
    )


def _header_text(name: str, value: object) -> str:
    # An int (Content-Length, a page size) is written in decimal; None or
    # another object would be sent as its repr, which is never what was meant.
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise _bad_option(f"headers[{name!r}]", value, "a str (or an int)")


def add_headers(headers: CIMultiDict[str], extra: object) -> None:
    """Apply the caller's `headers=` to `headers` (the client's defaults).

    The one rule, so that the `Request` holds exactly what goes on the wire:
    a name the caller gives replaces the default; a name given twice, in any
    case (`{"X-Token": "a", "x-token": "b"}` or two pairs), is sent twice,
    both times under the spelling it was first given (aiohttp would keep
    only the last of two spellings).
    """
    expected = "a mapping or a sequence of (name, value) pairs of str"
    spelled: dict[str, str] = {}  # lower-cased name -> the caller's first spelling
    for name, value in _pairs("headers", extra, expected):
        if not isinstance(name, str):
            raise _bad_option("headers", extra, f"{expected} (a name is {type(name).__name__})")
        text = _header_text(name, value)
        check_header(name, text)
        key = name.lower()
        first = spelled.get(key)
        if first is not None:
            headers.add(first, text)
        else:
            headers[name] = text
            spelled[key] = name


def _cookie_header(cookies: object) -> str:
    if not isinstance(cookies, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in cookies.items()
    ):
        raise _bad_option("cookies", cookies, "a mapping of str names to str values")
    text = "; ".join(f"{k}={v}" for k, v in cookies.items())
    check_header("Cookie", text)
    return text


def _auth_header(auth: object) -> str:
    if isinstance(auth, BasicAuth | BearerAuth):
        return auth.header()
    if isinstance(auth, tuple) and len(auth) == 2 and all(isinstance(x, str) for x in auth):
        return BasicAuth(*auth).header()
    raise _bad_option("auth", auth, "BasicAuth(...), BearerAuth(...) or a (user, password) tuple")


def _timeout(timeout: object, config: HTTPClientConfig) -> TimeoutConfig | None:
    if timeout is None or isinstance(timeout, TimeoutConfig):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise _bad_option(
            "timeout", timeout, "a number of seconds (the total timeout), a TimeoutConfig or None"
        )
    try:
        return dataclasses.replace(config.timeouts, total=timeout)
    except ValueError as exc:
        msg = f"Invalid request option timeout={timeout!r}: {exc}"
        raise HTTPValidationError(msg) from exc


def _max_response_bytes(options: RequestOptions, config: HTTPClientConfig) -> int | None:
    if "max_response_bytes" not in options:
        return config.max_response_bytes
    limit = options["max_response_bytes"]
    try:
        check_byte_limit("max_response_bytes", limit)
    except HTTPConfigError as exc:
        raise HTTPValidationError(f"Invalid request option {exc}") from exc
    return limit


def _body(options: RequestOptions, headers: CIMultiDict[str]) -> bytes | StreamBody | None:
    if "json" in options:
        try:
            text = _json.dumps(options["json"], separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            msg = f"Invalid request option json=...: it cannot be encoded as JSON ({exc})."
            raise HTTPValidationError(msg) from exc
        headers.setdefault("Content-Type", "application/json")
        return text.encode()
    if (data := options.get("data")) is not None:
        if isinstance(data, Mapping):
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
            return urlencode(_query_items(data, "data")).encode()
        if isinstance(data, str):
            return data.encode()
        if isinstance(data, bytes):
            return data
        raise _bad_option("data", data, "a mapping (a form), bytes or str")
    if (content := options.get("content")) is not None:
        return _content(content)
    return None


def build_request(
    method: str,
    url: str | URL,
    options: RequestOptions,
    config: HTTPClientConfig,
    default_headers: CIMultiDict[str],
) -> Request:
    """Build the `Request` for `method url` with the caller's options applied.

    Every option is checked here, at the boundary: a bad one raises
    `HTTPValidationError` naming the option, its value and what is expected.
    """
    target = to_url(url)
    headers = default_headers.copy()
    if not options:
        return Request(
            check_method(method),
            target,
            headers,
            max_response_bytes=config.max_response_bytes,
        )
    if not options.keys() <= _OPTIONS:
        _check_option_names(options)
    if (params := options.get("params")) is not None:
        target = target.extend_query(_query_items(params))
    if (extra := options.get("headers")) is not None:
        add_headers(headers, extra)
    body = _body(options, headers)
    if (cookies := options.get("cookies")) is not None:
        text = _cookie_header(cookies)
        existing = "; ".join(headers.getall("Cookie", []))
        headers["Cookie"] = f"{existing}; {text}" if existing else text
    if (auth := options.get("auth")) is not None:
        headers["Authorization"] = _auth_header(auth)
    return Request(
        check_method(method),
        target,
        headers,
        body,
        timeout=_timeout(options.get("timeout"), config),
        max_response_bytes=_max_response_bytes(options, config),
    )


def check_follow_redirects(value: object) -> bool:
    """`value` if it is a valid `follow_redirects=` option (a bool; None is the
    client's setting and handled by the caller)."""
    if isinstance(value, bool):
        return value
    raise _bad_option("follow_redirects", value, "True, False or None (the client's setting)")


def default_headers(config: HTTPClientConfig) -> CIMultiDict[str]:
    """The headers every request of a client starts with."""
    headers: CIMultiDict[str] = CIMultiDict({"User-Agent": config.user_agent})
    for name, value in config.headers.items():
        check_header(name, value)
        headers[name] = value
    return headers
