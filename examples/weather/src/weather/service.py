"""The service: current conditions and forecasts from a weather API.

It takes any `HTTPClientProtocol` (the real `HTTPClient` in production, the
fake in unit tests) and turns the API's answers into small dataclasses and
its failures into two exceptions the rest of the application understands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from httpdeck import (
    Err,
    HTTPCircuitOpenError,
    HTTPClientError,
    HTTPClientProtocol,
    HTTPRetryExhaustedError,
    HTTPStatusError,
    Ok,
)

DEFAULT_BASE_URL = "http://127.0.0.1:8080"


class UnknownCity(LookupError):
    """The API does not know this city (it answered 404)."""


class WeatherUnavailable(RuntimeError):
    """The API cannot answer now: retries ran out, or the circuit breaker is open."""


@dataclass(frozen=True, slots=True)
class Conditions:
    city: str
    temperature_c: float
    summary: str


@dataclass(frozen=True, slots=True)
class DayForecast:
    date: str
    low_c: float
    high_c: float
    summary: str


# --8<-- [start:service]
class WeatherService:
    """Reads the weather API at `base_url` with the client it is given."""

    def __init__(
        self,
        http: HTTPClientProtocol,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.headers = {"X-Api-Key": api_key} if api_key else {}

    async def current(self, city: str) -> Conditions:
        """The conditions in `city` now."""
        body = await self._get("/v1/current", {"city": city})
        return Conditions(body["city"], float(body["temperature_c"]), body["summary"])

    async def forecast(self, city: str, *, days: int = 3) -> list[DayForecast]:
        """The next `days` days in `city`, today first."""
        body = await self._get("/v1/forecast", {"city": city, "days": days})
        return [
            DayForecast(day["date"], float(day["low_c"]), float(day["high_c"]), day["summary"])
            for day in body["days"]
        ]

    async def _get(self, path: str, params: dict[str, Any]) -> Any:
        url = self.base_url + path
        match await self.http.get(url, params=params, headers=self.headers):
            case Ok(response):
                return response.json()
            case Err(HTTPCircuitOpenError() as error):
                msg = f"The weather API is failing; not calling it for {error.retry_after:.0f} s."
                raise WeatherUnavailable(msg) from error
            case Err(HTTPRetryExhaustedError() as error):
                msg = f"The weather API failed {len(error.attempts)} times in a row."
                raise WeatherUnavailable(msg) from error
            case Err(HTTPStatusError(status=404)):
                raise UnknownCity(params["city"])
            case Err(HTTPClientError() as error):
                raise WeatherUnavailable(f"The weather API failed: {error}") from error
        raise AssertionError("unreachable")  # pragma: no cover - a Result is Ok or Err


# --8<-- [end:service]
