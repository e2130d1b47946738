"""The connector under `ConnectionPool`: aiohttp's TCPConnector, hardened.

What it adds to aiohttp's connector, each for a measured failure:

- Pool phase. The wait for a free slot has its own limit (`TimeoutConfig.pool`)
  and the request's total deadline starts only once a slot is granted
  (`_deadline.RequestTiming`).
- Dead idle connections are not reused. Before an idle keep-alive connection
  is handed out, a zero-timeout poll checks that the peer has not closed it
  (a FIN or RST waiting in the kernel that the event loop has not processed
  yet). aiohttp would write the request into it and then, with its hidden
  retry switched off, fail; with the retry on, it would re-send behind the
  caller's back. This check sends nothing, so attempt counts stay true.
- DNS-aware reuse. Host names are resolved through `DNSCache` (a TTL cache
  over a pluggable `Resolver`, with an injectable clock). When an entry
  has expired, the next reuse of a pooled connection to that host resolves
  it again, and idle connections to addresses no longer in the answer are
  closed instead of reused.
- URL safety. With the gate on, every answer is checked before aiohttp sees
  it, and aiohttp connects only to the addresses that were checked.
- Keep-alive cap. At most `max_keepalive` idle connections stay per host.
- Stale-connection evidence. The check above cannot win every race: the
  server may close an idle connection just as the request is written into it.
  The connector records, on the request's `RequestTiming`, whether the
  connection came idle from the pool (`reused`) and its protocol, which notes
  whether any byte of a response arrived (`answered`). The transport turns a
  reused connection that died unanswered into a re-sendable error (see
  `aiohttp.stale_error`); `RequestTiming.fresh` makes the re-send skip the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import select
import socket
import time
from collections.abc import Callable, Collection, Coroutine, Sequence
from typing import Any, Protocol, runtime_checkable

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.client_proto import ResponseHandler

from httpdeck.client._safety import URLSafety
from httpdeck.client._transports._deadline import CURRENT, PoolTimeoutError

__all__ = ["DNSCache", "HardenedConnector", "Resolver", "SystemResolver"]


@runtime_checkable
class Resolver(Protocol):
    """Turns a host name into IP addresses (strings), best first."""

    async def resolve(self, host: str, port: int) -> Sequence[str]:
        """The addresses of `host`, best first; `port` is the one being connected to.

        Raise `OSError` (`socket.gaierror`) when the name does not resolve:
        the client reports it as `HTTPConnectionError`.
        """
        ...


class SystemResolver:
    """The operating system's resolver (`getaddrinfo` in a thread)."""

    async def resolve(self, host: str, port: int) -> Sequence[str]:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _Entry:
    __slots__ = ("addresses", "expires")

    def __init__(self, addresses: tuple[str, ...], expires: float) -> None:
        self.addresses = addresses
        self.expires = expires


class DNSCache:
    """Resolved addresses per (host, port), kept for `ttl` seconds.

    With `safety`, an answer holding any blocked address is refused whole
    (`UnsafeAddressError`); hosts in `trusted` (the configured proxies) are
    not checked. Concurrent lookups of one host share a single resolution.
    """

    def __init__(
        self,
        resolver: Resolver,
        *,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
        safety: URLSafety | None = None,
        trusted: Collection[str] = (),
    ) -> None:
        self.resolver = resolver
        self.ttl = ttl
        self.clock = clock
        self.safety = safety
        self.trusted = frozenset(trusted)
        self._entries: dict[tuple[str, int], _Entry] = {}
        self._lookups: dict[tuple[str, int], asyncio.Task[tuple[str, ...]]] = {}

    async def resolve(self, host: str, port: int) -> tuple[str, ...]:
        """The addresses for `host`, from the cache while the entry is fresh."""
        key = (host, port)
        entry = self._entries.get(key)
        if entry is not None and entry.expires > self.clock():
            return entry.addresses
        task = self._lookups.get(key)
        if task is None:
            task = asyncio.ensure_future(self._lookup(host, port))
            self._lookups[key] = task
            task.add_done_callback(lambda t: self._done(key, t))
        # A cancelled caller must not cancel the lookup others are waiting on.
        return await asyncio.shield(task)

    def _done(self, key: tuple[str, int], task: asyncio.Task[tuple[str, ...]]) -> None:
        if self._lookups.get(key) is task:
            del self._lookups[key]
        if not task.cancelled():
            task.exception()  # retrieved here so an unawaited failure is never logged

    async def _lookup(self, host: str, port: int) -> tuple[str, ...]:
        answer = await self.resolver.resolve(host, port)
        addresses = tuple(dict.fromkeys(_normalise(address) for address in answer))
        if not addresses:
            msg = f"the resolver returned no address for {host!r}"
            raise OSError(msg)
        if self.safety is not None and host not in self.trusted:
            self.safety.check_addresses(host, addresses)
        self._entries[(host, port)] = _Entry(addresses, self.clock() + self.ttl)
        return addresses

    def expired(self, host: str, port: int) -> bool:
        """True when `host` was resolved and that answer's TTL has passed
        (never with a TTL of 0: every new connection resolves anyway)."""
        entry = self._entries.get((host, port))
        return entry is not None and self.ttl > 0 and entry.expires <= self.clock()

    def current(self, host: str, port: int) -> tuple[str, ...] | None:
        """The latest answer for `host` (fresh or not), None if never resolved."""
        entry = self._entries.get((host, port))
        return entry.addresses if entry is not None else None

    def close(self) -> None:
        for task in self._lookups.values():
            task.cancel()
        self._lookups.clear()


def _normalise(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address


class _AiohttpResolver(AbstractResolver):
    """Hands aiohttp the addresses `DNSCache` resolved (and checked), as is."""

    def __init__(self, cache: DNSCache) -> None:
        self.cache = cache

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[ResolveResult]:
        addresses = await self.cache.resolve(host, port)
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in addresses
        ]

    async def close(self) -> None:
        self.cache.close()


def _peer_closed(proto: Any) -> bool:
    """True when an idle connection has something to read: the peer's FIN or
    RST (or stray bytes), either way it must not carry another request."""
    transport = proto.transport
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        return False
    fd = sock.fileno()
    if fd < 0:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class _Handler(ResponseHandler):
    """aiohttp's protocol, noting whether any byte of a response arrived since
    the connection was handed to the current request."""

    answered = False

    def data_received(self, data: bytes) -> None:
        self.answered = True
        super().data_received(data)


async def _no_idle_connection() -> None:
    return None


class HardenedConnector(aiohttp.TCPConnector):
    """aiohttp's TCPConnector with the pool phase, dead-connection and
    DNS-aware reuse checks and the keep-alive cap described above."""

    def __init__(self, *, max_keepalive: int | None, dns: DNSCache, **kwargs: Any) -> None:
        super().__init__(resolver=_AiohttpResolver(dns), use_dns_cache=False, **kwargs)
        self._factory = functools.partial(_Handler, loop=self._loop)  # type: ignore[assignment]
        self._max_keepalive = max_keepalive
        self.dns = dns

    async def connect(self, req: Any, traces: Any, timeout: Any) -> Any:  # noqa: ASYNC109 - aiohttp's signature
        timing = CURRENT.get()
        if timing is None:
            return await super().connect(req, traces, timeout)
        timing.reused = True  # until _create_connection says otherwise
        # Only a request that may queue for a slot needs the pool clock. Without
        # a per-host limit the free slots are counted without the connection
        # key (a property aiohttp computes again); an idle connection for the
        # key is reused without a slot.
        if (
            timing.pool_timeout is None
            or (not self._limit_per_host and len(self._acquired) < self._limit)
            or ((key := req.connection_key) in self._conns and not timing.fresh)
            or self._available_connections(key) > 0
        ):
            connection = await super().connect(req, traces, timeout)
        else:
            wait = asyncio.timeout(timing.pool_timeout)
            timing.pool_wait = wait
            try:
                async with wait:
                    connection = await super().connect(req, traces, timeout)
            except TimeoutError as exc:
                if wait.expired() and timing.phase == "pool":
                    raise PoolTimeoutError from exc
                raise
            finally:
                timing.pool_wait = None
        timing.slot_granted()
        timing.phase = "request"  # from here on, bytes of the request may be written
        protocol = timing.protocol = connection.protocol
        if isinstance(protocol, _Handler):
            protocol.answered = False  # bytes of an earlier response do not count
        return connection

    async def _create_connection(self, req: Any, traces: Any, timeout: Any) -> Any:  # noqa: ASYNC109 - aiohttp's signature
        # A slot is held from here on: the pool wait is over.
        timing = CURRENT.get()
        if timing is not None:
            timing.slot_granted()
            timing.reused = False
        return await super()._create_connection(req, traces, timeout)

    def _get(self, key: Any, traces: Any) -> Coroutine[Any, Any, Any]:
        # A plain function handing back aiohttp's coroutine: no coroutine frame
        # of its own on the hot path (an idle connection, a fresh DNS answer).
        conns = self._conns.get(key)
        if conns:
            timing = CURRENT.get()
            if timing is not None and timing.fresh:
                return _no_idle_connection()
            if key.proxy is None and self.dns.expired(key.host, key.port):
                return self._get_after_lookup(key, traces)
            self._drop_unusable(key, conns)
        return super()._get(key, traces)

    async def _get_after_lookup(self, key: Any, traces: Any) -> Any:
        # A failed lookup keeps the last answer (stale beats down); an answer
        # the safety gate refuses propagates.
        with contextlib.suppress(OSError):
            await self.dns.resolve(key.host, key.port)
        conns = self._conns.get(key)
        if conns:
            self._drop_unusable(key, conns)
        return await super()._get(key, traces)

    def _drop_unusable(self, key: Any, conns: Any) -> None:
        """Close idle connections the peer closed or that go to an address the
        latest DNS answer no longer has, so aiohttp reuses only good ones."""
        allowed = self.dns.current(key.host, key.port) if key.proxy is None else None
        while conns:
            proto = conns[0][0]
            if proto.is_connected() and not _peer_closed(proto):
                if allowed is None:
                    break
                peer = proto.transport and proto.transport.get_extra_info("peername")
                if not peer or peer[0] in allowed:
                    break
            conns.popleft()
            proto.close()
        if not conns:
            del self._conns[key]

    def _release(self, key: Any, protocol: Any, *, should_close: bool = False) -> None:
        super()._release(key, protocol, should_close=should_close)
        if self._max_keepalive is None or self._waiters:
            return  # a request waiting for a slot (or just woken) takes this one
        idle = self._conns.get(key)
        while idle is not None and len(idle) > self._max_keepalive:
            oldest, _ = idle.popleft()
            oldest.close()
