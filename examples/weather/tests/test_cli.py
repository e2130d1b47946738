"""`python -m weather CITY`: the production wiring, against the shipped server."""

from __future__ import annotations

import pytest

from weather.__main__ import show

pytestmark = pytest.mark.asyncio


async def test_the_command_line_shows_the_weather(httpdeck_server, capsys):
    assert await show("Nairobi", str(httpdeck_server.url)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Nairobi: 24.5 °C, scattered showers"
    assert len(lines) == 4  # and three days of forecast


async def test_an_unknown_city_exits_1(httpdeck_server, capsys):
    assert await show("Atlantis", str(httpdeck_server.url)) == 1
    assert capsys.readouterr().out == "No weather for 'Atlantis'.\n"
