"""Cassette errors (reliability case 15): a truncated cassette names its file and
line, a replay miss names the method, the URL and the closest recorded request,
and replay never opens a socket to a host that is not loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from httpdeck.client import HTTPClient
from httpdeck.testing import CassetteMissError, MalformedCassetteError, use_cassette
from httpdeck.testing.cassettes._format import dump
from httpdeck.testing.plugin._network import HostPolicy, NetworkGuard

pytestmark = pytest.mark.asyncio

REMOTE = "https://api.example.com"


def interaction(uri: str, body: str) -> dict[str, object]:
    return {
        "request": {"body": None, "headers": {"Accept": ["*/*"]}, "method": "GET", "uri": uri},
        "response": {
            "body": {"string": body},
            "headers": {"Content-Type": ["text/plain"]},
            "status": {"code": 200, "message": "OK"},
        },
    }


def remote_cassette(path: Path) -> Path:
    items = [interaction(f"{REMOTE}/users/{n}", f"user {n}") for n in range(1, 4)]
    path.write_bytes(dump(items, "json" if path.suffix == ".json" else "yaml"))  # type: ignore[arg-type]
    return path


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.8])
async def test_a_truncated_cassette_names_the_file_and_line(
    tmp_path: Path, suffix: str, fraction: float
) -> None:
    path = remote_cassette(tmp_path / f"cut{suffix}")
    data = path.read_bytes()
    cut = int(len(data) * fraction)
    at = data.find(b"/users/", cut)
    cut = (at if at >= 0 else data.rindex(b"/users/", 0, cut)) + 3  # inside a URI string
    path.write_bytes(data[:cut])
    async with HTTPClient() as client:
        with pytest.raises(MalformedCassetteError) as info:
            async with use_cassette(client, path, record_mode="none", cache_dir=False):
                pass
    error = info.value
    assert error.path == path
    assert error.line is not None
    assert 1 <= error.line <= data[:cut].count(b"\n") + 1
    assert f"{path}, line {error.line}" in str(error)


async def test_replay_and_a_miss_never_open_a_socket_to_a_remote_host(tmp_path: Path) -> None:
    path = remote_cassette(tmp_path / "remote.yaml")
    guard = NetworkGuard(HostPolicy())  # nothing is allowed, not even loopback
    async with HTTPClient() as client:
        with guard.active():
            async with use_cassette(client, path, record_mode="none", cache_dir=False):
                hit = await client.request("GET", f"{REMOTE}/users/2")
                with pytest.raises(CassetteMissError) as miss:
                    await client.request("GET", f"{REMOTE}/users/9?token=tok-canary-1234")
    assert hit.text() == "user 2"
    assert guard.blocked == []
    message = str(miss.value)
    assert f"GET {REMOTE}/users/9?token=REDACTED" in message
    assert "tok-canary-1234" not in message
    assert f"#1 GET {REMOTE}/users/1" in message  # the closest recorded request
    assert "path differs" in message
