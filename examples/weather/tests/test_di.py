"""The application resolves its client from a container; tests swap in the stub.

Production: `HTTPModule.configure(config)`; tests: the `httpdeck_stub_module`
fixture, `HTTPModule.stub()` booted in a container, whose `.fake` takes routes.
"""

from __future__ import annotations

import pytest
from httpdeck import HTTPClientProtocol

from weather import WeatherService

pytestmark = pytest.mark.asyncio


class App:
    """A slice of an application: builds its service from the container."""

    def __init__(self, container) -> None:
        self.weather = WeatherService(
            container.resolve(HTTPClientProtocol), base_url="https://weather.example.com"
        )

    async def headline(self, city: str) -> str:
        now = await self.weather.current(city)
        return f"{now.city}: {now.temperature_c:g} °C, {now.summary}"


async def test_the_app_reads_the_weather_through_the_container(httpdeck_stub_module):
    httpdeck_stub_module.fake.route("GET", "https://weather.example.com/v1/current").respond(
        json={"city": "Lisbon", "temperature_c": 17, "summary": "sunny"}
    )
    app = App(httpdeck_stub_module.container)
    assert await app.headline("Lisbon") == "Lisbon: 17 °C, sunny"
