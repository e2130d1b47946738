"""The client's cookie jar: aiohttp's `CookieJar`, kept by the transport.

aiohttp's session would keep a jar itself, but it lets a jar cookie replace
the request's own cookie of the same name, and it re-serialises the whole
`Cookie` header (quoting values such as `abc/def==`) as soon as the jar holds
anything. So the session gets a jar that keeps nothing, and the transport
calls `cookie_headers` and `keep_cookies` around each request instead. The
fake transport does the same on the same jar class, so cookies follow the
same domain, path, expiry and `Secure` rules there as in production.
"""

from __future__ import annotations

import dataclasses

import aiohttp
from aiohttp._cookie_helpers import parse_cookie_header
from aiohttp.abc import AbstractCookieJar
from multidict import CIMultiDict
from yarl import URL

from httpdeck.client._config import HTTPClientConfig
from httpdeck.client._models import Headers, Request

CookieJar = AbstractCookieJar
"""The type of a client's jar (aiohttp's), for code that keeps one (the fake)."""


def new_cookie_jar(config: HTTPClientConfig) -> AbstractCookieJar:
    """The jar of a client with `config` (create it inside the event loop).

    With `cookie_jar=False`, a jar that keeps nothing.
    """
    if not config.cookie_jar:
        return aiohttp.DummyCookieJar()
    # unsafe=True: keep cookies of hosts given by IP address too (aiohttp
    # drops them by default; browsers, httpx and requests keep them).
    return aiohttp.CookieJar(unsafe=True)


def cookie_headers(jar: AbstractCookieJar, url: URL, headers: CIMultiDict[str]) -> CIMultiDict[str]:
    """`headers` with the jar's cookies for `url` added to its `Cookie` header.

    The request's own cookies come first, exactly as written, and win over a
    jar cookie of the same name (as in requests and httpx). `headers` itself
    when the jar has nothing to add.
    """
    if not len(jar):
        return headers
    cookies = jar.filter_cookies(url)
    own = "; ".join(headers.getall("Cookie", []))
    if own:
        for name, _ in parse_cookie_header(own):
            cookies.pop(name, None)
    if not cookies:
        return headers
    added = cookies.output(header="", sep=";").strip()
    merged = headers.copy()
    merged["Cookie"] = f"{own}; {added}" if own else added
    return merged


def send_cookies(jar: AbstractCookieJar, request: Request) -> Request:
    """`request` with the jar's cookies in its `Cookie` header (`cookie_headers`)."""
    headers = cookie_headers(jar, request.url, request.headers)
    return request if headers is request.headers else dataclasses.replace(request, headers=headers)


def keep_cookies(jar: AbstractCookieJar, headers: Headers, url: URL) -> None:
    """Store the cookies that a response from `url` sets (its `Set-Cookie` headers)."""
    jar.update_cookies_from_headers(headers.getall("Set-Cookie", []), url)
