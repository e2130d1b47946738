"""The two response streams of a cassette.

- `RecordingStream` tees a live body: each chunk goes to the caller as soon as
  it arrives and is appended to the recording (with its arrival time); the
  recording is handed over when the stream ends, fails, or is closed early
  (then marked partial). Nothing is buffered ahead of the caller, so an SSE
  stream flows event by event while it is recorded.
- `ReplayStream` yields recorded chunks with their boundaries, optionally
  waiting the recorded time between chunks on an injected `sleep`, and raises
  the recorded transport error where the recording ended in one; with a
  limit, it counts the chunks against `max_response_bytes` as they are read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from httpdeck.client import HTTPTransportError, Request, ResponseStream
from httpdeck.client._seam import BodyLimit
from httpdeck.testing.cassettes._model import RecordedError

Finish = Callable[[list[bytes], list[float], bool, "HTTPTransportError | None"], None]
Sleep = Callable[[float], Awaitable[object]]
# max_response_bytes on replay: the counter, the declared length and the
# headers as recorded (before any decoding), checked as the real transport does.
Limit = tuple[BodyLimit, "int | None", Mapping[str, str]]


class RecordingStream:
    """Pass chunks through to the caller while recording them."""

    __slots__ = ("_chunks", "_clock", "_done", "_finish", "_inner", "_started", "_times")

    def __init__(self, inner: ResponseStream, finish: Finish, clock: Callable[[], float]) -> None:
        self._inner = inner
        self._finish = finish
        self._clock = clock
        self._started = clock()
        self._chunks: list[bytes] = []
        self._times: list[float] = []
        self._done = False

    def _add(self, chunk: bytes) -> None:
        if chunk and not self._done:
            self._chunks.append(bytes(chunk))
            self._times.append(self._clock() - self._started)

    def close_partial(self) -> None:
        """Hand over what was read so far, marked partial (idempotent)."""
        self._end(partial=True)

    def _end(self, *, partial: bool, error: HTTPTransportError | None = None) -> None:
        if not self._done:
            self._done = True
            self._finish(self._chunks, self._times, partial, error)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                self._add(chunk)
                yield chunk
        except HTTPTransportError as exc:
            self._end(partial=True, error=exc)
            raise
        self._end(partial=False)

    async def aread(self) -> bytes:
        try:
            data = await self._inner.aread()
        except HTTPTransportError as exc:
            self._end(partial=True, error=exc)
            raise
        self._add(data)
        self._end(partial=False)
        return b"".join(self._chunks)

    async def aclose(self) -> None:
        self._end(partial=True)
        await self._inner.aclose()


class ReplayStream:
    """Recorded chunks as a `ResponseStream`, boundaries (and timing) kept."""

    __slots__ = (
        "_chunks",
        "_closed",
        "_error",
        "_limit",
        "_position",
        "_request",
        "_sleep",
        "_timing",
    )

    def __init__(
        self,
        chunks: list[bytes],
        *,
        timing: list[float] | None = None,
        error: RecordedError | None = None,
        sleep: Sleep | None = None,
        request: Request | None = None,
        limit: Limit | None = None,
    ) -> None:
        self._chunks = chunks
        self._limit = limit
        usable = timing is not None and sleep is not None and len(timing) == len(chunks)
        self._timing = timing if usable else None
        self._sleep = sleep
        self._error = error
        self._request = request
        self._position = 0
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        budget = None
        if self._limit is not None:
            budget, declared, headers = self._limit
            budget.check_declared(declared, headers)
        while not self._closed and self._position < len(self._chunks):
            index = self._position
            if self._timing is not None and self._sleep is not None:
                previous = self._timing[index - 1] if index else 0.0
                delay = self._timing[index] - previous
                if delay > 0:
                    await self._sleep(delay)
            self._position += 1
            if budget is not None:
                budget.add(self._chunks[index])
            yield self._chunks[index]
        if self._error is not None and not self._closed:
            raise self._error.to_exception(self._request)

    async def aread(self) -> bytes:
        return b"".join([chunk async for chunk in self])

    async def aclose(self) -> None:
        self._closed = True
