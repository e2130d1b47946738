"""Chaos tests: the retry and circuit-breaker paths, on purpose and reproducibly.

`httpdeck_faults` is a seeded fault injector installed in the test's clients
(outermost, so it also fails replayed cassette traffic); latency and outages
run on the fake's virtual clock. `httpdeck_chaos_proxy` breaks real sockets
between the real client and the shipped server.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from httpdeck import HTTPClient
from httpdeck.testing import FakeClock, faults, schedules

from weather import WeatherService, WeatherUnavailable, resilience
from weather.server import API_KEY

pytestmark = pytest.mark.asyncio

API = "https://weather.example.com"
RECORDED_OSLO = (
    Path(__file__).parents[1] / "cassettes/tests/test_integration/test_current_weather_in_oslo.yaml"
)
OSLO = {"city": "Oslo", "temperature_c": -3.5, "summary": "light snow"}


def on_a_fake_clock():
    """The fake's options: a virtual clock, shared by the service's breaker."""
    clock = FakeClock()
    return {"clock": clock, **resilience(clock=clock)}


@pytest.mark.httpdeck_fake(**resilience())
@pytest.mark.httpdeck_faults(faults.ConnectionReset(), schedule=schedules.First(2))
async def test_two_resets_are_retried_away(httpdeck_fake, httpdeck_faults):
    route = httpdeck_fake.route("GET", f"{API}/v1/current").respond(json=OSLO)
    assert (await WeatherService(httpdeck_fake, base_url=API).current("Oslo")).city == "Oslo"
    assert [event.kind for event in httpdeck_faults.log] == ["connection_reset"] * 2
    route.assert_called_once()  # the faults never reached the API


# --8<-- [start:outage]
@pytest.mark.httpdeck_fake(**on_a_fake_clock())
async def test_an_outage_opens_the_breaker_and_it_heals(httpdeck_fake, httpdeck_faults):
    clock = httpdeck_fake.clock
    route = httpdeck_fake.route("GET", f"{API}/v1/current").respond(json=OSLO)
    httpdeck_faults.on("GET", "*/v1/current").inject(faults.Status(503)).during(0, 30)
    weather = WeatherService(httpdeck_fake, base_url=API)

    with pytest.raises(WeatherUnavailable, match="failed 3 times"):
        await weather.current("Oslo")  # 3 attempts, 3 failures
    with pytest.raises(WeatherUnavailable, match="not calling it"):
        await weather.current("Oslo")  # the 4th failure opens the breaker
    injected = len(httpdeck_faults.log)
    with pytest.raises(WeatherUnavailable, match="not calling it for 15 s"):
        await weather.current("Oslo")  # refused at once: nothing sent
    assert len(httpdeck_faults.log) == injected

    clock.advance(31)  # past the outage and the recovery timeout
    assert (await weather.current("Oslo")).city == "Oslo"  # the probe succeeds: closed
    route.assert_called_once()


# --8<-- [end:outage]


@pytest.mark.httpdeck_cassette(RECORDED_OSLO, record_mode="none")  # replay only
@pytest.mark.httpdeck_client(**resilience())
@pytest.mark.httpdeck_faults(
    faults.Status(502), faults.Timeout("read"), schedule=schedules.First(2)
)
async def test_replayed_traffic_with_two_faults_on_top(
    httpdeck_client, httpdeck_faults, httpdeck_cassette
):
    """The recorded happy path, with a 502 and a read timeout injected first."""
    weather = WeatherService(httpdeck_client, base_url="http://weather-api.test", api_key=API_KEY)
    assert (await weather.current("Oslo")).summary == "light snow"
    assert sorted(event.kind for event in httpdeck_faults.log) == ["status.502", "timeout.read"]
    assert httpdeck_cassette.play_count == 1


async def test_real_resets_through_the_chaos_proxy(httpdeck_chaos_proxy, httpdeck_server):
    async with HTTPClient(**resilience()) as http:
        weather = WeatherService(http, base_url=str(httpdeck_chaos_proxy.url), api_key=API_KEY)
        assert (await weather.current("Lisbon")).city == "Lisbon"

        httpdeck_chaos_proxy.add_toxic("reset_peer", timeout=0)  # every connection: a TCP RST
        with pytest.raises(WeatherUnavailable, match="failed 3 times"):
            await weather.current("Lisbon")

        httpdeck_chaos_proxy.remove_toxic("reset_peer_downstream")
        assert (await weather.current("Lisbon")).city == "Lisbon"
    assert httpdeck_chaos_proxy.connections >= 4  # 1 + 3 reset attempts + 1
