"""Rules every real transport applies the same way, whatever library sends.

- `connect_guard` / `set_connect_guard`: the hook test tooling uses to
  block the network.
- `check_safety` / `unsafe_error`: the URL safety gate's check before a
  proxied request, and the error it raises.
- `declared_too_large` / `too_large_error`: `max_response_bytes`, counted
  after decompression.
- `..._error`: each transport error, worded once, so a failure reads the
  same whichever transport met it (and an injected fault reads like both).
  These constructors are the only way httpdeck makes a transport error: the
  fake (`FakeError`) and the fault catalog build theirs here too (through
  `httpdeck.client._seam`), never from a transport library's exceptions.

Only error paths call into here, except the `connect_guard` check, so the
hot path of the aiohttp transport pays one attribute lookup.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Awaitable, Callable

from httpdeck.client._exceptions import (
    HTTPConnectionError,
    HTTPPoolTimeoutError,
    HTTPProtocolError,
    HTTPTimeoutError,
    TimeoutPhase,
    describe,
)
from httpdeck.client._models import Request
from httpdeck.client._safety import HTTPUnsafeURLError, UnsafeAddressError
from httpdeck.client._timeouts import EffectiveTimeouts
from httpdeck.client._transports._connector import DNSCache

# A seam for test tooling, never set by the client itself: httpdeck.testing's
# network blocking (`--httpdeck-block-network`) installs an async check here that
# raises HTTPConnectionError before any connection is made (or any DNS lookup) to
# a host the test may not contact. Every real transport calls it first, with the
# request and the proxy URL that would be used, if any.
ConnectGuard = Callable[[Request, str | None], Awaitable[None]]
connect_guard: ConnectGuard | None = None


def set_connect_guard(guard: ConnectGuard | None) -> ConnectGuard | None:
    """Install `guard` (None: remove it) and return the one it replaces."""
    global connect_guard
    previous, connect_guard = connect_guard, guard
    return previous


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


def _of(seconds: float | None) -> str:
    # A limit the caller does not know (a fake's canned error) is not named.
    return "" if seconds is None else f" of {seconds}s"


def pool_timeout_error(
    request: Request, pool_timeout: float | None, max_connections: int | None
) -> HTTPPoolTimeoutError:
    """The error for a request that found no free connection in time."""
    busy = (
        "all connections" if max_connections is None else f"all max_connections={max_connections}"
    )
    msg = (
        f"No connection became free for {describe(request)} within the pool timeout"
        f"{_of(pool_timeout)}: {busy} were busy. Raise "
        "ConnectionPoolConfig.max_connections or TimeoutConfig.pool."
    )
    return HTTPPoolTimeoutError(msg, request=request)


def write_timeout_error(request: Request, timeout: float | None) -> HTTPTimeoutError:
    """The error for a peer that stopped accepting the request body."""
    msg = (
        f"{describe(request)}: the server accepted no part of a body chunk within "
        f"the write timeout{_of(timeout)}; raise TimeoutConfig.write."
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
    request: Request, total: float | None, *, sent: bool, pool_wait_included: bool | None
) -> HTTPTimeoutError:
    """httpdeck's own total deadline (`TimeoutConfig.total`) ran out.

    `pool_wait_included`: whether the transport counts the wait for a pool
    slot in the total (aiohttp's does not, httpx's does; a transport's
    `pool_wait_in_total`); None for one without a pool (the fake), and the
    message leaves it out.
    """
    counted = (
        ""
        if pool_wait_included is None
        else f" (the wait for a pool slot {'included' if pool_wait_included else 'not included'})"
    )
    msg = (
        f"{describe(request)} did not complete within its total timeout{_of(total)}"
        f"{counted}; raise TimeoutConfig.total or pass timeout=... for this request."
    )
    return HTTPTimeoutError(msg, request=request, sent=sent, phase="total")


def timeout_error(
    request: Request,
    phase: TimeoutPhase,
    *,
    sent: bool | None = None,
    limits: EffectiveTimeouts | None = None,
    max_connections: int | None = None,
    pool_wait_included: bool | None = None,
) -> HTTPTimeoutError:
    """The timeout error of `phase`, as a transport raises it: the one entry
    point for code that fakes a timeout (`FakeError.timeout`, the fault
    catalog). `limits` names the configured limits in the message; `sent`
    overrides the phase's own (False for connect and pool, else True)."""
    if phase == "connect":
        error: HTTPTimeoutError = connect_timeout_error(request)
    elif phase == "pool":
        wait = None if limits is None else limits.pool_wait
        error = pool_timeout_error(request, wait, max_connections)
    elif phase == "read":
        error = read_timeout_error(request)
    elif phase == "write":
        error = write_timeout_error(request, None if limits is None else limits.write)
    else:
        total = None if limits is None else limits.total
        error = total_timeout_error(
            request, total, sent=True, pool_wait_included=pool_wait_included
        )
    if sent is not None:
        error.sent = sent
    return error


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


def connection_reset_error(
    request: Request, *, sent: bool, os_error: OSError | None = None
) -> HTTPConnectionError:
    """The peer reset the connection (TCP RST): while connecting (`sent=False`,
    worded as `cannot_connect_error`) or after the request went out."""
    if os_error is None:
        os_error = ConnectionResetError(errno.ECONNRESET, os.strerror(errno.ECONNRESET))
    if not sent:
        return cannot_connect_error(request, os_error)
    msg = f"The server reset the connection after {describe(request)} went out ({os_error})."
    return HTTPConnectionError(msg, request=request, sent=True)


def disconnected_error(request: Request) -> HTTPConnectionError:
    """The server closed the connection after the request went out, before a response."""
    msg = f"The server closed the connection before answering {describe(request)}."
    return HTTPConnectionError(msg, request=request, sent=True)


def malformed_response_error(
    request: Request, detail: object, *, sent: bool = True
) -> HTTPProtocolError:
    """The response head (or what follows a body) could not be parsed."""
    msg = f"The server sent a malformed response to {describe(request)}: {detail}."
    return HTTPProtocolError(msg, request=request, sent=sent)


def body_error(request: Request, detail: object) -> HTTPProtocolError:
    """The response body ended early or broke the framing."""
    msg = f"The response body of {describe(request)} was cut short or malformed: {detail}."
    return HTTPProtocolError(msg, request=request, sent=True)
