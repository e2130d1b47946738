"""The demo's chaos part: a seeded fault scenario through a retry policy and a breaker.

Real requests go to the local server over the real aiohttp pool, through a
`FaultInjectionTransport`. Time is virtual: one `FakeClock` drives the
injector's outage window, the retry policy's backoff and the circuit
breaker's recovery timeout, so the run takes well under a second of real time
and the same seed gives the same report every time.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import TextIO

from yarl import URL

from httpdeck._demo_report import ProgressBar, Style, table
from httpdeck.client import (
    AiohttpTransport,
    CircuitBreaker,
    Err,
    HTTPCircuitOpenError,
    HTTPClient,
    HTTPClientConfig,
    HTTPRetryExhaustedError,
    RetryPolicy,
)
from httpdeck.testing import ChaosReport, FakeClock, FaultInjectionTransport, faults

SEED = 2026
REQUESTS = 200
STEP = 0.1  # seconds of virtual time between two requests
OUTAGE = (6.0, 10.0)  # every request fails with 503 in this window of virtual time


@dataclass
class ChaosOutcome:
    """The chaos run's numbers, for the summary."""

    report: ChaosReport
    ok: int
    refused: int
    gave_up: int
    ms: float


def scenario(inner: AiohttpTransport, clock: FakeClock) -> FaultInjectionTransport:
    """A flaky network all along, and an outage of the users API in the middle."""
    transport = FaultInjectionTransport(inner, seed=SEED, clock=clock, sleep=clock.sleep)
    transport.on("GET", "*/users/*", name="outage").inject(faults.Status(503)).during(*OUTAGE)
    transport.on("GET", "*", name="flaky network").inject(
        faults.ConnectionReset(),
        faults.Timeout("read"),
        faults.Status(502),
        faults.TruncatedBody(),
    ).probability(0.08)
    return transport


async def run_chaos(out: TextIO, base: URL, config: HTTPClientConfig) -> ChaosOutcome:
    clock = FakeClock()
    inner = AiohttpTransport(config)
    transport = scenario(inner, clock)
    breaker = CircuitBreaker(
        name="users-api",
        failure_threshold=5,
        recovery_timeout=2.0,
        clock=clock,
        on_state_change=transport.injector.run.circuit,
    )
    retry = RetryPolicy(
        max_attempts=3, base_delay=0.2, clock=clock, sleep=clock.sleep, rng=random.Random(SEED)
    )
    out.write(
        f"  seed {SEED}: {REQUESTS} GETs, one every {STEP:g} s of virtual time; 8 % of attempts "
        f"meet a reset, a read timeout, a 502 or a cut body, and /users/* answers 503 from "
        f"t={OUTAGE[0]:g} s to t={OUTAGE[1]:g} s\n"
        f"  RetryPolicy(max_attempts=3) outside, CircuitBreaker(failure_threshold=5, "
        f"recovery_timeout=2 s) inside, on the real aiohttp pool\n"
    )
    bar = ProgressBar(out, REQUESTS)
    ok = refused = gave_up = 0
    pace = 0.004 if bar.live else 0.0  # on a terminal, slow enough to watch the bar move
    started = time.perf_counter()
    async with HTTPClient(
        config, transport=transport, retry_policy=retry, circuit_breaker=breaker
    ) as client:
        for n in range(REQUESTS):
            result = await client.get(base / "users" / str(n % 2 + 1))
            match result:
                case Err(HTTPCircuitOpenError() as error):
                    transport.injector.run.outcome(error)
                    refused += 1
                case Err(HTTPRetryExhaustedError() as error):
                    transport.injector.run.outcome(error)
                    gave_up += 1
                case _:
                    transport.injector.run.outcome(result)
                    ok += result.is_ok()
            clock.advance(STEP)
            bar.update(n + 1, f"ok {ok}  refused by the breaker {refused}  gave up {gave_up}")
            if pace:
                await asyncio.sleep(pace)
    bar.finish()
    ms = (time.perf_counter() - started) * 1000
    report = transport.injector.report()
    print_report(out, report)
    return ChaosOutcome(report, ok, refused, gave_up, ms)


def print_report(out: TextIO, report: ChaosReport) -> None:
    style = Style(out)
    out.write(
        f"  {report.requests} requests reached the fault injector in {report.attempts} attempts "
        f"({report.retries} retries); {report.fault_total} faults injected\n"
    )
    kinds = sorted(report.faults.items(), key=lambda kv: (-kv[1], kv[0]))
    outcomes = sorted(report.outcomes.items(), key=lambda kv: (-kv[1], kv[0]))
    rows = []
    for index in range(max(len(kinds), len(outcomes))):
        fault = kinds[index] if index < len(kinds) else ("", "")
        outcome = outcomes[index] if index < len(outcomes) else ("", "")
        rows.append([fault[0], str(fault[1]), outcome[0], str(outcome[1])])
    out.write(table(["fault injected", "n", "final outcome", "n"], rows, align="lrlr") + "\n")
    moves = [[f"t={t.at:6.2f} s", t.old, t.new] for t in report.transitions]
    if moves:
        out.write(table(["circuit users-api", "from", "to"], moves) + "\n")
    closed = bool(report.transitions) and report.transitions[-1].new == "closed"
    verdict = "opened during the outage and closed after it" if closed else "did not recover"
    out.write(f"  the breaker {style.green(verdict) if closed else style.red(verdict)}\n")
