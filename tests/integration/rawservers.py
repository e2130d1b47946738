"""Raw HTTP/1.1 socket servers that misbehave on purpose.

Each server listens on 127.0.0.1:0 (a free port) with `asyncio.start_server`
and runs one *behaviour* per connection: a coroutine taking a
`RawConnection`. The behaviours below cover what real peers do to clients:
resets, truncated bodies, stalls, trickling, and keep-alive connections
closed behind the client's back. The server counts what it saw
(`connections`, `requests`, `bytes_received`), so a test can check exactly
how many attempts reached the wire.

```python
async with RawServer(reset_on_reuse()) as server:
    await client.get(server.url / "x")
    assert len(server.requests) == 1
```

Write new behaviours as plain coroutines:

```python
async def teapot(conn: RawConnection) -> None:
    while await conn.read_request() is not None:
        await conn.respond(418, b"short and stout")
```
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from yarl import URL

__all__ = [
    "Behaviour",
    "QuickServer",
    "RawConnection",
    "RawRequest",
    "RawServer",
    "close_after_response",
    "close_on_reuse",
    "close_when_idle",
    "echo_head",
    "keep_alive",
    "record_bytes",
    "reset_after_request",
    "reset_immediately",
    "reset_on_reuse",
    "stall",
    "trickle",
    "truncate",
]


@dataclass
class RawRequest:
    """One request as the server parsed it (header names lower-cased)."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""
    connection: int = 0  # the 0-based number of the connection it came on
    index: int = 0  # the 0-based number of the request on that connection


Behaviour = Callable[["RawConnection"], Awaitable[None]]


@dataclass
class RawConnection:
    """One accepted connection, with helpers to read requests and answer them."""

    server: RawServer
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    number: int
    served: int = 0
    requests: list[RawRequest] = field(default_factory=list)

    async def read_request(self) -> RawRequest | None:
        """The next request on this connection, or None when the peer closed it."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            partial = getattr(exc, "partial", b"")
            self.server.bytes_received += len(partial)
            return None
        self.server.bytes_received += len(head)
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = b""
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._read_chunked()
        self.server.bytes_received += len(body)
        request = RawRequest(method, target, headers, body, self.number, self.served)
        self.served += 1
        self.requests.append(request)
        self.server.requests.append(request)
        return request

    async def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size_line = await self.reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            chunk = await self.reader.readexactly(size + 2)
            if size == 0:
                return b"".join(parts)
            parts.append(chunk[:-2])

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def respond(
        self,
        status: int = 200,
        body: bytes = b"",
        *,
        headers: dict[str, str] | None = None,
        keep_alive: bool = True,
    ) -> None:
        """Write a complete response with a Content-Length (no body to a HEAD)."""
        data = response_bytes(status, body, headers=headers, keep_alive=keep_alive)
        if self.requests and self.requests[-1].method == "HEAD":
            data = data[: len(data) - len(body)]
        self.writer.write(data)
        await self.writer.drain()

    def reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0), not a FIN."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()

    def close(self) -> None:
        """Close the connection cleanly (FIN)."""
        self.writer.close()


def response_bytes(
    status: int = 200,
    body: bytes = b"",
    *,
    headers: dict[str, str] | None = None,
    keep_alive: bool = True,
) -> bytes:
    """The bytes of an HTTP/1.1 response with a Content-Length."""
    head = [f"HTTP/1.1 {status} Raw", f"Content-Length: {len(body)}"]
    head.append("Connection: keep-alive" if keep_alive else "Connection: close")
    head.extend(f"{name}: {value}" for name, value in (headers or {}).items())
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class RawServer:
    """An asyncio socket server on 127.0.0.1:0 running `behaviour` per connection."""

    def __init__(self, behaviour: Behaviour, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.behaviour = behaviour
        self.host = host
        self.port = port
        self.connections = 0
        self.requests: list[RawRequest] = []
        self.bytes_received = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> URL:
        return URL.build(scheme="http", host=self.host, port=self.port)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        conn = RawConnection(self, reader, writer, self.connections)
        self.connections += 1
        try:
            await self.behaviour(conn)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # stop() cancels handlers still running (stalls); ending quietly keeps
            # asyncio's start_server callback from logging the cancellation.
            pass
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks))
        await server.wait_closed()

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


# -- behaviours -----------------------------------------------------------


def keep_alive(body: bytes = b"ok", *, headers: dict[str, str] | None = None) -> Behaviour:
    """A well-behaved keep-alive server answering every request with `body`."""

    async def run(conn: RawConnection) -> None:
        while await conn.read_request() is not None:
            await conn.respond(200, body, headers=headers)

    return run


def close_after_response(body: bytes = b"ok") -> Behaviour:
    """Promise keep-alive, then close the connection right after each response
    (the FIN lands while the connection sits idle in the client's pool)."""

    async def run(conn: RawConnection) -> None:
        if await conn.read_request() is not None:
            conn.send(response_bytes(200, body, keep_alive=True))
            conn.close()

    return run


def close_when_idle(idle: float, body: bytes = b"ok") -> Behaviour:
    """Keep-alive with a server-side idle timeout of `idle` seconds."""

    async def run(conn: RawConnection) -> None:
        while True:
            try:
                async with asyncio.timeout(idle if conn.served else None):
                    request = await conn.read_request()
            except TimeoutError:
                conn.close()
                return
            if request is None:
                return
            await conn.respond(200, body)

    return run


def close_on_reuse(body: bytes = b"ok") -> Behaviour:
    """Answer the first request on a connection; close it (FIN) without an
    answer once the second one has arrived: the keep-alive race, lost every
    time (the connection is alive when the client takes it from the pool)."""

    async def run(conn: RawConnection) -> None:
        if await conn.read_request() is None:
            return
        await conn.respond(200, body)
        if await conn.read_request() is not None:
            conn.close()

    return run


def reset_on_reuse(body: bytes = b"ok") -> Behaviour:
    """Answer the first request on a connection; reset the connection after
    reading the second one (a keep-alive peer that died between requests)."""

    async def run(conn: RawConnection) -> None:
        if await conn.read_request() is None:
            return
        await conn.respond(200, body)
        if await conn.read_request() is not None:
            conn.reset()

    return run


def reset_immediately() -> Behaviour:
    """Reset every connection as soon as it is accepted."""

    async def run(conn: RawConnection) -> None:
        conn.reset()

    return run


def reset_after_request() -> Behaviour:
    """Read the whole request, then reset the connection without answering."""

    async def run(conn: RawConnection) -> None:
        if await conn.read_request() is not None:
            conn.reset()

    return run


def truncate(declared: int, sent: bytes) -> Behaviour:
    """Declare `declared` body bytes, send only `sent`, then close."""

    async def run(conn: RawConnection) -> None:
        if await conn.read_request() is not None:
            head = f"HTTP/1.1 200 Raw\r\nContent-Length: {declared}\r\n\r\n".encode()
            conn.send(head + sent)
            await conn.writer.drain()
            conn.close()

    return run


def stall(*, after_headers: bool = False) -> Behaviour:
    """Read the request and never answer (or send headers, then nothing)."""

    async def run(conn: RawConnection) -> None:
        if await conn.read_request() is None:
            return
        if after_headers:
            conn.send(b"HTTP/1.1 200 Raw\r\nContent-Length: 10\r\n\r\n")
        await asyncio.Event().wait()  # until the server stops

    return run


def trickle(body: bytes = b"0123456789", *, interval: float = 0.05) -> Behaviour:
    """Send the headers at once, then the body one byte every `interval` s
    (each gap shorter than any read timeout: a slowloris response)."""

    async def run(conn: RawConnection) -> None:
        if await conn.read_request() is None:
            return
        conn.send(f"HTTP/1.1 200 Raw\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        for i in range(len(body)):
            await asyncio.sleep(interval)
            conn.send(body[i : i + 1])
            await conn.writer.drain()

    return run


def echo_head() -> Behaviour:
    """Answer each request with its head exactly as received (request line and
    header lines, names in the case they were sent), as the body."""

    async def run(conn: RawConnection) -> None:
        while True:
            try:
                head = await conn.reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            conn.server.bytes_received += len(head)
            await conn.respond(200, head, headers={"Content-Type": "text/plain"})

    return run


def record_bytes() -> Behaviour:
    """Read and count every byte the client sends; never answer."""

    async def run(conn: RawConnection) -> None:
        while data := await conn.reader.read(65536):
            conn.server.bytes_received += len(data)

    return run


class QuickServer:
    """A minimal, fast keep-alive server (an asyncio.Protocol, no parsing
    beyond the blank line ending each head) answering every request with the
    same response: for soaks, where the server must not be the bottleneck.
    Requests must not have a body."""

    def __init__(self, body: bytes = b"ok", *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.requests = 0
        self.connections = 0
        self._response = response_bytes(200, body)
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.Transport] = set()

    @property
    def url(self) -> URL:
        return URL.build(scheme="http", host=self.host, port=self.port)

    def _protocol(self) -> asyncio.Protocol:
        server = self

        class Protocol(asyncio.Protocol):
            def __init__(self) -> None:
                self.pending = b""
                self.transport: asyncio.Transport | None = None

            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                assert isinstance(transport, asyncio.Transport)
                self.transport = transport
                server.connections += 1
                server._transports.add(transport)

            def data_received(self, data: bytes) -> None:
                self.pending += data
                count = self.pending.count(b"\r\n\r\n")
                if count:
                    self.pending = self.pending[self.pending.rindex(b"\r\n\r\n") + 4 :]
                    server.requests += count
                    assert self.transport is not None
                    self.transport.write(server._response * count)

            def connection_lost(self, exc: Exception | None) -> None:
                if self.transport is not None:
                    server._transports.discard(self.transport)

        return Protocol()

    async def __aenter__(self) -> Self:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            for transport in list(self._transports):
                transport.abort()
            await self._server.wait_closed()
