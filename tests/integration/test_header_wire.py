"""The headers a `Request` carries are the headers on the wire.

One rule, applied when the request is built (`_build.add_headers`): a name
given twice, in any case, is sent twice under its first spelling. The raw
server echoes the head it received, byte for byte, so the test compares the
Request with the wire; the fake's call history records the same Request.
"""

from __future__ import annotations

import pytest
from rawservers import RawServer, echo_head

from httpdeck.client import HTTPClient
from httpdeck.client._build import HeaderInput
from httpdeck.testing import FakeHTTPClient

pytestmark = pytest.mark.asyncio

# aiohttp adds these itself; everything else on the wire comes from the Request.
_AUTO = {"host", "accept", "accept-encoding", "content-length"}


def _wire_headers(head: bytes) -> list[tuple[str, str]]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    pairs = [line.split(":", 1) for line in lines if line]
    return [(name, value.strip()) for name, value in pairs if name.lower() not in _AUTO]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"X-Token": "a", "x-token": "b"}, [("X-Token", "a"), ("X-Token", "b")]),
        ([("X-Token", "a"), ("x-TOKEN", "b")], [("X-Token", "a"), ("X-Token", "b")]),
        ([("X-Token", "a"), ("X-Token", "b")], [("X-Token", "a"), ("X-Token", "b")]),
        ({"user-agent": "me", "USER-AGENT": "you"}, [("user-agent", "me"), ("user-agent", "you")]),
    ],
    ids=["mapping-two-spellings", "pairs-two-spellings", "pairs-one-spelling", "default-replaced"],
)
async def test_the_request_headers_are_the_headers_on_the_wire(
    given: HeaderInput, expected: list[tuple[str, str]]
) -> None:
    async with RawServer(echo_head()) as server, HTTPClient() as client:
        response = await client.request("GET", server.url, headers=given)
    assert response.request is not None
    carried = list(response.request.headers.items())
    assert carried == _wire_headers(response.content)
    name = expected[0][0].lower()
    assert [(k, v) for k, v in carried if k.lower() == name] == expected


async def test_the_fake_records_the_headers_the_real_client_would_send() -> None:
    fake = FakeHTTPClient()
    fake.route("GET", "https://api.test/x").respond(text="ok")
    async with fake:
        await fake.get("https://api.test/x", headers={"X-Token": "a", "x-token": "b"})
    (call,) = fake.requests
    assert call.headers.getall("X-Token") == ["a", "b"]
    assert [k for k, _ in call.headers.items() if k.lower() == "x-token"] == ["X-Token"] * 2
