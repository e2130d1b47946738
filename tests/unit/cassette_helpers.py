"""An in-memory transport for cassette unit tests (no sockets)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from httpdeck.client import ByteStream, HTTPClient, HttpResponse, Request

Answer = HttpResponse | BaseException


def ok(body: Any = None, *, status: int = 200, chunks: list[bytes] | None = None) -> HttpResponse:
    """A streaming response, as a real transport hands it over (body unread)."""
    if chunks is None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        chunks = [data]
        content_type = "application/octet-stream" if isinstance(body, bytes) else "application/json"
    else:
        content_type = "text/event-stream"
    return HttpResponse(status, headers={"Content-Type": content_type}, stream=ByteStream(chunks))


class ScriptTransport:
    """Answers each request with `handler(request)`: a response or an exception to raise."""

    def __init__(self, handler: Callable[[Request], Answer] | None = None) -> None:
        self.handler = handler or (lambda request: ok({"path": request.url.path}))
        self.calls: list[Request] = []

    async def send(self, request: Request) -> HttpResponse:
        self.calls.append(request)
        answer = self.handler(request)
        if isinstance(answer, BaseException):
            raise answer
        answer.request = request
        answer.url = request.url
        return answer

    async def aclose(self) -> None:
        return None


def client_over(transport: ScriptTransport, **kwargs: Any) -> HTTPClient:
    return HTTPClient(transport=transport, **kwargs)
