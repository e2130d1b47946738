"""Following redirects: which request comes next, and what it may carry."""

from __future__ import annotations

from collections.abc import Iterable

from multidict import CIMultiDict
from yarl import URL

from httpdeck.client._exceptions import HTTPRedirectError, describe
from httpdeck.client._models import HttpResponse, Request
from httpdeck.client._redaction import is_secret_name

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# The request-body headers of the Fetch standard, plus the framing ones.
_BODY_HEADERS = (
    "Content-Type",
    "Content-Length",
    "Content-Encoding",
    "Content-Language",
    "Content-Location",
    "Transfer-Encoding",
)


def is_redirect(response: HttpResponse) -> bool:
    return response.status in REDIRECT_STATUSES and "Location" in response.headers


def _origin(url: URL) -> tuple[str, str | None, int | None]:
    return url.scheme, url.host, url.port


def next_request(
    request: Request, response: HttpResponse, *, secret_headers: Iterable[str]
) -> Request:
    """The request for the hop that `response` redirects to.

    As the Fetch standard (and browsers) do it:

    - 303 turns any method but GET/HEAD into GET, 301/302 turn POST into
      GET; either way the body and its headers are dropped.
    - Otherwise (307/308, or 301/302 for PUT, DELETE, ...) the method and
      body are kept; a body that cannot be re-sent (a consumed one-shot
      stream) is an `HTTPRedirectError`.
    - A hop to another scheme, host or port (https to http included) drops
      every secret header (`is_secret_name`: Authorization,
      Proxy-Authorization, Cookie, X-Api-Key, X-Auth-Token, any `*-Token`,
      ...) and the declared `secret_headers`, every copy of each, whatever
      their case.
    """
    location = response.headers["Location"]
    if any(char in location for char in "\r\n\x00"):
        msg = f"{describe(request)} redirected to {location!r}, which holds CR, LF or NUL."
        raise HTTPRedirectError(msg, request=request)
    try:
        target = request.url.join(URL(location))
    except ValueError as exc:
        msg = f"{describe(request)} redirected to an invalid Location {location!r}."
        raise HTTPRedirectError(msg, request=request) from exc
    if target.scheme not in ("http", "https") or not target.host:
        msg = (
            f"{describe(request)} redirected to {location!r}, which is not an http(s) URL; "
            "pass follow_redirects=False to handle it yourself."
        )
        raise HTTPRedirectError(msg, request=request)
    if request.url.fragment and not target.fragment:
        target = target.with_fragment(request.url.fragment)

    headers = CIMultiDict(request.headers)
    method, content = request.method, request.content
    status = response.status
    if (status == 303 and method not in ("GET", "HEAD")) or (
        status in (301, 302) and method == "POST"
    ):
        method, content = "GET", None
        for name in _BODY_HEADERS:
            headers.popall(name, None)
    elif content is not None and not request.replayable:
        msg = (
            f"{describe(request)} got a {response.status} redirect to {target}, which must "
            "re-send the body, but the body is a one-shot stream that was already sent. "
            "Pass content=lambda: gen() to make it replayable, or follow_redirects=False."
        )
        raise HTTPRedirectError(msg, request=request)
    if _origin(target) != _origin(request.url):
        extra = tuple(secret_headers)
        for name in {name for name in headers if is_secret_name(name, extra)}:
            headers.popall(name, None)
    headers.popall("Host", None)
    return Request(
        method,
        target,
        headers,
        content,
        timeout=request.timeout,
        max_response_bytes=request.max_response_bytes,
        redirect_hop=request.redirect_hop + 1,
        extensions=dict(request.extensions),
    )
