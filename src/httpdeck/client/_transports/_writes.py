"""`TimeoutConfig.write` for streamed request bodies.

aiohttp writes a request body from a task of its own and has no write
timeout. `WriteWatch` wraps a streamed body: when a chunk is handed over it
arms a timer, and the timer is disarmed when aiohttp comes back for the next
chunk, that is, once the chunk was accepted by the socket. A peer that stops
reading leaves the timer to fire: it cancels the writing task (aiohttp then
closes the connection) and the task waiting for the response head, and marks
the watch expired, so the transport turns that cancellation into
`HTTPTimeoutError(phase="write")` (and uncancels the task, as asyncio.timeout
does).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator


class WriteWatch:
    __slots__ = ("_handle", "_loop", "_source", "expired", "sender", "timeout")

    def __init__(
        self, source: AsyncIterable[bytes], timeout: float, loop: asyncio.AbstractEventLoop
    ) -> None:
        self._source = source
        self._loop = loop
        # Built inside the transport's send(): the task that waits for the head.
        self.sender = asyncio.current_task()
        self._handle: asyncio.TimerHandle | None = None
        self.timeout = timeout
        self.expired = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        task = asyncio.current_task()
        assert task is not None
        try:
            async for chunk in self._source:
                self._handle = self._loop.call_later(self.timeout, self._expire, task)
                yield chunk
                self._handle.cancel()
        finally:
            if self._handle is not None:
                self._handle.cancel()

    def _expire(self, writer: asyncio.Task[object]) -> None:
        self.expired = True
        writer.cancel()
        if self.sender is not None:
            self.sender.cancel()
