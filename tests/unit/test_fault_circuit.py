"""A circuit breaker driven by fault schedules: it opens, half-opens and
closes exactly when the schedule says. One fake clock drives the breaker,
the injector's time windows and the log."""

from __future__ import annotations

import pytest

from httpdeck.client import (
    CircuitBreaker,
    HTTPCircuitOpenError,
    HTTPClient,
    HTTPConnectionError,
)
from httpdeck.testing import FakeClock, FakeTransport, FaultInjectionTransport, faults, schedules

URL = "http://api.test/items"


def setup(
    clock: FakeClock, **breaker: float
) -> tuple[HTTPClient, FaultInjectionTransport, FakeTransport]:
    fake = FakeTransport(clock=clock)
    fake.route("GET", URL).respond(json={"ok": True})
    transport = FaultInjectionTransport(fake, clock=clock, sleep=clock.sleep)
    circuit = CircuitBreaker(
        name="api",
        clock=clock,
        on_state_change=transport.injector.run.circuit,
        **breaker,  # type: ignore[arg-type]
    )
    return HTTPClient(transport=transport, circuit_breaker=circuit), transport, fake


async def drive(client: HTTPClient, clock: FakeClock, seconds: int) -> list[str]:
    """One request per second of fake time; what each one got."""
    seen = []
    for _ in range(seconds):
        try:
            response = await client.request("GET", URL)
            seen.append(str(response.status))
        except HTTPCircuitOpenError:
            seen.append("open")
        except HTTPConnectionError:
            seen.append("reset")
        clock.advance(1)
    return seen


def transitions(transport: FaultInjectionTransport) -> list[tuple[float, str, str]]:
    return [(t.at, t.old, t.new) for t in transport.injector.report().transitions]


@pytest.mark.asyncio
async def test_a_scripted_sequence_opens_half_opens_and_closes_the_breaker() -> None:
    clock = FakeClock()
    client, transport, fake = setup(clock, failure_threshold=3, recovery_timeout=10)
    transport.on("GET", URL).inject(faults.ConnectionReset()).sequence(
        "ok", "fail", "fail", "fail", "fail", "ok", "ok"
    )
    async with client:
        seen = await drive(client, clock, 25)
    assert seen == ["200", "reset", "reset", "reset"] + ["open"] * 9 + ["reset"] + ["open"] * 9 + [
        "200",
        "200",
    ]
    assert transitions(transport) == [
        (3.0, "closed", "open"),  # the third failure in a row
        (13.0, "open", "half_open"),  # recovery_timeout after opening
        (13.0, "half_open", "open"),  # the probe met the 4th "fail"
        (23.0, "open", "half_open"),
        (23.0, "half_open", "closed"),  # the probe met "ok"
    ]
    # The breaker kept refused requests away from the injector and the server.
    assert [(e.call, e.at) for e in transport.log] == [(1, 1.0), (2, 2.0), (3, 3.0), (4, 13.0)]
    assert len(fake.requests) == 3


@pytest.mark.asyncio
async def test_an_outage_window_on_the_injected_clock_trips_and_heals_the_breaker() -> None:
    clock = FakeClock()
    client, transport, _ = setup(clock, failure_threshold=3, recovery_timeout=5)
    transport.on("GET", URL).inject(faults.Status(503)).when(schedules.TimeWindow(5, 20))
    async with client:
        seen = await drive(client, clock, 30)
    assert seen[:8] == ["200"] * 5 + ["503"] * 3
    assert seen[12] == seen[17] == "503"
    assert seen[22:] == ["200"] * 8
    assert transitions(transport) == [
        (7.0, "closed", "open"),
        (12.0, "open", "half_open"),
        (12.0, "half_open", "open"),
        (17.0, "open", "half_open"),
        (17.0, "half_open", "open"),
        (22.0, "open", "half_open"),
        (22.0, "half_open", "closed"),  # the window is over: the probe succeeds
    ]
    assert [e.at for e in transport.log] == [5.0, 6.0, 7.0, 12.0, 17.0]
    report = str(transport.injector.report())
    assert "api: half_open -> closed" in report
