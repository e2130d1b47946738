"""Request patterns: what a route matches, and how a request differs from it.

A `Pattern` is the method, the URL (exact, glob, regex or any), the query
parameters, headers and body a route expects. `matches()` is the fast yes/no;
`differences()` explains a miss in the words an unmatched-request error shows.
"""

from __future__ import annotations

import json as _json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeAlias, TypedDict
from urllib.parse import parse_qsl

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from httpdeck.client._seam import is_secret_name, join_url
from httpdeck.testing._json_limits import NOT_JSON, parse_json
from httpdeck.testing.fake._responses import MISSING

URLSpec: TypeAlias = str | URL | re.Pattern[str]
ParamValue: TypeAlias = str | int | float | bool
ParamsSpec: TypeAlias = Mapping[str, ParamValue | Sequence[ParamValue]]
HeaderValue: TypeAlias = str | re.Pattern[str]
ContentSpec: TypeAlias = bytes | str | Callable[[bytes], bool]
Difference: TypeAlias = tuple[str, str]
"""(kind, text): kind is method, origin, path, query, headers or body."""

ANY = "*"
_FORM = "application/x-www-form-urlencoded"
_MAX_DIFFS = 3


def short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _text(value: ParamValue) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _multi(items: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for key, value in items.items():
        values = value if isinstance(value, list | tuple) else [value]
        out[key] = tuple(sorted(_text(v) for v in values))
    return out


def _pairs(multi: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = {}
    for key, value in multi:
        grouped.setdefault(key, []).append(value)
    return {key: tuple(sorted(values)) for key, values in grouped.items()}


def _show_values(key: str, values: tuple[str, ...]) -> str:
    return f"{key}={values[0]!r}" if len(values) == 1 else f"{key}={list(values)!r}"


def _glob(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\*\*|\*)", pattern)
    regex = "".join(
        ".*" if part == "**" else "[^/]*" if part == "*" else re.escape(part) for part in parts
    )
    return re.compile(regex)


class Seen:
    """A request as the matcher sees it; derived values are computed once."""

    __slots__ = ("_form", "_json", "body", "headers", "method", "path", "url")

    def __init__(
        self,
        method: str,
        url: URL,
        headers: CIMultiDict[str] | CIMultiDictProxy[str],
        body: bytes | None,
    ) -> None:
        self.method = method
        self.url = url
        self.path = url.path
        self.headers = headers
        self.body = body
        self._json: Any = None
        self._form: dict[str, tuple[str, ...]] | None = None

    @property
    def origin(self) -> tuple[str, str | None, int | None]:
        url = self.url
        return url.scheme, url.host, url.port

    @property
    def query(self) -> dict[str, tuple[str, ...]]:
        return _pairs(self.url.query.items())

    def json(self) -> Any:
        """The body decoded as JSON, or MISSING when it is not JSON."""
        if self._json is None:
            # Past Python's limits it is not JSON either: matched as bytes.
            body = parse_json(self.body) if self.body else NOT_JSON
            self._json = MISSING if body is NOT_JSON else body
        return self._json

    def form(self) -> dict[str, tuple[str, ...]]:
        if self._form is None:
            text = (self.body or b"").decode("utf-8", errors="replace")
            self._form = _pairs(parse_qsl(text, keep_blank_values=True))
        return self._form


def json_diff(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Where two JSON values differ, as `at $.a[0]: expected 1, got 2` lines."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out: list[str] = []
        for key, value in expected.items():
            if key not in actual:
                out.append(f"at {path}.{key} missing (expected {short(value, 30)})")
            else:
                out.extend(json_diff(value, actual[key], f"{path}.{key}"))
        out.extend(
            f"at {path}.{key} unexpected {short(actual[key], 30)}"
            for key in actual
            if key not in expected
        )
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        out = []
        if len(expected) != len(actual):
            items = "item" if len(expected) == 1 else "items"
            out.append(f"at {path} expected {len(expected)} {items}, got {len(actual)}")
        for index, (left, right) in enumerate(zip(expected, actual, strict=False)):
            out.extend(json_diff(left, right, f"{path}[{index}]"))
        return out
    same_kind = isinstance(expected, bool) == isinstance(actual, bool)
    if same_kind and expected == actual:
        return []
    return [f"at {path} expected {short(expected, 30)}, got {short(actual, 30)}"]


def _join(diffs: list[str]) -> str:
    extra = len(diffs) - _MAX_DIFFS
    text = "; ".join(diffs[:_MAX_DIFFS])
    return f"{text} (and {extra} more)" if extra > 0 else text


def _describe_fn(fn: object) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


def _mask(name: str, value: str) -> str:
    return "***" if is_secret_name(name) else value


def _bytes_diff(expected: bytes, actual: bytes) -> str:
    at = next(
        (i for i, (a, b) in enumerate(zip(expected, actual, strict=False)) if a != b),
        min(len(expected), len(actual)),
    )
    return (
        f"content differs: expected {short(expected, 40)} ({len(expected)} bytes), "
        f"got {short(actual, 40)} ({len(actual)} bytes), first difference at byte {at}"
    )


class RequestMatch(TypedDict, total=False):
    """What a check on a route's calls may name besides the method and URL:
    the keyword arguments of `route()` that describe a request."""

    params: ParamsSpec | None
    exact_params: bool
    headers: Mapping[str, HeaderValue] | None
    json: Any
    data: Mapping[str, ParamValue | Sequence[ParamValue]] | None
    content: ContentSpec | None


class Pattern:
    """What a route expects of a request. Built by `fake.route(...)`.

    URL forms: an absolute URL (exact; its query, if any, must match exactly,
    in any order; without a query the query is not checked), a string with
    `*` (glob: `*` stays within a path segment, `**` crosses them; the query
    is ignored unless the glob has a `?`), a compiled regex (`re.match`
    against the whole URL, query included), a path (`/users`, joined to the
    fake's base_url, or on any host with `any_host=True`), or None (any URL).
    """

    __slots__ = (
        "_spec",
        "content",
        "data",
        "exact",
        "form",
        "glob_on",
        "headers",
        "json",
        "method",
        "params",
        "params_exact",
        "regex",
        "trivial",
        "url_text",
    )

    def __init__(
        self,
        method: str = ANY,
        url: URLSpec | None = None,
        *,
        params: ParamsSpec | None = None,
        exact_params: bool = False,
        headers: Mapping[str, HeaderValue] | None = None,
        json: Any = MISSING,
        data: Mapping[str, ParamValue | Sequence[ParamValue]] | None = None,
        content: ContentSpec | None = None,
        any_host: bool = False,
        base_url: URL | None = None,
    ) -> None:
        self.method = method.upper()
        # exact: (origin or ANY, path, query key or None): the hash key's URL part.
        self.exact: tuple[tuple[str, str | None, int | None] | str, str, Any] | None = None
        self.regex: re.Pattern[str] | None = None
        # None: a regex, matched (re.match) against the whole URL; else what a glob sees.
        self.glob_on: Literal["url", "url_no_query", "path", "path_query"] | None = None
        self.url_text = ANY
        query: dict[str, tuple[str, ...]] | None = None
        if isinstance(url, re.Pattern):
            self.regex, self.url_text = url, f"regex({url.pattern})"
        elif isinstance(url, str) and "*" in url:
            self._set_glob(url, any_host=any_host, base_url=base_url)
        elif url is not None:
            target = _absolute(url, base_url=base_url, any_host=any_host)
            if target.query_string:
                query = _pairs(target.query.items())
            origin = ANY if any_host else (target.scheme, target.host, target.port)
            self.exact = (origin, target.path, None)
            self.url_text = (
                f"(any host){target.path_qs}" if any_host else str(target.with_fragment(None))
            )
        if params is not None:
            if query is not None:
                msg = f"Give the query either in the URL ({self.url_text}) or as params=, not both."
                raise ValueError(msg)
            query = _multi(params)
        self.params = query
        self.params_exact = query is not None and (exact_params or params is None)
        if self.exact is not None and self.params_exact and query is not None:
            key = tuple(sorted((k, v) for k, values in query.items() for v in values))
            self.exact = (self.exact[0], self.exact[1], key)
        self.headers = tuple((name, value) for name, value in (headers or {}).items())
        self.json = json
        self.data = data
        self.form = None if data is None else _multi(data)
        self.content: bytes | Callable[[bytes], bool] | None = (
            content.encode() if isinstance(content, str) else content
        )
        # Nothing to check beyond method and URL: an index hit is a match.
        self.trivial = (
            self.params is None
            and not self.headers
            and json is MISSING
            and self.form is None
            and self.content is None
        )
        self._spec = (
            self.method,
            self.url_text,
            self.glob_on,
            self.exact,
            self.params,
            self.params_exact,
            self.headers,
            _freeze(json),
            self.form,
            self.content,
        )

    def _set_glob(self, url: str, *, any_host: bool, base_url: URL | None) -> None:
        has_query = "?" in url
        self.url_text = url
        if url.startswith("/"):
            if base_url is not None and not any_host:
                url = str(base_url).rstrip("/") + url
                self.url_text = url
            elif not any_host:
                _relative_error(url)
            else:
                self.url_text = f"(any host){url}"
                self.regex = _glob(url)
                self.glob_on = "path_query" if has_query else "path"
                return
        self.regex = _glob(url)
        self.glob_on = "url" if has_query else "url_no_query"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pattern) and self._spec == other._spec

    __hash__ = None  # type: ignore[assignment]

    @property
    def index_key(self) -> tuple[str, Any, str, Any] | None:
        """The hash key of an exact-URL pattern (None for scanned patterns)."""
        if self.exact is None:
            return None
        origin, path, query_key = self.exact
        return (self.method, origin, path, query_key)

    def url_matches(self, seen: Seen) -> bool:
        if self.exact is not None:
            origin, path, _ = self.exact
            return path == seen.path and (origin == ANY or origin == seen.origin)
        if self.regex is None:
            return True
        url = seen.url
        if self.glob_on is None:
            return self.regex.match(str(url)) is not None
        if self.glob_on == "url":
            target = str(url.with_fragment(None))
        elif self.glob_on == "url_no_query":
            target = str(url.with_query(None).with_fragment(None))
        else:
            target = url.path if self.glob_on == "path" else url.path_qs
        return self.regex.fullmatch(target) is not None

    def matches(self, seen: Seen) -> bool:
        """True when `seen` satisfies every part of this pattern."""
        if self.method != ANY and self.method != seen.method:
            return False
        return self.url_matches(seen) and self.matches_rest(seen)

    def matches_rest(self, seen: Seen) -> bool:
        """The checks beyond method and URL (an exact route's hash key covers those)."""
        if self.params is not None:
            query = seen.query
            if self.params_exact:
                if query != self.params:
                    return False
            elif any(query.get(key) != values for key, values in self.params.items()):
                return False
        for name, expected in self.headers:
            if not _header_ok(seen.headers, name, expected):
                return False
        if self.json is not MISSING:
            actual = seen.json()
            if actual is MISSING:
                return False
            if callable(self.json):
                if not self.json(actual):
                    return False
            elif json_diff(self.json, actual):
                return False
        if self.form is not None and seen.form() != self.form:
            return False
        if self.content is not None:
            body = seen.body or b""
            if callable(self.content):
                return bool(self.content(body))
            return body == self.content
        return True

    def differences(self, seen: Seen) -> list[Difference]:
        """Each way `seen` misses this pattern, for error messages (empty: a match)."""
        out: list[Difference] = []
        if self.method != ANY and self.method != seen.method:
            out.append(("method", f"method differs: expected {self.method}, got {seen.method}"))
        out.extend(self._url_differences(seen))
        if self.params is not None:
            out.extend(self._query_differences(seen))
        headers = seen.headers
        for name, expected in self.headers:
            if not _header_ok(headers, name, expected):
                want = expected.pattern if isinstance(expected, re.Pattern) else expected
                got = ", ".join(repr(_mask(name, v)) for v in headers.getall(name, [])) or "none"
                hidden = " (secret values hidden)" if is_secret_name(name) else ""
                out.append(
                    ("headers", f"header {name}={_mask(name, want)!r} expected, got {got}{hidden}")
                )
        out.extend(("body", text) for text in self._body_differences(seen))
        return out

    def _url_differences(self, seen: Seen) -> list[Difference]:
        if self.url_matches(seen):
            return []
        if self.exact is None:
            return [
                ("path", f"URL does not match the {'regex' if self.glob_on is None else 'glob'}")
            ]
        origin, path, _ = self.exact
        out: list[Difference] = []
        if origin != ANY:
            for label, want, have in zip(
                ("scheme", "host", "port"), origin, seen.origin, strict=True
            ):
                if want != have:
                    out.append(("origin", f"{label} differs: expected {want}, got {have}"))
        if path != seen.path:
            out.append(("path", f"path differs: expected {path}, got {seen.path}"))
        return out

    def _query_differences(self, seen: Seen) -> list[Difference]:
        assert self.params is not None
        query = seen.query
        if self.params_exact:
            if query == self.params:
                return []
            want = "&".join(f"{k}={v}" for k, vs in sorted(self.params.items()) for v in vs)
            got = "&".join(f"{k}={v}" for k, vs in sorted(query.items()) for v in vs)
            return [("query", f"query differs: expected {want or 'none'}, got {got or 'none'}")]
        out: list[Difference] = []
        for key, values in self.params.items():
            have = query.get(key)
            if have != values:
                got = _show_values(key, have) if have else "none"
                out.append(
                    ("query", f"query param {_show_values(key, values)} expected, got {got}")
                )
        return out

    def _body_differences(self, seen: Seen) -> list[str]:
        out: list[str] = []
        if self.json is not MISSING:
            actual = seen.json()
            if actual is MISSING:
                got = f"a body that is not JSON: {short(seen.body, 40)}" if seen.body else "no body"
                out.append(f"json body expected, got {got}")
            elif callable(self.json):
                if not self.json(actual):
                    out.append(f"json body rejected by {_describe_fn(self.json)}")
            elif diffs := json_diff(self.json, actual):
                out.append(f"json body differs: {_join(diffs)}")
        content_type = seen.headers.get("Content-Type", "").partition(";")[0].strip()
        if self.form is not None and content_type not in ("", _FORM):
            out.append(f"form data expected, got Content-Type {content_type}")
        elif self.form is not None:
            form = seen.form()
            diffs = [
                f"field {_show_values(k, v)} expected, got "
                + (_show_values(k, form[k]) if k in form else "none")
                for k, v in self.form.items()
                if form.get(k) != v
            ]
            diffs += [
                f"field {_show_values(k, v)} not expected"
                for k, v in form.items()
                if k not in self.form
            ]
            if diffs:
                out.append(f"form data differs: {_join(diffs)}")
        if self.content is not None:
            body = seen.body or b""
            if callable(self.content):
                if not self.content(body):
                    out.append(f"content rejected by {_describe_fn(self.content)}")
            elif body != self.content:
                out.append(_bytes_diff(self.content, body))
        return out

    @property
    def looks_at_headers(self) -> bool:
        return bool(self.headers)

    @property
    def looks_at_body(self) -> bool:
        return self.json is not MISSING or self.form is not None or self.content is not None

    def describe(self, *, skip_any: bool = False) -> str:
        """`GET https://api.example.com/users params={'page': '1'}`, for messages;
        `skip_any` leaves out an unconstrained method and URL."""
        parts = [p for p in (self.method, self.url_text) if not (skip_any and p == ANY)]
        if self.params is not None and "?" not in self.url_text:
            shown = {k: v[0] if len(v) == 1 else list(v) for k, v in self.params.items()}
            parts.append(f"{'exact_params' if self.params_exact else 'params'}={shown!r}")
        if self.headers:
            shown_headers = {
                n: _mask(n, v.pattern if isinstance(v, re.Pattern) else v) for n, v in self.headers
            }
            parts.append(f"headers={shown_headers!r}")
        if self.json is not MISSING:
            value = _describe_fn(self.json) if callable(self.json) else short(self.json, 50)
            parts.append(f"json={value}")
        if self.data is not None:
            parts.append(f"data={short(dict(self.data), 50)}")
        if self.content is not None:
            value = _describe_fn(self.content) if callable(self.content) else short(self.content)
            parts.append(f"content={value}")
        return " ".join(parts)


def _header_ok(
    headers: CIMultiDict[str] | CIMultiDictProxy[str], name: str, expected: HeaderValue
) -> bool:
    values = headers.getall(name, [])
    if isinstance(expected, re.Pattern):
        return any(expected.fullmatch(value) for value in values)
    return expected in values


def _freeze(value: Any) -> Any:
    if callable(value) or value is MISSING:
        return value
    return _json.dumps(value, sort_keys=True, default=repr)


def _relative_error(url: str) -> None:
    msg = (
        f"Route URL {url!r} has no host. Give an absolute URL, pass base_url= to the fake, "
        "or any_host=True to match this path on every host."
    )
    raise ValueError(msg)


def _absolute(url: str | URL, *, base_url: URL | None, any_host: bool) -> URL:
    target = URL(url) if isinstance(url, str) else url
    if target.is_absolute():
        if target.scheme not in ("http", "https") or not target.host:
            msg = f"Route URL {str(url)!r} is not an http:// or https:// URL."
            raise ValueError(msg)
        return target
    text = str(target)
    if not text.startswith("/"):
        msg = (
            f"Route URL {text!r} is neither absolute (https://host/path) nor a path "
            "starting with '/'."
        )
        raise ValueError(msg)
    if any_host:
        return URL("http://any.invalid").join(target)
    if base_url is None:
        _relative_error(text)
    assert base_url is not None
    return join_url(base_url, target)
