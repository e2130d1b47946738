"""How the service survives a flaky API: its retry policy and circuit breaker.

Production builds its client with `build_client()`. Tests give the same
policies to the plugin's fixtures, one fresh set per test:
`@pytest.mark.httpdeck_fake(**resilience())`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from httpdeck import CircuitBreaker, HTTPClient, HTTPClientConfig, RetryPolicy

Clock = Callable[[], float]


# --8<-- [start:resilience]
def retry_policy(*, clock: Clock = time.monotonic) -> RetryPolicy:
    """Three attempts, backoff from 0.2 s, everything within 10 s."""
    return RetryPolicy(max_attempts=3, base_delay=0.2, max_delay=2.0, timeout=10.0, clock=clock)


def circuit_breaker(*, clock: Clock = time.monotonic) -> CircuitBreaker:
    """Open after 4 failed attempts in a row; probe again after 15 s."""
    return CircuitBreaker(
        name="weather-api", failure_threshold=4, recovery_timeout=15.0, clock=clock
    )


def resilience(*, clock: Clock = time.monotonic) -> dict[str, Any]:
    """`retry_policy=` and `circuit_breaker=` for an `HTTPClient` (or a fixture marker)."""
    return {
        "retry_policy": retry_policy(clock=clock),
        "circuit_breaker": circuit_breaker(clock=clock),
    }


def build_client(config: HTTPClientConfig | None = None) -> HTTPClient:
    """The production client: pooled, with the service's retry policy and breaker."""
    return HTTPClient(config or HTTPClientConfig.from_env("WEATHER_HTTP"), **resilience())


# --8<-- [end:resilience]
