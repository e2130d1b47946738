"""How the cassette API reads to a type checker. Never run, only type-checked.

Each `# type: ignore[code]` marks a misuse that must stay a type error.
"""

from __future__ import annotations

from pathlib import Path
from typing import assert_type

from httpdeck import BaseURLHTTPClient, HTTPClient
from httpdeck.testing import (
    Anonymizer,
    Cassette,
    CassetteError,
    CassetteMissError,
    CassetteRequest,
    CassetteResponse,
    Interaction,
    MalformedCassetteError,
    RecordReplayInterceptor,
    use_cassette,
)


def same_tenant(request: CassetteRequest, recorded: CassetteRequest) -> bool:
    return request.headers.get("X-Tenant") == recorded.headers.get("X-Tenant")


def no_dates(response: CassetteResponse) -> CassetteResponse | None:
    response.headers.popall("Date", None)
    return response


async def usage(client: HTTPClient, api: BaseURLHTTPClient) -> None:
    async with use_cassette(
        client,
        "cassettes/users.yaml",
        record_mode="new_episodes",
        match_on=["method", "path", same_tenant],
        before_record_response=no_dates,
        anonymize=Anonymizer(["email"], seed=1),
        cache_dir=False,
    ) as cassette:
        assert_type(cassette, Cassette)
        assert_type(cassette.play_count, int)
        assert_type(cassette.all_played, bool)
        assert_type(cassette.interactions, list[Interaction])
        assert_type(cassette.requests, list[CassetteRequest])
    async with use_cassette(api, Path("cassettes/api.json")) as other:
        assert_type(other.path, Path)

    recorder = RecordReplayInterceptor("c.yaml", record_mode="none")
    assert_type(recorder.save(), bool)
    RecordReplayInterceptor("c.yaml", "none")  # type: ignore[call-arg]
    RecordReplayInterceptor("c.yaml", record_mode="sometimes")  # type: ignore[arg-type]
    async with use_cassette(client, "c.yaml", recordmode="once"):  # type: ignore[call-arg]
        pass

    try:
        await client.request("GET", "http://api.test/")
    except CassetteMissError as miss:
        assert_type(miss.record_mode, str)
        assert_type(miss.closest, list[tuple[CassetteRequest, list[str]]])
    except MalformedCassetteError as broken:
        assert_type(broken.line, int | None)
    except CassetteError as error:
        assert_type(error.path, Path)
