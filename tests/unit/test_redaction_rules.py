"""The one list of secret names, URL userinfo, and redaction that changes only secret bytes."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cassette_helpers import ScriptTransport
from multidict import CIMultiDict

from httpdeck.client import HTTPClient, HTTPValidationError
from httpdeck.client._redaction import (
    is_secret_name,
    redact_text,
    redact_url,
)
from httpdeck.testing import (
    Anonymizer,
    CassetteMissError,
    CassetteRequest,
    CassetteResponse,
    use_cassette,
)
from httpdeck.testing.cassettes._redact import Redactor, Secrets

PASSWORD = "pw-canary-31337"


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "proxy-authorization",
        "Cookie",
        "Set-Cookie",
        "X-Api-Key",
        "Api-Key",
        "X-Auth-Token",
        "X-Amz-Security-Token",
        "X-Goog-Api-Key",
        "X-CSRF-Token",
    ],
)
def test_secret_headers_come_from_one_list(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["Content-Type", "X-Trace", "X-Token-Count", "Accept"])
def test_ordinary_headers_are_not_secret(name: str) -> None:
    assert not is_secret_name(name)
    assert is_secret_name(name, extra=[name.upper()])


@pytest.mark.parametrize("name", ["api_key", "token", "access_token", "sig", "X-Amz-Signature"])
def test_secret_query_names_use_the_same_rule(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://ann:pw@host.test/x", "http://ann:REDACTED@host.test/x"),
        ("https://ghp_token123@host.test/", "https://REDACTED@host.test/"),
        ("https://sk_live_1:@host.test/", "https://REDACTED:@host.test/"),
        ("http://ann:REDACTED@host.test/x", "http://ann:REDACTED@host.test/x"),
        (
            "http://ann:p%40ss@host.test:8080/a?api_key=k&sig=s&x=1#f",
            "http://ann:REDACTED@host.test:8080/a?api_key=REDACTED&sig=REDACTED&x=1#f",
        ),
        ("http://host.test/a?email=ann@x.test", "http://host.test/a?email=ann@x.test"),
        ("http://host.test/a", "http://host.test/a"),
    ],
)
def test_redact_url_replaces_userinfo_and_secret_query_values(url: str, shown: str) -> None:
    found: list[str] = []
    assert redact_url(url, found=found.append) == shown
    assert redact_url(shown) == shown


def test_redact_text_finds_urls_in_running_text_and_reprs() -> None:
    text = (
        f"GET http://ann:{PASSWORD}@h.test/x?token=t0k3n-abc failed; "
        f"see URL('https://h.test/y?access_token=zzzzzz') and 'http://u:{PASSWORD}@h.test'"
    )
    out = redact_text(text)
    assert PASSWORD not in out
    assert "t0k3n-abc" not in out
    assert "zzzzzz" not in out
    assert "http://ann:REDACTED@h.test/x?token=REDACTED failed" in out
    assert redact_text("no url here: token=x") == "no url here: token=x"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("GET http://h.test/x?token=abcdef.", "GET http://h.test/x?token=REDACTED."),
        ("(see http://h.test/x?sig=abcdef)", "(see http://h.test/x?sig=REDACTED)"),
        ("[http://h.test/x?sig=abcdef]", "[http://h.test/x?sig=REDACTED]"),
        (
            "GET http://u:pw@[::1]:8080/x?token=abc, then",
            "GET http://u:REDACTED@[::1]:8080/x?token=REDACTED, then",
        ),
    ],
)
def test_redact_text_leaves_the_punctuation_around_a_url(text: str, shown: str) -> None:
    assert redact_text(text) == shown


def test_userinfo_is_redacted_in_the_recorded_uri_and_its_basic_echo_is_scrubbed() -> None:
    redactor = Redactor()
    request = CassetteRequest("GET", f"http://ann:{PASSWORD}@api.test/x?api_key=abcdefgh")
    redacted, secrets = redactor.request(request)
    assert redacted.uri == "http://ann:REDACTED@api.test/x?api_key=REDACTED"
    basic = base64.b64encode(f"ann:{PASSWORD}".encode()).decode()
    echo = json.dumps({"headers": {"Authorization": f"Basic {basic}"}, "url": request.uri})
    response = CassetteResponse(
        200, headers=CIMultiDict({"Content-Type": "application/json"}), body=echo.encode()
    )
    body = redactor.response(response, secrets).body.decode()
    assert PASSWORD not in body
    assert basic not in body
    assert "abcdefgh" not in body
    # Idempotent: the redacted request is left as it is.
    assert redactor.request(redacted)[0].uri == redacted.uri


def test_response_auth_token_headers_are_redacted_names_and_order_kept() -> None:
    headers = CIMultiDict(
        [
            ("content-type", "text/plain"),
            ("X-Auth-Token", "auth-canary-123"),
            ("x-amz-security-token", "amz-canary-456"),
            ("location", "/next?a=1"),
        ]
    )
    out = Redactor().response(CassetteResponse(200, headers=headers, body=b"ok"), Secrets())
    assert list(out.headers.items()) == [
        ("content-type", "text/plain"),
        ("X-Auth-Token", "REDACTED"),
        ("x-amz-security-token", "REDACTED"),
        ("location", "/next?a=1"),
    ]


def test_a_response_without_secrets_keeps_its_header_objects_and_case() -> None:
    headers = CIMultiDict([("location", "/next?a=1"), ("content-type", "text/plain")])
    out = Redactor().response(CassetteResponse(302, headers=headers), Secrets())
    assert list(out.headers.items()) == [("location", "/next?a=1"), ("content-type", "text/plain")]


def json_request(body: bytes) -> CassetteRequest:
    return CassetteRequest("POST", "http://api.test/x", {"Content-Type": "application/json"}, body)


def test_only_string_and_number_values_of_secret_fields_change() -> None:
    body = (
        b'{"password": false, "has_password": true, "token": null, "secret": "",'
        b' "pin_password": 1234, "api_key": "k-canary-1", "nested": {"client_secret": ["s-1x2y3z", 7]}}'
    )
    out = Redactor().request(json_request(body))[0].body
    assert out == (
        b'{"password": false, "has_password": true, "token": null, "secret": "",'
        b' "pin_password": 0, "api_key": "REDACTED", "nested": {"client_secret": ["REDACTED", 0]}}'
    )


def test_a_json_body_without_secrets_keeps_every_byte() -> None:
    body = b'{"b":1,  "a" : "caf\\u00e9",\n "list": [1,2.50, "x"], "has_password": false}'
    assert Redactor().request(json_request(body))[0].body == body


def test_a_json_body_with_a_secret_changes_only_that_value() -> None:
    body = b'{"z": 1,  "a" : "caf\\u00e9", "password":"hunter2-pw",\n"tail": [1 , 2]}'
    out = Redactor().request(json_request(body))[0].body
    assert out == b'{"z": 1,  "a" : "caf\\u00e9", "password":"REDACTED",\n"tail": [1 , 2]}'


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=UTF-8",
        None,  # vcrpy's aiohttp cassettes store form bodies without the Content-Type
    ],
)
def test_form_bodies_lose_their_passwords(content_type: str | None) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    body = f"user=ann&pass%77ord={PASSWORD}&remember=1".encode()
    request = CassetteRequest("POST", "http://api.test/login", headers, body)
    assert Redactor().request(request)[0].body == b"user=ann&pass%77ord=REDACTED&remember=1"


def test_text_that_only_looks_a_little_like_a_form_is_kept() -> None:
    body = b"hello token=abc, how are you?"
    request = CassetteRequest("POST", "http://api.test/x", {}, body)
    assert Redactor().request(request)[0].body == body


def test_anonymizing_changes_only_the_listed_values() -> None:
    anonymizer = Anonymizer(["email"], seed=3)
    body = b'{"id":7,  "email" : "ann@real.org", "note": "caf\\u00e9", "verified": true}'
    out = anonymizer.body(body) or b""
    fake = anonymizer.fake("email", "ann@real.org")
    assert (
        out
        == b'{"id":7,  "email" : "' + fake.encode() + b'", "note": "caf\\u00e9", "verified": true}'
    )
    untouched = b'{"id": 7,  "note": "caf\\u00e9"}'
    assert anonymizer.body(untouched) is untouched


@pytest.mark.asyncio
async def test_a_miss_on_headers_never_prints_a_secret_header_value(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    options: dict[str, Any] = {"redact": False, "match_on": ["method", "uri", "headers"]}
    url = f"http://ann:{PASSWORD}@api.test/x?api_key=key-canary-1"
    async with (
        HTTPClient(transport=ScriptTransport()) as client,
        use_cassette(client, path, cache_dir=False, **options),
    ):
        await client.request("GET", url, headers={"X-Auth-Token": "tok-recorded-1"})
    async with (
        HTTPClient(transport=ScriptTransport()) as client,
        use_cassette(client, path, record_mode="none", cache_dir=False, **options),
    ):
        with pytest.raises(CassetteMissError) as miss:
            await client.request("GET", url, headers={"X-Auth-Token": "tok-live-2"})
    message = str(miss.value)
    for secret in (PASSWORD, "key-canary-1", "tok-recorded-1", "tok-live-2"):
        assert secret not in message
    assert "x-auth-token: ***" in message
    assert repr(miss.value.cassette_request) == (
        "<CassetteRequest GET http://ann:REDACTED@api.test/x?api_key=REDACTED>"
    )


@pytest.mark.asyncio
@pytest.mark.parametrize("name", ["Authorization", "X-Auth-Token"])
async def test_an_invalid_secret_header_value_is_not_printed(name: str) -> None:
    async with HTTPClient(transport=ScriptTransport()) as client:
        with pytest.raises(HTTPValidationError) as raised:
            await client.request("GET", "http://api.test/", headers={name: "tok-canary-9\r\nX: y"})
    assert "tok-canary-9" not in str(raised.value)
    assert f"Invalid value for header {name!r}" in str(raised.value)
