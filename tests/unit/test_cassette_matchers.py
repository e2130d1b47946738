"""Matchers: vcrpy's by name, JSON-aware body, headers, user matchers, and the replay index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cassette_helpers import ScriptTransport, ok

from httpdeck.client import HTTPClient, HttpResponse, Request
from httpdeck.testing import CassetteMissError, CassetteRequest, use_cassette
from httpdeck.testing.cassettes._matchers import (
    DEFAULT_MATCH_ON,
    all_match,
    failures,
    key_function,
    resolve,
)


def req(
    uri: str = "http://api.test/x",
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> CassetteRequest:
    return CassetteRequest(method, uri, headers, body)


def failed(a: CassetteRequest, b: CassetteRequest, match_on: list[str]) -> list[str]:
    return [name for name, _ in failures(a, b, resolve(match_on))]


def test_default_matchers_are_vcrpys() -> None:
    assert DEFAULT_MATCH_ON == ("method", "scheme", "host", "port", "path", "query")


@pytest.mark.parametrize(
    ("a", "b", "differs"),
    [
        ("http://api.test/x?a=1&b=2", "http://api.test/x?b=2&a=1", []),
        ("http://api.test/x", "http://api.test:80/x", []),
        ("http://api.test/x", "https://api.test/x", ["scheme", "port"]),
        ("http://api.test/x", "http://other.test/x", ["host"]),
        ("http://api.test/x?a=1", "http://api.test/x?a=2", ["query"]),
        ("http://api.test", "http://api.test/", []),
    ],
)
def test_url_matchers(a: str, b: str, differs: list[str]) -> None:
    assert failed(req(a), req(b), list(DEFAULT_MATCH_ON)) == differs


def test_uri_matcher_compares_the_whole_uri() -> None:
    assert failed(req("http://api.test/x?a=1&b=2"), req("http://api.test/x?b=2&a=1"), ["uri"]) == [
        "uri"
    ]


def test_json_bodies_match_whatever_key_order_and_spacing() -> None:
    a = req(body=b'{"a": 1, "b": [1, 2]}', headers={"Content-Type": "application/json"})
    b = req(body=b'{"b":[1,2],"a":1}')
    assert failed(a, b, ["body"]) == []
    c = req(body=b'{"b":[2,1],"a":1}')
    ((name, why),) = failures(a, c, resolve(["body"]))
    assert name == "body"
    assert "recorded" in why


def test_form_bodies_match_as_vcrpy_parses_them() -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert (
        failed(req(body=b"a=1&b=2", headers=form), req(body=b"a=1&b=2", headers=form), ["body"])
        == []
    )
    assert failed(req(body=b"a=1", headers=form), req(body=b"a=2", headers=form), ["body"]) == [
        "body"
    ]


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_json_nested_too_deeply_to_parse_is_compared_byte_for_byte(content_type: str) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    headers = {"Content-Type": content_type}
    assert failed(req(body=deep, headers=headers), req(body=deep, headers=headers), ["body"]) == []
    spaced = req(body=deep + b" ", headers=headers)
    assert failed(spaced, req(body=deep, headers=headers), ["body"]) == ["body"]
    big = b'{"n": ' + b"9" * 4301 + b"}"  # past Python's int conversion limit
    assert failed(req(body=big, headers=headers), req(body=big[:-1] + b" }"), ["body"]) == ["body"]


@pytest.mark.asyncio
async def test_a_deep_json_body_replays_when_it_is_the_same(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    deep = b"[" * 100_000 + b"]" * 100_000
    options = {"match_on": ["method", "body"], "redact": False, "cache_dir": False}
    async with (
        HTTPClient(transport=ScriptTransport(lambda r: ok({"n": 1}))) as client,
        use_cassette(client, path, **options),  # type: ignore[arg-type]
    ):
        await client.request("POST", "http://api.test/x", content=deep)
    async with (
        HTTPClient(transport=ScriptTransport()) as client,
        use_cassette(client, path, record_mode="none", **options) as cassette,  # type: ignore[arg-type]
    ):
        assert (await client.request("POST", "http://api.test/x", content=deep)).json() == {"n": 1}
        with pytest.raises(CassetteMissError):
            await client.request("POST", "http://api.test/x", content=deep + b" ")
    assert cassette.all_played


def test_raw_body_is_byte_exact() -> None:
    assert failed(req(body=b'{"a":1}'), req(body=b'{"a": 1}'), ["raw_body"]) == ["raw_body"]


def test_headers_matcher_ignores_name_case_and_reports_the_difference() -> None:
    a = req(headers={"X-One": "1", "Accept": "json"})
    assert failed(a, req(headers={"x-one": "1", "accept": "json"}), ["headers"]) == []
    ((_, why),) = failures(a, req(headers={"X-One": "2", "Accept": "json"}), resolve(["headers"]))
    assert "x-one: 1" in why
    assert "x-one: 2" in why


def test_user_matchers_may_return_false_or_raise() -> None:
    def same_tenant(r1: CassetteRequest, r2: CassetteRequest) -> bool:
        return r1.headers.get("X-Tenant") == r2.headers.get("X-Tenant")

    def same_version(r1: CassetteRequest, r2: CassetteRequest) -> None:
        if r1.path.split("/")[1] != r2.path.split("/")[1]:
            raise AssertionError("api version differs")

    matchers = resolve(["method", same_tenant, same_version])
    a = req("http://api.test/v1/x", headers={"X-Tenant": "a"})
    b = req("http://api.test/v2/x", headers={"X-Tenant": "b"})
    assert failures(a, b, matchers) == [
        ("same_tenant", ""),
        ("same_version", "api version differs"),
    ]


def test_vcrpy_style_matcher_functions_work_on_cassette_requests() -> None:
    from vcr import matchers as vcr_matchers  # type: ignore[import-untyped]

    assert all_match(req(), req(), resolve([vcr_matchers.method, vcr_matchers.path]))


def test_unknown_matcher_names_list_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"Unknown matcher 'bodyy'.*raw_body"):
        resolve(["bodyy"])


@pytest.mark.parametrize(
    "match_on",
    [
        list(DEFAULT_MATCH_ON),
        ["uri"],
        ["method", "host"],
        ["path"],
        ["body"],
        ["method", "uri", "body"],
    ],
)
def test_requests_that_match_always_share_an_index_key(match_on: list[str]) -> None:
    requests = [
        req("http://api.test/x?a=1"),
        req("http://API.test:80/x?a=1"),
        req("http://api.test?a=1"),
        req("http://api.test/?a=1"),
        req("http://api.test/x?a=1", method="POST"),
        req("http://api.test/y?a=1", body=b"{}"),
        req("https://api.test/x?a=1", body=b"{}"),
    ]
    matchers = resolve(match_on)
    key = key_function(matchers)
    for a in requests:
        for b in requests:
            if all_match(a, b, matchers):
                assert key(a.key_parts) == key(b.key_parts), (a, b)


@pytest.mark.asyncio
async def test_replay_runs_the_full_matchers_only_on_the_requests_index_bucket(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.yaml"
    async with (
        HTTPClient(transport=ScriptTransport()) as client,
        use_cassette(client, path, cache_dir=False),
    ):
        for number in range(50):
            await client.request("GET", f"http://api.test/item/{number}")
    calls: list[str] = []

    def counting(r1: CassetteRequest, r2: CassetteRequest) -> bool:
        calls.append(r2.path)
        return True

    async with (
        HTTPClient(transport=ScriptTransport()) as client,
        use_cassette(client, path, match_on=["method", "path", counting], cache_dir=False),
    ):
        response = await client.request("GET", "http://api.test/item/42")
    assert response.json() == {"path": "/item/42"}
    assert calls == ["/item/42"]


@pytest.mark.asyncio
async def test_body_matching_picks_the_interaction_with_the_same_json(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"

    def echo(request: Request) -> HttpResponse:
        assert isinstance(request.content, bytes)
        return ok({"got": json.loads(request.content)})

    async with (
        HTTPClient(transport=ScriptTransport(echo)) as client,
        use_cassette(client, path, cache_dir=False),
    ):
        for n in (1, 2, 3):
            await client.request("POST", "http://api.test/q", json={"n": n, "kind": "x"})
    async with (
        HTTPClient(transport=ScriptTransport()) as client,
        use_cassette(client, path, match_on=["method", "path", "body"], cache_dir=False),
    ):
        response = await client.request(
            "POST", "http://api.test/q", content=b'{"kind": "x", "n": 2}'
        )
        assert response.json() == {"got": {"n": 2, "kind": "x"}}
        with pytest.raises(CassetteMissError, match="body differs"):
            await client.request("POST", "http://api.test/q", json={"n": 9, "kind": "x"})
