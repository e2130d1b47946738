"""Cassette replay: httpdeck's RecordReplayInterceptor against vcrpy with aiohttp.

Usage: `.venv/bin/python benchmarks/bench_cassette.py [--quick]`

Both replay the same generated vcrpy-format YAML cassettes of 100, 1,000 and
5,000 distinct interactions (GET /items/<n>?page=<n % 7>, a JSON body each),
with nothing listening: every response comes from the cassette.

- load: reading and parsing the file (vcrpy: `Cassette.load`; httpdeck: the
  interceptor's construction, which builds its replay index), cold (no parse
  cache) and warm (the parsed-form cache, keyed by the file's SHA-256).
- per request: replaying every interaction once in a shuffled order, through
  `aiohttp.ClientSession.get` under `vcr.use_cassette` and through
  `HTTPClient.request` with the interceptor. Every timing starts after a
  `gc.collect()`; the collector stays on while timing.
- total: load plus replaying every interaction.

vcrpy scans every interaction per request, so its replay is quadratic; for
large cassettes it replays only a sample of the requests and the total is
extrapolated from the sample's per-request cost (printed as such).
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SIZES = (100, 1_000, 5_000)
HOST = "http://127.0.0.1:9"  # discard port: nothing must ever connect


def generate(path: Path, count: int, prefix: str = "items") -> list[str]:
    from httpdeck.testing.cassettes._format import dump

    interactions = []
    urls = []
    for number in range(count):
        url = f"{HOST}/{prefix}/{number}?page={number % 7}"
        urls.append(url)
        body = {"id": number, "name": f"item {number}", "tags": ["a", "b"], "price": number * 1.5}
        interactions.append(
            {
                "request": {
                    "body": None,
                    "headers": {"User-Agent": ["bench"], "Accept": ["application/json"]},
                    "method": "GET",
                    "uri": url,
                },
                "response": {
                    "body": {"string": json.dumps(body) + " " * 120},
                    "headers": {
                        "Content-Type": ["application/json; charset=utf-8"],
                        "Date": ["Sat, 21 Nov 2026 16:00:00 GMT"],
                        "Server": ["Python/3.11 aiohttp/3.14.5"],
                    },
                    "status": {"code": 200, "message": "OK"},
                },
            }
        )
    path.write_bytes(dump(interactions, "yaml"))
    return urls


# -- load ---------------------------------------------------------------------------


def load_vcrpy(path: Path) -> float:
    from vcr import matchers
    from vcr.cassette import Cassette
    from vcr.record_mode import RecordMode

    match_on = (
        matchers.method,
        matchers.scheme,
        matchers.host,
        matchers.port,
        matchers.path,
        matchers.query,
    )
    gc.collect()  # start clean: no garbage of an earlier subject is collected on our time
    started = time.perf_counter()
    cassette = Cassette.load(path=str(path), match_on=match_on, record_mode=RecordMode.NONE)
    elapsed = time.perf_counter() - started
    assert len(cassette) > 0
    return elapsed


def load_httpdeck(path: Path, cache_dir: Path | bool) -> float:
    from httpdeck.testing import RecordReplayInterceptor

    gc.collect()  # start clean: no garbage of an earlier subject is collected on our time
    started = time.perf_counter()
    interceptor = RecordReplayInterceptor(path, record_mode="none", cache_dir=cache_dir)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    assert len(interceptor.cassette) > 0
    return elapsed


# -- replay -------------------------------------------------------------------------


async def replay_vcrpy(path: Path, urls: list[str]) -> float:
    import aiohttp
    import vcr

    with vcr.VCR(record_mode="none").use_cassette(str(path)):
        async with aiohttp.ClientSession() as session:
            gc.collect()
            started = time.perf_counter()
            for url in urls:
                async with session.get(url) as response:
                    await response.read()
            return time.perf_counter() - started


class NoNetwork:
    async def send(self, request: Any) -> Any:
        raise AssertionError(f"replay reached the transport: {request}")

    async def aclose(self) -> None:
        return None


async def replay_httpdeck(cassettes: list[tuple[Path, list[str]]], cache_dir: Path) -> float:
    """Seconds spent in `client.request` replaying every URL of every cassette."""
    from httpdeck.client import HTTPClient
    from httpdeck.testing import use_cassette

    elapsed = 0.0
    async with HTTPClient(transport=NoNetwork()) as client:  # type: ignore[arg-type]
        for path, urls in cassettes:
            async with use_cassette(
                client, path, record_mode="none", cache_dir=cache_dir
            ) as cassette:
                gc.collect()
                started = time.perf_counter()
                for url in urls:
                    await client.request("GET", url)
                elapsed += time.perf_counter() - started
            assert cassette.play_count == len(urls)
    return elapsed


# -- the run ------------------------------------------------------------------------


def row(
    benchmark: str,
    subject: str,
    value: float,
    unit: str,
    ratio: float | None = None,
    target: str = "",
) -> dict[str, Any]:
    return {
        "benchmark": benchmark,
        "subject": subject,
        "value": value,
        "unit": unit,
        "ratio": ratio,
        "target": target,
    }


def main(quick: bool = False) -> list[dict[str, Any]]:
    rounds = 2 if quick else 3
    vcrpy_full_limit = 100 if quick else 1_000  # above this, vcrpy replays a sample
    sample = 50 if quick else 100
    rows: list[dict[str, Any]] = []
    per_request: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for size in SIZES:
            path = root / f"c{size}.yaml"
            urls = generate(path, size)
            random.Random(size).shuffle(urls)
            cache = root / f"cache{size}"
            vcr_load = min(load_vcrpy(path) for _ in range(rounds))
            cold = min(load_httpdeck(path, False) for _ in range(rounds))
            load_httpdeck(path, cache)  # prime the cache
            warm = min(load_httpdeck(path, cache) for _ in range(rounds))
            # Per-request cost is timed over 5,000 requests for every size: a small
            # cassette is stood in for by several with distinct URLs, so no size
            # gains from URL-parsing caches (urllib's and yarl's) that a real suite
            # replaying each URL once would not have.
            copies = [(path, urls)]
            for copy in range(1, max(1, SIZES[-1] // size)):
                other = root / f"c{size}-{copy}.yaml"
                copies.append((other, generate(other, size, prefix=f"items{copy}")))
                load_httpdeck(other, cache)
            ours = min(
                asyncio.run(replay_httpdeck(copies, cache)) / len(copies) for _ in range(rounds)
            )
            measured = urls if size <= vcrpy_full_limit else urls[:sample]
            theirs = asyncio.run(replay_vcrpy(path, measured)) / len(measured) * size
            note = "" if len(measured) == size else f" (extrapolated from {len(measured)} requests)"
            per_request[size] = ours / size
            bench = f"cassette {size:,} interactions"
            rows += [
                row(f"{bench}: load", "vcrpy", vcr_load * 1e3, "ms"),
                row(
                    f"{bench}: load",
                    "httpdeck, parse cache",
                    warm * 1e3,
                    "ms",
                    vcr_load / warm,
                    ">= 4x faster than vcrpy (5,000)",
                ),
                row(
                    f"{bench}: load",
                    "httpdeck, no cache",
                    cold * 1e3,
                    "ms",
                    vcr_load / cold,
                    "ratio = vcrpy / httpdeck",
                ),
                row(f"{bench}: per request", "vcrpy + aiohttp" + note, theirs / size * 1e6, "us"),
                row(
                    f"{bench}: per request",
                    "httpdeck",
                    ours / size * 1e6,
                    "us",
                    theirs / ours,
                    "ratio = vcrpy / httpdeck",
                ),
                row(f"{bench}: total", "vcrpy + aiohttp" + note, vcr_load + theirs, "s"),
                row(
                    f"{bench}: total",
                    "httpdeck",
                    warm + ours,
                    "s",
                    (vcr_load + theirs) / (warm + ours),
                    ">= 50x faster than vcrpy (5,000)",
                ),
            ]
            print(
                f"  {size:>5}: load vcrpy {vcr_load * 1e3:8.1f} ms | httpdeck {warm * 1e3:6.1f} ms cached, {cold * 1e3:7.1f} ms cold"
                f" | per request vcrpy {theirs / size * 1e6:9.1f} us{note}, httpdeck {ours / size * 1e6:6.1f} us",
                flush=True,
            )
    flat = per_request[SIZES[-1]] / per_request[SIZES[0]]
    rows.append(
        row(
            "cassette: per-request cost, 5,000 vs 100 interactions",
            "httpdeck",
            flat,
            "x",
            flat,
            "<= 1.2 (flat)",
        )
    )
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    results = main(quick="--quick" in sys.argv)
    width = max(len(r["benchmark"]) for r in results)
    for r in results:
        ratio = "" if r["ratio"] is None else f"ratio {r['ratio']:.2f}"
        print(
            f"{r['benchmark']:<{width}}  {r['subject']:<52} {r['value']:>12.2f} {r['unit']:<3} {ratio:<14} {r['target']}"
        )
