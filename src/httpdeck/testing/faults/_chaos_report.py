"""The summary of a chaos run: requests, attempts, retries, faults by kind
and by rule, circuit transitions and final outcomes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from httpdeck.client import Err, HttpResponse, HTTPStatusError, Ok

if TYPE_CHECKING:
    from httpdeck.client import CircuitStateChanged
    from httpdeck.testing.faults._injector import FaultEvent

__all__ = ["ChaosReport", "RunRecorder", "Transition"]


@dataclass(frozen=True, slots=True)
class Transition:
    """A circuit breaker changed state `at` seconds into the run."""

    at: float
    breaker: str
    old: str
    new: str


def outcome_label(outcome: object) -> str:
    """ "200" for a response, "HTTPStatusError 503", "HTTPRetryExhaustedError", ..."""
    if isinstance(outcome, Ok):
        outcome = outcome.value
    elif isinstance(outcome, Err):
        outcome = outcome.error
    if isinstance(outcome, HttpResponse):
        return str(outcome.status)
    if isinstance(outcome, HTTPStatusError):
        return f"HTTPStatusError {outcome.status}"
    if isinstance(outcome, BaseException):
        return type(outcome).__name__
    msg = f"Cannot record {outcome!r} as an outcome: pass a Result, a response or an exception."
    raise TypeError(msg)


@dataclass(frozen=True, slots=True)
class ChaosReport:
    """What a chaos run did. `str(report)` is a readable table.

    `requests` counts first attempts the injector saw (each redirect hop is
    one), `retries` the later attempts. `outcomes` and `transitions` hold
    what the test recorded through `injector.run`.
    """

    requests: int
    attempts: int
    retries: int
    faults: Mapping[str, int]
    by_rule: Mapping[str, int]
    outcomes: Mapping[str, int]
    transitions: tuple[Transition, ...]

    @property
    def fault_total(self) -> int:
        """Faults injected, all kinds together (the sum of `faults`)."""
        return sum(self.faults.values())

    def __str__(self) -> str:
        lines = [
            f"chaos run: {self.requests} requests, {self.attempts} attempts "
            f"({self.retries} retries), {self.fault_total} faults injected"
        ]

        def table(title: str, counts: Mapping[str, int]) -> None:
            if counts:
                lines.append(f"{title}:")
                width = max(len(name) for name in counts)
                for name, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
                    lines.append(f"  {name:<{width}}  {count:>7}")

        table("faults by kind", self.faults)
        table("faults by rule", self.by_rule)
        if self.transitions:
            lines.append("circuit transitions:")
            for t in self.transitions:
                name = f"{t.breaker}: " if t.breaker else ""
                lines.append(f"  t={t.at:9.3f}  {name}{t.old} -> {t.new}")
        table("outcomes", self.outcomes)
        return "\n".join(lines)


class RunRecorder:
    """Counts a run's attempts (the injector counts `requests`, `attempts`
    and `retries` as they pass) and what the test records: `outcome(result)` for each finished request and
    `transition(old, new)` for each circuit breaker state change."""

    def __init__(self, *, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.attempts = 0
        self.retries = 0
        self.outcomes: Counter[str] = Counter()
        self.transitions: list[Transition] = []

    @property
    def requests(self) -> int:
        """First attempts (every attempt that is not a retry)."""
        return self.attempts - self.retries

    def outcome(self, outcome: object) -> None:
        """Record a request's final outcome: a `Result`, a response or an exception."""
        self.outcomes[outcome_label(outcome)] += 1

    def transition(self, old: object, new: object, *, breaker: str = "") -> None:
        """Record a circuit state change (states may be enums or strings)."""
        self.transitions.append(Transition(self._clock(), breaker, _state(old), _state(new)))

    def circuit(self, event: CircuitStateChanged) -> None:
        """A circuit breaker listener: `CircuitBreaker(on_state_change=injector.run.circuit)`."""
        self.transition(event.previous, event.state, breaker=event.breaker)

    def report(self, log: Iterable[FaultEvent]) -> ChaosReport:
        events = list(log)
        return ChaosReport(
            requests=self.requests,
            attempts=self.attempts,
            retries=self.retries,
            faults=dict(Counter(event.kind for event in events)),
            by_rule=dict(Counter(event.rule for event in events)),
            outcomes=dict(self.outcomes),
            transitions=tuple(self.transitions),
        )


def _state(state: object) -> str:
    value = getattr(state, "value", state)
    return str(value)
