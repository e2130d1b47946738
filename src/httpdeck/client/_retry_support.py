"""Retry helpers that hold no per-request state: testing mode, the default random
source, `RetryBudget`, Retry-After."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from types import TracebackType

from httpdeck.client._exceptions import HTTPConfigError
from httpdeck.client._models import HttpResponse

Clock = Callable[[], float]

# -- testing mode -------------------------------------------------------------


class _Testing:
    __slots__ = ("enabled", "max_attempts")

    def __init__(self) -> None:
        self.enabled = False
        self.max_attempts: int | None = None


TESTING = _Testing()


class set_testing:
    """Turn testing mode on or off for the whole process (stamina's `set_testing`).

    In testing mode retry policies skip their backoff waits (unless a `sleep`
    was injected, which is always called), and with `max_attempts=N` cap every
    policy at N attempts. Use it as a call or as a context manager that
    restores the previous mode on exit:

    ```python
    set_testing(True)                 # for the rest of the run
    with set_testing(True, max_attempts=1):
        ...                           # one attempt, no waits, inside this block
    ```
    The pytest plugin turns it on for every test by default.
    """

    __slots__ = ("_previous",)

    def __init__(self, testing: bool = True, *, max_attempts: int | None = None) -> None:
        if max_attempts is not None and (
            isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1
        ):
            msg = f"set_testing(max_attempts=...) must be an integer >= 1 or None, got {max_attempts!r}."
            raise HTTPConfigError(msg)
        self._previous = (TESTING.enabled, TESTING.max_attempts)
        TESTING.enabled = bool(testing)
        TESTING.max_attempts = max_attempts if testing else None

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        TESTING.enabled, TESTING.max_attempts = self._previous


def is_testing() -> bool:
    """True while testing mode (no backoff waits) is on."""
    return TESTING.enabled


# -- the default random source ----------------------------------------------------


class _Randomness:
    """Where a `RetryPolicy` built without an `rng` draws its jitter, at each draw.

    One process-wide unseeded generator, unless a test harness puts a seeded
    one in place: httpdeck's pytest plugin does, per test, from
    `--httpdeck-seed`, so a policy made anywhere (a fixture, a marker, the
    test body, an import-time constant) jitters the same way in every run of
    that test with that seed. The client never imports the harness: the
    harness sets this.
    """

    __slots__ = ("rng",)

    def __init__(self) -> None:
        self.rng = random.Random()


RANDOMNESS = _Randomness()


def use_default_rng(rng: random.Random | None) -> None:
    """Draw the jitter of every policy without an `rng` from `rng` (None: a
    fresh unseeded generator again). For test harnesses, not application code."""
    RANDOMNESS.rng = rng if rng is not None else random.Random()


# -- retry budget -----------------------------------------------------------------

_BUCKETS = 10


class RetryBudget:
    """Caps retries at `max(min_retries, ratio * first attempts)` over a sliding window.

    When a backend is down every request fails; without a budget each one
    turns into `max_attempts` requests and the retries keep it down. Counts
    live in 10 buckets of `window / 10` seconds on a monotonic clock.
    Thread-safe; share one instance between policies to budget them together.
    """

    def __init__(
        self,
        *,
        ratio: float = 0.2,
        window: float = 10.0,
        min_retries: int = 10,
        clock: Clock = time.monotonic,
    ) -> None:
        self.ratio = ratio
        self.window = window
        self.min_retries = min_retries
        self._clock = clock
        self._width = window / _BUCKETS
        self._firsts = [0] * _BUCKETS
        self._retries = [0] * _BUCKETS
        self._current: int | None = None
        self._lock = threading.Lock()

    def _roll(self) -> int:
        index = math.floor(self._clock() / self._width)
        if self._current is None:
            self._current = index
        elif index > self._current:
            for step in range(1, min(index - self._current, _BUCKETS) + 1):
                slot = (self._current + step) % _BUCKETS
                self._firsts[slot] = self._retries[slot] = 0
            self._current = index
        return self._current % _BUCKETS

    def record_first_attempt(self) -> None:
        """Count a first attempt (each allows `ratio` more retries); retry policies call it."""
        with self._lock:
            self._firsts[self._roll()] += 1

    def try_retry(self) -> bool:
        """Spend one retry if the budget allows it."""
        with self._lock:
            slot = self._roll()
            if sum(self._retries) >= max(self.min_retries, self.ratio * sum(self._firsts)):
                return False
            self._retries[slot] += 1
            return True

    def counts(self) -> tuple[int, int]:
        """`(first attempts, retries)` in the current window."""
        with self._lock:
            self._roll()
            return sum(self._firsts), sum(self._retries)


# -- Retry-After ----------------------------------------------------------------------


_DATE_ERRORS = (TypeError, ValueError, IndexError, OverflowError)


def _http_date(value: str) -> float | None:
    """Unix seconds of an HTTP-date (IMF-fixdate or an obsolete form), None if it is not one.

    ASCII only: the email parser's int() would read other scripts' digits."""
    if not value.isascii():
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except _DATE_ERRORS:
        return None


def parse_retry_after(response: HttpResponse, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or HTTP-date).

    An HTTP-date is measured against the response's own Date header when it
    has one (so the two clocks' skew cancels out), else against `now` (Unix
    time). Returns None when the header is absent or is not in RFC 9110's
    grammar (`delay-seconds = 1*DIGIT`, ASCII digits only, or an HTTP-date):
    such a value carries no usable delay, so the policy treats it as absent
    and falls back to its backoff. `'²'` or `'1.5'` are not delays.
    """
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)  # float, not int: a 5,000-digit value is inf, not a ValueError
    when = _http_date(value)
    if when is None:
        return None
    date = response.headers.get("Date")
    served = _http_date(date.strip()) if date is not None else None
    return when - (now if served is None else served)
