"""Small helpers from the lexigram-http API, kept for users porting code."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from yarl import URL

from httpdeck.client._exceptions import HTTPValidationError

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$"
)


def build_url(base: str, path: str = "", params: Mapping[str, Any] | None = None) -> str:
    """Join `base` and `path` and append `params` (None values are left out).

    >>> build_url("https://api.example.com", "/users", {"page": 1, "q": None})
    'https://api.example.com/users?page=1'
    """
    url = base.rstrip("/") + ("/" + path.lstrip("/") if path else "")
    query = {k: v for k, v in (params or {}).items() if v is not None}
    if query:
        url += ("&" if "?" in url else "?") + urlencode(query, doseq=True)
    return url


def parse_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    """Lower-case names and strip values.

    >>> parse_headers({"Content-Type": " application/json "})
    {'content-type': 'application/json'}
    """
    return {str(k).lower(): str(v).strip() for k, v in headers.items()}


def merge_headers(*header_dicts: Mapping[str, Any], normalize: bool = True) -> dict[str, str]:
    """Merge header mappings; later ones win on duplicate names.

    >>> merge_headers({"Accept": "text/html"}, {"accept": "application/json"})
    {'accept': 'application/json'}
    """
    merged: dict[str, str] = {}
    for headers in header_dicts:
        if normalize:
            merged.update(parse_headers(headers))
        else:
            merged.update({str(k): str(v) for k, v in headers.items()})
    return merged


def parse_url_parts(url: str) -> dict[str, Any]:
    """Split a URL into scheme, host, port, path, params (a dict) and fragment.

    >>> parse_url_parts("https://api.example.com/users?page=2#top")["params"]
    {'page': '2'}
    """
    parsed = URL(url)
    return {
        "scheme": parsed.scheme,
        "host": parsed.host,
        "port": parsed.port,
        "path": parsed.path,
        "params": dict(parsed.query),
        "fragment": parsed.fragment,
    }


def extract_json_type(content_type: str) -> str | None:
    """The MIME type when it is a JSON type, else None.

    >>> extract_json_type("application/problem+json; charset=utf-8")
    'application/problem+json'
    >>> extract_json_type("text/html") is None
    True
    """
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime if "json" in mime else None


def format_timeout(timeout: float | None) -> str:
    """`"30.0s"`, or `"no timeout"` for None.

    >>> format_timeout(2.5), format_timeout(None)
    ('2.5s', 'no timeout')
    """
    return "no timeout" if timeout is None else f"{float(timeout)}s"


def validate_url(url: str, require_scheme: bool = True) -> None:
    """Raise `HTTPValidationError` unless `url` is a usable URL."""
    if not isinstance(url, str) or not url.strip():
        msg = f"A URL is required, got {url!r}."
        raise HTTPValidationError(msg)
    try:
        parsed = URL(url)
    except ValueError as exc:
        msg = f"Malformed URL {url!r}: {exc}."
        raise HTTPValidationError(msg) from exc
    if require_scheme and parsed.scheme not in ("http", "https"):
        msg = f"URL {url!r} needs an http:// or https:// scheme."
        raise HTTPValidationError(msg)
    if require_scheme and not parsed.host:
        msg = f"URL {url!r} has no host."
        raise HTTPValidationError(msg)


def validate_host(host: str) -> None:
    """Raise `HTTPValidationError` unless `host` is a hostname or IP address."""
    if not isinstance(host, str) or not host:
        msg = f"A host is required, got {host!r}."
        raise HTTPValidationError(msg)
    try:
        ipaddress.ip_address(host.strip("[]"))
        return
    except ValueError:
        pass
    if not _HOSTNAME.match(host):
        msg = f"Invalid host {host!r}: expected a hostname like api.example.com or an IP address."
        raise HTTPValidationError(msg)


def validate_port(port: int) -> None:
    """Raise `HTTPValidationError` unless 1 <= port <= 65535."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        msg = f"Invalid port {port!r}: expected an integer from 1 to 65535."
        raise HTTPValidationError(msg)


def validate_timeout(timeout: float | None) -> None:
    """Raise `HTTPValidationError` unless `timeout` is None or a positive number."""
    if timeout is None:
        return
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        msg = f"Invalid timeout {timeout!r}: expected a positive number of seconds or None."
        raise HTTPValidationError(msg)


def validate_positive_int(value: int, field: str = "value") -> None:
    """Raise `HTTPValidationError` unless `value` is an integer > 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        msg = f"Invalid {field} {value!r}: expected a positive integer."
        raise HTTPValidationError(msg)
