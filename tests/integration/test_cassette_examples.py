"""The example cassettes in `cassettes/` replay without any server, stay clean, and
the code that records them still records the same calls."""

from __future__ import annotations

from pathlib import Path

import pytest
from cassette_examples import (
    CASSETTES,
    EVENTS,
    HOST,
    events_calls,
    flaky_calls,
    record_examples,
    retry_policy,
    stable_host,
    users_calls,
)

from httpdeck.cli import main
from httpdeck.client import HTTPClient
from httpdeck.testing import use_cassette

pytestmark = pytest.mark.asyncio

USERS = [
    (200, {"page": 1, "users": [{"id": 1, "name": "Ann", "email": "ann@example.com"}]}),
    (200, {"id": 1, "name": "Ann", "email": "ann@example.com"}),
    (404, {"error": "no such user"}),
    (201, {"id": 2, "name": "Bob", "email": "bob@example.com"}),
]


async def replay_all(directory: Path) -> None:
    async with HTTPClient(retry_policy=retry_policy()) as client:
        async with use_cassette(client, directory / "users.yaml", record_mode="none") as users:
            assert await users_calls(client, HOST) == USERS
        async with use_cassette(client, directory / "events.yaml", record_mode="none") as events:
            assert await events_calls(client, HOST) == EVENTS
        async with use_cassette(client, directory / "flaky.yaml", record_mode="none") as flaky:
            assert await flaky_calls(client, HOST) == {"status": "ok", "attempt": 2}
    assert users.all_played
    assert events.all_played
    assert flaky.play_counts == [1, 1]  # the 503 and the retry that succeeded


async def test_the_example_cassettes_replay_without_a_server() -> None:
    await replay_all(CASSETTES)


async def test_the_example_cassettes_hold_no_secret_and_lint_clean(
    capsys: pytest.CaptureFixture[str],
) -> None:
    paths = sorted(CASSETTES.glob("*.yaml"))
    assert [p.name for p in paths] == ["events.yaml", "flaky.yaml", "users.yaml"]
    assert main(["cassette", "lint", *map(str, paths)]) == 0
    assert "example-token" not in "".join(p.read_text() for p in paths)
    capsys.readouterr()


async def test_recording_the_examples_again_gives_cassettes_that_replay_the_same(
    tmp_path: Path,
) -> None:
    await record_examples(tmp_path)
    await replay_all(tmp_path)
    assert "127.0.0.1" not in (tmp_path / "users.yaml").read_text()


async def test_stable_host_leaves_other_hosts_alone() -> None:
    from httpdeck.testing import CassetteRequest

    request = CassetteRequest("GET", "http://api.other.test/x")
    assert stable_host(request).uri == "http://api.other.test/x"
