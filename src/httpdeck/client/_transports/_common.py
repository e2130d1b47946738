"""Rules every real transport applies the same way, whatever library sends.

- `connect_guard`: the seam test tooling uses to block the network.
- `check_safety` / `unsafe_error`: the URL safety gate's check before a
  proxied request, and the error it raises.
- `declared_too_large` / `too_large_error`: `max_response_bytes`, counted
  after decompression.
- `..._error`: each transport error, worded once, so a failure reads the
  same whichever transport met it (and an injected fault reads like both).

Only error paths call into here, except the `connect_guard` check, so the
hot path of the aiohttp transport pays one attribute lookup.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

from httpdeck.client._exceptions import (
    HTTPConnectionError,
    HTTPPoolTimeoutError,
    HTTPProtocolError,
    HTTPTimeoutError,
    describe,
)
from httpdeck.client._models import Request
from httpdeck.client._safety import HTTPUnsafeURLError, UnsafeAddressError
from httpdeck.client._transports._connector import DNSCache

# A seam for test tooling, never set by the client itself: httpdeck.testing's
# network blocking (`--httpdeck-block-network`) installs an async check here that
# raises HTTPConnectionError before any connection is made (or any DNS lookup) to
# a host the test may not contact. Every real transport calls it first, with the
# request and the proxy URL that would be used, if any.
ConnectGuard = Callable[[Request, str | None], Awaitable[None]]
connect_guard: ConnectGuard | None = None


async def check_safety(dns: DNSCache, request: Request, proxy: str | None) -> None:
    """Refuse `request` when the safety gate of `dns` blocks its host.

    Without a proxy the host's addresses are checked again when the
    connection is made (and only checked addresses are connected to); through
    a proxy, which resolves the name itself, the lookup here is the only check.
    """
    safety = dns.safety
    assert safety is not None
    host = request.url.raw_host or ""
    try:
        safety.check_host(host)
        if proxy is not None:
            await dns.resolve(host, request.url.port or 0)
    except UnsafeAddressError as exc:
        raise unsafe_error(exc, request) from exc
    except OSError:
        pass  # the proxy reports its own lookup failure


def unsafe_error(exc: UnsafeAddressError, request: Request) -> HTTPUnsafeURLError:
    """The error for a host the URL safety gate refused."""
    msg = (
        f"Refused {describe(request)}: the URL safety gate blocks {exc.host} -> {exc.address}, "
        f"a {exc.reason} address. No connection was made. If this destination is trusted, "
        "allow its network with ConnectionPool(url_safety=URLSafety(allow=[...])) or turn "
        "HTTPClientConfig.url_safety off for this client."
    )
    return HTTPUnsafeURLError(
        msg, request=request, host=exc.host, address=exc.address, reason=exc.reason
    )


def pool_timeout_error(
    request: Request, pool_timeout: float | None, max_connections: int
) -> HTTPPoolTimeoutError:
    """The error for a request that found no free connection in time."""
    msg = (
        f"No connection became free for {describe(request)} within the pool timeout "
        f"of {pool_timeout}s: all max_connections={max_connections} were busy. Raise "
        "ConnectionPoolConfig.max_connections or TimeoutConfig.pool."
    )
    return HTTPPoolTimeoutError(msg, request=request)


def write_timeout_error(request: Request, timeout: float | None) -> HTTPTimeoutError:
    """The error for a peer that stopped accepting the request body."""
    msg = (
        f"{describe(request)}: the server accepted no part of a body chunk within "
        f"the write timeout of {timeout}s; raise TimeoutConfig.write."
    )
    return HTTPTimeoutError(msg, request=request, sent=True, phase="write")


# -- the messages of the errors every transport maps -----------------------------


def connect_timeout_error(request: Request) -> HTTPTimeoutError:
    """The connect timeout ran out: nothing was sent."""
    msg = f"Timed out connecting for {describe(request)}."
    return HTTPTimeoutError(msg, request=request, sent=False, phase="connect")


def read_timeout_error(request: Request) -> HTTPTimeoutError:
    """The read timeout ran out between two reads of the response."""
    msg = f"Timed out reading the response to {describe(request)}: no data within the read timeout."
    return HTTPTimeoutError(msg, request=request, sent=True, phase="read")


def total_timeout_error(
    request: Request, total: float | None, *, sent: bool, pool_wait_included: bool
) -> HTTPTimeoutError:
    """httpdeck's own total deadline (`TimeoutConfig.total`) ran out."""
    counted = "included" if pool_wait_included else "not included"
    msg = (
        f"{describe(request)} did not complete within its total timeout of "
        f"{total}s (the wait for a pool slot {counted}); raise "
        "TimeoutConfig.total or pass timeout=... for this request."
    )
    return HTTPTimeoutError(msg, request=request, sent=sent, phase="total")


def dns_error(request: Request, os_error: BaseException) -> HTTPConnectionError:
    """The host name did not resolve: nothing was sent."""
    msg = f"DNS lookup failed for {request.url.host!r} ({describe(request)}): {os_error}."
    return HTTPConnectionError(msg, request=request, sent=False)


def tls_error(request: Request, detail: object) -> HTTPConnectionError:
    """The TLS handshake failed (a certificate, a protocol mismatch): nothing was sent."""
    msg = f"TLS handshake failed for {describe(request)}: {detail}."
    return HTTPConnectionError(msg, request=request, sent=False)


def cannot_connect_error(request: Request, os_error: OSError) -> HTTPConnectionError:
    """The TCP connection failed (refused, unreachable): nothing was sent."""
    # asyncio words a refusal "Connect call failed"; say what the OS said.
    errno = os_error.errno
    reason = f"{os.strerror(errno)} [Errno {errno}]" if errno else str(os_error)
    msg = (
        f"Cannot connect to {request.url.host}:{request.url.port} for {describe(request)}: "
        f"{reason}. Check that the server is up and listening on that host and port."
    )
    return HTTPConnectionError(msg, request=request, sent=False)


def disconnected_error(request: Request) -> HTTPConnectionError:
    """The server closed the connection after the request went out, before a response."""
    msg = f"The server closed the connection before answering {describe(request)}."
    return HTTPConnectionError(msg, request=request, sent=True)


def body_error(request: Request, detail: object) -> HTTPProtocolError:
    """The response body ended early or broke the framing."""
    msg = f"The response body of {describe(request)} was cut short or malformed: {detail}."
    return HTTPProtocolError(msg, request=request, sent=True)
