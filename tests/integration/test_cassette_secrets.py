"""No secret reaches a cassette, its errors or its logs (reliability case 14),
recorded against real servers on 127.0.0.1: httpbin (pytest-httpbin) and
aiohttp.web apps. A canary is a unique secret string; the file must hold none.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from client_apps import refused_url
from yarl import URL

from httpdeck.client import HTTPClient, HTTPClientConfig, HTTPConnectionError
from httpdeck.testing import CassetteMissError, use_cassette
from httpdeck.testing._server import LocalServer

pytestmark = pytest.mark.asyncio

Httpbin = Any  # pytest_httpbin.serve.Server: .url, .host, .port

CANARIES = {
    name: f"canary-{name}-{index:02d}x7q"
    for index, name in enumerate(
        [
            "bearer",
            "xapikey",
            "xauthtoken",
            "cookie",
            "queryapikey",
            "querytoken",
            "form",
            "json",
            "jsonnested",
            "userinfo",
            "respauthtoken",
            "setcookie",
        ]
    )
}
BASIC = base64.b64encode(f"ann:{CANARIES['userinfo']}".encode()).decode()


async def record_httpbin_secrets(httpbin: Httpbin, path: Path, record_mode: str) -> None:
    c = CANARIES
    base = URL(httpbin.url)
    config = HTTPClientConfig(follow_redirects=False, cookie_jar=False)
    async with (
        HTTPClient(config) as client,
        use_cassette(client, path, record_mode=record_mode, cache_dir=False),  # type: ignore[arg-type]
    ):
        await client.request(
            "GET",
            base / "anything" / "headers",
            params={"api_key": c["queryapikey"], "token": c["querytoken"], "page": "2"},
            headers={
                "Authorization": f"Bearer {c['bearer']}",
                "X-Api-Key": c["xapikey"],
                "X-Auth-Token": c["xauthtoken"],
                "Cookie": f"sid={c['cookie']}",
            },
        )
        await client.request(
            "POST", base / "anything" / "form", data={"user": "ann", "password": c["form"]}
        )
        await client.request(
            "POST",
            base / "anything" / "json",
            json={"password": c["json"], "deep": {"access_token": c["jsonnested"]}},
        )
        with_userinfo = base.with_user("ann").with_password(c["userinfo"]) / "anything" / "ui"
        await client.request("GET", with_userinfo)
        await client.request(
            "GET",
            base / "response-headers",
            params={"X-Auth-Token": c["respauthtoken"], "Set-Cookie": f"sid={c['setcookie']}"},
        )


def assert_no_canary(text: str) -> None:
    leaked = [name for name, canary in CANARIES.items() if canary in text]
    assert not leaked, f"canaries in the cassette: {leaked}"
    assert BASIC not in text


@pytest.mark.parametrize("fmt", ["yaml", "json"])
async def test_case_14_no_canary_reaches_the_cassette_even_after_a_re_record(
    httpbin: Httpbin, tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / f"canaries.{fmt}"
    await record_httpbin_secrets(httpbin, path, "once")
    first = path.read_text()
    assert_no_canary(first)
    # The secrets really were sent and echoed: httpbin saw them, the cassette does not.
    assert first.count("REDACTED") >= len(CANARIES)
    await record_httpbin_secrets(httpbin, path, "all")
    assert_no_canary(path.read_text())
    await record_httpbin_secrets(httpbin, path, "rewrite")
    assert_no_canary(path.read_text())
    # And the redacted cassette still replays every request.
    await record_httpbin_secrets(httpbin, path, "none")


def userinfo_app() -> web.Application:
    async def me(request: web.Request) -> web.Response:
        return web.json_response({"received": request.headers.get("Authorization", "")})

    app = web.Application()
    app.router.add_get("/me", me)
    return app


PASSWORD = "pw-canary-userinfo-31337"


@pytest.mark.parametrize("match_on", [None, ["method", "uri"]])
async def test_userinfo_is_redacted_and_still_replays(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, match_on: list[str] | None
) -> None:
    caplog.set_level(logging.DEBUG, logger="httpdeck.cassette")
    path = tmp_path / "userinfo.yaml"
    options: dict[str, Any] = {"cache_dir": False}
    if match_on is not None:
        options["match_on"] = match_on
    async with LocalServer(userinfo_app()) as server:
        url = server.url.with_user("ann").with_password(PASSWORD) / "me"
        async with HTTPClient() as client, use_cassette(client, path, **options):
            recorded = await client.request("GET", url)
        assert recorded.json()["received"].startswith("Basic ")  # aiohttp sent the userinfo
    text = path.read_text()
    assert PASSWORD not in text
    stored = yaml.safe_load(text)["interactions"][0]
    assert stored["request"]["uri"] == f"http://ann:REDACTED@127.0.0.1:{url.port}/me"
    assert stored["response"]["body"]["string"] == '{"received": "Basic REDACTED"}'
    # Replayed with the server gone, by a request made with the real password.
    async with (
        HTTPClient() as client,
        use_cassette(client, path, record_mode="none", **options),
    ):
        replayed = await client.request("GET", url)
        with pytest.raises(CassetteMissError) as miss:
            await client.request("GET", url.with_path("/other").with_query(token=PASSWORD))
    assert replayed.json() == {"received": "Basic REDACTED"}
    assert PASSWORD not in str(miss.value)
    assert f"GET http://ann:REDACTED@127.0.0.1:{url.port}/other?token=REDACTED" in str(miss.value)
    messages = [record.getMessage() for record in caplog.records]
    assert any("recording GET http://ann:REDACTED@" in m for m in messages)
    assert any("replaying GET http://ann:REDACTED@" in m for m in messages)
    assert not any(PASSWORD in m for m in messages)


async def test_a_recorded_error_on_a_userinfo_url_keeps_no_secret(tmp_path: Path) -> None:
    path = tmp_path / "refused.yaml"
    with refused_url() as refused:
        url = URL(
            str(refused.with_user("ann").with_password(PASSWORD)) + "?api_key=key-77aa-canary"
        )
        async with HTTPClient() as client, use_cassette(client, path, cache_dir=False):
            with pytest.raises(HTTPConnectionError) as live:
                await client.request("GET", url)
    text = path.read_text()
    for secret in (PASSWORD, "key-77aa-canary"):
        assert secret not in text
        assert secret not in str(live.value)
    async with (
        HTTPClient() as client,
        use_cassette(client, path, record_mode="none", cache_dir=False),
    ):
        with pytest.raises(HTTPConnectionError) as replayed:
            await client.request("GET", url)
    assert PASSWORD not in str(replayed.value)
    assert "ann:REDACTED@" in str(replayed.value)
