"""The weather example's fixtures: the shipped server plays the real API.

Everything else comes from httpdeck's pytest plugin, installed with
`httpdeck[testing]`: no conftest code is needed for the fake, cassettes,
faults, the stub module or the servers.
"""

from __future__ import annotations

import pytest
from aiohttp import web
from httpdeck import HTTPClientConfig

from weather.server import create_app


@pytest.fixture
def httpdeck_app() -> web.Application:
    """What `httpdeck_server` (and `httpdeck_chaos_proxy` behind it) serves."""
    return create_app()


@pytest.fixture
def httpdeck_client_config() -> HTTPClientConfig:
    """Every test client identifies itself as production's does."""
    return HTTPClientConfig(user_agent="weather-example/0.1", service_name="weather")
