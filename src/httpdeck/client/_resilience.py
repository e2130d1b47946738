"""`ResiliencePipeline`, `Bulkhead` and `Timeout`: strategies composed around a request.

The pipeline's order, outermost first (each layer wraps the ones below):

```
Bulkhead          at most N logical requests at once, a bounded queue, then refusal
Timeout           one deadline for the whole logical request, retries and waits included
RetryPolicy       re-sends failed attempts, with backoff
CircuitBreaker    judges every attempt; refuses at once while open
Timeout           (attempt_timeout) one deadline per attempt
  -> one attempt: interceptors + transport
```

Why this order: the bulkhead sheds load before any work (and before any retry
budget is spent); the total timeout bounds what the caller waits for, so it
sits outside retry; the breaker sits inside retry so that it counts real
calls to the backend and stops a retry loop at once when it opens; the
attempt timeout is innermost so that a slow attempt is a retryable failure
that the breaker also sees. This is the order of Polly's and
Microsoft.Extensions.Http.Resilience's standard pipeline.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable

from httpdeck.client._client import ResilienceStrategy
from httpdeck.client._deadlines import Deadline, virtual_slots
from httpdeck.client._exceptions import (
    HTTPBulkheadFullError,
    HTTPConfigError,
    HTTPTimeoutError,
    describe,
)
from httpdeck.client._models import HttpResponse, Request
from httpdeck.client._observe import observer_of
from httpdeck.client._retry_support import Clock

Send = Callable[[Request], Awaitable[HttpResponse]]


def _positive(owner: str, name: str, value: object, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not value > 0
        or value == float("inf")
    ):
        msg = f"{owner}({name}=...) must be a positive number of seconds, got {value!r}."
        raise HTTPConfigError(msg)


class Timeout:
    """Cancels whatever runs inside it after `seconds`: `HTTPTimeoutError(phase="total")`.

    As the pipeline's `timeout` it bounds a logical request with all its
    retries and waits; as `attempt_timeout` it bounds each attempt (a
    retryable failure). With `client.stream()` it covers the wait for the
    response headers, not the reading of the body. Deadlines share loop
    timers, so one fires up to 1% of `seconds` (at least 10 ms) late. With a
    virtual `clock` (a `FakeClock`, as `RetryPolicy` takes it) the deadline
    runs on that clock's time instead, and fires exactly on time.
    """

    def __init__(
        self, seconds: float, *, name: str = "timeout", clock: Clock | None = None
    ) -> None:
        _positive("Timeout", "seconds", seconds)
        self.seconds = seconds
        self.name = name
        self._deadlines = virtual_slots(clock)

    def __repr__(self) -> str:
        return f"Timeout({self.seconds})"

    async def execute(self, request: Request, send: Send) -> HttpResponse:
        """Run `send(request)` under the deadline.

        Raises `HTTPTimeoutError(phase="total", sent=True)` when `seconds`
        run out; a timeout raised inside for another reason passes through.
        """
        deadline = Deadline(self.seconds, self._deadlines)
        try:
            with deadline:
                return await send(request)
        except TimeoutError as exc:
            if not deadline.expired:
                raise
            msg = (
                f"{describe(request)} did not complete within the pipeline's {self.name} "
                f"of {self.seconds} s; raise it or look at why the server is slow."
            )
            raise HTTPTimeoutError(msg, request=request, sent=True, phase="total") from exc


class Bulkhead:
    """At most `max_concurrent` requests at once; up to `max_queue` more wait for a slot.

    A request that finds every slot busy and the queue full, or that waits
    longer than `max_wait` seconds, gets `HTTPBulkheadFullError` at once
    without any connection being made. Waiters get slots in arrival order; a
    waiter cancelled while queued gives its place up, and one cancelled just
    after being handed a slot passes the slot on. One bulkhead belongs to one
    event loop.
    """

    def __init__(
        self,
        *,
        max_concurrent: int = 10,
        max_queue: int = 0,
        max_wait: float | None = None,
        name: str = "bulkhead",
    ) -> None:
        for field, value, minimum in (
            ("max_concurrent", max_concurrent, 1),
            ("max_queue", max_queue, 0),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                msg = f"Bulkhead({field}=...) must be an integer >= {minimum}, got {value!r}."
                raise HTTPConfigError(msg)
        _positive("Bulkhead", "max_wait", max_wait, allow_none=True)
        self.max_concurrent = max_concurrent
        self.max_queue = max_queue
        self.max_wait = max_wait
        self.name = name
        self._active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    def __repr__(self) -> str:
        return (
            f"<Bulkhead {self.name!r} {self._active}/{self.max_concurrent} active, "
            f"{len(self._waiters)}/{self.max_queue} queued>"
        )

    @property
    def active(self) -> int:
        """Requests holding a slot now."""
        return self._active

    @property
    def queued(self) -> int:
        """Requests waiting for a slot now."""
        self._prune()
        return len(self._waiters)

    def _prune(self) -> None:
        # Waiters cancelled while queued leave on their own; drop any still at the front.
        waiters = self._waiters
        while waiters and waiters[0].done():
            waiters.popleft()

    def _full(self, request: Request | None, why: str) -> HTTPBulkheadFullError:
        msg = (
            f"Bulkhead {self.name!r} refused {describe(request)}: {why}. Raise "
            "Bulkhead(max_concurrent=..., max_queue=..., max_wait=...) or send less at once."
        )
        return HTTPBulkheadFullError(
            msg,
            request=request,
            bulkhead=self.name,
            max_concurrent=self.max_concurrent,
            max_queue=self.max_queue,
        )

    def _try_acquire(self) -> bool:
        """Take a free slot at once, if there is one and nobody queues for it."""
        if self._active < self.max_concurrent and not self._waiters:
            self._active += 1
            return True
        return False

    async def acquire(self, request: Request | None = None) -> None:
        """Take a slot, waiting in the queue if there is room; else `HTTPBulkheadFullError`."""
        self._prune()
        if self._try_acquire():
            return
        if len(self._waiters) >= self.max_queue:
            why = (
                f"all {self.max_concurrent} slots are busy and its queue of "
                f"{self.max_queue} is full"
            )
            raise self._full(request, why)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self.max_wait):
                await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over as we were cancelled: pass it on
            else:
                waiter.cancel()
                self._discard(waiter)
            if isinstance(exc, TimeoutError):
                why = f"no slot freed up within max_wait={self.max_wait} s"
                raise self._full(request, why) from None
            raise

    def _discard(self, waiter: asyncio.Future[None]) -> None:
        with contextlib.suppress(ValueError):
            self._waiters.remove(waiter)

    def release(self) -> None:
        """Give a slot back: to the first live waiter, else to the pool."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot moves to the waiter; _active is unchanged
                return
        self._active -= 1

    async def execute(self, request: Request, send: Send) -> HttpResponse:
        """Run `send(request)` holding a slot, released when it returns or raises.

        Raises `HTTPBulkheadFullError`, before anything is sent, when every
        slot is busy and the queue is full, or when no slot frees up within
        `max_wait` seconds.
        """
        # A free slot is taken without an await; only a full bulkhead queues.
        if not self._try_acquire():
            try:
                await self.acquire(request)
            except HTTPBulkheadFullError:
                observer = observer_of(request)
                if observer is not None:
                    observer.bulkhead_rejected(self.name)
                raise
        try:
            return await send(request)
        finally:
            self.release()


class ResiliencePipeline:
    """Timeout, retry, circuit breaker and bulkhead composed in one documented order.

    ```python
    pipeline = ResiliencePipeline(
        bulkhead=Bulkhead(max_concurrent=20, max_queue=100),
        timeout=30.0,
        retry=RetryPolicy(max_attempts=3),
        circuit_breaker=CircuitBreakerRegistry(failure_threshold=5),
        attempt_timeout=5.0,
    )
    client = HTTPClient(resilience=pipeline)
    ```
    Order, outermost first: bulkhead, timeout, retry, circuit_breaker,
    attempt_timeout (see the module docstring for why). Every part is
    optional. `HTTPClient(resilience=...)` wins over its `retry_policy` and
    `circuit_breaker` arguments. `clock` times both timeouts: a `FakeClock`
    puts them on virtual time (by default the retry policy's `clock` is used
    when it is one).
    """

    def __init__(
        self,
        *,
        bulkhead: Bulkhead | None = None,
        timeout: float | None = None,
        retry: ResilienceStrategy | None = None,
        circuit_breaker: ResilienceStrategy | None = None,
        attempt_timeout: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        _positive("ResiliencePipeline", "timeout", timeout, allow_none=True)
        _positive("ResiliencePipeline", "attempt_timeout", attempt_timeout, allow_none=True)
        if clock is None:
            clock = getattr(retry, "clock", None)
        layers: list[ResilienceStrategy | None] = [
            bulkhead,
            Timeout(timeout, name="timeout", clock=clock) if timeout is not None else None,
            retry,
            circuit_breaker,
            Timeout(attempt_timeout, name="attempt_timeout", clock=clock)
            if attempt_timeout is not None
            else None,
        ]
        for layer in layers:
            if layer is not None and not isinstance(layer, ResilienceStrategy):
                msg = f"{layer!r} is not a resilience strategy: it needs execute(request, send)."
                raise TypeError(msg)
        self.bulkhead = bulkhead
        self.retry = retry
        self.circuit_breaker = circuit_breaker
        self.strategies: tuple[ResilienceStrategy, ...] = tuple(x for x in layers if x is not None)
        self._chain: tuple[Send, Send] | None = None

    def __repr__(self) -> str:
        return f"ResiliencePipeline({', '.join(map(repr, self.strategies))})"

    async def execute(self, request: Request, send: Send) -> HttpResponse:
        """Run `send(request)` through every part, outermost first (see the class docstring)."""
        # The client hands the same `send` every time: compose the chain once.
        cached = self._chain
        if cached is not None and cached[0] is send:
            return await cached[1](request)
        chain = send
        for strategy in reversed(self.strategies):
            chain = _bind(strategy, chain)
        self._chain = (send, chain)
        return await chain(request)


def _bind(strategy: ResilienceStrategy, send: Send) -> Send:
    # A plain function handing back the strategy's coroutine: no frame of its own.
    def run(request: Request) -> Awaitable[HttpResponse]:
        return strategy.execute(request, send)

    return run
