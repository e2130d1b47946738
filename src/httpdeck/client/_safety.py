"""The URL safety gate: refuse private, loopback and reserved addresses.

Turned on with `HTTPClientConfig(url_safety=True)`. The checks here are pure
functions; the aiohttp transport applies them where it cannot be fooled:

- a literal IP in the URL (in any spelling: `2130706433`, `0x7f.1`,
  `[::ffff:127.0.0.1]`) is checked before the request is sent;
- a host name is checked when it is resolved, and the addresses that were
  checked are the very ones the connection is made to (the transport's
  resolver hands them to aiohttp itself), so a DNS answer that changes
  between check and connect (DNS rebinding) cannot slip through;
- every redirect hop goes through the transport again, so each is checked,
  in `request()`, `stream()` and `sse()` alike.

With a proxy, the proxy resolves the target host: literal IPs are still
refused, host names are checked by a separate lookup that cannot be pinned.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from httpdeck.client._exceptions import HTTPValidationError

if TYPE_CHECKING:
    from httpdeck.client._models import Request

__all__ = ["HTTPUnsafeURLError", "URLSafety", "UnsafeAddressError", "parse_ip"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_BLOCKED: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "'this network'"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared address space (carrier-grade NAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation (TEST-NET-1)"),
    ("192.88.99.0/24", "6to4 relay anycast"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "IPv4-compatible (deprecated)"),
    ("::ffff:0:0/96", "IPv4-mapped"),
    ("64:ff9b::/96", "NAT64"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("2001::/23", "IETF protocol assignments (Teredo, ...)"),
    ("2001:db8::/32", "documentation"),
    ("2002::/16", "6to4"),
    ("fc00::/7", "unique local (private)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local (deprecated)"),
    ("ff00::/8", "multicast"),
)
_NETWORKS = [(ipaddress.ip_network(net), f"{reason} ({net})") for net, reason in _BLOCKED]
_NUMERIC_CHARS = frozenset("0123456789abcdefxABCDEFX.")


class UnsafeAddressError(Exception):
    """Raised below the transport when a host resolves to a blocked address."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        super().__init__(f"{host} -> {address}: {reason}")
        self.host = host
        self.address = address
        self.reason = reason


class HTTPUnsafeURLError(HTTPValidationError):
    """The URL safety gate refused a request (or a redirect hop) before any
    connection was made: its host is, or resolves to, a private, loopback,
    link-local or reserved address. `host`, `address` and `reason` say which.

    A runtime outcome (the address comes from DNS, or from a redirect the
    server sent), so the verb methods return it as `Err`; `request()` raises it.
    """

    raised_by_verbs: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        request: Request | None = None,
        host: str,
        address: str,
        reason: str,
    ) -> None:
        super().__init__(message, request=request)
        self.host = host
        self.address = address
        self.reason = reason


def parse_ip(host: str) -> IPAddress | None:
    """The address `host` spells, in any form a resolver would accept, else None.

    Handles brackets and zone IDs (`[fe80::1%eth0]`) and the legacy IPv4
    spellings `inet_aton` accepts: `2130706433`, `0x7f000001`, `0177.0.0.1`,
    `127.1`.

    >>> parse_ip("0x7f.1")
    IPv4Address('127.0.0.1')
    """
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if text and set(text) <= _NUMERIC_CHARS and text[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


class URLSafety:
    """The block list, with optional exceptions.

    `allow` names networks to let through despite the block list (an
    internal service range, or 127.0.0.1 in a test), e.g.
    `URLSafety(allow=["10.20.0.0/16"])`.
    """

    __slots__ = ("_allow",)

    def __init__(self, *, allow: Iterable[str] = ()) -> None:
        self._allow = [ipaddress.ip_network(net) for net in allow]

    def blocked_reason(self, address: str | IPAddress) -> str | None:
        """Why `address` is refused ("loopback (127.0.0.0/8)"), or None if allowed."""
        ip = address if not isinstance(address, str) else parse_ip(address)
        if ip is None:
            return f"{address!r} is not an IP address"
        if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        for network in self._allow:
            if ip.version == network.version and ip in network:
                return None
        for network, reason in _NETWORKS:
            if ip.version == network.version and ip in network:
                return reason
        return None

    def check_host(self, host: str) -> None:
        """Refuse a host that is itself a blocked address; names pass (checked
        when resolved), except `localhost` and names under `.localhost`."""
        lowered = host.lower().rstrip(".")
        if lowered == "localhost" or lowered.endswith(".localhost"):
            if (reason := self.blocked_reason("127.0.0.1")) is not None:
                raise UnsafeAddressError(host, "127.0.0.1", f"localhost, always {reason}")
            return
        ip = parse_ip(host)
        if ip is not None and (reason := self.blocked_reason(ip)) is not None:
            raise UnsafeAddressError(host, str(ip), reason)

    def check_addresses(self, host: str, addresses: Iterable[str]) -> None:
        """Refuse the whole answer if any address in it is blocked (fail closed)."""
        for address in addresses:
            if (reason := self.blocked_reason(address)) is not None:
                raise UnsafeAddressError(host, address, reason)
