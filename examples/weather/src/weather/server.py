"""The "real" weather API, shipped with the example: an aiohttp.web app.

Run it with `python -m weather.server` (127.0.0.1:8080), then
`python -m weather Oslo`. The tests serve it with the `httpdeck_server`
fixture and record their cassettes against it.
"""

from __future__ import annotations

import argparse
import datetime as dt

from aiohttp import web

API_KEY = "demo-key"
HITS = web.AppKey("hits", list[str])

CITIES = {
    "oslo": {"city": "Oslo", "temperature_c": -3.5, "summary": "light snow"},
    "lisbon": {"city": "Lisbon", "temperature_c": 17.0, "summary": "sunny"},
    "nairobi": {"city": "Nairobi", "temperature_c": 24.5, "summary": "scattered showers"},
}
FIRST_DAY = dt.date(2026, 1, 5)  # a fixed calendar, so recordings stay stable


def _city(request: web.Request) -> dict[str, object]:
    request.app[HITS].append(request.path_qs)
    if request.headers.get("X-Api-Key") != API_KEY:
        raise web.HTTPUnauthorized(
            text='{"error": "missing or wrong X-Api-Key"}', content_type="application/json"
        )
    city = CITIES.get(request.query.get("city", "").lower())
    if city is None:
        raise web.HTTPNotFound(text='{"error": "unknown city"}', content_type="application/json")
    return city


async def current(request: web.Request) -> web.Response:
    return web.json_response(_city(request))


async def forecast(request: web.Request) -> web.Response:
    city = _city(request)
    days = min(int(request.query.get("days", "3")), 7)
    base = float(city["temperature_c"])  # type: ignore[arg-type]
    return web.json_response(
        {
            "city": city["city"],
            "days": [
                {
                    "date": (FIRST_DAY + dt.timedelta(days=n)).isoformat(),
                    "low_c": base - 2 + n % 3,
                    "high_c": base + 3 + n % 2,
                    "summary": city["summary"],
                }
                for n in range(days)
            ],
        }
    )


def create_app() -> web.Application:
    """The API: `GET /v1/current?city=` and `GET /v1/forecast?city=&days=`, with an API key."""
    app = web.Application()
    app[HITS] = []
    app.router.add_get("/v1/current", current)
    app.router.add_get("/v1/forecast", forecast)
    return app


def main() -> None:  # pragma: no cover - a server for trying the example by hand
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    web.run_app(create_app(), host="127.0.0.1", port=args.port)


if __name__ == "__main__":  # pragma: no cover
    main()
