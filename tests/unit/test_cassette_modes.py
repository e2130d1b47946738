"""Record modes, play order, repeats, concurrency and the unmatched-request error."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from cassette_helpers import ScriptTransport, client_over, ok

from httpdeck.client import HTTPClient, Request
from httpdeck.testing import (
    CassetteMissError,
    CassetteRequest,
    RecordReplayInterceptor,
    UnmatchedRequestError,
    use_cassette,
)

pytestmark = pytest.mark.asyncio

BASE = "http://api.test"


def counter_transport() -> ScriptTransport:
    count = {"n": 0}

    def answer(request: Request) -> object:
        count["n"] += 1
        return ok({"path": request.url.path, "n": count["n"]})

    return ScriptTransport(answer)  # type: ignore[arg-type]


async def record(path: Path, urls: list[str], **options: object) -> ScriptTransport:
    transport = counter_transport()
    async with (
        client_over(transport) as client,
        use_cassette(client, path, cache_dir=False, **options),  # type: ignore[arg-type]
    ):
        for url in urls:
            await client.request("GET", BASE + url)
    return transport


async def fetch(
    path: Path, urls: list[str], **options: object
) -> tuple[list[int], ScriptTransport]:
    transport = counter_transport()
    numbers = []
    async with (
        client_over(transport) as client,
        use_cassette(client, path, cache_dir=False, **options),  # type: ignore[arg-type]
    ):
        for url in urls:
            numbers.append((await client.request("GET", BASE + url)).json()["n"])
    return numbers, transport


def recorded_uris(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text())
    return [i["request"]["uri"] for i in data["interactions"]]


async def test_once_records_a_missing_cassette_then_replays_without_the_transport(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.yaml"
    await record(path, ["/a", "/b"])
    assert recorded_uris(path) == [f"{BASE}/a", f"{BASE}/b"]
    numbers, transport = await fetch(path, ["/a", "/b"])
    assert numbers == [1, 2]
    assert transport.calls == []


async def test_once_with_an_existing_cassette_refuses_new_requests(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await record(path, ["/a"])
    with pytest.raises(CassetteMissError) as info:
        await fetch(path, ["/new"])
    assert info.value.record_mode == "once"
    assert recorded_uris(path) == [f"{BASE}/a"]


async def test_none_mode_without_a_file_says_the_cassette_does_not_exist(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    with pytest.raises(CassetteMissError, match="does not exist") as info:
        await fetch(path, ["/a"], record_mode="none")
    assert str(path) in str(info.value)
    assert not path.exists()


async def test_a_missing_cassette_suggests_record_mode_once_and_how_to_set_it(
    tmp_path: Path,
) -> None:
    with pytest.raises(CassetteMissError) as info:
        await fetch(tmp_path / "missing.yaml", ["/a"], record_mode="none")
    message = str(info.value)
    for how in (
        "record_mode='once'",
        "--httpdeck-record-mode=once",
        "@pytest.mark.httpdeck_cassette(record_mode='once')",
        "httpdeck_record_mode = once",
    ):
        assert how in message, how
    assert "new_episodes" not in message  # nothing to add episodes to
    assert info.value.record_mode == "none"


async def test_new_episodes_replays_matches_and_appends_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await record(path, ["/a"])
    numbers, transport = await fetch(path, ["/a", "/b"], record_mode="new_episodes")
    assert numbers == [1, 1]  # /a replayed (n=1 when recorded), /b live (first call)
    assert [r.url.path for r in transport.calls] == ["/b"]
    assert recorded_uris(path) == [f"{BASE}/a", f"{BASE}/b"]


async def test_all_mode_rerecords_and_keeps_interactions_it_did_not_replace(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.yaml"
    await record(path, ["/a", "/b"])
    _, transport = await fetch(path, ["/b"], record_mode="all")
    assert len(transport.calls) == 1
    data = yaml.safe_load(path.read_text())
    assert [i["request"]["uri"] for i in data["interactions"]] == [f"{BASE}/a", f"{BASE}/b"]
    assert data["interactions"][1]["response"]["body"]["string"] == '{"path": "/b", "n": 1}'


async def test_rewrite_replaces_the_whole_cassette(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await record(path, ["/a", "/b"])
    await record(path, ["/c"], record_mode="rewrite")
    assert recorded_uris(path) == [f"{BASE}/c"]


async def test_rewrite_that_records_nothing_removes_the_old_cassette(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await record(path, ["/a"])
    await record(path, [], record_mode="rewrite")
    assert not path.exists()


async def test_nothing_recorded_leaves_the_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await record(path, ["/a"])
    before = path.stat().st_mtime_ns, path.read_bytes()
    await fetch(path, ["/a"], record_mode="new_episodes")
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before


async def test_identical_requests_replay_in_recorded_order(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await record(path, ["/same", "/same", "/same"])
    numbers, _ = await fetch(path, ["/same", "/same", "/same"])
    assert numbers == [1, 2, 3]


async def test_a_fourth_identical_request_is_a_miss_that_suggests_repeats(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await record(path, ["/same", "/same"])
    with pytest.raises(CassetteMissError, match="already played back") as info:
        await fetch(path, ["/same", "/same", "/same"])
    assert "allow_playback_repeats=True" in str(info.value)


async def test_allow_playback_repeats_replays_the_last_match_again(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await record(path, ["/same", "/same"])
    numbers, _ = await fetch(path, ["/same"] * 4, allow_playback_repeats=True)
    assert numbers == [1, 2, 2, 2]


async def test_gathered_requests_replay_by_content_whatever_their_order(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    urls = [f"/item/{i}" for i in range(20)]
    await record(path, urls)
    async with (
        HTTPClient(transport=ScriptTransport()) as client,
        use_cassette(client, path, record_mode="none", cache_dir=False) as cassette,
    ):
        responses = await asyncio.gather(
            *(client.request("GET", BASE + url) for url in reversed(urls))
        )
    assert [r.json()["path"] for r in responses] == list(reversed(urls))
    assert [r.json()["n"] for r in responses] == list(range(20, 0, -1))
    assert cassette.all_played


async def test_play_count_and_all_played_report_unplayed_interactions(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await record(path, ["/a", "/b", "/c"])
    async with (
        HTTPClient(transport=ScriptTransport()) as client,
        use_cassette(client, path, cache_dir=False) as cassette,
    ):
        await client.request("GET", BASE + "/b")
    assert cassette.play_count == 1
    assert cassette.play_counts == [0, 1, 0]
    assert not cassette.all_played
    assert [i.uri for i in cassette.unplayed] == [f"{BASE}/a", f"{BASE}/c"]
    assert [r.uri for r in cassette.requests] == [f"{BASE}/a", f"{BASE}/b", f"{BASE}/c"]


async def test_the_miss_error_names_file_request_mode_closest_and_failed_matchers(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.yaml"
    await record(path, ["/users?page=1", "/orders"])
    with pytest.raises(CassetteMissError) as info:
        await fetch(path, ["/users?page=2&token=s3cr3t-value"], record_mode="none")
    message = str(info.value)
    assert str(path) in message
    assert f"GET {BASE}/users?page=2&token=REDACTED" in message
    assert "s3cr3t-value" not in message
    assert "record_mode='none'" in message
    assert f"#1 GET {BASE}/users?page=1" in message
    assert "query differs" in message
    assert "--httpdeck-record-mode=new_episodes" in message
    assert info.value.closest[0][1] == ["query"]
    assert isinstance(info.value, UnmatchedRequestError)


async def test_a_miss_is_raised_by_verbs_not_returned_as_err(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await record(path, ["/a"])
    async with (
        HTTPClient(transport=ScriptTransport()) as client,
        use_cassette(client, path, cache_dir=False),
    ):
        with pytest.raises(CassetteMissError):
            await client.get(BASE + "/other")


async def test_invalid_record_mode_lists_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'none', 'once', 'new_episodes', 'all', 'rewrite'"):
        RecordReplayInterceptor(tmp_path / "c.yaml", record_mode="sometimes")  # type: ignore[arg-type]


async def test_before_record_request_returning_none_passes_through_unrecorded(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.yaml"

    def skip_health(request: CassetteRequest) -> CassetteRequest | None:
        return None if request.path == "/health" else request

    transport = await record(path, ["/health", "/a"], before_record_request=skip_health)
    assert len(transport.calls) == 2
    assert recorded_uris(path) == [f"{BASE}/a"]


async def test_save_on_exit_also_when_the_block_raises(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    transport = counter_transport()

    async def failing_test() -> None:
        async with client_over(transport) as client, use_cassette(client, path, cache_dir=False):
            await client.request("GET", BASE + "/a")
            raise RuntimeError("test failed")

    with pytest.raises(RuntimeError):
        await failing_test()
    assert recorded_uris(path) == [f"{BASE}/a"]


async def test_use_cassette_removes_its_interceptor_on_exit(tmp_path: Path) -> None:
    async with HTTPClient(transport=counter_transport()) as client:
        async with use_cassette(client, tmp_path / "c.yaml", cache_dir=False):
            assert len(client.interceptors) == 1
        assert len(client.interceptors) == 0


async def test_before_record_response_returning_none_records_nothing(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    transport = await record(path, ["/a"], before_record_response=lambda response: None)
    assert len(transport.calls) == 1
    assert not path.exists()
