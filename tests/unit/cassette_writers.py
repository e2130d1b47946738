"""Code run in child processes by the cassette file tests (importable by `spawn`)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from cassette_helpers import ScriptTransport

from httpdeck.client import HTTPClient
from httpdeck.testing import use_cassette


def record_many(path: str, worker: int, count: int, barrier: Any) -> None:
    """Record `count` interactions into `path`, saving after each one."""

    async def run() -> None:
        async with HTTPClient(transport=ScriptTransport()) as client:
            for number in range(count):
                async with use_cassette(client, path, record_mode="new_episodes", cache_dir=False):
                    await client.request("GET", f"http://api.test/w{worker}/{number}")

    barrier.wait()
    asyncio.run(run())


def crash_while_writing(path: str, after_bytes: int) -> None:
    """Start saving a cassette and kill the process after `after_bytes` are written."""
    import httpdeck.testing.cassettes._format as fmt

    real_fdopen = os.fdopen

    class Dying:
        def __init__(self, file: Any) -> None:
            self.file = file

        def __enter__(self) -> Dying:
            return self

        def __exit__(self, *exc: object) -> None:
            self.file.close()

        def write(self, data: bytes) -> None:
            self.file.write(data[:after_bytes])
            self.file.flush()
            os._exit(17)  # the power goes out

    def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        return Dying(real_fdopen(fd, mode, *args, **kwargs))

    os.fdopen = fdopen
    interactions = [
        {
            "request": {
                "method": "GET",
                "uri": f"http://api.test/{i}",
                "body": None,
                "headers": {},
            },
            "response": {
                "status": {"code": 200, "message": "OK"},
                "headers": {},
                "body": {"string": "x" * 100},
            },
        }
        for i in range(500)
    ]
    fmt.write_cassette(Path(path), interactions, "yaml", cache_dir=None)
    sys.exit(0)  # pragma: no cover - never reached
