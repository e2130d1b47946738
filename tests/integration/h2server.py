"""A real HTTP/2 server for tests: hypercorn serving a small ASGI app over TLS.

The certificates come from a throwaway trustme CA; the client trusts it
through `ca.ssl_context()`. The socket is bound to port 0 and listening
before hypercorn starts, so a client may connect at once (the connection
waits in the backlog until hypercorn accepts it).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustme
from hypercorn.asyncio import serve
from hypercorn.config import Config
from yarl import URL

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass
class H2App:
    """The ASGI app: what it saw, and events a test uses to pace a response."""

    seen: list[tuple[str, str, str]] = field(default_factory=list)  # (http_version, method, path)
    next_chunk: asyncio.Event = field(default_factory=asyncio.Event)
    never: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        assert scope["type"] == "http"
        self.seen.append((scope["http_version"], scope["method"], scope["path"]))
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["path"]
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        if path == "/echo":
            payload = {
                "http_version": scope["http_version"],
                "method": scope["method"],
                "body": body.decode(),
                "cookie": headers.get("cookie"),
                "user_agent": headers.get("user-agent"),
            }
            await _respond(
                send, 200, json.dumps(payload).encode(), [("content-type", "application/json")]
            )
        elif path.startswith("/status/"):
            await _respond(send, int(path.rsplit("/", 1)[1]), b"status")
        elif path == "/login":
            await _respond(send, 200, b"ok", [("set-cookie", "session=s3cr3t; Path=/")])
        elif path == "/redirect":
            await _respond(send, 302, b"", [("location", "/echo")])
        elif path == "/big":
            await _respond(send, 200, b"x" * 10_000)
        elif path == "/bomb":
            # 1 MB of zeros, about 1 KB on the wire.
            await _respond(
                send, 200, gzip.compress(b"\0" * 1_000_000), [("content-encoding", "gzip")]
            )
        elif path == "/paced":
            # The second chunk waits until the test has seen the first.
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"first;", "more_body": True})
            await self.next_chunk.wait()
            await send({"type": "http.response.body", "body": b"second", "more_body": False})
        elif path == "/hang":
            await self.never.wait()
        else:
            await _respond(send, 404, b"not found")


async def _respond(
    send: Send, status: int, body: bytes, headers: list[tuple[str, str]] | None = None
) -> None:
    raw = [(k.encode(), v.encode()) for k, v in headers or []]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


@dataclass
class H2Server:
    url: URL
    app: H2App
    ca: trustme.CA

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


@asynccontextmanager
async def h2_server(tmp: Path) -> AsyncIterator[H2Server]:
    """hypercorn on https://127.0.0.1:<free port>, speaking HTTP/2 (and HTTP/1.1) by ALPN."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    certfile, keyfile = tmp / "cert.pem", tmp / "key.pem"
    cert.cert_chain_pems[0].write_to_path(certfile)
    cert.private_key_pem.write_to_path(keyfile)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(100)
    port = sock.getsockname()[1]
    config = Config()
    config.bind = [f"fd://{sock.detach()}"]
    config.certfile, config.keyfile = str(certfile), str(keyfile)
    config.alpn_protocols = ["h2", "http/1.1"]
    config.graceful_timeout = 1.0
    config.errorlog = None  # type: ignore[assignment]
    app = H2App()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    try:
        yield H2Server(URL.build(scheme="https", host="127.0.0.1", port=port), app, ca)
    finally:
        app.never.set()
        app.next_chunk.set()
        stop.set()
        await task
