"""A small asyncio weather client built on httpdeck (httpdeck's example project).

```python
from weather import WeatherService, build_client

async with build_client() as http:
    weather = WeatherService(http, base_url="http://127.0.0.1:8080", api_key="demo-key")
    print(await weather.current("Oslo"))
```
"""

from weather.resilience import build_client, circuit_breaker, resilience, retry_policy
from weather.service import (
    Conditions,
    DayForecast,
    UnknownCity,
    WeatherService,
    WeatherUnavailable,
)

__all__ = [
    "Conditions",
    "DayForecast",
    "UnknownCity",
    "WeatherService",
    "WeatherUnavailable",
    "build_client",
    "circuit_breaker",
    "resilience",
    "retry_policy",
]
