"""Circuit breakers: stop calling a backend that keeps failing, then probe it.

```
                 failures reach the threshold
    ┌────────┐  ─────────────────────────────▶  ┌──────┐
    │ CLOSED │                                  │ OPEN │ ◀──┐ a probe fails
    └────────┘  ◀───────┐                       └──────┘    │ or is cancelled
                        │ all N probes succeed     │        │
                        │                          │ recovery_timeout passes
                        │                          ▼        │
                        │                     ┌───────────┐ │
                        └──────────────────── │ HALF_OPEN │─┘
                                              └───────────┘
                                   admits exactly N probes; the rest are refused
```

The state machine is pure (no I/O, no sleeping): `acquire()` hands out a
permit or raises `HTTPCircuitOpenError`, `record(permit, verdict)` feeds the
outcome back. Each state change bumps a generation counter and a permit
remembers the generation it was issued in, so the outcome of a call that
started before the breaker tripped (or before it half-opened) changes
nothing. Time comes from a monotonic clock (injectable); a lock makes every
transition atomic, so the breaker is also safe to share between threads.

The closed breaker's success path takes no lock: `acquire()` reads one
attribute (the permit of the current closed generation, None in any other
state) and `record()` of a success with no failure streak to reset reads
two. Each read is atomic, and each outcome is one the locked path could
have produced in some order of the concurrent calls.
"""

from __future__ import annotations

import dataclasses
import enum
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple, TypedDict, Unpack

from httpdeck.client._events import CircuitStateChanged
from httpdeck.client._exceptions import (
    HTTPCircuitOpenError,
    HTTPConfigError,
    HTTPResponseTooLargeError,
    HTTPTransportError,
    describe,
)
from httpdeck.client._extensions import CIRCUIT_OPENED
from httpdeck.client._models import HttpResponse, Request
from httpdeck.client._observe import Observer, observer_of
from httpdeck.client._retry_support import Clock

Send = Callable[[Request], Awaitable[HttpResponse]]
StateListener = Callable[[CircuitStateChanged], object]

FailurePredicate = Callable[[HttpResponse | HTTPTransportError], bool]


class CircuitState(enum.StrEnum):
    """A circuit breaker's state: CLOSED (calls pass), OPEN (calls refused), HALF_OPEN (probing)."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Verdict(enum.Enum):
    """How an outcome counts: SUCCESS, FAILURE, IGNORED (gives a probe slot
    back), CANCELLED (a cancelled probe re-opens the breaker)."""

    SUCCESS = "success"
    FAILURE = "failure"
    IGNORED = "ignored"
    CANCELLED = "cancelled"


def is_server_failure(outcome: HttpResponse | HTTPTransportError) -> bool:
    """The default failure predicate: transport errors and 5xx responses.

    A response that was too large is the client's own limit, not a sick
    server, so it does not count.
    """
    if isinstance(outcome, HttpResponse):
        return outcome.status >= 500
    return not isinstance(outcome, HTTPResponseTooLargeError)


@dataclass(frozen=True, kw_only=True, slots=True)
class CircuitBreakerConfig:
    """When a breaker opens and how it recovers.

    By default it opens after `failure_threshold` consecutive failures. With
    `failure_rate` set, it opens instead when at least `minimum_calls` of the
    last `window_size` calls were recorded and the failed fraction reaches the
    rate. Open, it refuses calls for `recovery_timeout` seconds, then admits
    `half_open_max_calls` probes: all succeed and it closes, one fails and it
    opens again. `is_failure` judges responses and transport errors; other
    errors (validation, interceptor bugs) are ignored.
    """

    failure_threshold: int = 5
    failure_rate: float | None = None
    window_size: int = 20
    minimum_calls: int = 10
    recovery_timeout: float = 30.0
    half_open_max_calls: int = 1
    is_failure: FailurePredicate = is_server_failure

    def __post_init__(self) -> None:
        for name in ("failure_threshold", "window_size", "minimum_calls", "half_open_max_calls"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                msg = f"CircuitBreakerConfig.{name} must be an integer >= 1, got {value!r}."
                raise HTTPConfigError(msg)
        rate = self.failure_rate
        if rate is not None and (
            isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= 1
        ):
            msg = f"CircuitBreakerConfig.failure_rate must be in (0, 1] or None, got {rate!r}."
            raise HTTPConfigError(msg)
        timeout = self.recovery_timeout
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout >= 0:
            msg = (
                f"CircuitBreakerConfig.recovery_timeout must be a number of seconds >= 0, "
                f"got {timeout!r}."
            )
            raise HTTPConfigError(msg)
        if not callable(self.is_failure):
            msg = f"CircuitBreakerConfig.is_failure must be callable, got {self.is_failure!r}."
            raise HTTPConfigError(msg)


class CircuitBreakerOptions(TypedDict, total=False):
    """`CircuitBreakerConfig`'s fields, accepted as keywords by `CircuitBreaker(...)`."""

    failure_threshold: int
    failure_rate: float | None
    window_size: int
    minimum_calls: int
    recovery_timeout: float
    half_open_max_calls: int
    is_failure: FailurePredicate


class CircuitPermit(NamedTuple):
    """Leave to make one call: the generation it was issued in, and whether it is a probe."""

    generation: int
    probe: bool


def _listeners(value: StateListener | Iterable[StateListener] | None) -> list[StateListener]:
    if value is None:
        return []
    if callable(value):
        return [value]
    return list(value)


class CircuitBreaker:
    """A closed / open / half-open circuit breaker; a `ResilienceStrategy`.

    ```python
    breaker = CircuitBreaker(name="payments", failure_threshold=5, recovery_timeout=30)
    client = HTTPClient(circuit_breaker=breaker)
    ```
    For one breaker per backend use `CircuitBreakerRegistry`.
    `on_state_change` takes a callable (or several) receiving
    `CircuitStateChanged`; the client's event bus receives it as well.
    """

    def __init__(
        self,
        config: CircuitBreakerConfig | None = None,
        /,
        *,
        name: str = "default",
        clock: Clock = time.monotonic,
        on_state_change: StateListener | Iterable[StateListener] | None = None,
        **options: Unpack[CircuitBreakerOptions],
    ) -> None:
        base = config if config is not None else CircuitBreakerConfig()
        if not isinstance(base, CircuitBreakerConfig):
            msg = (
                f"CircuitBreaker(config) must be a CircuitBreakerConfig, got {type(base).__name__}."
            )
            raise TypeError(msg)
        self.config = dataclasses.replace(base, **options) if options else base
        self.name = name
        self._clock = clock
        self._listeners = _listeners(on_state_change)
        self._lock = threading.Lock()
        self._state = CircuitState.CLOSED
        self._generation = 0
        self._consecutive = 0
        self._window: deque[bool] = deque(maxlen=self.config.window_size)
        self._opened_at = 0.0
        self._open_reason = ""
        self._probes_admitted = 0
        self._probe_successes = 0
        # The permit every call gets while closed; None in any other state.
        self._closed_permit: CircuitPermit | None = CircuitPermit(0, probe=False)

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.name!r} {self._state.value}>"

    # -- the state machine (call with the lock held) ------------------------

    def _move(
        self, state: CircuitState, reason: str, now: float, changes: list[CircuitStateChanged]
    ) -> None:
        previous, self._state = self._state, state
        self._new_generation()
        self._consecutive = 0
        self._window.clear()
        self._probes_admitted = self._probe_successes = 0
        if state is CircuitState.OPEN:
            self._opened_at = now
            self._open_reason = reason
        changes.append(CircuitStateChanged(self.name, previous, state, reason, now))

    def _new_generation(self) -> None:
        self._generation += 1
        self._closed_permit = (
            CircuitPermit(self._generation, probe=False)
            if self._state is CircuitState.CLOSED
            else None
        )

    def _refresh(self, now: float, changes: list[CircuitStateChanged]) -> None:
        if (
            self._state is CircuitState.OPEN
            and now - self._opened_at >= self.config.recovery_timeout
        ):
            self._move(CircuitState.HALF_OPEN, "recovery timeout passed", now, changes)

    def _tripped(self) -> str | None:
        config = self.config
        if config.failure_rate is None:
            if self._consecutive >= config.failure_threshold:
                return f"{self._consecutive} consecutive failures"
            return None
        calls = len(self._window)
        failures = sum(self._window)
        if calls >= config.minimum_calls and failures / calls >= config.failure_rate:
            return f"{failures} of the last {calls} calls failed"
        return None

    def _notify(self, changes: list[CircuitStateChanged], observer: Observer | None) -> None:
        for change in changes:
            for listener in self._listeners:
                listener(change)
            if observer is not None:
                observer.circuit_changed(change)

    # -- public API ---------------------------------------------------------

    @property
    def state(self) -> CircuitState:
        """The state now (an open breaker whose timeout passed reads half-open)."""
        changes: list[CircuitStateChanged] = []
        with self._lock:
            self._refresh(self._clock(), changes)
            state = self._state
        self._notify(changes, None)
        return state

    @property
    def retry_after(self) -> float:
        """Seconds until an open breaker admits a probe; 0.0 when it is not open."""
        with self._lock:
            if self._state is not CircuitState.OPEN:
                return 0.0
            return max(self._opened_at + self.config.recovery_timeout - self._clock(), 0.0)

    def add_listener(self, listener: StateListener) -> None:
        """Also call `listener(CircuitStateChanged)` on every state change."""
        self._listeners.append(listener)

    def acquire(self, request: Request | None = None) -> CircuitPermit:
        """A permit for one call, or `HTTPCircuitOpenError` when the breaker refuses it."""
        permit = self._closed_permit
        if permit is not None:  # closed: the common case, without the lock
            return permit
        changes: list[CircuitStateChanged] = []
        error: HTTPCircuitOpenError | None = None
        with self._lock:
            now = self._clock()
            self._refresh(now, changes)
            permit = self._closed_permit  # closed since the read above
            if self._state is CircuitState.HALF_OPEN:
                if self._probes_admitted < self.config.half_open_max_calls:
                    self._probes_admitted += 1
                    permit = CircuitPermit(self._generation, probe=True)
                else:
                    error = self._refusal(CircuitState.HALF_OPEN, now, request)
            elif self._state is CircuitState.OPEN:
                error = self._refusal(CircuitState.OPEN, now, request)
        observer = observer_of(request) if request is not None else None
        self._notify(changes, observer)
        if error is not None:
            if observer is not None:
                observer.circuit_rejected(self.name)
            raise error
        assert permit is not None
        return permit

    def _refusal(
        self, state: CircuitState, now: float, request: Request | None
    ) -> HTTPCircuitOpenError:
        config = self.config
        target = describe(request)
        if state is CircuitState.OPEN:
            wait = max(self._opened_at + config.recovery_timeout - now, 0.0)
            msg = (
                f"Circuit breaker {self.name!r} is open ({self._open_reason}); it admits a "
                f"probe in {wait:.1f} s. {target} was not sent. Wait, fall back, or handle "
                "HTTPCircuitOpenError."
            )
        else:
            wait = config.recovery_timeout
            msg = (
                f"Circuit breaker {self.name!r} is half-open and its "
                f"{config.half_open_max_calls} probe(s) are in flight; it closes when they "
                f"succeed, else stays open another {wait:.1f} s. {target} was not sent."
            )
        return HTTPCircuitOpenError(msg, request=request, breaker=self.name, retry_after=wait)

    def record(
        self, permit: CircuitPermit, verdict: Verdict, request: Request | None = None
    ) -> None:
        """Feed back the outcome of a call made under `permit`."""
        consecutive_only = self.config.failure_rate is None
        if (
            verdict is Verdict.SUCCESS
            and permit is self._closed_permit
            and not self._consecutive
            and consecutive_only
        ):
            return  # closed, no failure streak to reset: the common case, without the lock
        changes: list[CircuitStateChanged] = []
        with self._lock:
            if permit.generation != self._generation:
                return  # stale: the call started before the last state change
            if (
                verdict is Verdict.SUCCESS
                and self._state is CircuitState.CLOSED
                and consecutive_only
            ):
                self._consecutive = 0
                return
            self._apply(permit, verdict, changes)
        if changes:
            self._notify(changes, observer_of(request) if request is not None else None)

    def _apply(
        self, permit: CircuitPermit, verdict: Verdict, changes: list[CircuitStateChanged]
    ) -> None:
        now = self._clock()
        if self._state is CircuitState.CLOSED:
            if verdict is Verdict.FAILURE:
                self._consecutive += 1
                self._window.append(True)
            elif verdict is Verdict.SUCCESS:
                self._consecutive = 0
                self._window.append(False)
            reason = self._tripped()
            if reason is not None:
                self._move(CircuitState.OPEN, reason, now, changes)
        elif self._state is CircuitState.HALF_OPEN and permit.probe:
            if verdict is Verdict.FAILURE:
                self._move(CircuitState.OPEN, "a half-open probe failed", now, changes)
            elif verdict is Verdict.CANCELLED:
                self._move(CircuitState.OPEN, "a half-open probe was cancelled", now, changes)
            elif verdict is Verdict.IGNORED:
                self._probes_admitted -= 1
            else:
                self._probe_successes += 1
                if self._probe_successes >= self.config.half_open_max_calls:
                    self._move(CircuitState.CLOSED, "half-open probes succeeded", now, changes)

    def judge(self, outcome: HttpResponse | BaseException) -> Verdict:
        """How `outcome` counts: responses and transport errors go to `is_failure`."""
        if isinstance(outcome, (HttpResponse, HTTPTransportError)):
            return Verdict.FAILURE if self.config.is_failure(outcome) else Verdict.SUCCESS
        if isinstance(outcome, Exception):
            return Verdict.IGNORED
        return Verdict.CANCELLED

    def reset(self) -> None:
        """Close the breaker and forget its history."""
        changes: list[CircuitStateChanged] = []
        with self._lock:
            if self._state is not CircuitState.CLOSED:
                self._move(CircuitState.CLOSED, "reset", self._clock(), changes)
            else:
                # Calls in flight keep their old permits: their outcomes are stale.
                self._new_generation()
                self._consecutive = 0
                self._window.clear()
        self._notify(changes, None)

    async def execute(self, request: Request, send: Send) -> HttpResponse:
        """Send one attempt through the breaker and record how it went.

        Raises `HTTPCircuitOpenError` without calling `send` while the
        breaker is open (or half-open with every probe taken). Responses and
        transport errors count through `config.is_failure`; other exceptions
        pass through without counting.
        """
        permit = self.acquire(request)
        try:
            response = await send(request)
        except BaseException as exc:
            self.record(permit, self.judge(exc), request)
            if self._closed_permit is None:
                self._mark_opened(request)
            raise
        failed = self.config.is_failure(response)  # judge(response), one call less
        self.record(permit, Verdict.FAILURE if failed else Verdict.SUCCESS, request)
        if failed and self._closed_permit is None:
            self._mark_opened(request)
        return response

    def _mark_opened(self, request: Request) -> None:
        if self._state is CircuitState.OPEN:
            request.extensions[CIRCUIT_OPENED] = self


def origin_key(request: Request) -> str:
    """`scheme://host:port` of the request: one breaker per backend."""
    url = request.url
    return f"{url.scheme}://{url.host}:{url.port}"


class CircuitBreakerRegistry:
    """One `CircuitBreaker` per key (the request's origin by default); a `ResilienceStrategy`.

    ```python
    breakers = CircuitBreakerRegistry(failure_threshold=5, recovery_timeout=30)
    client = HTTPClient(circuit_breaker=breakers)
    breakers.get("https://api.example.com:443").state
    ```
    Breakers are created on first use with the registry's config, named by
    their key. `key` maps a request to its key (e.g. `lambda r: r.url.host`).
    """

    def __init__(
        self,
        config: CircuitBreakerConfig | None = None,
        /,
        *,
        key: Callable[[Request], str] = origin_key,
        clock: Clock = time.monotonic,
        on_state_change: StateListener | Iterable[StateListener] | None = None,
        **options: Unpack[CircuitBreakerOptions],
    ) -> None:
        base = config if config is not None else CircuitBreakerConfig()
        self.config = dataclasses.replace(base, **options) if options else base
        self._key = key
        self._clock = clock
        self._listeners = _listeners(on_state_change)
        self._breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> CircuitBreaker:
        """The breaker for `key`, created closed on first use."""
        breaker = self._breakers.get(key)
        if breaker is None:
            with self._lock:
                breaker = self._breakers.get(key)
                if breaker is None:
                    breaker = CircuitBreaker(
                        self.config,
                        name=key,
                        clock=self._clock,
                        on_state_change=self._listeners,
                    )
                    self._breakers[key] = breaker
        return breaker

    def breaker_for(self, request: Request) -> CircuitBreaker:
        """The breaker for `request`'s key (its origin by default), created closed on first use."""
        key = self._key(request)
        return self._breakers.get(key) or self.get(key)

    @property
    def breakers(self) -> dict[str, CircuitBreaker]:
        """A snapshot of the breakers created so far, by key."""
        return dict(self._breakers)

    def execute(self, request: Request, send: Send) -> Coroutine[Any, Any, HttpResponse]:
        """`execute` on `breaker_for(request)`; an open breaker raises `HTTPCircuitOpenError`."""
        # Hands back the breaker's coroutine: no frame of the registry's own per attempt.
        return self.breaker_for(request).execute(request, send)
