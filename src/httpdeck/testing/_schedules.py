"""Fault schedules: when a rule's fault fires.

A schedule is a pure function of a `Tick` (which call of the rule this is,
the request's attempt, the time on the injector's clock, the seed). There is
no shared random generator consumed in arrival order: `Probability` hashes
(seed, rule, call index) — or (seed, rule, request key) when the injector
decides per request — so a fixed seed gives the same decisions on every run,
however the requests interleave.

Schedules compose: `a & b` fires when both fire, `a | b` when either does,
`~a` when `a` does not.

```python
First(2) | EveryNth(10)             # calls 1, 2, 10, 20, 30, ...
Probability(0.2) & ~OnAttempt(0)    # 20 % of retries, never a first attempt
Sequence("fail", "fail", "ok")      # fail twice, then succeed for good
```
"""

from __future__ import annotations

import functools
import hashlib
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import NamedTuple

__all__ = [
    "Always",
    "Burst",
    "EveryNth",
    "First",
    "Never",
    "OnAttempt",
    "Probability",
    "Schedule",
    "Sequence",
    "Tick",
    "TimeWindow",
    "unit_interval",
]


class Tick(NamedTuple):
    """What a schedule sees for one call that its rule matched.

    - `call`: the 0-based count of calls this rule has matched before this one.
    - `attempt`: the request's attempt (0 is the first, 1 the first retry).
    - `elapsed`: seconds since the injector started, on its (injectable) clock.
    - `seed`, `rule`: the injector's seed and the rule's name.
    - `key`: the request's identity when the injector decides per request
      (`decide_by="request"`), else None.
    - `path`: where this schedule sits inside a composition, so that the two
      sides of `Probability(0.5) & Probability(0.5)` draw independently.
    """

    call: int
    attempt: int = 0
    elapsed: float = 0.0
    seed: int = 0
    rule: str = ""
    key: str | None = None
    path: str = ""

    def branch(self, name: str) -> Tick:
        """This tick one level deeper in a composition (`path` plus `name`)."""
        return self._replace(path=self.path + name)


_MASK = (1 << 64) - 1


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


@functools.lru_cache(maxsize=4096)
def _stream(seed: int, rule: str, path: str, salt: str) -> int:
    return _digest(f"{seed}\x1f{rule}\x1f{path}\x1f{salt}")


def unit_interval(tick: Tick, salt: str = "") -> float:
    """A number in [0, 1) fixed by (seed, rule, path, salt) and the call index
    (or the request key): SplitMix64 over a stream picked by hashing."""
    x = _stream(tick.seed, tick.rule, tick.path, salt)
    if tick.key is None:
        x = (x + (tick.call + 1) * 0x9E3779B97F4A7C15) & _MASK
    else:
        x ^= _digest(tick.key)
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return (x ^ (x >> 31)) / 2.0**64


class Schedule(ABC):
    """Decides, for each call a rule matched, whether its fault fires."""

    __slots__ = ()

    @abstractmethod
    def fires(self, tick: Tick) -> bool:
        """True when the fault fires on this call."""

    def __and__(self, other: Schedule) -> Schedule:
        return _And(self, _check(other, "&"))

    def __or__(self, other: Schedule) -> Schedule:
        return _Or(self, _check(other, "|"))

    def __invert__(self) -> Schedule:
        return _Not(self)


def _check(other: object, op: str) -> Schedule:
    if not isinstance(other, Schedule):
        msg = f"Cannot combine a schedule with {other!r} using {op}: both sides must be schedules."
        raise TypeError(msg)
    return other


def _count(name: str, value: int, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        msg = f"{name} must be an integer >= {minimum}, got {value!r}."
        raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class Always(Schedule):
    """Fires on every call."""

    def fires(self, tick: Tick) -> bool:
        """True, whatever the tick."""
        return True


@dataclass(frozen=True, slots=True)
class Never(Schedule):
    """Never fires (a rule kept for later, or a baseline run)."""

    def fires(self, tick: Tick) -> bool:
        """False, whatever the tick."""
        return False


@dataclass(frozen=True, slots=True)
class Probability(Schedule):
    """Fires with probability `p`, decided by hashing the seed and the call.

    Unlike a shared `random.Random`, the decision for call 17 of rule
    "orders" under seed 7 is the same whatever happened before it.
    """

    p: float

    def __post_init__(self) -> None:
        if isinstance(self.p, bool) or not isinstance(self.p, int | float):
            msg = f"Probability(p) needs a number between 0 and 1, got {self.p!r}."
            raise TypeError(msg)
        if not 0.0 <= self.p <= 1.0:
            msg = f"Probability(p) needs 0 <= p <= 1, got {self.p!r}."
            raise ValueError(msg)

    def fires(self, tick: Tick) -> bool:
        """True for a share `p` of calls, by a draw fixed by the seed, rule and call."""
        if self.p >= 1.0:
            return True
        if self.p <= 0.0:
            return False
        return unit_interval(tick) < self.p


@dataclass(frozen=True, slots=True)
class First(Schedule):
    """Fires on the first `n` calls of the rule, then never."""

    n: int

    def __post_init__(self) -> None:
        _count("First(n)", self.n, 0)

    def fires(self, tick: Tick) -> bool:
        """True on calls 0 to `n - 1` (`tick.call` counts from 0)."""
        return tick.call < self.n


@dataclass(frozen=True, slots=True)
class EveryNth(Schedule):
    """Fires on every `n`-th call: calls n, 2n, 3n, ... (counting from 1).

    `offset` shifts the pattern: `EveryNth(3, offset=1)` fires on calls 1, 4, 7.
    """

    n: int
    offset: int = 0

    def __post_init__(self) -> None:
        _count("EveryNth(n)", self.n, 1)
        _count("EveryNth(offset)", self.offset, 0)
        if self.offset >= self.n:
            msg = f"EveryNth(offset) must be smaller than n={self.n}, got {self.offset!r}."
            raise ValueError(msg)

    def fires(self, tick: Tick) -> bool:
        """True when `(tick.call + 1) % n == offset`: 1-based calls n, 2n, ... for offset 0."""
        return (tick.call + self.n - self.offset) % self.n == self.n - 1


@dataclass(frozen=True, slots=True)
class Burst(Schedule):
    """Fires on `length` consecutive calls starting at call index `start`.

    With `every`, the burst repeats: `Burst(5, length=3, every=20)` fires on
    calls 5-7, 25-27, 45-47, ... (0-based indexes).
    """

    start: int
    length: int
    every: int | None = None

    def __post_init__(self) -> None:
        _count("Burst(start)", self.start, 0)
        _count("Burst(length)", self.length, 1)
        if self.every is not None:
            _count("Burst(every)", self.every, self.length)

    def fires(self, tick: Tick) -> bool:
        """True when `tick.call` (0-based) falls in a burst."""
        offset = tick.call - self.start
        if offset < 0:
            return False
        if self.every is not None:
            offset %= self.every
        return offset < self.length


@dataclass(frozen=True, slots=True)
class TimeWindow(Schedule):
    """Fires while `start <= elapsed < end`, in seconds on the injector's clock.

    Pass the injector a fake clock (`clock=`) to move through the window in a
    test without sleeping.
    """

    start: float
    end: float = math.inf

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            msg = f"TimeWindow needs 0 <= start < end, got start={self.start!r}, end={self.end!r}."
            raise ValueError(msg)

    def fires(self, tick: Tick) -> bool:
        """True while `start <= tick.elapsed < end`."""
        return self.start <= tick.elapsed < self.end


_STEPS = {"fail": True, "ok": False}


@dataclass(frozen=True, slots=True, init=False)
class Sequence(Schedule):
    """Follows a script, one step per call: `Sequence("fail", "fail", "ok")`.

    Steps are "fail" (the fault fires) or "ok". After the last step the
    schedule stays quiet, or starts over with `cycle=True`.
    """

    steps: tuple[bool, ...]
    cycle: bool

    def __init__(self, *steps: str, cycle: bool = False) -> None:
        if not steps:
            msg = 'Sequence() needs at least one step, like Sequence("fail", "ok").'
            raise ValueError(msg)
        bad = [s for s in steps if s not in _STEPS]
        if bad:
            msg = f'Sequence steps must be "fail" or "ok", got {bad[0]!r}.'
            raise ValueError(msg)
        object.__setattr__(self, "steps", tuple(_STEPS[s] for s in steps))
        object.__setattr__(self, "cycle", cycle)

    def fires(self, tick: Tick) -> bool:
        """True when step `tick.call` (0-based) of the script is "fail"."""
        index = tick.call % len(self.steps) if self.cycle else tick.call
        return index < len(self.steps) and self.steps[index]

    def __repr__(self) -> str:
        names = ", ".join('"fail"' if s else '"ok"' for s in self.steps)
        return f"Sequence({names}{', cycle=True' if self.cycle else ''})"


@dataclass(frozen=True, slots=True, init=False)
class OnAttempt(Schedule):
    """Fires on the given attempts of each request: `OnAttempt(0)` fails every
    first attempt and lets every retry through."""

    attempts: frozenset[int]

    def __init__(self, *attempts: int) -> None:
        if not attempts:
            msg = "OnAttempt() needs at least one attempt number (0 is the first attempt)."
            raise ValueError(msg)
        for attempt in attempts:
            _count("OnAttempt(attempt)", attempt, 0)
        object.__setattr__(self, "attempts", frozenset(attempts))

    def fires(self, tick: Tick) -> bool:
        """True when `tick.attempt` (0 is the first attempt) is one of `attempts`."""
        return tick.attempt in self.attempts

    def __repr__(self) -> str:
        return f"OnAttempt({', '.join(map(str, sorted(self.attempts)))})"


@dataclass(frozen=True, slots=True)
class _And(Schedule):
    left: Schedule
    right: Schedule

    def fires(self, tick: Tick) -> bool:
        return self.left.fires(tick.branch("L")) and self.right.fires(tick.branch("R"))

    def __repr__(self) -> str:
        return f"({self.left!r} & {self.right!r})"


@dataclass(frozen=True, slots=True)
class _Or(Schedule):
    left: Schedule
    right: Schedule

    def fires(self, tick: Tick) -> bool:
        return self.left.fires(tick.branch("L")) or self.right.fires(tick.branch("R"))

    def __repr__(self) -> str:
        return f"({self.left!r} | {self.right!r})"


@dataclass(frozen=True, slots=True)
class _Not(Schedule):
    inner: Schedule

    def fires(self, tick: Tick) -> bool:
        return not self.inner.fires(tick)

    def __repr__(self) -> str:
        return f"~{self.inner!r}"
