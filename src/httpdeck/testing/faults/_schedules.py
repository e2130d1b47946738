"""Fault schedules: when a rule's fault fires.

A schedule is a pure function of a `Tick` (which call of the rule this is,
the request's attempt, the time on the injector's clock, the seed). There is
no shared random generator consumed in arrival order: `Probability` hashes
(seed, rule, call index) — or (seed, rule, request key) when the injector
decides per request — so a fixed seed gives the same decisions on every run,
however the requests interleave.

Schedules compose: `a & b` fires when both fire, `a | b` when either does,
`~a` when `a` does not.

The engine asks a rule's schedule on every call the rule matches, so it
compiles the schedule once per rule into a plain function of (call, attempt,
elapsed, key), with the seed, the rule's name and the hash stream fixed: no
`Tick` is built per call. The built-in schedules write their rule once, in
`_compile`, and `fires()` runs the same function; a schedule of your own only
implements `fires()`.

```python
First(2) | EveryNth(10)             # calls 1, 2, 10, 20, 30, ...
Probability(0.2) & ~OnAttempt(0)    # 20 % of retries, never a first attempt
Sequence("fail", "fail", "ok")      # fail twice, then succeed for good
```
"""

from __future__ import annotations

import functools
import math
import sys
from abc import ABC, abstractmethod
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from httpdeck.testing._seeds import derive_seed, digest64

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


@functools.lru_cache(maxsize=4096)
def _stream(seed: int, rule: str, path: str, salt: str) -> int:
    return derive_seed(seed, rule, path, salt)


_GOLDEN = 0x9E3779B97F4A7C15


def _mix(x: int, mask: int) -> int:
    """SplitMix64's finaliser, on every 64-bit lane of `x` that `mask` keeps.

    One lane: `mask` is `_MASK`. Many lanes (see `_draws`): lanes sit 128 bits
    apart, so a lane's product never carries into the next one.
    """
    x = ((x ^ ((x >> 30) & mask)) * 0xBF58476D1CE4E5B9) & mask
    x = ((x ^ ((x >> 27) & mask)) * 0x94D049BB133111EB) & mask
    return x ^ ((x >> 31) & mask)


def _unit(stream: int, call: int, key: str | None) -> float:
    """SplitMix64 of the call index (or the request key) on `stream`, in [0, 1)."""
    x = (stream + (call + 1) * _GOLDEN) & _MASK if key is None else stream ^ digest64(key)
    return _mix(x, _MASK) / 2.0**64


_LANES = 64
_LANE_ONES = sum(1 << (128 * lane) for lane in range(_LANES))
_LANE_MASK = _MASK * _LANE_ONES
_LANE_STEPS = _GOLDEN * sum((lane + 1) << (128 * lane) for lane in range(_LANES))


def _draws(stream: int, start: int) -> array[int]:
    """`_unit`'s integers (before the division) for calls `start` to `start + 63`
    at once: one pass of big-integer arithmetic over 64 lanes, not 64 passes."""
    x = (((stream + start * _GOLDEN) & _MASK) * _LANE_ONES + _LANE_STEPS) & _LANE_MASK
    lanes = _mix(x, _LANE_MASK).to_bytes(16 * _LANES, sys.byteorder)
    return array("Q", lanes)[::2]


def unit_interval(tick: Tick, salt: str = "") -> float:
    """A number in [0, 1) fixed by (seed, rule, path, salt) and the call index
    (or the request key): SplitMix64 over a stream picked by hashing."""
    return _unit(_stream(tick.seed, tick.rule, tick.path, salt), tick.call, tick.key)


Decide = Callable[[int, int, float, "str | None"], bool]
"""A compiled schedule: (call, attempt, elapsed, key) -> fires."""


def _yes(call: int, attempt: int, elapsed: float, key: str | None) -> bool:
    return True


def _no(call: int, attempt: int, elapsed: float, key: str | None) -> bool:
    return False


class Schedule(ABC):
    """Decides, for each call a rule matched, whether its fault fires.

    Subclass it and implement `fires(tick)` for a schedule of your own.
    """

    __slots__ = ()

    @abstractmethod
    def fires(self, tick: Tick) -> bool:
        """True when the fault fires on this call."""

    def _reads_clock(self) -> bool:
        # The engine reads its clock only for schedules that need `elapsed`;
        # one of your own may, so it is assumed to.
        return True

    def _compile(self, seed: int, rule: str, path: str = "") -> Decide:
        """`fires` as a function of (call, attempt, elapsed, key) for one rule
        under one seed: what the engine calls on every call the rule matches."""
        fires = self.fires

        def decide(call: int, attempt: int, elapsed: float, key: str | None) -> bool:
            return fires(Tick(call, attempt, elapsed, seed, rule, key, path))

        return decide

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


class _Builtin(Schedule):
    """A schedule whose rule is written once, in `_compile`."""

    __slots__ = ()

    def _reads_clock(self) -> bool:
        return False

    def fires(self, tick: Tick) -> bool:
        """True when the fault fires on this call (the class docstring says when)."""
        decide = self._compile(tick.seed, tick.rule, tick.path)
        return decide(tick.call, tick.attempt, tick.elapsed, tick.key)

    @abstractmethod
    def _compile(self, seed: int, rule: str, path: str = "") -> Decide: ...


def _count(name: str, value: int, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        msg = f"{name} must be an integer >= {minimum}, got {value!r}."
        raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class Always(_Builtin):
    """Fires on every call."""

    def _compile(self, seed: int, rule: str, path: str = "") -> Decide:
        return _yes


@dataclass(frozen=True, slots=True)
class Never(_Builtin):
    """Never fires (a rule kept for later, or a baseline run)."""

    def _compile(self, seed: int, rule: str, path: str = "") -> Decide:
        return _no


@dataclass(frozen=True, slots=True)
class Probability(_Builtin):
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
        return unit_interval(tick) < self.p  # one draw, not a block of them

    def _compile(self, seed: int, rule: str, path: str = "") -> Decide:
        p = self.p
        if p >= 1.0:
            return _yes
        if p <= 0.0:
            return _no
        stream = _stream(seed, rule, path, "")
        # The draws of 64 calls at a time (a rule's calls come in order), made
        # on the first call that needs them.
        start, draws = -_LANES, array("Q")

        def decide(call: int, attempt: int, elapsed: float, key: str | None) -> bool:
            nonlocal start, draws
            if key is not None:
                return _unit(stream, call, key) < p
            offset = call - start
            if not 0 <= offset < _LANES:
                start, draws, offset = call, _draws(stream, call), 0
            return draws[offset] / 2.0**64 < p

        return decide


@dataclass(frozen=True, slots=True)
class First(_Builtin):
    """Fires on the first `n` calls of the rule, then never."""

    n: int

    def __post_init__(self) -> None:
        _count("First(n)", self.n, 0)

    def _compile(self, seed: int, rule: str, path: str = "") -> Decide:
        n = self.n
        return lambda call, attempt, elapsed, key: call < n


@dataclass(frozen=True, slots=True)
class EveryNth(_Builtin):
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

    def _compile(self, seed: int, rule: str, path: str = "") -> Decide:
        n, shift = self.n, self.n - self.offset
        return lambda call, attempt, elapsed, key: (call + shift) % n == n - 1


@dataclass(frozen=True, slots=True)
class Burst(_Builtin):
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

    def _compile(self, seed: int, rule: str, path: str = "") -> Decide:
        start, length, every = self.start, self.length, self.every
        if every is None:
            return lambda call, attempt, elapsed, key: start <= call < start + length
        return lambda call, attempt, elapsed, key: call >= start and (call - start) % every < length


@dataclass(frozen=True, slots=True)
class TimeWindow(_Builtin):
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

    def _reads_clock(self) -> bool:
        return True

    def _compile(self, seed: int, rule: str, path: str = "") -> Decide:
        start, end = self.start, self.end
        return lambda call, attempt, elapsed, key: start <= elapsed < end


_STEPS = {"fail": True, "ok": False}


@dataclass(frozen=True, slots=True, init=False)
class Sequence(_Builtin):
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

    def _compile(self, seed: int, rule: str, path: str = "") -> Decide:
        steps, count = self.steps, len(self.steps)
        if self.cycle:
            return lambda call, attempt, elapsed, key: steps[call % count]
        return lambda call, attempt, elapsed, key: call < count and steps[call]

    def __repr__(self) -> str:
        names = ", ".join('"fail"' if s else '"ok"' for s in self.steps)
        return f"Sequence({names}{', cycle=True' if self.cycle else ''})"


@dataclass(frozen=True, slots=True, init=False)
class OnAttempt(_Builtin):
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

    def _compile(self, seed: int, rule: str, path: str = "") -> Decide:
        attempts = self.attempts
        return lambda call, attempt, elapsed, key: attempt in attempts

    def __repr__(self) -> str:
        return f"OnAttempt({', '.join(map(str, sorted(self.attempts)))})"


@dataclass(frozen=True, slots=True)
class _Pair(_Builtin):
    """Two schedules combined; each side draws from its own stream ("L", "R")."""

    left: Schedule
    right: Schedule

    def _reads_clock(self) -> bool:
        return self.left._reads_clock() or self.right._reads_clock()

    def _sides(self, seed: int, rule: str, path: str) -> tuple[Decide, Decide]:
        left = self.left._compile(seed, rule, path + "L")
        return left, self.right._compile(seed, rule, path + "R")


@dataclass(frozen=True, slots=True)
class _And(_Pair):
    def _compile(self, seed: int, rule: str, path: str = "") -> Decide:
        left, right = self._sides(seed, rule, path)
        return lambda call, attempt, elapsed, key: (
            left(call, attempt, elapsed, key) and right(call, attempt, elapsed, key)
        )

    def __repr__(self) -> str:
        return f"({self.left!r} & {self.right!r})"


@dataclass(frozen=True, slots=True)
class _Or(_Pair):
    def _compile(self, seed: int, rule: str, path: str = "") -> Decide:
        left, right = self._sides(seed, rule, path)
        return lambda call, attempt, elapsed, key: (
            left(call, attempt, elapsed, key) or right(call, attempt, elapsed, key)
        )

    def __repr__(self) -> str:
        return f"({self.left!r} | {self.right!r})"


@dataclass(frozen=True, slots=True)
class _Not(_Builtin):
    inner: Schedule

    def _reads_clock(self) -> bool:
        return self.inner._reads_clock()

    def _compile(self, seed: int, rule: str, path: str = "") -> Decide:
        inner = self.inner._compile(seed, rule, path)
        return lambda call, attempt, elapsed, key: not inner(call, attempt, elapsed, key)

    def __repr__(self) -> str:
        return f"~{self.inner!r}"
