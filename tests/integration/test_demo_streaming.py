"""The demo's streaming rows run against the demo app."""

from __future__ import annotations

import pytest

from conftest import Serve
from httpdeck._demo import demo_app
from httpdeck._demo_streaming import streaming_rows
from httpdeck.client import HTTPClient

pytestmark = pytest.mark.asyncio


async def test_the_demo_streams_reads_events_and_hits_the_size_limit(serve: Serve) -> None:
    url = await serve(demo_app())
    rows: list[tuple[str, str]] = []
    async with HTTPClient() as client:
        await streaming_rows(client, url, lambda what, outcome, ms: rows.append((what, outcome)))
    assert [what for what, _ in rows] == [
        "stream GET /download?mib=64",
        "sse GET /events?n=5",
        "GET /download?mib=8 max 1 MiB",
    ]
    assert rows[0][1].startswith("Ok 64 MiB in ")
    assert rows[1][1] == "5 events [1, 2, 3, 4, 5], last id 5"
    assert rows[2][1] == "Err HTTPResponseTooLargeError (limit 1 MiB)"
