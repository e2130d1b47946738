"""`python -m weather CITY [--url URL]`: the current weather and a forecast."""

from __future__ import annotations

import argparse
import asyncio

from weather.resilience import build_client
from weather.server import API_KEY
from weather.service import DEFAULT_BASE_URL, UnknownCity, WeatherService, WeatherUnavailable


async def show(city: str, url: str) -> int:
    async with build_client() as http:
        weather = WeatherService(http, base_url=url, api_key=API_KEY)
        try:
            now = await weather.current(city)
            days = await weather.forecast(city)
        except UnknownCity:
            print(f"No weather for {city!r}.")
            return 1
        except WeatherUnavailable as error:
            print(error)
            return 2
    print(f"{now.city}: {now.temperature_c:g} °C, {now.summary}")
    for day in days:
        print(f"  {day.date}: {day.low_c:g} to {day.high_c:g} °C, {day.summary}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("city")
    parser.add_argument("--url", default=DEFAULT_BASE_URL, help="the weather API's base URL")
    args = parser.parse_args()
    return asyncio.run(show(args.city, args.url))


if __name__ == "__main__":
    raise SystemExit(main())
