"""Deadlines for the resilience strategies, on loop timers shared between requests.

`asyncio.timeout()` arms one loop timer per use: a `TimerHandle`, a push
onto the loop's heap (ordered by a Python-level comparison), a cancel, and
two coroutine frames for `async with`. A pipeline with a total and an
attempt timeout paid that twice per request, more than the rest of the
pipeline together. `Deadline` keeps `asyncio.timeout`'s contract for the
task it runs in (our own cancel becomes `TimeoutError`, anyone else's stays
a `CancelledError`) but files itself in a `DeadlineSlots`: one loop timer per
slot however many deadlines end in it. A deadline fires at most 1% of its
length (and at least 10 ms) late.
"""

from __future__ import annotations

import asyncio
import math
import time
from asyncio import current_task
from collections.abc import Callable
from types import TracebackType
from typing import Protocol

__all__ = ["Deadline", "DeadlineSlots"]


class Expiring(Protocol):
    """What a slot holds: something to tell that its time is up."""

    def _expire(self) -> None: ...


class DeadlineSlots:
    """Expires the deadlines of one event loop on shared timers, one per slot.

    A deadline `delay` seconds away goes to the slot ending at the next
    multiple of `max(resolution, delay / 100)`.
    """

    __slots__ = ("_loop", "_resolution", "_slots", "_time")

    def __init__(self, loop: asyncio.AbstractEventLoop, *, resolution: float = 0.01) -> None:
        self._loop = loop
        self._resolution = resolution
        self._slots: dict[float, set[Expiring]] = {}
        # asyncio's own loops tell time with time.monotonic(): call it directly.
        base = type(loop).time is asyncio.BaseEventLoop.time
        self._time: Callable[[], float] = time.monotonic if base else loop.time

    def add(self, deadline: Expiring, delay: float) -> float:
        """File `deadline` to expire `delay` seconds from now; returns its slot."""
        width = delay / 100 if delay > 100 * self._resolution else self._resolution
        slot = math.ceil((self._time() + delay) / width) * width
        members = self._slots.get(slot)
        if members is None:
            self._loop.call_at(slot, self._fire, slot)
            members = self._slots[slot] = set()
        members.add(deadline)
        return slot

    def remove(self, deadline: Expiring, slot: float) -> None:
        # An emptied slot keeps its timer: the next deadline in the same slot
        # reuses it, and a late no-op callback costs less than a cancel.
        members = self._slots.get(slot)
        if members is not None:
            members.discard(deadline)

    def _fire(self, slot: float) -> None:
        for deadline in self._slots.pop(slot, ()):
            deadline._expire()


_current: DeadlineSlots | None = None


def _slots_of(loop: asyncio.AbstractEventLoop) -> DeadlineSlots:
    # One loop at a time in practice; another loop (a thread, the next test)
    # gets its own and the previous one's timers still fire on their loop.
    global _current
    slots = _current
    if slots is None or slots._loop is not loop:
        slots = _current = DeadlineSlots(loop)
    return slots


class Deadline:
    """Cancels the current task `seconds` after entering, as `asyncio.timeout` does.

    Used as a plain `with` block inside a coroutine; leaving it by our own
    cancel raises `TimeoutError` (check `expired` to tell it from a
    `TimeoutError` raised inside).
    """

    __slots__ = ("_cancelling", "_slot", "_slots", "_task", "expired", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False

    def __enter__(self) -> Deadline:
        task = current_task()
        assert task is not None, "a Deadline is entered inside a coroutine"
        loop = task.get_loop()
        slots = _current
        if slots is None or slots._loop is not loop:
            slots = _slots_of(loop)
        self._task, self._cancelling, self._slots = task, task.cancelling(), slots
        self._slot = slots.add(self, self.seconds)
        return self

    def _expire(self) -> None:
        self.expired = True
        self._task.cancel()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._slots.remove(self, self._slot)
        if (
            self.expired
            and self._task.uncancel() <= self._cancelling
            and exc_type is asyncio.CancelledError
        ):
            raise TimeoutError from exc
