"""Network blocking for tests (`--httpdeck-block-network`).

Two layers, both active only while a test runs:

- httpdeck's own client: a check on the transports' `connect_guard`
  seam (`_transports._common`), before a transport resolves or connects, that raises the client's own
  `HTTPConnectionError` naming the request and how to allow the host.
- httpx (when loaded): httpcore's network backends are checked before they
  connect, and refuse with `httpcore.ConnectError` carrying the message, which
  httpx raises as `httpx.ConnectError`. Without this, anyio folds the socket
  layer's refusal into "All connection attempts failed" and the message is
  lost. Mocked httpx requests (respx, pytest-httpx) never reach a backend.
- everything else (aiohttp, requests, raw asyncio streams): `socket.socket.connect`
  and `connect_ex` are wrapped, and refuse with `NetworkBlockedError`, a
  `PermissionError` (what a firewall's EPERM looks like), which libraries
  turn into their own connection errors with our message inside
  (aiohttp's `ClientConnectorError`, urllib3's `NewConnectionError`).

Hosts are compared by name and by address: allowing `localhost` allows
127.0.0.1 and ::1 (whatever localhost resolves to), and allowing 127.0.0.1
allows a request to `http://localhost/`. Unix sockets are never blocked.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from httpdeck.client import Request

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

HOW_TO_ALLOW = (
    "To let the test reach it, add the host to --httpdeck-allow-hosts (ini: httpdeck_allow_hosts) "
    "or mark the test @pytest.mark.httpdeck_block_network(allow_hosts=[...]); to test without "
    "the network, record a cassette once (the httpdeck_cassette fixture with "
    "--httpdeck-record-mode=once) and replay it."
)


class NetworkBlockedError(PermissionError):
    """A connection refused by `--httpdeck-block-network` (raised by raw sockets)."""

    def __init__(self, message: str, *, host: str, port: int | None) -> None:
        super().__init__(errno.EPERM, message)
        self.message = message
        self.host = host
        self.port = port

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class BlockedAttempt:
    """A connection the guard refused: where to, and through which layer."""

    host: str
    port: int | None
    layer: str  # "httpdeck", "httpx" or "socket"

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.port is not None else host


def to_ip(host: str) -> IPAddress | None:
    """The address `host` spells, IPv4-mapped IPv6 folded to IPv4; None for a name."""
    try:
        ip = ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def resolve(host: str) -> set[IPAddress]:
    """Every address `host` resolves to (the system resolver, /etc/hosts included)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return set()
    found = {to_ip(str(info[4][0])) for info in infos}
    return {ip for ip in found if ip is not None}


class HostPolicy:
    """Which (host, port) pairs a test may connect to.

    An entry is a name or an address, with an optional port (None: any port).
    Names are resolved once, on first use, so that their addresses are
    allowed too.
    """

    def __init__(self, entries: Iterable[tuple[str, int | None]] = ()) -> None:
        self._names: dict[str, set[int | None]] = {}
        self._addresses: dict[IPAddress, set[int | None]] = {}
        self._unresolved: list[str] = []
        self._lock = threading.Lock()
        self._labels: list[str] = []
        for host, port in entries:
            self.add(host, port)

    def add(self, host: str, port: int | None = None) -> None:
        host = host.lower().rstrip(".")
        self._labels.append(f"{host}:{port}" if port is not None else host)
        ip = to_ip(host)
        if ip is not None:
            self._addresses.setdefault(ip, set()).add(port)
            return
        ports = self._names.setdefault(host, set())
        ports.add(port)
        self._unresolved.append(host)

    def describe(self) -> str:
        return ", ".join(dict.fromkeys(self._labels)) or "no hosts"

    def _resolve_names(self) -> None:
        with self._lock:
            pending, self._unresolved = self._unresolved, []
        for name in pending:
            for ip in resolve(name):
                self._addresses.setdefault(ip, set()).update(self._names[name])

    @staticmethod
    def _port_ok(ports: set[int | None] | None, port: int | None) -> bool:
        return ports is not None and (None in ports or port in ports)

    def allows_name(self, host: str, port: int | None) -> bool:
        return self._port_ok(self._names.get(host.lower().rstrip(".")), port)

    def allows_ip(self, ip: IPAddress, port: int | None) -> bool:
        if self._unresolved:
            self._resolve_names()
        return self._port_ok(self._addresses.get(ip), port)

    def allows(self, host: str, port: int | None) -> bool:
        """By name, else by the address `host` is or resolves to (any of them)."""
        if self.allows_name(host, port):
            return True
        ip = to_ip(host)
        addresses = {ip} if ip is not None else resolve(host)
        return any(self.allows_ip(address, port) for address in addresses)


def blocked_message(target: str, host: str, policy: HostPolicy) -> str:
    return (
        f"httpdeck blocked {target}: the network is blocked for this test "
        f"(--httpdeck-block-network) and {host} is not an allowed host "
        f"(allowed: {policy.describe()}). {HOW_TO_ALLOW}"
    )


_RealConnect = Callable[[socket.socket, Any], Any]


class NetworkGuard:
    """Blocks connections to hosts outside `policy` while active (`with guard.active():`).

    `on_block` hears of every refused attempt (the plugin lists them in its
    summary, so a blocked call that the code under test swallowed still shows).
    """

    def __init__(
        self, policy: HostPolicy, *, on_block: Callable[[BlockedAttempt], None] | None = None
    ) -> None:
        self.policy = policy
        self.on_block = on_block
        self.blocked: list[BlockedAttempt] = []

    def _refuse(self, attempt: BlockedAttempt) -> None:
        self.blocked.append(attempt)
        if self.on_block is not None:
            self.on_block(attempt)

    # -- httpdeck's client ---------------------------------------------------

    async def check_request(self, request: Request, proxy: str | None) -> None:
        """The `connect_guard` seam: raise `HTTPConnectionError` for a blocked host."""
        from yarl import URL

        from httpdeck.client import HTTPConnectionError

        target = URL(proxy) if proxy is not None else request.url
        host, port = target.host or "", target.port
        if await self._allows(host, port):
            return
        self._refuse(BlockedAttempt(host, port, "httpdeck"))
        what = f"{request.method} {request.url}" + (f" (through proxy {proxy})" if proxy else "")
        message = blocked_message(what, host, self.policy)
        raise HTTPConnectionError(message, request=request, sent=False)

    async def _allows(self, host: str, port: int | None) -> bool:
        # As HostPolicy.allows, with the name lookup off the event loop.
        policy = self.policy
        if policy.allows_name(host, port):
            return True
        ip = to_ip(host)
        if ip is not None:
            return policy.allows_ip(ip, port)
        loop = asyncio.get_running_loop()
        addresses = await loop.run_in_executor(None, resolve, host)
        return any(policy.allows_ip(address, port) for address in addresses)

    # -- httpx (httpcore's network backends) ------------------------------------

    def _httpx_refusal(self, host: str, port: int, httpcore: Any) -> BaseException:
        self._refuse(BlockedAttempt(host, port, "httpx"))
        message = blocked_message(f"a connection to {host}:{port} (httpx)", host, self.policy)
        error: BaseException = httpcore.ConnectError(message)
        return error

    @contextmanager
    def _httpx_backends(self) -> Iterator[None]:
        """Check httpcore's backends before they connect, if httpx is loaded."""
        if "httpx" not in sys.modules:  # a test that uses httpx imported it at collection
            yield
            return
        import httpcore  # httpx imports it lazily, on its first transport
        from httpcore._backends.auto import AutoBackend
        from httpcore._backends.sync import SyncBackend

        guard = self
        real_async = AutoBackend.connect_tcp
        real_sync = SyncBackend.connect_tcp

        async def connect_async(backend: Any, host: str, port: int, *args: Any, **kw: Any) -> Any:
            if not await guard._allows(host, port):
                raise guard._httpx_refusal(host, port, httpcore)
            return await real_async(backend, host, port, *args, **kw)

        def connect_sync(backend: Any, host: str, port: int, *args: Any, **kw: Any) -> Any:
            if not guard.policy.allows(host, port):
                raise guard._httpx_refusal(host, port, httpcore)
            return real_sync(backend, host, port, *args, **kw)

        AutoBackend.connect_tcp = connect_async  # type: ignore[method-assign,assignment]
        SyncBackend.connect_tcp = connect_sync  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            AutoBackend.connect_tcp = real_async  # type: ignore[method-assign]
            SyncBackend.connect_tcp = real_sync  # type: ignore[method-assign]

    # -- raw sockets -------------------------------------------------------------

    def check_address(self, sock: socket.socket, address: Any) -> None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return
        if not isinstance(address, tuple) or len(address) < 2:
            return
        host, port = str(address[0]), int(address[1])
        if self.policy.allows(host, port):
            return
        attempt = BlockedAttempt(host, port, "socket")
        self._refuse(attempt)
        message = blocked_message(f"a connection to {attempt}", host, self.policy)
        raise NetworkBlockedError(message, host=host, port=port)

    @contextmanager
    def active(self) -> Iterator[NetworkGuard]:
        """Install both layers for the duration of the block; restore them after."""
        from httpdeck.client._seam import set_connect_guard

        saved = {name: socket.socket.__dict__.get(name) for name in ("connect", "connect_ex")}
        real_connect: _RealConnect = socket.socket.connect
        real_connect_ex: _RealConnect = socket.socket.connect_ex
        guard = self
        bypass = threading.local()

        def connect(sock: socket.socket, address: Any) -> Any:
            if not getattr(bypass, "on", False):
                guard.check_address(sock, address)
            return real_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> Any:
            if not getattr(bypass, "on", False):
                guard.check_address(sock, address)
            return real_connect_ex(sock, address)

        real_socketpair = socket.socketpair

        def socketpair(*args: Any, **kwargs: Any) -> Any:
            # Windows builds socketpair() from a loopback TCP connection, and
            # asyncio needs one per event loop: never block it.
            bypass.on = True
            try:
                return real_socketpair(*args, **kwargs)
            finally:
                bypass.on = False

        socket.socket.connect = connect  # type: ignore[method-assign,assignment]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
        if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
            socket.socketpair = socketpair
        previous_guard = set_connect_guard(self.check_request)
        try:
            with self._httpx_backends():
                yield self
        finally:
            set_connect_guard(previous_guard)
            socket.socketpair = real_socketpair
            for name, value in saved.items():
                if value is None:
                    delattr(socket.socket, name)
                else:
                    setattr(socket.socket, name, value)
