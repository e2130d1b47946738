"""The examples of docs/cassettes.md, run against the example cassettes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cassette_examples import CASSETTES, HOST

from httpdeck.client import HTTPClient
from httpdeck.testing import (
    Anonymizer,
    CassetteMissError,
    CassetteRequest,
    CassetteResponse,
    FakeHTTPClient,
    RecordReplayInterceptor,
    use_cassette,
)

pytestmark = pytest.mark.asyncio


async def test_replay_timing_on_an_injected_sleep() -> None:
    delays: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        delays.append(seconds)

    async with (
        HTTPClient() as client,
        use_cassette(client, CASSETTES / "events.yaml", replay_timing=True, sleep=fake_sleep),
        client.stream("GET", HOST / "events") as response,
    ):
        events = [chunk async for chunk in response.aiter_bytes()]
    assert len(events) == 3
    assert len(delays) == 3
    assert all(delay >= 0 for delay in delays)


async def test_the_interceptor_installed_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    shutil.copy(CASSETTES / "users.yaml", path)
    recorder = RecordReplayInterceptor(path, record_mode="none")
    async with HTTPClient(interceptors=[recorder]) as client:
        response = await client.request("GET", HOST / "users/1")
    assert response.json()["name"] == "Ann"
    assert recorder.save() is False  # nothing recorded, nothing written
    assert recorder.cassette.play_count == 1


async def test_a_miss_names_the_closest_interaction_and_its_failed_matcher() -> None:
    async with HTTPClient() as client, use_cassette(client, CASSETTES / "users.yaml") as cassette:
        with pytest.raises(CassetteMissError) as info:
            await client.request("GET", HOST / "users", params={"page": 2, "token": "abcdefgh"})
    assert info.value.closest[0][1] == ["query"]
    assert "token=REDACTED" in str(info.value)
    assert cassette.play_count == 0


async def test_hooks_and_anonymizer_options_as_documented(tmp_path: Path) -> None:
    def drop_timestamps(response: CassetteResponse) -> CassetteResponse:
        response.headers.popall("Date", None)
        return response

    def skip_health(request: CassetteRequest) -> CassetteRequest | None:
        return None if request.path == "/health" else request

    fake = FakeHTTPClient()
    fake.route("GET", "http://api.example.test/people/1").respond(
        json={"email": "ann@real.org"}, headers={"Date": "today"}
    )
    async with (
        fake,
        use_cassette(
            fake,
            tmp_path / "people.yaml",
            before_record_response=drop_timestamps,
            before_record_request=skip_health,
            anonymize=Anonymizer(["email"], seed=7),
        ) as cassette,
    ):
        await fake.request("GET", "http://api.example.test/people/1")
    (interaction,) = cassette.interactions
    assert "Date" not in interaction.response.headers
    assert b"real.org" not in interaction.response.body
