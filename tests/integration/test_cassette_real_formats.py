"""Cassettes in the shapes real projects hold, which vcrpy plays: the httpx stub's
format before vcrpy 6, headers as lists of pairs (the tornado stub's), and aiohttp
form bodies stored as lists of pairs. The fixtures in tests/unit/cassettes_real/
are written as those tools wrote them; replay goes through the real HTTPClient
(it never connects), and the aiohttp form is also recorded live by vcrpy
against a server on 127.0.0.1."""

from __future__ import annotations

import shutil
from pathlib import Path

import aiohttp
import httpx
import pytest
import vcr  # type: ignore[import-untyped]
from aiohttp import web

from httpdeck.cli import main
from httpdeck.client import HTTPClient
from httpdeck.testing import use_cassette
from httpdeck.testing._server import LocalServer
from httpdeck.testing.cassettes._format import read_cassette
from httpdeck.testing.cassettes._model import Interaction

pytestmark = pytest.mark.asyncio

REAL = Path(__file__).parents[1] / "unit" / "cassettes_real"
HOST = "http://api.example.test"


def loaded_from(path: Path) -> list[Interaction]:
    file = read_cassette(path, "yaml", cache_dir=None)
    return [Interaction(raw) for raw in file.interactions]


def loaded(name: str) -> list[Interaction]:
    return loaded_from(REAL / name)


def copy(tmp_path: Path, name: str) -> Path:
    return Path(shutil.copy(REAL / name, tmp_path / name))


# -- the httpx stub before vcrpy 6: status_code and content ------------------------


async def test_an_old_httpx_cassette_loads_with_a_status_and_a_body() -> None:
    first, second = loaded("httpx_old.yaml")
    assert (first.response.status, first.response.reason) == (200, "OK")
    assert first.response.body == b'{"id": 1, "name": "Ann"}'
    assert first.response.headers["content-type"] == "application/json"
    assert (second.response.status, second.response.reason) == (404, "Not Found")


async def test_an_old_httpx_cassette_replays_through_the_client(tmp_path: Path) -> None:
    path = copy(tmp_path, "httpx_old.yaml")
    async with (
        HTTPClient() as client,
        use_cassette(client, path, record_mode="none", cache_dir=False) as cassette,
    ):
        user = await client.request("GET", f"{HOST}/users/1")
        missing = await client.request("GET", f"{HOST}/users/2")
    assert (user.status, user.json()) == (200, {"id": 1, "name": "Ann"})
    assert (missing.status, missing.reason) == (404, "Not Found")
    assert cassette.all_played
    assert path.read_bytes() == (REAL / "httpx_old.yaml").read_bytes()  # left as it was


async def test_redacting_an_old_httpx_cassette_leaves_no_copy_of_the_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = copy(tmp_path, "httpx_old.yaml")
    path.write_text(path.read_text().replace('"name": "Ann"', '"token": "s3cr3t-value"'))
    assert main(["cassette", "redact", str(path)]) == 0
    assert "redacted 1 of 2" in capsys.readouterr().out
    assert "s3cr3t" not in path.read_text()
    first, second = loaded_from(path)
    assert (first.response.status, second.response.status) == (200, 404)
    assert "status_code: 404" in path.read_text()  # the untouched interaction stays as it was


async def test_vcrpy_plays_the_old_httpx_fixture_too(tmp_path: Path) -> None:
    """The fixture is in a shape vcrpy itself still plays (its httpx stub)."""
    path = copy(tmp_path, "httpx_old.yaml")
    with vcr.VCR(record_mode="none").use_cassette(str(path)):
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{HOST}/users/1")
    assert response.json() == {"id": 1, "name": "Ann"}


# -- headers as a list of pairs (the tornado stub) ----------------------------------


async def test_headers_stored_as_pairs_load_every_value() -> None:
    session, plain = loaded("tornado_headers.yaml")
    headers = session.response.headers
    assert headers.getall("Set-Cookie") == ["theme=dark; Path=/", "lang=en; Path=/"]
    assert headers["Content-Type"] == "application/json"
    assert plain.response.headers["X-Trace"] == "abc123"
    assert plain.response.headers["Content-Type"] == "text/plain"


async def test_headers_stored_as_pairs_replay_through_the_client(tmp_path: Path) -> None:
    path = copy(tmp_path, "tornado_headers.yaml")
    async with (
        HTTPClient() as client,
        use_cassette(client, path, record_mode="none", cache_dir=False),
    ):
        session = await client.request("GET", f"{HOST}/session")
        plain = await client.request("GET", f"{HOST}/plain")
    assert session.headers.getall("Set-Cookie") == ["theme=dark; Path=/", "lang=en; Path=/"]
    assert session.json() == {"session": "open"}
    assert (plain.headers["X-Trace"], plain.text()) == ("abc123", "plain text")


# -- aiohttp form bodies stored as lists of pairs --------------------------------------


async def test_an_aiohttp_form_body_loads_as_a_urlencoded_form() -> None:
    (login,) = loaded("aiohttp_form.yaml")
    assert login.request.body == b"user=ann&password=hunter2"
    assert login.request.headers["Content-Type"] == "application/x-www-form-urlencoded"


async def test_an_aiohttp_form_body_matches_the_same_form_on_replay(tmp_path: Path) -> None:
    path = copy(tmp_path, "aiohttp_form.yaml")
    async with (
        HTTPClient() as client,
        use_cassette(
            client, path, record_mode="none", match_on=["method", "uri", "body"], cache_dir=False
        ) as cassette,
    ):
        response = await client.request(
            "POST", f"{HOST}/login", data={"user": "ann", "password": "hunter2"}
        )
    assert response.json() == {"user": "ann", "ok": True}
    assert cassette.all_played


async def test_the_redactor_sees_the_password_of_an_aiohttp_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = copy(tmp_path, "aiohttp_form.yaml")
    assert main(["cassette", "lint", str(path)]) == 1
    assert "unredacted secret in the request body" in capsys.readouterr().out
    assert main(["cassette", "redact", str(path)]) == 0
    assert "hunter2" not in path.read_text()
    (login,) = loaded_from(path)
    assert login.request.body is not None
    assert login.request.body.startswith(b"user=ann&password=")


def login_app() -> web.Application:
    app = web.Application()

    async def login(request: web.Request) -> web.Response:
        form = await request.post()
        return web.json_response({"user": form["user"], "ok": True})

    app.router.add_post("/login", login)
    return app


async def test_a_form_vcrpy_recorded_with_aiohttp_replays_here(tmp_path: Path) -> None:
    path = tmp_path / "form.yaml"
    fields = [("user", "ann"), ("password", "hunter2")]
    async with LocalServer(login_app()) as server:
        url = server.url / "login"
        with vcr.VCR(record_mode="once").use_cassette(str(path)):
            async with aiohttp.ClientSession() as session, session.post(url, data=fields) as r:
                live = await r.json()
    assert "!!python/tuple" in path.read_text()  # the shape the fixture copies
    async with (
        HTTPClient() as client,
        use_cassette(
            client, path, record_mode="none", match_on=["method", "uri", "body"], cache_dir=False
        ) as cassette,
    ):
        replayed = (await client.request("POST", url, data=dict(fields))).json()
    assert replayed == live == {"user": "ann", "ok": True}
    assert cassette.all_played
