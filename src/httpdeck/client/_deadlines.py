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

The timers come from the event loop, or from a virtual clock that offers the
loop's `time()` and `call_at()` (`httpdeck.testing.FakeClock` does): then a
deadline expires when virtual time passes it, exactly, so a retry deadline
cuts an attempt on a fake clock by the same code as on a real socket.
"""

from __future__ import annotations

import asyncio
import math
import time
from asyncio import current_task
from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

__all__ = ["Deadline", "DeadlineSlots", "Timers", "timers_of", "virtual_slots"]


@runtime_checkable
class Timers(Protocol):
    """What deadlines need of a clock: an event loop, or a virtual clock."""

    def time(self) -> float: ...

    def call_at(self, when: float, callback: Callable[..., object], *args: Any) -> object: ...


def timers_of(clock: object) -> Timers | None:
    """The timers of `clock` when it is (or is a method of) an object that has
    them, such as `FakeClock` or `FakeClock.monotonic`; else None."""
    for candidate in (clock, getattr(clock, "__self__", None)):
        if isinstance(candidate, Timers) and not isinstance(candidate, type):
            return candidate
    return None


def virtual_slots(clock: object) -> DeadlineSlots | None:
    """Exact deadline slots on `clock`'s timers when it has them (a `FakeClock`,
    or one of its methods); None (the running loop's shared timers) otherwise.
    What every strategy with a `clock=` option hands its `Deadline`s."""
    timers = timers_of(clock)
    return None if timers is None else DeadlineSlots(timers, resolution=0.0)


class Expiring(Protocol):
    """What a slot holds: something to tell that its time is up."""

    def _expire(self) -> None: ...


class DeadlineSlots:
    """Expires the deadlines of one event loop on shared timers, one per slot.

    A deadline `delay` seconds away goes to the slot ending at the next
    multiple of `max(resolution, delay / 100)`; with `resolution=0` (for a
    virtual clock, where a timer costs nothing) it expires exactly on time.
    """

    __slots__ = ("_loop", "_resolution", "_slots", "_time")

    def __init__(self, loop: Timers, *, resolution: float = 0.01) -> None:
        self._loop = loop
        self._resolution = resolution
        self._slots: dict[float, set[Expiring]] = {}
        # asyncio's own loops tell time with time.monotonic(): call it directly.
        base = type(loop).time is asyncio.BaseEventLoop.time
        self._time: Callable[[], float] = time.monotonic if base else loop.time

    def add(self, deadline: Expiring, delay: float) -> float:
        """File `deadline` to expire `delay` seconds from now; returns its slot."""
        resolution = self._resolution
        if resolution:
            width = delay / 100 if delay > 100 * resolution else resolution
            slot = math.ceil((self._time() + delay) / width) * width
        else:
            slot = self._time() + delay
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
    `TimeoutError` raised inside). `slots` files it elsewhere than on the
    running loop's timers: on a virtual clock's, with `seconds` in its time.
    """

    __slots__ = ("_cancelling", "_preset", "_slot", "_slots", "_task", "expired", "seconds")

    def __init__(self, seconds: float, slots: DeadlineSlots | None = None) -> None:
        self.seconds = seconds
        self.expired = False
        self._preset = slots

    def __enter__(self) -> Deadline:
        task = current_task()
        assert task is not None, "a Deadline is entered inside a coroutine"
        slots = self._preset
        if slots is None:
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
