"""The client's cookie jar: aiohttp's `CookieJar`, kept per transport.

`ConnectionPool` hands the jar to its aiohttp session, which stores what each
response's `Set-Cookie` headers say and adds the jar's cookies for a URL to
each request. A transport without a session (httpdeck.testing's fake) calls
`send_cookies` and `keep_cookies` around each request instead, on the same
jar class, so cookies follow the same domain, path, expiry and `Secure`
rules there as in production.
"""

from __future__ import annotations

import dataclasses
from http.cookies import BaseCookie

import aiohttp
from aiohttp.abc import AbstractCookieJar
from yarl import URL

from httpdeck.client._config import HTTPClientConfig
from httpdeck.client._models import Headers, Request


def new_cookie_jar(config: HTTPClientConfig) -> AbstractCookieJar:
    """The jar of a client with `config` (create it inside the event loop).

    With `cookie_jar=False`, a jar that keeps nothing.
    """
    if not config.cookie_jar:
        return aiohttp.DummyCookieJar()
    # unsafe=True: keep cookies of hosts given by IP address too (aiohttp
    # drops them by default; browsers, httpx and requests keep them).
    return aiohttp.CookieJar(unsafe=True)


def send_cookies(jar: AbstractCookieJar, request: Request) -> Request:
    """`request` with the jar's cookies for its URL in its `Cookie` header, as
    aiohttp sends it: after the request's own cookies, the jar's value
    replacing one of the same name. `request` itself when the jar has none."""
    cookies = jar.filter_cookies(request.url)
    if not cookies:
        return request
    merged: BaseCookie[str] = BaseCookie(request.headers.get("Cookie", ""))
    merged.update(cookies)
    headers = request.headers.copy()
    headers["Cookie"] = merged.output(header="", sep=";").strip()
    return dataclasses.replace(request, headers=headers)


def keep_cookies(jar: AbstractCookieJar, headers: Headers, url: URL) -> None:
    """Store the cookies that a response from `url` sets (its `Set-Cookie` headers)."""
    jar.update_cookies_from_headers(headers.getall("Set-Cookie", []), url)
