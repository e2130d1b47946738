"""Byte streams that cross the transport seam, in both directions.

- `ResponseStream` is what a transport hands back as a response body: an
  async iterator of chunks plus `aread()` and `aclose()`.
- `ByteStream` is the in-memory response stream (fakes, cassettes, faults).
- `StreamBody` wraps an async iterable used as a request body and remembers
  whether it was consumed, so a one-shot body is never silently re-sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from typing import Protocol, runtime_checkable

from httpdeck.client._exceptions import HTTPClientError


@runtime_checkable
class ResponseStream(Protocol):
    """A response body being received. Chunks are yielded as they arrive."""

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    async def aread(self) -> bytes:
        """Read the rest of the body and return it."""
        ...

    async def aclose(self) -> None:
        """Release the underlying connection; safe to call twice."""
        ...


class ByteStream:
    """An in-memory response stream yielding the given chunks, boundaries kept.

    >>> stream = ByteStream([b"data: 1\\n\\n", b"data: 2\\n\\n"])
    """

    __slots__ = ("_chunks", "_closed")

    def __init__(self, chunks: bytes | Iterable[bytes] = b"") -> None:
        self._chunks: list[bytes] = [chunks] if isinstance(chunks, bytes) else list(chunks)
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunks, self._chunks = self._chunks, []
        for chunk in chunks:
            if chunk:
                yield chunk

    async def aread(self) -> bytes:
        """The chunks not yet handed to an iterator, joined; the stream is empty afterwards."""
        body = b"".join(self._chunks)
        self._chunks = []
        return body

    async def aclose(self) -> None:
        """Drop the chunks not yet read. Safe to call twice."""
        self._chunks = []
        self._closed = True


class StreamConsumedError(HTTPClientError):
    """A one-shot request body stream was asked for a second time."""


class StreamBody:
    """A request body streamed from an async iterable.

    Pass a zero-argument callable returning a fresh async iterable to make the
    body replayable (it can then be re-sent on a retry or a 307/308 redirect);
    a plain async iterable can be sent once.
    """

    __slots__ = ("_source", "consumed")

    def __init__(self, source: AsyncIterable[bytes] | Callable[[], AsyncIterable[bytes]]) -> None:
        self._source = source
        self.consumed = False

    @property
    def replayable(self) -> bool:
        """True when the source is a callable: each send iterates a fresh iterable."""
        return callable(self._source)

    @property
    def reusable(self) -> bool:
        """True when sending the body again would send the same bytes."""
        return self.replayable or not self.consumed

    def __aiter__(self) -> AsyncIterator[bytes]:
        if callable(self._source):
            self.consumed = True
            return aiter(self._source())
        if self.consumed:
            msg = (
                "Cannot send this request body again: it is a one-shot async iterable that "
                "was already consumed. Pass a zero-argument callable returning a fresh "
                "iterable (content=lambda: gen()) to make it replayable."
            )
            raise StreamConsumedError(msg)
        self.consumed = True
        return aiter(self._source)


async def iter_lines(chunks: AsyncIterable[bytes], encoding: str = "utf-8") -> AsyncIterator[str]:
    """Split a byte stream into text lines (LF, CRLF or CR), line endings removed.

    Linear in the body size however it is chunked: a chunk with no line break
    is appended to the pending line, never re-scanned.
    """
    pending = bytearray()
    async for chunk in chunks:
        if b"\n" not in chunk and b"\r" not in chunk and not pending.endswith(b"\r"):
            pending += chunk
            continue
        pending += chunk
        lines = pending.splitlines(keepends=True)
        # A final line without its ending, or ending in CR (LF may follow), waits.
        pending = lines.pop() if lines and not lines[-1].endswith(b"\n") else bytearray()
        for line in lines:
            yield line.rstrip(b"\r\n").decode(encoding, errors="replace")
    if pending:
        for line in pending.splitlines():
            yield line.decode(encoding, errors="replace")
