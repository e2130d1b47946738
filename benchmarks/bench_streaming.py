"""Streaming throughput: MiB/s for a 256 MiB body, httpdeck vs raw aiohttp vs httpx.

Usage: `.venv/bin/python benchmarks/bench_streaming.py [--quick] [--rounds N] [--mib M]`

The server runs in another process (a subprocess on 127.0.0.1:0 that prints its port):
a raw asyncio server answering every GET with M MiB (Content-Length, keep-alive), written
from one preallocated block so the server costs little. Every subject streams the whole
body in every round, in a rotating order; a subject's ratio is the median over rounds of
(its MiB/s / raw aiohttp's MiB/s in the same round), which cancels most of the drift of a
shared machine. A second table gives MiB per CPU-second of the client process: the
client's own cost, less sensitive to what else the machine is doing.

Subjects:
- raw aiohttp: `async with session.get(url) as r: async for c in r.content.iter_any()`.
- httpdeck: `async with client.stream("GET", url) as r: async for c in r.aiter_bytes()`,
  default config (a 30 s total deadline guarding every read).
- httpdeck (max_response_bytes): the same with a limit above the body, so each chunk is
  also counted against it.
- httpx.AsyncClient: `async with client.stream("GET", url) as r: async for c in r.aiter_raw()`.

The target is httpdeck >= 0.95x raw aiohttp.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import aiohttp
import httpx

from httpdeck import HTTPClient, HTTPClientConfig, TimeoutConfig

MiB = 1024 * 1024

SERVER = r"""
import asyncio, sys

SIZE = int(sys.argv[1]) * 1024 * 1024
BLOCK = bytes(1024 * 1024)
HEAD = f"HTTP/1.1 200 OK\r\nContent-Length: {SIZE}\r\nContent-Type: application/octet-stream\r\n\r\n".encode()

async def serve(reader, writer):
    try:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(HEAD)
            for _ in range(SIZE // len(BLOCK)):
                writer.write(BLOCK)
                await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()

async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""

TARGET = ">= 0.95x raw aiohttp"

Stream = Callable[[], Awaitable[int]]
Subject = Callable[[str], AbstractAsyncContextManager[Stream]]


@asynccontextmanager
async def raw_aiohttp(url: str) -> AsyncIterator[Stream]:
    async with aiohttp.ClientSession() as session:

        async def stream() -> int:
            size = 0
            async with session.get(url) as response:
                async for chunk in response.content.iter_any():
                    size += len(chunk)
            return size

        yield stream


def _httpdeck(config: HTTPClientConfig | None) -> Subject:
    @asynccontextmanager
    async def subject(url: str) -> AsyncIterator[Stream]:
        async with HTTPClient(config) as client:

            async def stream() -> int:
                size = 0
                async with client.stream("GET", url) as response:
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                return size

            yield stream

    return subject


@asynccontextmanager
async def httpx_client(url: str) -> AsyncIterator[Stream]:
    async with httpx.AsyncClient(timeout=None) as client:

        async def stream() -> int:
            size = 0
            async with client.stream("GET", url) as response:
                async for chunk in response.aiter_raw():
                    size += len(chunk)
            return size

        yield stream


BASELINE = "raw aiohttp"


def subjects(mib: int) -> dict[str, Subject]:
    limited = HTTPClientConfig(
        max_response_bytes=(mib + 1) * MiB, timeouts=TimeoutConfig(total=300)
    )
    return {
        BASELINE: raw_aiohttp,
        "httpdeck stream().aiter_bytes()": _httpdeck(
            HTTPClientConfig(timeouts=TimeoutConfig(total=300))
        ),
        "httpdeck (max_response_bytes set)": _httpdeck(limited),
        "httpx.AsyncClient aiter_raw()": httpx_client,
    }


REPEAT = 2  # bodies streamed per measurement


async def _measure(subject: Subject, url: str, mib: int) -> tuple[float, float]:
    """(MiB/s of wall time, MiB per CPU-second of this process) for REPEAT bodies."""
    async with subject(url) as stream:
        await stream()  # warm: connection open, first pass through the code
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(REPEAT):
            size = await stream()
            assert size == mib * MiB, size
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return REPEAT * mib / seconds, REPEAT * mib / cpu_seconds


async def _rounds(url: str, rounds: int, mib: int) -> dict[str, list[tuple[float, float]]]:
    table = subjects(mib)
    names = list(table)
    rates: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            rates[name].append(await _measure(table[name], url, mib))
    return rates


def main(
    quick: bool = False, *, rounds: int | None = None, mib: int | None = None
) -> list[dict[str, Any]]:
    rounds = rounds or (3 if quick else 7)
    mib = mib or (64 if quick else 256)
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(mib)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        url = f"http://127.0.0.1:{port}/body"
        rates = asyncio.run(_rounds(url, rounds, mib))
    finally:
        server.terminate()
        server.wait()
    rows = []
    for index, (benchmark, unit) in enumerate(
        [
            (f"streaming {mib} MiB", "MiB/s"),
            (f"streaming {mib} MiB, client CPU", "MiB per CPU-second"),
        ]
    ):
        base = [measure[index] for measure in rates[BASELINE]]
        for name, measures in rates.items():
            values = [measure[index] for measure in measures]
            ratio = statistics.median(v / b for v, b in zip(values, base, strict=True))
            rows.append(
                {
                    "benchmark": benchmark,
                    "subject": name,
                    "value": statistics.median(values),
                    "unit": unit,
                    "ratio": None if name == BASELINE else ratio,
                    "target": "" if name == BASELINE else TARGET,
                }
            )
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--mib", type=int)
    args = parser.parse_args()
    for row in main(args.quick, rounds=args.rounds, mib=args.mib):
        ratio = "" if row["ratio"] is None else f"  {row['ratio']:.3f}x"
        print(
            f"{row['benchmark']:<30} {row['subject']:<36} {row['value']:9.0f} {row['unit']:<19}"
            f"{ratio}  {row['target']}"
        )
