"""Deterministic parts for the resilience tests: a fake clock, scripted sends, a fake transport."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from multidict import CIMultiDict
from yarl import URL

from httpdeck.client import (
    ByteStream,
    HTTPConnectionError,
    HttpResponse,
    Request,
    StreamBody,
)

URL_BASE = URL("http://api.test:8080/items")


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Sleeps:
    """An injectable `sleep` that records each wait and advances a fake clock."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.clock is not None:
            self.clock.advance(seconds)


class ClosingStream(ByteStream):
    """A ByteStream that remembers whether it was closed."""

    def __init__(self, body: bytes = b"") -> None:
        super().__init__(body)
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True
        await super().aclose()


Entry = Any  # int | (int, headers) | HttpResponse | Exception | Callable[[Request], ...]


class Script:
    """A `send` that answers from a script, one entry per call (the last repeats).

    An entry is a status, `(status, headers)`, an HttpResponse, an exception
    instance or a callable `entry(request)` returning (or awaiting) one of those.
    Each call may cost `cost` seconds of the fake clock.
    """

    def __init__(self, *entries: Entry, clock: FakeClock | None = None, cost: float = 0.0):
        self.entries = list(entries) or [200]
        self.clock = clock
        self.cost = cost
        self.requests: list[Request] = []
        self.streams: list[ClosingStream] = []

    @property
    def calls(self) -> int:
        return len(self.requests)

    @property
    def attempts(self) -> list[int]:
        return [r.attempt for r in self.requests]

    async def __call__(self, request: Request) -> HttpResponse:
        index = min(len(self.requests), len(self.entries) - 1)
        self.requests.append(request)
        if self.clock is not None:
            self.clock.advance(self.cost)
        entry = self.entries[index]
        if callable(entry) and not isinstance(entry, type):
            entry = entry(request)
            if inspect.isawaitable(entry):
                entry = await entry
        if isinstance(entry, BaseException):
            raise entry
        if isinstance(entry, HttpResponse):
            return entry
        status, headers = entry if isinstance(entry, tuple) else (entry, {})
        stream = ClosingStream(b"body")
        self.streams.append(stream)
        return HttpResponse(status, headers=headers, stream=stream, request=request)


class FakeTransport:
    """A `Transport` that answers from a `Script` (no sockets)."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.closed = False

    async def send(self, request: Request) -> HttpResponse:
        return await self.script(request)

    async def aclose(self) -> None:
        self.closed = True


def make_request(
    method: str = "GET",
    *,
    headers: Mapping[str, str] | None = None,
    content: bytes | StreamBody | None = None,
    url: URL = URL_BASE,
) -> Request:
    return Request(method, url, CIMultiDict(headers or {}), content)


def conn_error(*, sent: bool = True) -> Callable[[Request], HTTPConnectionError]:
    """A script entry raising a fresh HTTPConnectionError for the request."""

    def make(request: Request) -> HTTPConnectionError:
        return HTTPConnectionError("connection reset", request=request, sent=sent)

    return make
