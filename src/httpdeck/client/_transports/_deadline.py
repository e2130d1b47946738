"""Per-request timing for the aiohttp transport: the pool phase and the total deadline.

aiohttp's own `total` timeout starts before the wait for a pool slot, so a
request that queued behind a full pool times out having barely run (aiohttp
#10313). httpdeck splits the two:

- `pool`: the wait for a connection slot, bounded by `TimeoutConfig.pool`
  (or `total` when `pool` is None) and reported as phase `"pool"`.
- `total`: armed by the connector the moment a slot is granted; it bounds
  connecting, sending, the response head and the body, however slowly the
  server trickles it (aiohttp's `sock_read` resets on every byte).

The body may be read from another task than the one that sent the request,
so the deadline cancels whichever task is waiting on it at expiry (the way
asyncio.timeout does for one task), and a read that starts after expiry
fails at once. For the body, `RequestTiming` serves as the timer of
aiohttp's payload reader (the same enter/exit/assert_timeout protocol as
aiohttp's own TimerContext), so it is entered only when a read must wait.

Deadlines share loop timers through a `DeadlineSlots` (from `_deadlines`,
as the resilience strategies' do): one asyncio timer per slot, however many
requests expire in it. An asyncio timer costs a Python
object, heap operations with a Python-level comparison and a cancel, about
as much as the rest of the request's bookkeeping together; under load
hundreds of requests share one. A deadline fires at most 1% of the timeout
(and at least 10 ms) late: 0.3 s for the default 30 s, where aiohttp rounds
up to the whole second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Literal

from httpdeck.client._deadlines import DeadlineSlots

__all__ = ["CURRENT", "PoolTimeoutError", "RequestTiming"]

Phase = Literal["pool", "connect", "request"]


class PoolTimeoutError(Exception):
    """Raised inside aiohttp's connector when the wait for a slot ran out.

    Not an aiohttp or OS error, so aiohttp lets it through unchanged and the
    transport maps it to `HTTPTimeoutError(phase="pool", sent=False)`."""


class RequestTiming:
    """The pool limit and total deadline of one request in flight."""

    __slots__ = (
        "_cancelling",
        "_handle",
        "_loop",
        "_slot",
        "_waiter",
        "_wheel",
        "done",
        "expired",
        "fresh",
        "on_expire",
        "phase",
        "pool_timeout",
        "pool_wait",
        "protocol",
        "reused",
        "total",
    )

    def __init__(
        self,
        *,
        total: float | None,
        pool_timeout: float | None,
        loop: asyncio.AbstractEventLoop | None = None,
        wheel: DeadlineSlots | None = None,
    ) -> None:
        # Pass the loop when it is known: on Python 3.11 every
        # get_running_loop() (also inside current_task()) is a getpid() syscall.
        self._loop = loop or asyncio.get_running_loop()
        self.total = total
        self.pool_timeout = pool_timeout
        self.pool_wait: asyncio.Timeout | None = None
        self.phase: Phase = "pool"
        self._handle: asyncio.TimerHandle | None = None
        self._wheel = wheel
        self._slot: float | None = None
        # One task waits at a time: the sender for the head, then the reader
        # (aiohttp refuses two concurrent reads of one body).
        self._waiter: asyncio.Task[object] | None = None
        self._cancelling = 0
        self.expired = False
        self.done = False
        self.on_expire: Callable[[], None] | None = None
        # Set by the connector: the connection's protocol, and whether it came
        # from the pool idle (see `_connector`); `fresh` asks for a new one.
        self.protocol: Any = None
        self.reused = False
        self.fresh = False

    def slot_granted(self) -> None:
        """The pool granted a slot: stop the pool clock, start the total one."""
        if self.pool_wait is not None:
            self.pool_wait.reschedule(None)
            self.pool_wait = None
        if self.phase == "pool":
            self.phase = "connect"
            if self.total is not None and not self.done:
                if self._wheel is not None:
                    self._slot = self._wheel.add(self, self.total)
                else:
                    loop = self._loop
                    self._handle = loop.call_at(loop.time() + self.total, self._expire)

    def finish(self) -> None:
        """The request is over (body read, closed or failed): stop the clock."""
        self.done = True
        self.on_expire = None
        if self._slot is not None:
            assert self._wheel is not None
            self._wheel.remove(self, self._slot)
            self._slot = None
        elif self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _expire(self) -> None:
        self._handle = None
        self._slot = None
        self.expired = True
        if self._waiter is not None:
            self._waiter.cancel()
        elif self.on_expire is not None:
            # Nobody is reading: free the connection now, fail the next read.
            self.on_expire()

    def assert_timeout(self) -> None:
        """Raise TimeoutError once the deadline has passed (aiohttp's reader
        calls this before handing out buffered data)."""
        if self.expired:
            raise TimeoutError

    def __enter__(self) -> None:
        if self.expired:
            raise TimeoutError
        task = asyncio.current_task(self._loop)
        assert task is not None
        if self._waiter is not None:
            msg = "Two tasks are waiting on one request at the same time."
            raise RuntimeError(msg)
        self._waiter = task
        self._cancelling = task.cancelling()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        task, self._waiter = self._waiter, None
        # Our own cancel becomes a TimeoutError; a cancel from anyone else
        # (the caller, a TaskGroup) stays a CancelledError.
        if (
            exc_type is asyncio.CancelledError
            and self.expired
            and task is not None
            and task.uncancel() <= self._cancelling
        ):
            raise TimeoutError from exc


CURRENT: ContextVar[RequestTiming | None] = ContextVar("httpdeck_request_timing", default=None)
