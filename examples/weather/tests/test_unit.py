"""Unit tests: the service against `httpdeck_fake`, the in-memory client.

The fake is the real `HTTPClient` over routes in memory, so the service's
parsing, error mapping and retry policy run exactly as in production. The
plugin fails a test whose routes were never called, or whose requests
matched no route.
"""

from __future__ import annotations

import pytest
from httpdeck.testing import FakeError, FakeResponse, Field

from weather import Conditions, UnknownCity, WeatherService, WeatherUnavailable, resilience

pytestmark = pytest.mark.asyncio

API = "https://weather.example.com"
CURRENT = f"{API}/v1/current"


async def test_current_conditions_are_parsed(httpdeck_fake):
    route = httpdeck_fake.route("GET", CURRENT, params={"city": "Oslo"}).respond(
        json={"city": "Oslo", "temperature_c": -3.5, "summary": "light snow"}
    )
    weather = WeatherService(httpdeck_fake, base_url=API, api_key="k")

    assert await weather.current("Oslo") == Conditions("Oslo", -3.5, "light snow")
    route.assert_called_once()
    route.assert_called_with(headers={"X-Api-Key": "k"})


async def test_a_forecast_lists_the_days_in_order(httpdeck_fake):
    days = [
        {"date": "2026-01-05", "low_c": 1, "high_c": 4, "summary": "rain"},
        {"date": "2026-01-06", "low_c": 2, "high_c": 6, "summary": "sun"},
    ]
    httpdeck_fake.route("GET", f"{API}/v1/forecast", params={"days": "2"}).respond(
        json={"city": "Oslo", "days": days}
    )
    forecast = await WeatherService(httpdeck_fake, base_url=API).forecast("Oslo", days=2)
    assert [day.date for day in forecast] == ["2026-01-05", "2026-01-06"]
    assert forecast[1].high_c == 6.0


async def test_an_unknown_city_is_a_lookup_error(httpdeck_fake):
    httpdeck_fake.route("GET", CURRENT).respond(404, json={"error": "unknown city"})
    with pytest.raises(UnknownCity, match="Atlantis"):
        await WeatherService(httpdeck_fake, base_url=API).current("Atlantis")


async def test_a_transport_failure_without_retries_is_unavailable(httpdeck_fake):
    httpdeck_fake.route("GET", CURRENT).raise_error(FakeError.connection_reset())
    with pytest.raises(WeatherUnavailable, match="failed"):
        await WeatherService(httpdeck_fake, base_url=API).current("Oslo")


# The service's own RetryPolicy and CircuitBreaker, fresh for this test.
@pytest.mark.httpdeck_fake(**resilience())
async def test_the_retry_policy_rides_out_two_503s(httpdeck_fake):
    route = httpdeck_fake.route("GET", CURRENT).respond_sequence(
        [
            503,
            FakeError.timeout("read"),
            FakeResponse(json={"city": "Oslo", "temperature_c": 1, "summary": "fog"}),
        ]
    )
    assert (await WeatherService(httpdeck_fake, base_url=API).current("Oslo")).summary == "fog"
    assert [call.attempt for call in route.calls] == [0, 1, 2]


@pytest.mark.httpdeck_fake(**resilience())
async def test_three_failed_attempts_make_the_api_unavailable(httpdeck_fake):
    httpdeck_fake.route("GET", CURRENT).respond(503)
    with pytest.raises(WeatherUnavailable, match="failed 3 times in a row"):
        await WeatherService(httpdeck_fake, base_url=API).current("Oslo")


async def test_any_valid_payload_parses(httpdeck_fake, httpdeck_fake_data):
    """Generated payloads (seeded per test, so a failure repeats) all parse."""
    template = {
        "city": "city",
        "temperature_c": Field("pyfloat", min_value=-60, max_value=60),
        "summary": "sentence",
    }
    httpdeck_fake.route("GET", CURRENT).respond_with(httpdeck_fake_data.responder(template))
    weather = WeatherService(httpdeck_fake, base_url=API)
    for _ in range(20):
        conditions = await weather.current("anywhere")
        assert -60 <= conditions.temperature_c <= 60
        assert conditions.city
        assert conditions.summary
