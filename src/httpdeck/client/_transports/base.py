"""The transport seam: one method to send, one to close.

A transport turns a `Request` into an `HttpResponse` whose body is a stream
(`HttpResponse.stream`); it must not buffer a body it was not asked to
buffer, and it raises only `HTTPClientError`s (transport errors carry the
request and whether any byte was sent). The real transport is
`AiohttpTransport` (`HttpxTransport`, over httpx with HTTP/2, is the
other, with the `http2` extra); the testing package adds in-memory, replaying and
fault-injecting ones, all behind this same protocol.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from httpdeck.client._config import HTTPClientConfig
from httpdeck.client._models import HttpResponse, Request


@runtime_checkable
class Transport(Protocol):
    """Sends one request and hands back its response with the body unread.

    Implement `send` and `aclose`; `start()` is optional and called by the
    client before the first request when present.
    """

    async def send(self, request: Request) -> HttpResponse:
        """Send `request` and return the response with its body unread."""
        ...

    async def aclose(self) -> None:
        """Release every connection; the transport is not used afterwards."""
        ...


def default_transport(config: HTTPClientConfig) -> Transport:
    """The real transport a client with `config` sends through when given none."""
    if config.http2:
        from httpdeck.client._transports.httpx import HttpxTransport

        return HttpxTransport(config, http2=True)
    from httpdeck.client._transports.aiohttp import AiohttpTransport

    return AiohttpTransport(config)
