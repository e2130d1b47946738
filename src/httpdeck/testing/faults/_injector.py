"""The fault engine: rules that match requests, schedules that decide, and a
log of every fault that fired.

One engine, two placements: `FaultInjectionTransport` wraps any transport,
`FaultInjectionInterceptor` sits in the interceptor chain (above a cassette,
to inject failures into replayed traffic). Both run once per attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import random
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from httpdeck.client import CallNext, HTTPClientConfig, HttpResponse, Request, Transport
from httpdeck.testing._seeds import FAULTS, default_seed, derive_seed
from httpdeck.testing.faults._catalog import Fault
from httpdeck.testing.faults._chaos_report import ChaosReport, RunRecorder
from httpdeck.testing.faults._schedules import (
    Always,
    Burst,
    Decide,
    EveryNth,
    First,
    OnAttempt,
    Probability,
    Schedule,
    Sequence,
    Tick,
    TimeWindow,
    unit_interval,
)
from httpdeck.testing.faults._support import FaultEnv, Sleep, TransportErrors

__all__ = [
    "FaultEvent",
    "FaultInjectionInterceptor",
    "FaultInjectionTransport",
    "FaultInjector",
    "FaultRule",
]

DecideBy = Literal["call", "request"]


@dataclass(frozen=True, slots=True)
class FaultEvent:
    """One fault that fired: which rule, on which of its calls, to which
    request and attempt, and when (seconds on the injector's clock)."""

    seq: int
    at: float
    rule: str
    call: int
    fault: Fault
    method: str
    url: str
    attempt: int

    @property
    def kind(self) -> str:
        """The fault's kind, as `ChaosReport.faults` counts it: "timeout.read", "status.503", ..."""
        return self.fault.kind


def _methods(method: str | Iterable[str]) -> frozenset[str] | None:
    names = [method] if isinstance(method, str) else list(method)
    if "*" in names:
        return None
    return frozenset(name.upper() for name in names)


def _url_regex(url: str | re.Pattern[str]) -> re.Pattern[str] | None:
    if isinstance(url, re.Pattern):
        return url
    if url == "*":
        return None
    return re.compile(fnmatch.translate(url))


def _url_matches(regex: re.Pattern[str], url: object) -> bool:
    """`regex` matches the URL without its query (matched up to the "?", not sliced)."""
    text = str(url)
    end = text.find("?")
    return regex.match(text, 0, end if end >= 0 else len(text)) is not None


class FaultRule:
    """The faults for one route and when they fire; made by `FaultInjector.on()`.

    The builder methods return the rule, so a rule reads as one line:
    `injector.on("POST", "*/orders").inject(faults.Timeout("read")).first(2)`.
    Each of `first`, `every`, `probability`, `sequence`, `burst`, `during` and
    `on_attempts` adds a condition (all must hold); `when()` sets the
    schedule outright. `times(n)` stops the rule after `n` injections.
    """

    __slots__ = (
        "_compiled",
        "_schedule",
        "calls",
        "faults",
        "fired",
        "limit",
        "methods",
        "name",
        "regex",
        "weights",
    )

    def __init__(
        self, method: str | Iterable[str], url: str | re.Pattern[str], *, name: str
    ) -> None:
        self.name = name
        self.methods = _methods(method)
        self.regex = _url_regex(url)
        self.faults: tuple[Fault, ...] = ()
        self.weights: tuple[float, ...] | None = None
        self._schedule: Schedule = Always()
        # (seed, the schedule compiled for this rule and seed, whether it reads the clock)
        self._compiled: tuple[int, Decide, bool] | None = None
        self.limit: int | None = None
        self.calls = 0
        self.fired = 0

    def __repr__(self) -> str:
        return f"<FaultRule {self.name!r} faults={list(self.faults)} schedule={self.schedule!r}>"

    def matches(self, request: Request) -> bool:
        """True when the method is one of the rule's and the URL, without its query, matches."""
        if self.methods is not None and request.method not in self.methods:
            return False
        return self.regex is None or _url_matches(self.regex, request.url)

    @property
    def schedule(self) -> Schedule:
        """When the rule fires: `Always()` until a builder method or `when()` sets it."""
        return self._schedule

    @schedule.setter
    def schedule(self, schedule: Schedule) -> None:
        self._schedule = schedule
        self._compiled = None

    def _compile(self, seed: int) -> tuple[int, Decide, bool]:
        schedule = self._schedule
        self._compiled = (seed, schedule._compile(seed, self.name), schedule._reads_clock())
        return self._compiled

    def inject(self, *faults: Fault, weights: Iterable[float] | None = None) -> FaultRule:
        """The faults this rule injects; one is picked per firing (by `weights`)."""
        for fault in faults:
            if not isinstance(fault, Fault):
                msg = f"Rule {self.name!r}: {fault!r} is not a fault; use one from httpdeck.testing.faults."
                raise TypeError(msg)
        if weights is not None:
            weights = tuple(weights)
            if len(weights) != len(faults) or any(w < 0 for w in weights) or not sum(weights):
                msg = f"Rule {self.name!r}: weights {weights!r} need one non-negative number per fault."
                raise ValueError(msg)
        self.faults, self.weights = tuple(faults), weights
        return self

    def when(self, schedule: Schedule) -> FaultRule:
        """Replace the schedule and earlier conditions; `TypeError` if it is not a `Schedule`."""
        if not isinstance(schedule, Schedule):
            msg = f"Rule {self.name!r}: {schedule!r} is not a schedule (see httpdeck.testing.schedules)."
            raise TypeError(msg)
        self.schedule = schedule
        return self

    def _and(self, schedule: Schedule) -> FaultRule:
        self.schedule = schedule if isinstance(self.schedule, Always) else self.schedule & schedule
        return self

    def first(self, n: int) -> FaultRule:
        """Also require one of the rule's first `n` calls (`schedules.First`)."""
        return self._and(First(n))

    def every(self, n: int, *, offset: int = 0) -> FaultRule:
        """Also require every `n`-th call, shifted by `offset` (`schedules.EveryNth`)."""
        return self._and(EveryNth(n, offset))

    def probability(self, p: float) -> FaultRule:
        """Also fire only with probability `p` (0 to 1), seeded (`schedules.Probability`)."""
        return self._and(Probability(p))

    def sequence(self, *steps: str, cycle: bool = False) -> FaultRule:
        """Also follow `steps`, "fail" or "ok", one per call (`schedules.Sequence`)."""
        return self._and(Sequence(*steps, cycle=cycle))

    def burst(self, start: int, length: int, *, every: int | None = None) -> FaultRule:
        """Also require `length` calls in a row from 0-based call `start` (`schedules.Burst`)."""
        return self._and(Burst(start, length, every))

    def during(self, start: float, end: float = float("inf")) -> FaultRule:
        """Also require `start <= elapsed < end` (`schedules.TimeWindow`).

        `elapsed` is seconds since the injector started or was reset, on its clock.
        """
        return self._and(TimeWindow(start, end))

    def on_attempts(self, *attempts: int) -> FaultRule:
        """Also require one of these attempts, 0 being the first (`schedules.OnAttempt`)."""
        return self._and(OnAttempt(*attempts))

    def times(self, n: int) -> FaultRule:
        """Inject at most `n` faults from this rule, then let everything through."""
        self.limit = n
        return self

    def pick(self, tick: Tick) -> Fault:
        """The fault to inject on `tick`: drawn by `weights` from the seed, or the only one."""
        if len(self.faults) == 1:
            return self.faults[0]
        weights = self.weights or (1.0,) * len(self.faults)
        point = unit_interval(tick, "pick") * sum(weights)
        for fault, weight in zip(self.faults, weights, strict=True):
            point -= weight
            if point < 0:
                return fault
        return self.faults[-1]


class FaultInjector:
    """Decides, per attempt, whether to inject a fault, injects it, logs it.

    ```python
    injector = FaultInjector(
        faults=[faults.ConnectionReset(), faults.Status(503, retry_after=1)],
        schedule=Probability(0.2),
        seed=7,
    )
    injector.on("POST", "*/orders").inject(faults.Timeout("read")).first(2)
    ```

    Rules made by `on()` are tried in order, the global rule (`faults=`,
    `schedule=`) last. A rule that matches a request counts it as one of its
    calls and asks its schedule; the first that fires injects, and the rules
    after it never see that call. Decisions depend on (seed, rule,
    call index) only — with `decide_by="request"`, on (seed, rule, method,
    URL path and query, attempt) — so a fixed seed replays the same faults whatever the
    timing. `clock` (for `TimeWindow` and the log) and `sleep` (for
    latency, stalls and black holes) are injectable; `config` gives the
    timeouts the real client would apply.
    """

    def __init__(
        self,
        *,
        faults: Iterable[Fault] = (),
        schedule: Schedule | None = None,
        seed: int | None = None,
        decide_by: DecideBy = "call",
        config: HTTPClientConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if decide_by not in ("call", "request"):
            msg = f'decide_by must be "call" or "request", got {decide_by!r}.'
            raise ValueError(msg)
        self.seed = default_seed(FAULTS) if seed is None else seed
        self.decide_by: DecideBy = decide_by
        self.config = config or HTTPClientConfig()
        self.enabled = True
        self.log: list[FaultEvent] = []
        self._clock = clock
        self._sleep = sleep
        self._origin = clock()
        self._rules: list[FaultRule] = []
        self._global: FaultRule | None = None
        self._order: tuple[FaultRule, ...] = ()
        self._errors: TransportErrors | None = None
        # Whether the transport behind counts the pool wait in the total timeout
        # (its `pool_wait_in_total`; FaultInjectionTransport sets it).
        self.pool_wait_included: bool | None = None
        self.run = RunRecorder(clock=self._elapsed)
        fault_list = tuple(faults)
        if fault_list:
            self._global = FaultRule("*", "*", name="*").inject(*fault_list)
            if schedule is not None:
                self._global.when(schedule)
        elif schedule is not None:
            msg = "FaultInjector got a schedule but no faults: pass faults=[...] to go with it."
            raise ValueError(msg)
        self._reorder()

    def _reorder(self) -> None:
        self._order = (*self._rules, *([self._global] if self._global else []))

    @property
    def rules(self) -> list[FaultRule]:
        """The rules in the order they are tried."""
        return list(self._order)

    def on(
        self,
        method: str | Iterable[str] = "*",
        url: str | re.Pattern[str] = "*",
        *,
        name: str | None = None,
    ) -> FaultRule:
        """A new rule for requests with `method` (or any, "*") whose URL matches
        `url`: a glob over the URL without its query ("*/orders/*"), or a
        compiled regex. Name it to tell rules apart in the log."""
        if name is None:
            methods = method if isinstance(method, str) else ",".join(method)
            where = url.pattern if isinstance(url, re.Pattern) else url
            name = where if methods == "*" else f"{methods} {where}"
        rule_name = name
        if any(r.name == rule_name for r in self.rules):
            msg = f"A rule named {rule_name!r} exists already; pass name= to tell them apart."
            raise ValueError(msg)
        rule = FaultRule(method, url, name=rule_name)
        self._rules.append(rule)
        self._reorder()
        return rule

    def _elapsed(self) -> float:
        return self._clock() - self._origin

    def reset(self) -> None:
        """Forget the log, the call counts and the run record; keep the rules."""
        self.log.clear()
        for rule in self.rules:
            rule.calls = rule.fired = 0
        self._origin = self._clock()
        self.run = RunRecorder(clock=self._elapsed)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Inject nothing inside the block (calls are not counted either)."""
        enabled, self.enabled = self.enabled, False
        try:
            yield
        finally:
            self.enabled = enabled

    def count(self, kind: str | None = None, *, rule: str | None = None) -> int:
        """How many faults fired, optionally of one kind or from one rule."""
        return sum(
            1
            for event in self.log
            if (kind is None or event.kind == kind) and (rule is None or event.rule == rule)
        )

    def report(self) -> ChaosReport:
        """A summary of the run: requests, attempts, faults by kind and rule,
        circuit transitions and final outcomes (see `injector.run`)."""
        return self.run.report(self.log)

    def _decide(self, request: Request) -> tuple[FaultRule, Tick] | None:
        """Count the attempt and pick the rule that fires on it, if any.

        Runs on every attempt, so the common case (nothing fires) allocates
        nothing: the cheapest tests come first, the clock is read only for a
        schedule that needs it and a `Tick` is built only for a rule that fires.
        """
        run = self.run
        run.attempts += 1
        attempt = request.attempt
        if attempt:
            run.retries += 1
        order = self._order
        if not order or not self.enabled:
            return None
        seed = self.seed
        elapsed: float | None = None
        key: str | None = None
        for rule in order:
            # rule.matches(request), inlined: it runs for every rule on every attempt.
            methods = rule.methods
            if methods is not None and request.method not in methods:
                continue
            regex = rule.regex
            if regex is not None and not _url_matches(regex, request.url):
                continue
            call = rule.calls
            rule.calls = call + 1
            if not rule.faults or (rule.limit is not None and rule.fired >= rule.limit):
                continue
            compiled = rule._compiled
            if compiled is None or compiled[0] != seed:
                compiled = rule._compile(seed)
            _, decide, reads_clock = compiled
            if elapsed is None and reads_clock:
                elapsed = self._elapsed()
            if key is None and self.decide_by == "request":
                # The path, not the origin: a fate survives a server on another port.
                key = f"{request.method} {request.url.raw_path_qs} #{attempt}"
            if decide(call, attempt, 0.0 if elapsed is None else elapsed, key):
                rule.fired += 1
                if elapsed is None:
                    elapsed = self._elapsed()
                return rule, Tick(call, attempt, elapsed, seed, rule.name, key)
        return None

    def handle(self, request: Request, call_next: CallNext) -> Awaitable[HttpResponse]:
        """Run one attempt through the engine: what `call_next(request)` returns
        when nothing fires (no await or frame of the engine's own), else the
        fault's effect."""
        decision = self._decide(request)
        if decision is None:
            return call_next(request)
        return self._fire(request, decision, call_next)

    async def _fire(
        self, request: Request, decision: tuple[FaultRule, Tick], call_next: CallNext
    ) -> HttpResponse:
        rule, tick = decision
        fault = rule.pick(tick)
        self.log.append(
            FaultEvent(
                len(self.log),
                tick.elapsed,
                rule.name,
                tick.call,
                fault,
                request.method,
                str(request.url),
                request.attempt,
            )
        )
        rng = random.Random(derive_seed(self.seed, rule.name, tick.key or tick.call, "rng"))
        if self._errors is None:
            self._errors = TransportErrors(self.config, self.pool_wait_included)
        env = FaultEnv.for_request(
            request, self.config, rng=rng, sleep=self._sleep, errors=self._errors
        )
        return await fault.apply(request, call_next, env)


_DEFAULTS: dict[str, object] = {"faults": (), "schedule": None, "seed": None, "decide_by": "call"}


class _Placement:
    """What both placements share: the injector and shortcuts to it."""

    injector: FaultInjector

    def _init_injector(
        self,
        injector: FaultInjector | None,
        config: HTTPClientConfig | None,
        options: dict[str, object],
    ) -> None:
        if injector is not None:
            given = [name for name, value in options.items() if _DEFAULTS.get(name, ...) != value]
            if given:
                msg = f"Pass either injector= or its options ({', '.join(given)}), not both."
                raise ValueError(msg)
            self.injector = injector
        else:
            self.injector = FaultInjector(config=config, **options)  # type: ignore[arg-type]

    def on(
        self,
        method: str | Iterable[str] = "*",
        url: str | re.Pattern[str] = "*",
        *,
        name: str | None = None,
    ) -> FaultRule:
        """A per-route rule; see `FaultInjector.on`."""
        return self.injector.on(method, url, name=name)

    @property
    def log(self) -> list[FaultEvent]:
        """The injector's log: one `FaultEvent` per fault that fired, in order."""
        return self.injector.log


class FaultInjectionTransport(_Placement):
    """A transport that injects faults in front of any other transport.

    ```python
    transport = FaultInjectionTransport(
        AiohttpTransport(config),
        faults=[faults.ConnectionReset(), faults.Status(503, retry_after=1)],
        schedule=Probability(0.2),
        seed=7,
    )
    client = HTTPClient(config, transport=transport, retry_policy=RetryPolicy(...))
    ```

    Latency, stalls and black holes run into the timeouts of the request
    (per-request `timeout=`), else of `config`, else of the inner
    transport's `config` (an `AiohttpTransport` has one), else the
    defaults. Closing this transport closes the inner one.
    """

    def __init__(
        self,
        inner: Transport,
        *,
        faults: Iterable[Fault] = (),
        schedule: Schedule | None = None,
        seed: int | None = None,
        decide_by: DecideBy = "call",
        config: HTTPClientConfig | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Sleep | None = None,
        injector: FaultInjector | None = None,
    ) -> None:
        self.inner = inner
        if config is None:
            config = getattr(inner, "config", None)
        options: dict[str, object] = {"faults": tuple(faults), "schedule": schedule}
        options |= {"seed": seed, "decide_by": decide_by}
        options |= {k: v for k, v in (("clock", clock), ("sleep", sleep)) if v is not None}
        self._init_injector(
            injector, config if isinstance(config, HTTPClientConfig) else None, options
        )
        # A total timeout is worded as the inner transport words it.
        counted = getattr(inner, "pool_wait_in_total", None)
        if isinstance(counted, bool):
            self.injector.pool_wait_included = counted

    async def start(self) -> None:
        """Start the inner transport, if it has a `start()`."""
        start = getattr(self.inner, "start", None)
        if start is not None:
            await start()

    def send(self, request: Request) -> Coroutine[Any, Any, HttpResponse]:
        """Inject a fault into this attempt, or hand `request` to the inner transport."""
        # `injector.handle` inlined, typed as the Transport protocol wants: the
        # inner coroutine itself when nothing fires.
        decision = self.injector._decide(request)
        if decision is None:
            return self.inner.send(request)
        return self.injector._fire(request, decision, self.inner.send)

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self.inner.aclose()


class FaultInjectionInterceptor(_Placement):
    """The fault engine as an around interceptor.

    Put it before a `RecordReplayInterceptor` to inject failures into
    replayed traffic: `interceptors=[FaultInjectionInterceptor(...), replay]`.
    Pass `config=` (the client's) so latency and stalls hit the same
    timeouts the client applies.
    """

    def __init__(
        self,
        *,
        faults: Iterable[Fault] = (),
        schedule: Schedule | None = None,
        seed: int | None = None,
        decide_by: DecideBy = "call",
        config: HTTPClientConfig | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Sleep | None = None,
        injector: FaultInjector | None = None,
    ) -> None:
        options: dict[str, object] = {"faults": tuple(faults), "schedule": schedule}
        options |= {"seed": seed, "decide_by": decide_by}
        options |= {k: v for k, v in (("clock", clock), ("sleep", sleep)) if v is not None}
        self._init_injector(injector, config, options)

    async def intercept(self, request: Request, call_next: CallNext) -> HttpResponse:
        """Inject a fault into this attempt, or pass `request` on to `call_next`."""
        return await self.injector.handle(request, call_next)
