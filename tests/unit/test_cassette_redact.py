"""Redaction rules, anonymization, and that nothing secret reaches the file."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cassette_helpers import ScriptTransport
from multidict import CIMultiDict

from httpdeck.client import (
    ByteStream,
    HTTPClient,
    HTTPConnectionError,
    HttpResponse,
    Request,
)
from httpdeck.testing import (
    Anonymizer,
    CassetteRequest,
    CassetteResponse,
    use_cassette,
)
from httpdeck.testing.cassettes._redact import Redactor, Secrets

TOKEN = "tok_9f8e7d6c5b4a"
PASSWORD = "hunter2-correct-horse"


def redact_request(
    request: CassetteRequest, *, headers: tuple[str, ...] = (), fields: tuple[str, ...] = ()
) -> tuple[CassetteRequest, Secrets]:
    return Redactor(headers=headers, fields=fields).request(request)


def test_secret_headers_are_redacted_keeping_scheme_and_cookie_names() -> None:
    request = CassetteRequest(
        "GET",
        "http://api.test/",
        [
            ("Authorization", f"Bearer {TOKEN}"),
            (
                "Proxy-Authorization",
                "Basic " + base64.b64encode(b"me:" + PASSWORD.encode()).decode(),
            ),
            ("Cookie", "session=abcdef123456; theme=dark"),
            ("X-Api-Key", "key-0123456789"),
            ("Accept", "application/json"),
        ],
    )
    redacted, secrets = redact_request(request)
    assert redacted.headers["Authorization"] == "Bearer REDACTED"
    assert redacted.headers["Proxy-Authorization"] == "Basic REDACTED"
    assert redacted.headers["Cookie"] == "session=REDACTED; theme=REDACTED"
    assert redacted.headers["X-Api-Key"] == "REDACTED"
    assert redacted.headers["Accept"] == "application/json"
    assert {TOKEN, PASSWORD, "abcdef123456", "key-0123456789"} <= secrets.values


@pytest.mark.parametrize(
    "name",
    [
        "token",
        "api_key",
        "apiKey",
        "access_token",
        "password",
        "secret",
        "client_secret",
        "refresh_token",
        "X-Auth-Token",
        "db_password",
    ],
)
def test_query_fields_named_like_secrets_are_redacted(name: str) -> None:
    request = CassetteRequest("GET", f"http://api.test/x?page=2&{name}={TOKEN}&q=a+b%20c")
    redacted, _ = redact_request(request)
    assert redacted.uri == f"http://api.test/x?page=2&{name}=REDACTED&q=a+b%20c"


@pytest.mark.parametrize("name", ["max_tokens", "token_type", "tokens", "secretary"])
def test_fields_that_only_contain_a_secret_word_are_kept(name: str) -> None:
    request = CassetteRequest("GET", f"http://api.test/x?{name}=100")
    assert redact_request(request)[0].uri == f"http://api.test/x?{name}=100"


def test_form_and_nested_json_bodies_are_redacted() -> None:
    form = CassetteRequest(
        "POST",
        "http://api.test/login",
        {"Content-Type": "application/x-www-form-urlencoded"},
        f"user=me&password={PASSWORD}".encode(),
    )
    assert redact_request(form)[0].body == b"user=me&password=REDACTED"
    document = {
        "user": {"name": "me", "credentials": {"client_secret": TOKEN}},
        "items": [{"token": 1234567}],
    }
    body = CassetteRequest(
        "POST",
        "http://api.test/x",
        {"Content-Type": "application/json"},
        json.dumps(document).encode(),
    )
    redacted = json.loads(redact_request(body)[0].body or b"")
    assert redacted == {
        "user": {"name": "me", "credentials": {"client_secret": "REDACTED"}},
        "items": [{"token": 0}],  # a number keeps its type
    }


def test_user_added_names_are_redacted_too() -> None:
    request = CassetteRequest("GET", "http://api.test/x?sig=abcdefgh", {"X-Signature": "s1gn4ture"})
    redacted, _ = redact_request(request, headers=("X-Signature",), fields=("sig",))
    assert redacted.uri == "http://api.test/x?sig=REDACTED"
    assert redacted.headers["X-Signature"] == "REDACTED"


def test_redaction_is_idempotent() -> None:
    request = CassetteRequest(
        "GET", f"http://api.test/x?token={TOKEN}", {"Authorization": f"Bearer {TOKEN}"}
    )
    once, _ = redact_request(request)
    twice, secrets = redact_request(once)
    assert (twice.uri, dict(twice.headers)) == (once.uri, dict(once.headers))
    assert not secrets.values


def test_response_echoes_of_request_secrets_are_scrubbed_everywhere() -> None:
    redactor = Redactor()
    _, secrets = redactor.request(CassetteRequest("GET", f"http://api.test/x?token={TOKEN}"))
    response = CassetteResponse(
        302,
        headers=CIMultiDict(
            {
                "Location": f"http://api.test/next?token={TOKEN}&a=1",
                "X-Echo": f"you sent {TOKEN}",
                "Set-Cookie": "sid=zyxwvu987654; Path=/; HttpOnly",
                "Content-Type": "text/html",
            }
        ),
        body=f"<p>your token is {TOKEN}, session zyxwvu987654</p>".encode(),
    )
    out = redactor.response(response, secrets)
    assert out.headers["Location"] == "http://api.test/next?token=REDACTED&a=1"
    assert out.headers["X-Echo"] == "you sent REDACTED"
    assert out.headers["Set-Cookie"] == "sid=REDACTED; Path=/; HttpOnly"
    assert out.body == b"<p>your token is REDACTED, session REDACTED</p>"


def test_secrets_named_in_a_json_response_are_scrubbed_from_its_other_fields() -> None:
    body = json.dumps({"access_token": TOKEN, "note": f"use {TOKEN} wisely", "expires_in": 3600})
    response = CassetteResponse(
        200, headers=CIMultiDict({"Content-Type": "application/json"}), body=body.encode()
    )
    out = json.loads(Redactor().response(response, Secrets()).body)
    assert out == {"access_token": "REDACTED", "note": "use REDACTED wisely", "expires_in": 3600}


def test_sse_data_lines_are_redacted_chunk_boundaries_kept() -> None:
    chunks = [b'data: {"token": "' + TOKEN.encode() + b'"}\n\n', b"data: plain\n\n"]
    response = CassetteResponse(
        200,
        headers=CIMultiDict({"Content-Type": "text/event-stream"}),
        body=b"".join(chunks),
        chunk_sizes=[len(c) for c in chunks],
        timing=[0.0, 1.0],
    )
    out = Redactor().response(response, Secrets())
    assert out.chunks() == [b'data: {"token": "REDACTED"}\n\n', b"data: plain\n\n"]
    assert out.timing == [0.0, 1.0]


def test_a_secret_split_across_chunks_is_still_removed() -> None:
    _, secrets = Redactor().request(CassetteRequest("GET", f"http://api.test/x?token={TOKEN}"))
    body = f"echo {TOKEN} done".encode()
    response = CassetteResponse(200, body=body, chunk_sizes=[8, len(body) - 8])
    out = Redactor().response(response, secrets)
    assert out.body == b"echo REDACTED done"
    assert out.chunks() == [out.body]


def test_binary_bodies_are_not_touched() -> None:
    blob = b"\xff\xfe" + TOKEN.encode()
    _, secrets = Redactor().request(CassetteRequest("GET", f"http://api.test/x?token={TOKEN}"))
    assert Redactor().response(CassetteResponse(200, body=blob), secrets).body == blob


def test_error_messages_lose_query_secrets() -> None:
    message = f"Cannot connect for GET http://api.test/x?token={TOKEN}&a=1: refused"
    assert (
        Redactor().message(message, Secrets())
        == "Cannot connect for GET http://api.test/x?token=REDACTED&a=1: refused"
    )


@pytest.mark.asyncio
async def test_no_secret_reaches_the_cassette_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"

    def answer(request: Request) -> HttpResponse | Exception:
        if request.url.path == "/down":
            return HTTPConnectionError(f"Cannot connect for GET {request.url}", sent=False)
        body = json.dumps({"access_token": TOKEN, "echo": dict(request.url.query)}).encode()
        headers = {
            "Content-Type": "application/json",
            "Location": str(request.url),
            "Set-Cookie": f"sid={TOKEN}",
        }
        return HttpResponse(200, headers=headers, stream=ByteStream([body]))

    async with (
        HTTPClient(transport=ScriptTransport(answer)) as client,
        use_cassette(client, path, cache_dir=False) as cassette,
    ):
        await client.request(
            "POST",
            "http://api.test/login",
            params={"api_key": TOKEN},
            json={"password": PASSWORD},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        with pytest.raises(HTTPConnectionError):
            await client.request("GET", "http://api.test/down", params={"token": TOKEN})
    text = path.read_text()
    assert TOKEN not in text
    assert PASSWORD not in text
    assert text.count("REDACTED") >= 6
    # Matching still works on the redacted fields: the same calls replay.
    async with (
        HTTPClient(transport=ScriptTransport()) as client,
        use_cassette(
            client,
            path,
            record_mode="none",
            match_on=["method", "path", "query", "body"],
            cache_dir=False,
        ) as cassette,
    ):
        response = await client.request(
            "POST",
            "http://api.test/login",
            params={"api_key": TOKEN},
            json={"password": PASSWORD},
        )
        assert response.json()["access_token"] == "REDACTED"
        with pytest.raises(HTTPConnectionError) as info:
            await client.request("GET", "http://api.test/down", params={"token": TOKEN})
    assert TOKEN not in str(info.value)
    assert cassette.all_played


def test_anonymizer_maps_each_real_value_to_one_fake_value() -> None:
    anonymizer = Anonymizer(["email", "name", "phone", "ip"], seed=7)
    document = {
        "users": [
            {"email": "ann@real.org", "name": "Ann Real"},
            {"email": "ann@real.org", "name": "Bob Real"},
        ],
        "ip": "10.1.2.3",
    }
    out = json.loads(anonymizer.body(json.dumps(document).encode()) or b"")
    first, second = out["users"]
    assert first["email"] == second["email"] != "ann@real.org"
    assert "@" in first["email"]
    assert first["name"] not in ("Ann Real", second["name"])
    assert out["ip"].count(".") == 3
    assert out["ip"] != "10.1.2.3"
    again = Anonymizer(["email"], seed=7).fake("email", "ann@real.org")
    assert again == first["email"]
    assert Anonymizer(["email"], seed=8).fake("email", "ann@real.org") != first["email"]


def test_anonymizer_rejects_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="Unknown fake kind 'shoe_size'"):
        Anonymizer({"size": "shoe_size"})


@pytest.mark.asyncio
async def test_anonymized_cassettes_hold_no_personal_data_and_still_match(tmp_path: Path) -> None:
    path = tmp_path / "people.yaml"

    def answer(request: Request) -> HttpResponse:
        body = json.dumps({"email": "ann@real.org", "friends": [{"email": "bob@real.org"}]})
        return HttpResponse(
            200, headers={"Content-Type": "application/json"}, stream=ByteStream([body.encode()])
        )

    options = {
        "anonymize": Anonymizer(["email"], seed=1),
        "match_on": ["method", "path", "body"],
        "cache_dir": False,
    }
    async with (
        HTTPClient(transport=ScriptTransport(answer)) as client,
        use_cassette(client, path, **options),  # type: ignore[arg-type]
    ):
        await client.request("POST", "http://api.test/find", json={"email": "ann@real.org"})
    assert "real.org" not in path.read_text()
    async with (
        HTTPClient(transport=ScriptTransport()) as client,
        use_cassette(client, path, record_mode="none", **options),  # type: ignore[arg-type]
    ):
        found = await client.request("POST", "http://api.test/find", json={"email": "ann@real.org"})
    assert found.json()["email"] == Anonymizer(["email"], seed=1).fake("email", "ann@real.org")


@pytest.mark.asyncio
async def test_log_lines_show_redacted_urls(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="httpdeck.cassette")
    path = tmp_path / "c.yaml"
    for _ in range(2):  # record, then replay
        async with (
            HTTPClient(transport=ScriptTransport()) as client,
            use_cassette(client, path, cache_dir=False),
        ):
            await client.request("GET", "http://api.test/x", params={"access_token": TOKEN})
    messages = [record.getMessage() for record in caplog.records]
    assert any(
        m.startswith("recording GET http://api.test/x?access_token=REDACTED") for m in messages
    )
    assert any(
        m.startswith("replaying GET http://api.test/x?access_token=REDACTED") for m in messages
    )
    assert not any(TOKEN in m for m in messages)
