"""A loop with just the two methods the deadline slots use, on a clock the test moves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class FakeLoop:
    """`time()` and `call_at()`, on a clock the test moves with `advance()`."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.timers: list[tuple[float, Callable[..., None], tuple[Any, ...]]] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[..., None], *args: Any) -> None:
        self.timers.append((when, callback, args))

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = sorted((t for t in self.timers if t[0] <= self.now), key=lambda t: t[0])
        self.timers = [t for t in self.timers if t[0] > self.now]
        for _, callback, args in due:
            callback(*args)
