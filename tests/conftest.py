"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest_asyncio
from aiohttp import web
from yarl import URL

from httpdeck.testing._server import LocalServer

Serve = Callable[[web.Application], Awaitable[URL]]

# pytester runs the plugin tests (tests/plugin/) in subprocesses; pytest only
# accepts `pytest_plugins` in this top-level conftest.
pytest_plugins = ["pytester"]

# The cassette parse cache defaults to ~/.cache; the suite keeps it in the
# temp folder so a run never writes to the home directory.
os.environ.setdefault(
    "HTTPDECK_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"httpdeck-test-cache-{os.getuid()}")
)


@pytest_asyncio.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start aiohttp.web apps on 127.0.0.1 for this test: `url = await serve(app)`."""
    servers: list[LocalServer] = []

    async def start(app: web.Application) -> URL:
        server = LocalServer(app)
        await server.start()
        servers.append(server)
        return server.url

    yield start
    for server in reversed(servers):
        await server.stop()
