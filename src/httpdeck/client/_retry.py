"""Retrying failed attempts: `RetryConfig`, `RetryPolicy`, `RetryBudget`, testing mode.

The decision is a pure state machine, `RetryState.decide(outcome)`: given an
attempt's outcome, a clock and a random source, it answers *retry after d
seconds*, *hand the outcome back* (not retryable) or *give up* (retryable,
but attempts, deadline, budget or Retry-After say no). `RetryPolicy.execute`
is the small async loop around it that sends, sleeps and raises.

Rules, in the order `decide` applies them:

1. Retryable outcome? A response whose status is in `retry_statuses`
   (408, 429, 500, 502, 503, 504), or an error that is an instance of
   `retry_on` (connection, timeout and protocol errors). Anything else is
   handed back unchanged: the response returned, the error raised.
2. May the request be sent again? Never when its body is a one-shot stream
   already consumed. Always for GET, HEAD, OPTIONS, PUT, DELETE, TRACE.
   Other methods (POST, PATCH) only when the request carries the
   idempotency-key header, or the error says no byte was sent (`sent=False`).
   If not, the outcome is handed back unchanged.
3. Can we? Not when `max_attempts` are used up, the deadline (`timeout`)
   would pass before the next attempt starts, the retry budget is spent, or a
   Retry-After asks for longer than `max_delay`: then `HTTPRetryExhaustedError`.
4. The wait: Retry-After (seconds or HTTP-date, on 429/503) when present and
   in the future, else full-jitter exponential backoff,
   `uniform(0, min(max_delay, base_delay * multiplier**retry))`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypedDict, Unpack

from httpdeck.client._deadlines import Deadline, virtual_slots
from httpdeck.client._exceptions import (
    HTTPClientError,
    HTTPConfigError,
    HTTPConnectionError,
    HTTPProtocolError,
    HTTPRetryExhaustedError,
    HTTPTimeoutError,
    HTTPTransportError,
    describe,
)
from httpdeck.client._extensions import CIRCUIT_OPENED
from httpdeck.client._models import HttpResponse, Request
from httpdeck.client._observe import observer_of
from httpdeck.client._retry_support import (
    RANDOMNESS,
    TESTING,
    Clock,
    RetryBudget,
    parse_retry_after,
)

Send = Callable[[Request], Awaitable[HttpResponse]]
Outcome = HttpResponse | HTTPClientError
Sleep = Callable[[float], Awaitable[object]]

DEFAULT_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRY_AFTER_STATUSES = frozenset({429, 503})
DEFAULT_RETRY_ON: tuple[type[HTTPClientError], ...] = (
    HTTPConnectionError,
    HTTPTimeoutError,
    HTTPProtocolError,
)

# -- configuration --------------------------------------------------------------


def _number(name: str, value: object, *, minimum: float, strict: bool = False) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < minimum or (strict and value == minimum):  # type: ignore[operator]
        bound = f"> {minimum}" if strict else f">= {minimum}"
        msg = f"RetryConfig.{name} must be a finite number {bound}, got {value!r}."
        raise HTTPConfigError(msg)


@dataclass(frozen=True, kw_only=True, slots=True)
class RetryConfig:
    """What a `RetryPolicy` retries and how long it waits. See the module docstring."""

    max_attempts: int = 3
    """Attempts in total, the first included: 3 means at most 3 requests reach the server."""
    base_delay: float = 0.5
    """Backoff ceiling of the first retry, in seconds."""
    max_delay: float = 30.0
    """Cap of every wait; a Retry-After asking for more gives up instead of waiting."""
    multiplier: float = 2.0
    """Growth of the backoff ceiling per retry."""
    jitter: float = 1.0
    """1.0 is full jitter (wait in [0, ceiling]); 0.0 waits the ceiling exactly."""
    timeout: float | None = None
    """Deadline in seconds for all attempts and waits together; None for none."""
    retry_statuses: frozenset[int] = DEFAULT_RETRY_STATUSES
    retry_on: tuple[type[HTTPClientError], ...] = DEFAULT_RETRY_ON
    idempotent_methods: frozenset[str] = IDEMPOTENT_METHODS
    idempotency_key_header: str | None = "Idempotency-Key"
    """A request carrying this header may be retried whatever its method."""
    respect_retry_after: bool = True
    budget_ratio: float | None = 0.2
    """Retries allowed per first attempt over `budget_window`; None disables the budget."""
    budget_window: float = 10.0
    budget_min_retries: int = 10
    """Retries always allowed per window, so quiet clients can still retry."""

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_attempts, bool)
            or not isinstance(self.max_attempts, int)
            or self.max_attempts < 1
        ):
            msg = f"RetryConfig.max_attempts must be an integer >= 1, got {self.max_attempts!r}."
            raise HTTPConfigError(msg)
        _number("base_delay", self.base_delay, minimum=0.0)
        _number("max_delay", self.max_delay, minimum=0.0)
        _number("multiplier", self.multiplier, minimum=1.0)
        _number("jitter", self.jitter, minimum=0.0)
        if self.jitter > 1.0:
            msg = f"RetryConfig.jitter must be between 0.0 and 1.0, got {self.jitter!r}."
            raise HTTPConfigError(msg)
        if self.timeout is not None:
            _number("timeout", self.timeout, minimum=0.0, strict=True)
        if self.budget_ratio is not None:
            _number("budget_ratio", self.budget_ratio, minimum=0.0)
        _number("budget_window", self.budget_window, minimum=0.0, strict=True)
        if isinstance(self.budget_min_retries, bool) or not isinstance(
            self.budget_min_retries, int
        ):
            msg = f"RetryConfig.budget_min_retries must be an integer, got {self.budget_min_retries!r}."
            raise HTTPConfigError(msg)
        bad = [s for s in self.retry_statuses if not (isinstance(s, int) and 100 <= s <= 599)]
        if bad:
            msg = f"RetryConfig.retry_statuses must be HTTP statuses (100-599), got {bad!r}."
            raise HTTPConfigError(msg)
        for kind in self.retry_on:
            if not (isinstance(kind, type) and issubclass(kind, HTTPClientError)):
                msg = (
                    f"RetryConfig.retry_on must hold HTTPClientError subclasses "
                    f"(e.g. HTTPConnectionError), got {kind!r}."
                )
                raise HTTPConfigError(msg)
        object.__setattr__(self, "retry_statuses", frozenset(self.retry_statuses))
        methods = frozenset(m.upper() for m in self.idempotent_methods)
        object.__setattr__(self, "idempotent_methods", methods)

    def ceiling(self, retry: int) -> float:
        """The backoff ceiling before retry number `retry` (0 for the first retry)."""
        try:
            return min(self.max_delay, self.base_delay * self.multiplier ** min(retry, 1024))
        except OverflowError:
            return self.max_delay


class RetryOptions(TypedDict, total=False):
    """`RetryConfig`'s fields, accepted as keywords by `RetryPolicy(...)`."""

    max_attempts: int
    base_delay: float
    max_delay: float
    multiplier: float
    jitter: float
    timeout: float | None
    retry_statuses: frozenset[int]
    retry_on: tuple[type[HTTPClientError], ...]
    idempotent_methods: frozenset[str]
    idempotency_key_header: str | None
    respect_retry_after: bool
    budget_ratio: float | None
    budget_window: float
    budget_min_retries: int


# -- the state machine -----------------------------------------------------------------


class Action(enum.Enum):
    RETRY = "retry"
    RETURN = "return"
    EXHAUSTED = "exhausted"


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """What to do after an attempt: `action`, the `delay` before a retry, and why."""

    action: Action
    reason: str
    delay: float = 0.0


class RetryState:
    """One logical request's progress through a policy. Pure: no I/O, no sleeping."""

    __slots__ = ("_policy", "attempt", "deadline", "max_attempts", "outcomes", "request")

    def __init__(self, policy: RetryPolicy, request: Request) -> None:
        self._policy = policy
        self.request = request
        # 0 for a new request; past 0 only for the client's re-send of a stale
        # connection's attempt, which keeps its number (one past the failed one).
        self.attempt = request.attempt
        self.outcomes: list[Outcome] = []
        config = policy.config
        self.max_attempts = TESTING.max_attempts or config.max_attempts
        timeout = config.timeout
        self.deadline = None if timeout is None else policy.clock() + timeout
        if policy.budget is not None:
            policy.budget.record_first_attempt()

    def attempt_request(self) -> Request:
        """A copy of the request for the current attempt, `attempt` set.

        Headers and extensions are copied so that what an interceptor changes
        on one attempt does not leak into the next; the body is shared.
        """
        r = self.request
        # Positional: a keyword call costs twice as much, and this runs per attempt.
        return Request(
            r.method,
            r.url,
            r.headers.copy(),
            r.content,
            r.timeout,
            r.max_response_bytes,
            self.attempt,
            r.redirect_hop,
            dict(r.extensions),
        )

    def _may_resend(self, sent: bool) -> bool:
        request, config = self.request, self._policy.config
        if not request.replayable:
            return False
        if request.method in config.idempotent_methods:
            return True
        header = config.idempotency_key_header
        if header is not None and header in request.headers:
            return True
        return not sent

    def decide(self, outcome: Outcome) -> RetryDecision:
        """Record the outcome of the current attempt and decide what comes next."""
        policy, config = self._policy, self._policy.config
        self.outcomes.append(outcome)
        if isinstance(outcome, HttpResponse):
            if outcome.status not in config.retry_statuses:
                return _returned(outcome.status)
            reason, sent = f"status {outcome.status}", True
        else:
            if not isinstance(outcome, config.retry_on):
                return RetryDecision(Action.RETURN, f"{type(outcome).__name__} is not retried")
            reason = type(outcome).__name__
            sent = outcome.sent if isinstance(outcome, HTTPTransportError) else True
        if not self._may_resend(sent):
            why = (
                "its body is a one-shot stream already sent"
                if not self.request.replayable
                else f"{self.request.method} is not idempotent and the request may have been sent"
            )
            return RetryDecision(Action.RETURN, f"{reason}, not retried: {why}")
        if self.attempt + 1 >= self.max_attempts:
            return RetryDecision(
                Action.EXHAUSTED, f"{reason}; all {self.max_attempts} attempts were used"
            )
        delay = policy.backoff(self.attempt)
        if (
            config.respect_retry_after
            and isinstance(outcome, HttpResponse)
            and outcome.status in RETRY_AFTER_STATUSES
        ):
            asked = parse_retry_after(outcome, policy.wall_clock())
            if asked is not None and asked > config.max_delay:
                header = outcome.headers.get("Retry-After", "")
                if len(header) > 40:  # a 5,000-digit value: show its start and size
                    header = f"{header[:20]}... ({len(header)} characters)"
                return RetryDecision(
                    Action.EXHAUSTED,
                    f"{reason} with Retry-After: {header} asks for {asked:.1f} s, more than "
                    f"max_delay={config.max_delay} s; raise max_delay to wait that long",
                )
            if asked is not None and asked > 0:
                delay = asked
        if self.deadline is not None and policy.clock() + delay >= self.deadline:
            return RetryDecision(
                Action.EXHAUSTED,
                f"{reason}; the next attempt (after a {delay:.2f} s wait) would start past "
                f"the deadline (timeout={config.timeout} s)",
            )
        if policy.budget is not None and not policy.budget.try_retry():
            firsts, retries = policy.budget.counts()
            return RetryDecision(
                Action.EXHAUSTED,
                f"{reason}; the retry budget is spent ({retries} retries for {firsts} requests "
                f"in the last {policy.budget.window:g} s, ratio {policy.budget.ratio:g}): "
                "the backend looks down",
            )
        self.attempt += 1
        return RetryDecision(Action.RETRY, reason, delay)

    def exhausted_error(self, reason: str) -> HTTPRetryExhaustedError:
        lines = [f"  attempt {i}: {_summary(o)}" for i, o in enumerate(self.outcomes)]
        msg = (
            f"{describe(self.request)} failed after {len(self.outcomes)} attempt(s): {reason}.\n"
            + "\n".join(lines)
            + "\nEach outcome is in the error's .attempts; tune RetryPolicy(max_attempts=..., "
            "timeout=...) if this backend needs more patience."
        )
        return HTTPRetryExhaustedError(
            msg, request=self.request, attempts=list(self.outcomes), reason=reason
        )


_RETURNED: dict[int, RetryDecision] = {}


def _returned(status: int) -> RetryDecision:
    """The decision for a status that is not retried: one shared value per status,
    since every successful request ends in one."""
    decision = _RETURNED.get(status)
    if decision is None:
        decision = _RETURNED[status] = RetryDecision(
            Action.RETURN, f"status {status} is not retried"
        )
    return decision


def _summary(outcome: Outcome) -> str:
    if isinstance(outcome, HttpResponse):
        return f"{outcome.status} {outcome.reason}".strip()
    return f"{type(outcome).__name__}: {outcome}"


# -- the policy --------------------------------------------------------------------------


class RetryPolicy:
    """Retries failed attempts of a request; a `ResilienceStrategy`.

    ```python
    client = HTTPClient(retry_policy=RetryPolicy(max_attempts=4, timeout=10.0))
    ```

    Pass a `RetryConfig` or its fields as keywords (the keywords override the
    config). `clock` (monotonic seconds), `wall_clock` (Unix seconds, for
    Retry-After dates), `rng` and `sleep` are injectable so tests are
    deterministic. Without an `rng` the jitter comes from the default random
    source: unseeded, except under httpdeck's pytest plugin, where it is the
    running test's, seeded from `--httpdeck-seed`. A `clock` with timers of its
    own (`FakeClock`) also times the deadline that cuts an attempt in flight. `budget` shares a `RetryBudget` between policies; by default
    each policy has its own built from the config (none if `budget_ratio=None`).

    After the last attempt `request()` raises `HTTPRetryExhaustedError` with
    every outcome; errors that are not retryable pass through unchanged.
    """

    def __init__(
        self,
        config: RetryConfig | None = None,
        /,
        *,
        budget: RetryBudget | None = None,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        rng: random.Random | None = None,
        sleep: Sleep | None = None,
        **options: Unpack[RetryOptions],
    ) -> None:
        base = config if config is not None else RetryConfig()
        if not isinstance(base, RetryConfig):
            msg = f"RetryPolicy(config) must be a RetryConfig, got {type(base).__name__}."
            raise TypeError(msg)
        self.config = dataclasses.replace(base, **options) if options else base
        self.clock = clock
        self.wall_clock = wall_clock
        self.rng = rng
        self._sleep = sleep
        # A virtual clock (FakeClock) also times the deadline of an attempt in
        # flight; any other clock measures it, and the loop's timers cut it.
        self._deadlines = virtual_slots(clock)
        if budget is None and self.config.budget_ratio is not None:
            budget = RetryBudget(
                ratio=self.config.budget_ratio,
                window=self.config.budget_window,
                min_retries=self.config.budget_min_retries,
                clock=clock,
            )
        self.budget = budget

    def __repr__(self) -> str:
        c = self.config
        return (
            f"RetryPolicy(max_attempts={c.max_attempts}, base_delay={c.base_delay}, "
            f"max_delay={c.max_delay}, timeout={c.timeout})"
        )

    def backoff(self, retry: int) -> float:
        """The wait before retry number `retry` (0-based), jitter applied."""
        config = self.config
        rng = self.rng if self.rng is not None else RANDOMNESS.rng
        return config.ceiling(retry) * (1.0 - config.jitter * rng.random())

    def start(self, request: Request) -> RetryState:
        """Begin a logical request: the state machine `execute` drives."""
        return RetryState(self, request)

    async def _wait(self, delay: float) -> None:
        if self._sleep is not None:
            await self._sleep(delay)
        elif TESTING.enabled:
            await asyncio.sleep(0)
        else:
            await asyncio.sleep(delay)

    async def _send_before(self, until: float, request: Request, send: Send) -> HttpResponse:
        deadline = Deadline(max(until - self.clock(), 0.0), self._deadlines)
        try:
            with deadline:
                return await send(request)
        except TimeoutError as exc:
            if not deadline.expired:
                raise
            msg = (
                f"{describe(request)} did not complete before the retry deadline "
                f"(RetryConfig.timeout={self.config.timeout} s) on attempt {request.attempt}."
            )
            raise HTTPTimeoutError(msg, request=request, sent=True, phase="total") from exc

    async def execute(self, request: Request, send: Send) -> HttpResponse:
        """Send `request`, retrying failed attempts as the config allows.

        Returns the first response that needs no retry. When attempts, the
        timeout or the budget run out, raises `HTTPRetryExhaustedError` with
        every outcome; errors that are not retryable pass through unchanged.
        """
        state = self.start(request)
        deadline = state.deadline
        while True:
            attempt = state.attempt_request()
            try:
                if deadline is None:
                    outcome: Outcome = await send(attempt)
                else:
                    outcome = await self._send_before(deadline, attempt, send)
            except HTTPClientError as exc:
                outcome = exc
            decision = state.decide(outcome)
            if decision.action is Action.RETURN:
                if isinstance(outcome, HttpResponse):
                    return outcome
                raise outcome
            if isinstance(outcome, HttpResponse):
                await outcome.aclose()
            observer = observer_of(request)
            if decision.action is Action.EXHAUSTED:
                if observer is not None:
                    observer.exhausted(request, state.outcomes, decision.reason)
                error = state.exhausted_error(decision.reason)
                raise error from (outcome if isinstance(outcome, Exception) else None)
            refused = CIRCUIT_OPENED in attempt.extensions and _stays_open(attempt, decision)
            if refused:
                decision = RetryDecision(Action.RETRY, f"{decision.reason}; {refused}", 0.0)
            if observer is not None:
                observer.retry(attempt, attempt.attempt, decision.delay, decision.reason, outcome)
            if not refused:
                await self._wait(decision.delay)


def _stays_open(attempt: Request, decision: RetryDecision) -> str:
    """Why not to wait, when the circuit breaker that opened on `attempt` stays
    open past the wait: the next attempt is refused at once either way
    (`HTTPCircuitOpenError`). Empty when the wait ends after it half-opens:
    then the next attempt is its probe, so the wait is kept."""
    breaker = attempt.extensions[CIRCUIT_OPENED]
    if breaker.retry_after <= decision.delay:
        return ""
    return f"circuit breaker {breaker.name!r} is open, so no wait before the refused attempt"
