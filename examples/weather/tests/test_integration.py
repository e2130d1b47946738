"""Integration tests: recorded once against the shipped API, replayed ever after.

Record (or re-record) with the API served locally by `httpdeck_server`:

    pytest tests/test_integration.py --httpdeck-record-mode=rewrite

Every other run replays `cassettes/tests/test_integration/<test>.yaml` with
the network blocked; the API key is redacted in the files. Requests to the
local server are stored under `weather-api.test`, so the cassettes do not
depend on the port the server got.
"""

from __future__ import annotations

import pytest
from httpdeck.testing import CassetteRequest

from weather import Conditions, UnknownCity, WeatherService
from weather.server import API_KEY, HITS


def stable_host(request: CassetteRequest) -> CassetteRequest:
    url = request.url
    if url.host == "127.0.0.1":
        request.uri = str(url.with_host("weather-api.test").with_port(None))
    return request


pytestmark = [pytest.mark.asyncio, pytest.mark.httpdeck_cassette(before_record_request=stable_host)]


@pytest.fixture
def weather(httpdeck_client, httpdeck_server):
    return WeatherService(httpdeck_client, base_url=str(httpdeck_server.url), api_key=API_KEY)


def served(httpdeck_server, httpdeck_cassette) -> int:
    """Requests the live API saw: none at all when the cassette replayed."""
    hits = len(httpdeck_server.app[HITS])
    if httpdeck_cassette.play_count:
        assert hits == 0
    return hits


async def test_current_weather_in_oslo(weather, httpdeck_server, httpdeck_cassette):
    assert await weather.current("Oslo") == Conditions("Oslo", -3.5, "light snow")
    assert httpdeck_cassette.play_count + served(httpdeck_server, httpdeck_cassette) == 1


async def test_a_week_of_lisbon(weather, httpdeck_server, httpdeck_cassette):
    days = await weather.forecast("Lisbon", days=7)
    assert [day.date for day in days][:2] == ["2026-01-05", "2026-01-06"]
    assert {day.summary for day in days} == {"sunny"}
    served(httpdeck_server, httpdeck_cassette)


async def test_an_unknown_city(weather, httpdeck_server, httpdeck_cassette):
    with pytest.raises(UnknownCity):
        await weather.current("Atlantis")
    served(httpdeck_server, httpdeck_cassette)


async def test_the_api_key_never_reaches_the_cassette(weather, httpdeck_cassette):
    await weather.current("Nairobi")
    (request,) = httpdeck_cassette.requests
    assert request.headers["X-Api-Key"] == "REDACTED"
