"""A loopback TCP proxy with toxiproxy's toxics, on asyncio streams.

Put it between the real client and a real local server to meet real broken
sockets: resets, black holes, slow links, cut-off bodies. Toxic names,
attributes and units are toxiproxy's (https://github.com/Shopify/toxiproxy):

| toxic | attributes | effect |
|---|---|---|
| `latency` | `latency`, `jitter` (ms) | delays every chunk |
| `bandwidth` | `rate` (KB/s) | caps throughput |
| `slow_close` | `delay` (ms) | delays the close once the sender has closed |
| `timeout` | `timeout` (ms) | drops all data; closes after `timeout` ms of it (0: never) |
| `reset_peer` | `timeout` (ms) | on data, waits `timeout` ms, then sends a TCP RST |
| `slicer` | `average_size`, `size_variation` (bytes), `delay` (µs) | splits data into small writes |
| `limit_data` | `bytes` | closes the connection once that many bytes passed |

Every toxic has a `stream` ("downstream": server to client, the default;
"upstream": client to server) and a `toxicity` (the share of connections
it applies to, decided per connection from the proxy's seed). Toxics can be
added, updated and removed while connections are open, and the proxy can
be disabled (connections dropped, port closed) and enabled again. It only
listens on, and only connects to, 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import random
import socket
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

from yarl import URL

from httpdeck.testing._seeds import CHAOS_PROXY, default_seed, derive_seed

__all__ = ["ChaosProxy", "ProxyEvent", "Toxic"]

Stream = Literal["upstream", "downstream"]
_CHUNK = 65536

TOXICS: dict[str, dict[str, float]] = {
    "latency": {"latency": 0, "jitter": 0},
    "bandwidth": {"rate": 0},
    "slow_close": {"delay": 0},
    "timeout": {"timeout": 0},
    "reset_peer": {"timeout": 0},
    "slicer": {"average_size": 0, "size_variation": 0, "delay": 0},
    "limit_data": {"bytes": 0},
}


@dataclass(frozen=True, slots=True)
class Toxic:
    """A toxic as toxiproxy describes it: name, type, stream, toxicity, attributes."""

    name: str
    type: str
    stream: Stream = "downstream"
    toxicity: float = 1.0
    attributes: Mapping[str, float] = field(default_factory=dict)

    def __getitem__(self, attribute: str) -> float:
        return self.attributes[attribute]


@dataclass(frozen=True, slots=True)
class ProxyEvent:
    """Something a toxic did to a connection, `at` seconds after the proxy started.

    `action` is one of: delay, throttle, slice, drop, timeout_close, reset,
    limit_close, slow_close.
    """

    at: float
    connection: int
    toxic: str
    action: str
    stream: Stream
    detail: float = 0.0


def _toxic(
    type_: str, name: str, stream: str, toxicity: float, attributes: Mapping[str, float]
) -> Toxic:
    known = TOXICS.get(type_)
    if known is None:
        msg = f"Unknown toxic type {type_!r}; toxiproxy's types are: {', '.join(TOXICS)}."
        raise ValueError(msg)
    unknown = sorted(set(attributes) - set(known))
    if unknown:
        msg = f"Toxic {type_!r} has no attribute {unknown[0]!r}; its attributes are: {', '.join(known)}."
        raise ValueError(msg)
    if stream not in ("upstream", "downstream"):
        msg = f'A toxic stream is "upstream" or "downstream", got {stream!r}.'
        raise ValueError(msg)
    if not 0.0 <= toxicity <= 1.0:
        msg = f"Toxicity is the share of connections affected, 0 to 1; got {toxicity!r}."
        raise ValueError(msg)
    values = {**known, **attributes}
    bad = [
        k
        for k, v in values.items()
        if isinstance(v, bool) or not isinstance(v, int | float) or v < 0
    ]
    if bad:
        msg = f"Toxic {type_!r} attribute {bad[0]!r} must be a number >= 0, got {values[bad[0]]!r}."
        raise ValueError(msg)
    if type_ == "bandwidth" and values["rate"] <= 0:
        msg = "The bandwidth toxic needs rate > 0 (KB/s); remove the toxic to lift the limit."
        raise ValueError(msg)
    return Toxic(name, type_, stream, toxicity, values)  # type: ignore[arg-type]


def _loopback(host: str) -> str:
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or address.version != 4 or not address.is_loopback:
        msg = f"ChaosProxy only connects to 127.0.0.1 (loopback), not {host!r}."
        raise ValueError(msg)
    return host


class _Connection:
    __slots__ = ("client", "closed", "id", "passed", "rng", "upstream", "verdicts")

    def __init__(
        self, conn_id: int, client: asyncio.StreamWriter, upstream: asyncio.StreamWriter, seed: int
    ) -> None:
        self.id = conn_id
        self.client = client
        self.upstream = upstream
        self.passed: dict[str, int] = {}
        self.verdicts: dict[str, bool] = {}
        self.rng = random.Random(derive_seed(seed, conn_id))
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.client.close()
            self.upstream.close()

    def reset(self) -> None:
        """Abort with SO_LINGER 0, so the client gets a TCP RST."""
        if not self.closed:
            self.closed = True
            sock = self.client.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.client.transport.abort()
            self.upstream.transport.abort()


class ChaosProxy:
    """A toxiproxy-style TCP proxy on 127.0.0.1 in front of a local server.

    ```python
    async with ChaosProxy(server_url) as proxy:
        proxy.add_toxic("reset_peer", timeout=0)
        result = await client.get(proxy.url / "orders")
        proxy.remove_toxic("reset_peer_downstream")
    ```
    `log` records what each toxic did to which connection; `connections`
    counts the connections accepted (one per client attempt that opened a
    new connection).
    """

    def __init__(
        self, upstream: str | URL | tuple[str, int], *, seed: int | None = None, name: str = "proxy"
    ) -> None:
        if isinstance(upstream, tuple):
            host, port = upstream
        else:
            url = URL(upstream) if isinstance(upstream, str) else upstream
            host, port = url.host or "", url.port or 80
        self.upstream = (_loopback(host), port)
        self.name = name
        self.seed = default_seed(CHAOS_PROXY) if seed is None else seed
        self.log: list[ProxyEvent] = []
        self.connections = 0
        self.port = 0
        self._toxics: dict[str, Toxic] = {}
        self._server: asyncio.Server | None = None
        self._open: set[_Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed: asyncio.Future[None] | None = None
        self._started = 0.0

    # -- lifecycle -----------------------------------------------------------

    @property
    def url(self) -> URL:
        """`http://127.0.0.1:<port>`, the address clients should use."""
        if not self.port:
            msg = "The chaos proxy is not started: use `async with ChaosProxy(...)` first."
            raise RuntimeError(msg)
        return URL.build(scheme="http", host="127.0.0.1", port=self.port)

    @property
    def enabled(self) -> bool:
        """True while the proxy listens: after `start()` or `enable()`, until `disable()`."""
        return self._server is not None

    @property
    def active(self) -> int:
        """Connections open through the proxy right now."""
        return len(self._open)

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1 (read it from `url` or `port`).

        `async with ChaosProxy(...)` calls it, and `stop()` on the way out.
        """
        loop = asyncio.get_running_loop()
        self._started = loop.time()
        self._changed = loop.create_future()
        await self.enable()

    async def enable(self) -> None:
        """Listen again (on the same port); new connections go through."""
        if self._server is None:
            self._server = await asyncio.start_server(
                self._accept, "127.0.0.1", self.port, reuse_address=True
            )
            self.port = self._server.sockets[0].getsockname()[1]

    async def disable(self) -> None:
        """Stop listening and drop every open connection (clients see refused
        connections until `enable()`), as toxiproxy's `enabled=false`."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for conn in list(self._open):
            conn.close()
        await self._drain_tasks()
        if server is not None:
            await server.wait_closed()

    async def stop(self) -> None:
        """Stop listening and drop every open connection (the same as `disable()`)."""
        await self.disable()

    async def _drain_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- toxics --------------------------------------------------------------

    @property
    def toxics(self) -> list[Toxic]:
        """The toxics in place now, in the order they were added."""
        return list(self._toxics.values())

    def add_toxic(
        self,
        type: str,
        *,
        name: str | None = None,
        stream: Stream = "downstream",
        toxicity: float = 1.0,
        **attributes: float,
    ) -> Toxic:
        """Add a toxic; the name defaults to toxiproxy's `<type>_<stream>`.
        Applies to open connections from their next chunk on."""
        toxic_name = name or f"{type}_{stream}"
        if toxic_name in self._toxics:
            msg = f"Toxic {toxic_name!r} exists already; update_toxic() it or pass another name=."
            raise ValueError(msg)
        toxic = _toxic(type, toxic_name, stream, toxicity, attributes)
        self._toxics[toxic_name] = toxic
        self._notify()
        return toxic

    def update_toxic(
        self, name: str, *, toxicity: float | None = None, **attributes: float
    ) -> Toxic:
        """Change the toxicity or some attributes of the toxic `name`; the rest is kept.

        Applies to open connections from their next chunk on. Raises
        `KeyError` for an unknown name and `ValueError` for an attribute the
        toxic's type does not have or a bad value.
        """
        old = self._get(name)
        toxic = _toxic(
            old.type,
            name,
            old.stream,
            old.toxicity if toxicity is None else toxicity,
            {**old.attributes, **attributes},
        )
        self._toxics[name] = toxic
        self._notify()
        return toxic

    def remove_toxic(self, name: str) -> None:
        """Remove the toxic `name`, from open connections too; `KeyError` if there is none."""
        self._get(name)
        del self._toxics[name]
        self._notify()

    def reset(self) -> None:
        """Remove every toxic (toxiproxy's `/reset`, minus re-enabling)."""
        self._toxics.clear()
        self._notify()

    def _get(self, name: str) -> Toxic:
        toxic = self._toxics.get(name)
        if toxic is None:
            known = ", ".join(self._toxics) or "none"
            msg = f"No toxic named {name!r} on {self.name} (toxics: {known})."
            raise KeyError(msg)
        return toxic

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set_result(None)
            self._changed = asyncio.get_running_loop().create_future()

    def _applies(self, conn: _Connection, toxic: Toxic) -> bool:
        verdict = conn.verdicts.get(toxic.name)
        if verdict is None:
            draw = derive_seed(self.seed, toxic.name, conn.id) / 2.0**64
            verdict = conn.verdicts[toxic.name] = draw < toxic.toxicity
        return verdict

    def _active(self, conn: _Connection, stream: Stream) -> list[Toxic]:
        return [t for t in self._toxics.values() if t.stream == stream and self._applies(conn, t)]

    def _event(self, conn: _Connection, toxic: Toxic, action: str, detail: float = 0.0) -> None:
        at = asyncio.get_running_loop().time() - self._started
        self.log.append(ProxyEvent(at, conn.id, toxic.name, action, toxic.stream, detail))

    # -- the pipes -----------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        conn_id = self.connections
        try:
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            except OSError:
                writer.close()
                return
            conn = _Connection(conn_id, writer, up_writer, self.seed)
            self._open.add(conn)
            try:
                await asyncio.gather(
                    self._pipe(conn, "upstream", reader, up_writer),
                    self._pipe(conn, "downstream", up_reader, writer),
                )
            finally:
                self._open.discard(conn)
                conn.close()
        except asyncio.CancelledError:
            writer.close()
        finally:
            self._tasks.discard(task)

    async def _pipe(
        self,
        conn: _Connection,
        stream: Stream,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        read: asyncio.Task[bytes] | None = None
        try:
            while not conn.closed:
                if read is None:
                    read = asyncio.ensure_future(reader.read(_CHUNK))
                changed = self._changed
                assert changed is not None
                hold = next((t for t in self._active(conn, stream) if t.type == "timeout"), None)
                wait = hold["timeout"] / 1000 if hold is not None and hold["timeout"] else None
                waiters: set[asyncio.Future[Any]] = {read, changed}
                done, _ = await asyncio.wait(
                    waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED
                )
                if read not in done:
                    if changed in done:
                        continue
                    assert hold is not None
                    self._event(conn, hold, "timeout_close")
                    conn.close()
                    return
                data, read = read.result(), None
                if not data:
                    await self._closing(conn, stream)
                    return
                await self._forward(conn, stream, data, writer)
        except (ConnectionError, OSError):
            conn.close()
        finally:
            if read is not None:
                read.cancel()

    async def _closing(self, conn: _Connection, stream: Stream) -> None:
        if conn.closed:
            return
        for toxic in self._active(conn, stream):
            if toxic.type == "slow_close":
                self._event(conn, toxic, "slow_close", toxic["delay"])
                await asyncio.sleep(toxic["delay"] / 1000)
        conn.close()

    async def _forward(
        self, conn: _Connection, stream: Stream, data: bytes, writer: asyncio.StreamWriter
    ) -> None:
        pieces = [data]
        gap = 0.0
        rate = 0.0
        for toxic in self._active(conn, stream):
            kind = toxic.type
            if kind == "timeout":
                self._event(conn, toxic, "drop", len(data))
                return
            if kind == "reset_peer":
                self._event(conn, toxic, "reset", toxic["timeout"])
                await asyncio.sleep(toxic["timeout"] / 1000)
                conn.reset()
                return
            if kind == "latency":
                jitter = toxic["jitter"]
                delay = max(0.0, toxic["latency"] + conn.rng.uniform(-jitter, jitter))
                self._event(conn, toxic, "delay", delay)
                await asyncio.sleep(delay / 1000)
            elif kind == "limit_data":
                passed = conn.passed.get(toxic.name, 0)
                room = int(toxic["bytes"]) - passed
                if sum(map(len, pieces)) >= room:
                    pieces = _cut(pieces, room)
                    await _write(writer, pieces)
                    self._event(conn, toxic, "limit_close", toxic["bytes"])
                    conn.close()
                    return
                conn.passed[toxic.name] = passed + sum(map(len, pieces))
            elif kind == "slicer":
                pieces = _slice(pieces, toxic, conn.rng)
                gap = toxic["delay"] / 1_000_000
                self._event(conn, toxic, "slice", len(pieces))
            elif kind == "bandwidth":
                rate = toxic["rate"] * 1000
                self._event(conn, toxic, "throttle", sum(map(len, pieces)))
        for index, piece in enumerate(pieces):
            if index and gap:
                await asyncio.sleep(gap)
            if rate:
                await asyncio.sleep(len(piece) / rate)
            writer.write(piece)
            await writer.drain()


def _cut(pieces: list[bytes], room: int) -> list[bytes]:
    kept: list[bytes] = []
    for piece in pieces:
        if room <= 0:
            break
        kept.append(piece[:room])
        room -= len(piece)
    return kept


def _slice(pieces: list[bytes], toxic: Toxic, rng: random.Random) -> list[bytes]:
    average = int(toxic["average_size"])
    variation = int(toxic["size_variation"])
    if average <= 0:
        return pieces
    out: list[bytes] = []
    for piece in pieces:
        start = 0
        while start < len(piece):
            size = max(1, average + (rng.randint(-variation, variation) if variation else 0))
            out.append(piece[start : start + size])
            start += size
    return out


async def _write(writer: asyncio.StreamWriter, pieces: list[bytes]) -> None:
    for piece in pieces:
        writer.write(piece)
    with contextlib.suppress(ConnectionError):
        await writer.drain()
