"""Streams, recorded transport errors, retry attempts and gzip, over an in-memory transport."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from cassette_helpers import ScriptTransport, ok

from httpdeck.client import (
    ByteStream,
    HTTPClient,
    HTTPConnectionError,
    HTTPProtocolError,
    HttpResponse,
    HTTPRetryExhaustedError,
    HTTPTimeoutError,
    Request,
    RetryPolicy,
)
from httpdeck.testing import use_cassette

pytestmark = pytest.mark.asyncio

URL = "http://api.test/events"
EVENTS = [b"data: one\n\n", b"data: two\n\n", b"data: three\n\n"]


class Clock:
    def __init__(self, ticks: list[float]) -> None:
        self.ticks = list(ticks)

    def __call__(self) -> float:
        return self.ticks.pop(0)


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def interactions(path: Path) -> list[dict[str, object]]:
    data: dict[str, list[dict[str, object]]] = yaml.safe_load(path.read_text())
    return data["interactions"]


async def collect(client: HTTPClient, into: list[bytes]) -> None:
    async with client.stream("GET", URL) as response:
        async for chunk in response.aiter_bytes():
            into.append(chunk)


async def stream_chunks(client: HTTPClient) -> list[bytes]:
    async with client.stream("GET", URL) as response:
        return [chunk async for chunk in response.aiter_bytes()]


async def test_stream_chunks_and_timing_are_recorded_and_replayed_on_an_injected_sleep(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sse.yaml"
    clock = Clock([100.0, 100.0, 100.5, 101.25])
    async with (
        HTTPClient(transport=ScriptTransport(lambda r: ok(chunks=EVENTS))) as client,
        use_cassette(client, path, clock=clock, cache_dir=False),
    ):
        assert await stream_chunks(client) == EVENTS
    ext = interactions(path)[0]["response"]["httpdeck"]  # type: ignore[index]
    assert ext == {"chunks": [11, 11, 13], "timing": [0.0, 0.5, 1.25]}

    sleeps = Sleeps()
    async with (
        HTTPClient(transport=ScriptTransport()) as client,
        use_cassette(
            client, path, record_mode="none", replay_timing=True, sleep=sleeps, cache_dir=False
        ),
    ):
        assert await stream_chunks(client) == EVENTS
    assert sleeps.delays == [0.5, 0.75]


async def test_replay_without_timing_never_sleeps_and_verbs_get_the_whole_body(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sse.yaml"
    async with (
        HTTPClient(transport=ScriptTransport(lambda r: ok(chunks=EVENTS))) as client,
        use_cassette(client, path, cache_dir=False),
    ):
        await stream_chunks(client)
    sleeps = Sleeps()
    async with (
        HTTPClient(transport=ScriptTransport()) as client,
        use_cassette(client, path, sleep=sleeps, cache_dir=False),
    ):
        assert (await client.request("GET", URL)).content == b"".join(EVENTS)
    assert sleeps.delays == []


async def test_stream_closed_early_is_saved_partial_with_what_was_read(tmp_path: Path) -> None:
    path = tmp_path / "sse.yaml"
    async with (
        HTTPClient(transport=ScriptTransport(lambda r: ok(chunks=EVENTS))) as client,
        use_cassette(client, path, cache_dir=False),
        client.stream("GET", URL) as response,
    ):
        async for _chunk in response.aiter_bytes():
            break
    response_raw = interactions(path)[0]["response"]
    assert response_raw["body"] == {"string": "data: one\n\n"}  # type: ignore[index]
    assert response_raw["httpdeck"]["partial"] is True  # type: ignore[index]


async def test_stream_still_open_when_the_cassette_closes_is_saved_partial(tmp_path: Path) -> None:
    path = tmp_path / "sse.yaml"
    async with HTTPClient(transport=ScriptTransport(lambda r: ok(chunks=EVENTS))) as client:
        async with use_cassette(client, path, cache_dir=False):
            response_cm = client.stream("GET", URL)
            response = await response_cm.__aenter__()
            iterator = response.aiter_bytes()
            assert await iterator.__anext__() == EVENTS[0]
        await iterator.aclose()  # type: ignore[attr-defined]
        await response_cm.__aexit__(None, None, None)
    raw = interactions(path)
    assert len(raw) == 1
    assert raw[0]["response"]["httpdeck"]["partial"] is True  # type: ignore[index]


async def test_error_mid_stream_is_recorded_and_replayed_after_the_chunks(tmp_path: Path) -> None:
    path = tmp_path / "cut.yaml"

    class Cut(ByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b"partial "
            raise HTTPProtocolError("The response body was cut short.", sent=True)

    def answer(request: Request) -> HttpResponse:
        return HttpResponse(200, stream=Cut())

    for transport in (ScriptTransport(answer), ScriptTransport()):
        got: list[bytes] = []
        async with (
            HTTPClient(transport=transport) as client,
            use_cassette(client, path, cache_dir=False),
        ):
            with pytest.raises(HTTPProtocolError, match="cut short"):
                await collect(client, got)
        assert got == [b"partial "]
    error = interactions(path)[0]["response"]["httpdeck"]["error"]  # type: ignore[index]
    assert error["type"] == "HTTPProtocolError"


@pytest.mark.parametrize(
    ("error", "kind", "attributes"),
    [
        (
            HTTPTimeoutError("Timed out", sent=True, phase="read"),
            HTTPTimeoutError,
            {"phase": "read"},
        ),
        (HTTPConnectionError("Connection reset", sent=True), HTTPConnectionError, {"sent": True}),
        (HTTPConnectionError("Refused", sent=False), HTTPConnectionError, {"sent": False}),
    ],
)
async def test_transport_errors_replay_as_the_same_type(
    tmp_path: Path, error: Exception, kind: type[Exception], attributes: dict[str, object]
) -> None:
    path = tmp_path / "errors.yaml"
    for transport in (ScriptTransport(lambda r: error), ScriptTransport()):
        async with (
            HTTPClient(transport=transport) as client,
            use_cassette(client, path, cache_dir=False),
        ):
            with pytest.raises(kind) as info:
                await client.request("GET", URL)
        for name, value in attributes.items():
            assert getattr(info.value, name) == value
    raw = interactions(path)[0]["response"]
    assert raw["status"]["code"] == 599  # type: ignore[index]


async def test_record_errors_false_records_nothing_for_a_failed_attempt(tmp_path: Path) -> None:
    path = tmp_path / "errors.yaml"
    refused = HTTPConnectionError("Refused", sent=False)
    async with (
        HTTPClient(transport=ScriptTransport(lambda r: refused)) as client,
        use_cassette(client, path, record_errors=False, cache_dir=False),
    ):
        with pytest.raises(HTTPConnectionError):
            await client.request("GET", URL)
    assert not path.exists()


async def test_every_retry_attempt_is_recorded_and_replayed_in_order(tmp_path: Path) -> None:
    path = tmp_path / "retry.yaml"
    answers: list[object] = [
        HTTPConnectionError("reset", sent=False),
        ok({"busy": True}, status=503),
        ok({"done": True}),
    ]
    sleeps = Sleeps()

    def policy() -> RetryPolicy:
        return RetryPolicy(
            max_attempts=3, base_delay=0.1, jitter=0.0, sleep=sleeps, budget_ratio=None
        )

    transport = ScriptTransport(lambda r: answers.pop(0))  # type: ignore[arg-type, return-value]
    async with (
        HTTPClient(transport=transport, retry_policy=policy()) as client,
        use_cassette(client, path, cache_dir=False),
    ):
        assert (await client.request("GET", URL)).json() == {"done": True}
    codes = [i["response"]["status"]["code"] for i in interactions(path)]  # type: ignore[index]
    assert codes == [599, 503, 200]

    replay = ScriptTransport()
    async with (
        HTTPClient(transport=replay, retry_policy=policy()) as client,
        use_cassette(client, path, record_mode="none", cache_dir=False) as cassette,
    ):
        assert (await client.request("GET", URL)).json() == {"done": True}
    assert replay.calls == []
    assert cassette.play_counts == [1, 1, 1]


async def test_retries_exhausted_on_replay_as_when_recorded(tmp_path: Path) -> None:
    path = tmp_path / "retry.yaml"
    policy = RetryPolicy(
        max_attempts=2, base_delay=0.0, jitter=0.0, sleep=Sleeps(), budget_ratio=None
    )
    transport = ScriptTransport(lambda r: ok({"busy": True}, status=503))
    for current in (transport, ScriptTransport()):
        async with (
            HTTPClient(transport=current, retry_policy=policy) as client,
            use_cassette(client, path, cache_dir=False),
        ):
            with pytest.raises(HTTPRetryExhaustedError):
                await client.request("GET", URL)
    assert len(transport.calls) == 2


async def test_gzip_bodies_are_stored_decoded_with_headers_fixed(tmp_path: Path) -> None:
    path = tmp_path / "gzip.yaml"
    raw = gzip.compress(b'{"hello": "world"}')

    def answer(request: Request) -> HttpResponse:
        headers = {"Content-Encoding": "gzip", "Content-Length": str(len(raw))}
        return HttpResponse(200, headers=headers, stream=ByteStream([raw]))

    async with (
        HTTPClient(transport=ScriptTransport(answer)) as client,
        use_cassette(client, path, cache_dir=False),
    ):
        await client.request("GET", URL)
    stored = interactions(path)[0]["response"]
    assert stored["body"] == {"string": '{"hello": "world"}'}  # type: ignore[index]
    assert stored["headers"] == {"Content-Length": ["18"]}  # type: ignore[index]


async def test_gzip_stored_raw_when_decoding_is_off_still_replays_decoded(tmp_path: Path) -> None:
    path = tmp_path / "gzip.yaml"
    raw = gzip.compress(b"hello")

    def answer(request: Request) -> HttpResponse:
        return HttpResponse(200, headers={"Content-Encoding": "gzip"}, stream=ByteStream([raw]))

    async with (
        HTTPClient(transport=ScriptTransport(answer)) as client,
        use_cassette(client, path, decode_compressed_response=False, cache_dir=False),
    ):
        await client.request("GET", URL)
    assert interactions(path)[0]["response"]["body"]["string"] == raw  # type: ignore[index]
    async with (
        HTTPClient(transport=ScriptTransport()) as client,
        use_cassette(client, path, cache_dir=False),
    ):
        assert (await client.request("GET", URL)).content == b"hello"


async def test_binary_bodies_round_trip_byte_for_byte(tmp_path: Path) -> None:
    blob = bytes(range(256)) * 4 + b"\xff\xfe\x00\r\n\r"
    for name in ("bin.yaml", "bin.json"):
        path = tmp_path / name
        async with (
            HTTPClient(transport=ScriptTransport(lambda r: ok(blob))) as client,
            use_cassette(client, path, cache_dir=False),
        ):
            await client.request("POST", URL, content=blob)
        async with (
            HTTPClient(transport=ScriptTransport()) as client,
            use_cassette(
                client, path, match_on=["method", "raw_body"], cache_dir=False
            ) as cassette,
        ):
            assert (await client.request("POST", URL, content=blob)).content == blob
        assert cassette.interactions[0].request.body == blob


async def test_a_streamed_request_body_is_recorded_and_still_sent(tmp_path: Path) -> None:
    path = tmp_path / "upload.yaml"
    transport = ScriptTransport()

    async def upload() -> AsyncIterator[bytes]:
        yield b"part one, "
        yield b"part two"

    async with (
        HTTPClient(transport=transport) as client,
        use_cassette(client, path, cache_dir=False),
    ):
        await client.request("PUT", URL, content=upload())
    sent = transport.calls[0].content
    assert sent is not None
    assert not isinstance(sent, bytes)
    assert b"".join([chunk async for chunk in sent]) == b"part one, part two"
    assert interactions(path)[0]["request"]["body"] == "part one, part two"  # type: ignore[index]
