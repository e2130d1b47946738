"""The demo's cassette part: record real calls, then replay them with the server gone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from yarl import URL

from httpdeck._demo_report import Style, indent, table
from httpdeck.client import (
    Err,
    HTTPClient,
    HTTPClientConfig,
    HTTPClientError,
    HTTPConnectionError,
    HttpResponse,
    Ok,
    Result,
)
from httpdeck.testing import CassetteMissError, use_cassette

SECRET = "demo-secret-token-4242"

Outcome = Result[HttpResponse, HTTPClientError]
Call = Callable[[HTTPClient], Awaitable[Outcome]]


def calls(base: URL) -> list[tuple[str, Call]]:
    """The calls recorded, then replayed: the same list both times."""
    auth = {"Authorization": f"Bearer {SECRET}"}
    return [
        ("GET /users (Authorization)", lambda c: c.get(base / "users", headers=auth)),
        ("GET /users/1", lambda c: c.get(base / "users" / "1")),
        ("POST /users", lambda c: c.post(base / "users", json={"name": "Margaret"})),
        ("GET /users/99 (missing)", lambda c: c.get(base / "users" / "99")),
    ]


def describe(result: Outcome) -> str:
    match result:
        case Ok(response):
            return f"Ok {response.status} {response.text()[:34]}"
        case Err(error):
            status = getattr(error, "status", None)
            return f"Err {type(error).__name__}" + (f" {status}" if status else "")
    return repr(result)  # pragma: no cover - Result is Ok or Err


async def record(
    out: TextIO, base: URL, path: Path, config: HTTPClientConfig
) -> tuple[list[str], float]:
    """Record `calls()` against the live server into `path`; print the rows."""
    rows, outcomes = [], []
    started = time.perf_counter()
    async with (
        HTTPClient(config) as client,
        use_cassette(client, path, record_mode="once", cache_dir=False) as cassette,
    ):
        for what, call in calls(base):
            outcome = describe(await call(client))
            outcomes.append(outcome)
            rows.append([what, outcome])
    ms = (time.perf_counter() - started) * 1000
    out.write(table(["recorded call", "outcome"], rows) + "\n")
    text = await asyncio.to_thread(path.read_text)
    style = Style(out)
    redacted = style.green("redacted") if SECRET not in text else style.red("LEAKED")
    out.write(
        f"  {len(cassette.recorded)} interactions written to {path.name} "
        f"({len(text.encode())} bytes, vcrpy's YAML); the bearer token is {redacted} on disk\n"
    )
    return outcomes, ms


async def replay(
    out: TextIO, base: URL, path: Path, config: HTTPClientConfig, recorded: list[str]
) -> tuple[int, bool, float]:
    """With the server stopped: a live call fails, the cassette answers every call."""
    async with HTTPClient(config) as client:
        live = await client.get(base / "users")
    refused = isinstance(live, Err) and isinstance(live.error, HTTPConnectionError)
    out.write(
        f"  the server is stopped: a live GET /users gets "
        f"{'Err HTTPConnectionError (refused)' if refused else describe(live)}\n"
    )
    rows = []
    started = time.perf_counter()
    async with (
        HTTPClient(config) as client,
        use_cassette(client, path, record_mode="none", cache_dir=False) as cassette,
    ):
        for (what, call), before in zip(calls(base), recorded, strict=True):
            outcome = describe(await call(client))
            rows.append([what, outcome, "yes" if outcome == before else "NO"])
        ms = (time.perf_counter() - started) * 1000
        try:
            await client.get(base / "users" / "2")
            miss = "answered?"
        except CassetteMissError as error:
            miss = str(error).splitlines()[0]
    out.write(table(["replayed call", "outcome", "as recorded"], rows) + "\n")
    out.write(f"  a call the cassette does not hold fails loudly:\n{indent(miss, '    ')}\n")
    identical = all(row[2] == "yes" for row in rows)
    return cassette.play_count, identical, ms
