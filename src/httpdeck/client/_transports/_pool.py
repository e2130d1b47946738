"""The connection pool: one aiohttp session over a hardened connector.

The pool owns the session, the connector (with its limits, keep-alive cap
and DNS cache), the cookie jar, the total-deadline wheel and the proxy
environment read once at start. `AiohttpTransport` sends through it.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp
from aiohttp.abc import AbstractCookieJar
from yarl import URL

from httpdeck.client._config import ConnectionPoolConfig, HTTPClientConfig, check_proxy_url
from httpdeck.client._deadlines import DeadlineSlots
from httpdeck.client._exceptions import HTTPClientClosedError, HTTPClientError
from httpdeck.client._safety import URLSafety
from httpdeck.client._transports._connector import (
    DNSCache,
    HardenedConnector,
    Resolver,
    SystemResolver,
)
from httpdeck.client._transports._cookies import new_cookie_jar

__all__ = ["ConnectionPool"]

# Public since Python 3.0, yet missing from typeshed's urllib.request stubs.
_proxy_bypass: Any = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]


def _connector(pool: ConnectionPoolConfig, dns: DNSCache) -> HardenedConnector:
    # Both shortcuts below keep the semantics and save work on every request:
    # aiohttp keeps per-host bookkeeping whenever limit_per_host is set, even
    # when it cannot bind, and the keep-alive trim only matters when fewer idle
    # connections may stay than the pool can hold.
    limit_per_host = pool.max_connections_per_host
    if limit_per_host >= pool.max_connections:
        limit_per_host = 0
    kwargs: dict[str, Any] = {
        "limit": pool.max_connections,
        "limit_per_host": limit_per_host,
        "force_close": pool.force_close,
        "keepalive_timeout": pool.keepalive_timeout if not pool.force_close else None,
        "ssl": None if pool.verify_ssl else False,
    }
    per_host = min(pool.max_connections, pool.max_connections_per_host)
    keep = pool.max_keepalive_connections
    return HardenedConnector(max_keepalive=keep if keep < per_host else None, dns=dns, **kwargs)


def _counts(connector: aiohttp.TCPConnector) -> tuple[int, int]:
    """(idle, in use) connections of a connector."""
    idle = sum(len(conns) for conns in connector._conns.values())
    return idle, len(connector._acquired)


class ConnectionPool:
    """One aiohttp `ClientSession` over a `TCPConnector`, built from the config.

    The proxy environment (`HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`) is read
    once at `start()` when `trust_env` is on, not on every request.

    Host names are resolved by `resolver` (the system's by default) and kept
    for `ConnectionPoolConfig.ttl_dns_cache` seconds, measured by `clock`.
    `url_safety` replaces the default gate that `HTTPClientConfig.url_safety`
    turns on (for instance `URLSafety(allow=["10.20.0.0/16"])`).
    """

    def __init__(
        self,
        config: HTTPClientConfig | None = None,
        *,
        resolver: Resolver | None = None,
        clock: Callable[[], float] = time.monotonic,
        url_safety: URLSafety | None = None,
    ) -> None:
        self.config = config or HTTPClientConfig()
        self.url_safety = url_safety or (URLSafety() if self.config.url_safety else None)
        self.dns = DNSCache(
            resolver or SystemResolver(),
            ttl=self.config.pool.ttl_dns_cache,
            clock=clock,
            safety=self.url_safety,
        )
        self._session: aiohttp.ClientSession | None = None
        self.deadlines: DeadlineSlots | None = None  # total deadlines, once started
        self.cookie_jar: AbstractCookieJar | None = None  # the client's cookies, once started
        self._connector: HardenedConnector | None = None
        self._closed = False
        self._env_proxies: dict[str, str] = {}
        self._proxy_cache: dict[tuple[str, str], str | None] = {}

    def is_started(self) -> bool:
        """True between `start()` and `stop()`."""
        return self._session is not None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The pool's aiohttp `ClientSession`.

        Raises `HTTPClientError` before `start()` and after `stop()`.
        """
        if self._session is None:
            msg = "The connection pool is not started: call `await pool.start()` first."
            raise HTTPClientError(msg)
        return self._session

    async def start(self) -> aiohttp.ClientSession:
        """Open the session (idempotent) and return it."""
        if self._closed:
            msg = "Cannot start the connection pool: it was stopped. Create a new one."
            raise HTTPClientClosedError(msg)
        if self._session is None:
            # Everything that can fail on a bad value runs before the session
            # and its connector exist, so a failed start leaks no socket.
            env_proxies = self._read_env_proxies()
            proxies = [self.config.proxy, *env_proxies.values()]
            self._connector = _connector(self.config.pool, self.dns)
            self.cookie_jar = new_cookie_jar(self.config)
            self.deadlines = DeadlineSlots(asyncio.get_running_loop())
            self._session = aiohttp.ClientSession(
                connector=self._connector,
                # The transport keeps the cookies (see _cookies): not the session.
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
                auto_decompress=True,
                timeout=aiohttp.ClientTimeout(total=None),
            )
            # aiohttp silently re-sends idempotent requests once when a reused
            # keep-alive connection turns out dead; that hidden attempt would make
            # attempt counts, metrics and fault logs lie. httpdeck's own retry
            # policy decides instead.
            self._session._retry_connection = False
            self._env_proxies = env_proxies
            # Proxies are the user's own choice: the safety gate does not refuse them.
            self.dns.trusted = frozenset(URL(p).raw_host or "" for p in proxies if p)
        return self._session

    def _read_env_proxies(self) -> dict[str, str]:
        """The proxy environment (when `trust_env` is on and no proxy is
        configured), each proxy the client would use checked.

        Raises `HTTPConfigError` naming the variable for a proxy URL without
        a host (`HTTP_PROXY=http://`) or with a bad port; aiohttp would go
        direct or fail on the first request.
        """
        if not self.config.trust_env or self.config.proxy is not None:
            return {}
        proxies = urllib.request.getproxies_environment()
        for scheme in ("http", "https"):  # the only ones proxy_for() hands out
            value = proxies.get(scheme)
            if value is not None:
                source = (
                    f"The {scheme.upper()}_PROXY (or {scheme}_proxy) environment variable, "
                    "read because HTTPClientConfig.trust_env is on,"
                )
                hint = (
                    " Fix or unset the variable, or pass HTTPClientConfig(trust_env=False) "
                    "to ignore the proxy environment."
                )
                check_proxy_url(value, source, hint=hint)
        return proxies

    async def stop(self) -> None:
        """Close every connection. A stopped pool cannot be started again."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def proxy_for(self, url: URL) -> str | None:
        """The proxy for `url`: the configured one, else the environment's."""
        if self.config.proxy is not None:
            return self.config.proxy
        if not self._env_proxies:
            return None
        key = (url.scheme, url.host or "")
        if key not in self._proxy_cache:
            proxies = self._env_proxies
            bypass = _proxy_bypass(key[1], proxies)
            self._proxy_cache[key] = None if bypass else proxies.get(url.scheme)
        return self._proxy_cache[key]

    def connection_counts(self) -> tuple[int, int]:
        """`(idle, in_use)` connections right now; (0, 0) before start."""
        return _counts(self._connector) if self._connector is not None else (0, 0)

    async def warm_up(self, urls: Iterable[str | URL]) -> None:
        """Open a connection to each URL ahead of the first real request.

        Best effort: sends HEAD (GET if HEAD is refused) and swallows errors.
        """
        session = await self.start()
        for url in urls:
            for method in ("HEAD", "GET"):
                try:
                    async with session.request(method, url, allow_redirects=False) as resp:
                        await resp.read()
                        if resp.status != 405:
                            break
                except (TimeoutError, aiohttp.ClientError, OSError):
                    break
