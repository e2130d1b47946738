"""A real aiohttp.web server on 127.0.0.1 for tests, demos and examples."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from aiohttp import web
from yarl import URL


class LocalServer:
    """Run an `aiohttp.web.Application` on 127.0.0.1 (a free port by default).

    ```python
    async with LocalServer(app) as server:
        response = await client.get(server.url / "users")
    ```
    """

    def __init__(self, app: web.Application, *, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            msg = f"LocalServer only listens on this machine (127.0.0.1), not {host!r}."
            raise ValueError(msg)
        self.app = app
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> URL:
        """The base URL, `http://127.0.0.1:<port>`, once started."""
        if self._runner is None:
            msg = "The server is not running: call `await server.start()` first."
            raise RuntimeError(msg)
        return URL.build(scheme="http", host=self.host, port=self.port)

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
