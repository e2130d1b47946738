"""One run seed drives every random choice of a test: retry jitter, faults, fake data.

Each run is a real pytest subprocess; a test prints what it saw (outcomes,
every backoff wait on the fake clock, the faults injected, fake bodies), and
runs with the same `--httpdeck-seed` must print the same.
"""

from __future__ import annotations

import re

import pytest
from plugin_project import Project, failure_section

CHAOS_TESTS = """
import pytest

from httpdeck import HTTPRetryExhaustedError, RetryPolicy
from httpdeck.testing import FakeClock, FakeError, FakeHTTPClient, FaultInjectionInterceptor
from httpdeck.testing import faults, schedules

WAITS = []


async def recorded_sleep(seconds):
    WAITS.append(seconds)


async def run(fake, label, extra):
    outcomes = []
    for i in range(20):
        try:
            response = await fake.request("GET", f"https://api.example.com/items/{i}")
            outcomes.append(response.status)
        except HTTPRetryExhaustedError as exc:
            outcomes.append(f"gave up after {len(exc.attempts)}")
    print(f"RESULT {label} {outcomes} {extra()}")


@pytest.mark.asyncio
async def test_chaos_built_in_the_test():
    # Built here, with no rng and no seed: the test's seed drives both.
    clock = FakeClock()
    policy = RetryPolicy(
        max_attempts=4, base_delay=1.0, budget_ratio=None, clock=clock, sleep=clock.sleep
    )
    chaos = FaultInjectionInterceptor(
        faults=[faults.Status(503), faults.ConnectionReset()],
        schedule=schedules.Probability(0.5),
        clock=clock.monotonic,
        sleep=clock.sleep,
    )
    async with FakeHTTPClient(clock=clock, retry_policy=policy, interceptors=[chaos]) as fake:
        fake.route("GET", "https://api.example.com/items/*").respond(json={"ok": True})
        await run(fake, "in-test", lambda: f"sleeps={clock.sleeps} faults={chaos.injector.log}")


@pytest.mark.httpdeck_fake(
    retry_policy=lambda: RetryPolicy(
        max_attempts=4, base_delay=1.0, budget_ratio=None, sleep=recorded_sleep
    )
)
@pytest.mark.httpdeck_faults(faults.Status(502), schedule=schedules.Probability(0.5))
@pytest.mark.asyncio
async def test_chaos_from_the_fixtures(httpdeck_fake, httpdeck_faults, httpdeck_fake_data):
    httpdeck_fake.route("GET", "https://api.example.com/items/*").respond(json={"ok": True})
    body = httpdeck_fake_data.build({"name": "name", "email": "email"})
    await run(
        httpdeck_fake, "fixtures", lambda: f"waits={WAITS} faults={httpdeck_faults.log} {body}"
    )


def test_that_fails():
    assert 1 + 1 == 3
"""


def _results(project: Project, seed: str) -> list[str]:
    result = project.run("-s", "-p", "no:randomly", f"--httpdeck-seed={seed}")
    result.assert_outcomes(passed=2, failed=1)
    lines = sorted(m.group() for line in result.stdout.lines if (m := re.search("RESULT .*", line)))
    assert len(lines) == 2
    # The seeds were exercised: faults fired and retries waited.
    assert all("waits=[]" not in line and "sleeps=[]" not in line for line in lines)
    assert all("faults=[]" not in line for line in lines)
    return lines


def test_a_seeded_chaos_run_with_retry_jitter_repeats_exactly(pytester: pytest.Pytester) -> None:
    project = Project(pytester)
    project.tests(CHAOS_TESTS)
    first, second, third = (_results(project, "7") for _ in range(3))
    assert first == second == third
    assert _results(project, "8") != first


def test_a_failed_test_prints_the_seed_that_reproduces_it(pytester: pytest.Pytester) -> None:
    project = Project(pytester)
    project.tests(CHAOS_TESTS)
    result = project.run()
    result.assert_outcomes(passed=2, failed=1)
    header = next(line for line in result.stdout.lines if line.startswith("httpdeck: "))
    seed = re.search(r"seed=(\d+) \(random", header)
    assert seed is not None
    section = failure_section(result, "test_that_fails")
    run_seed = seed.group(1)
    assert f"httpdeck seed: {run_seed} (rerun with --httpdeck-seed={run_seed})" in section
    # The passing tests carry no such section.
    assert result.stdout.str().count("httpdeck seed:") == 1
