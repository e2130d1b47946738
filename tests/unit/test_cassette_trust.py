"""Cassettes that are hostile or malformed fail fast with a MalformedCassetteError
naming the file, the line and the interaction, on every path that loads one."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml
from cassette_helpers import ScriptTransport

from httpdeck.cli import main
from httpdeck.client import HTTPClient, HTTPConfigError
from httpdeck.testing import MalformedCassetteError, RecordReplayInterceptor, use_cassette
from httpdeck.testing.cassettes._format import dump, parse, read_cassette

REAL = Path(__file__).parent / "cassettes_real"

GOOD = """interactions:
- request:
    body: null
    headers: {}
    method: GET
    uri: http://api.test/a
  response:
    body: {string: ok}
    headers: HEADERS
    status: {code: CODE, message: OK}
version: 1
"""

# "Billion laughs": 9 ** 8 strings from a file of about 600 bytes.
BOMB = GOOD.replace(
    "    headers: HEADERS\n",
    "    headers:\n"
    "      a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(
        f"      {name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
        for prev, name in zip("abcdefg", "bcdefgh", strict=True)
    ),
).replace("CODE", "200")


def cassette(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def load_error(path: Path) -> MalformedCassetteError:
    with pytest.raises(MalformedCassetteError) as info:
        read_cassette(path, "json" if path.suffix == ".json" else "yaml", cache_dir=None)
    return info.value


# -- YAML aliases --------------------------------------------------------------


def test_an_alias_bomb_is_refused_at_once_naming_the_line(tmp_path: Path) -> None:
    path = cassette(tmp_path, BOMB)
    assert len(BOMB) < 700
    error = load_error(path)
    assert error.path == path
    assert error.line == 10  # the anchored node the aliases repeat
    assert f"{path}, line 10" in str(error)
    assert "YAML alias" in str(error)


def test_even_a_single_alias_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace("headers: {}", "headers: &h {Accept: ['*/*']}", 1)
    text = text.replace("headers: HEADERS", "headers: *h").replace("CODE", "200")
    assert "YAML alias" in str(load_error(cassette(tmp_path, text)))


@pytest.mark.parametrize("tool", ["show", "lint", "redact", "stats"])
def test_every_cassette_command_refuses_an_alias_bomb(
    tmp_path: Path, tool: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cassette(tmp_path, BOMB)
    assert main(["cassette", tool, str(path)]) == 1
    assert f"{path}, line 10" in capsys.readouterr().out
    assert path.read_text() == BOMB


@pytest.mark.asyncio
async def test_replay_refuses_an_alias_bomb_also_when_a_cache_is_used(tmp_path: Path) -> None:
    path = cassette(tmp_path, BOMB)
    async with HTTPClient(transport=ScriptTransport()) as client:
        with pytest.raises(MalformedCassetteError, match="YAML alias"):
            async with use_cassette(client, path, record_mode="none", cache_dir=tmp_path / "c"):
                pass


def test_ampersands_and_stars_inside_strings_are_not_aliases(tmp_path: Path) -> None:
    body = "body:\n      string: 'Tom &Jerry *and* friends'\n      note: \"x\\n  *y &z\"\n"
    text = GOOD.replace("body: {string: ok}\n", body)
    path = cassette(tmp_path, text.replace("HEADERS", "{Accept: ['*/*']}").replace("CODE", "200"))
    response = read_cassette(path, "yaml", cache_dir=None).interactions[0]["response"]
    assert response["body"] == {"string": "Tom &Jerry *and* friends", "note": "x\n  *y &z"}


def test_what_is_written_never_holds_an_alias() -> None:
    shared = {"Accept": ["*/*"]}
    item = {
        "request": {"body": None, "headers": shared, "method": "GET", "uri": "http://api.test/"},
        "response": {"body": {"string": ""}, "headers": shared, "status": {"code": 200}},
    }
    data = dump([item, item], "yaml")
    assert b"&id" not in data
    assert b"*id" not in data
    assert len(parse(data, "yaml", Path("x.yaml"))[0]) == 2


# -- the shape of an interaction -------------------------------------------------


def two(second: str) -> str:
    """GOOD, then a second interaction made from `second` (a GOOD-shaped text)."""
    first = GOOD.replace("CODE", "200").replace("HEADERS", "{}").replace("version: 1\n", "")
    return first + second.split("\n", 1)[1]


@pytest.mark.parametrize("code", ["0", "999", "true", "'200'", "200.5", "-1", "null"])
def test_a_status_code_that_is_not_an_http_status_is_refused(tmp_path: Path, code: str) -> None:
    path = cassette(tmp_path, two(GOOD.replace("CODE", code).replace("HEADERS", "{}")))
    error = load_error(path)
    assert f"{path}, line 11" in str(error)  # where interaction #2 starts
    assert f"interaction #2: its status code {yaml.safe_load(code)!r} is not" in str(error)


@pytest.mark.parametrize(
    ("headers", "shown"),
    [
        ("5", "not int 5"),
        ("'Accept: */*'", "not str 'Accept: */*'"),
        ("[Accept]", "not 'Accept'"),
        ("{Accept: {deep: x}}", "the value {'deep': 'x'}"),
        ("{1: x}", "header name 1"),
    ],
)
def test_headers_of_the_wrong_shape_are_refused(tmp_path: Path, headers: str, shown: str) -> None:
    text = GOOD.replace("CODE", "200").replace("HEADERS", headers)
    error = load_error(cassette(tmp_path, text))
    assert "interaction #1: its response header" in str(error)
    assert shown in str(error)


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ("body: 5", "response body must be a mapping"),
        ("body: {string: 5}", "`string` must be text or bytes, not int"),
        ("body: {string: [a]}", "`string` must be text or bytes, not list"),
        ("body: {base64_string: 5}", "`base64_string` must be text"),
    ],
)
def test_a_response_body_of_the_wrong_type_is_refused(
    tmp_path: Path, body: str, shown: str
) -> None:
    text = GOOD.replace("CODE", "200").replace("HEADERS", "{}")
    error = load_error(cassette(tmp_path, text.replace("body: {string: ok}", body)))
    assert shown in str(error)


def test_a_request_method_or_uri_that_is_not_text_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace("CODE", "200").replace("HEADERS", "{}")
    assert "request uri 5" in str(
        load_error(cassette(tmp_path, text.replace("uri: http://api.test/a", "uri: 5")))
    )


# -- numbers and nesting past what Python parses ----------------------------------


def test_json_nested_100k_deep_is_a_malformed_cassette(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    path = cassette(tmp_path, f'{{"version": 1, "interactions": {deep}}}', "deep.json")
    error = load_error(path)
    assert "nested too deeply" in str(error)
    assert str(path) in str(error)


@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_a_4300_digit_integer_is_a_malformed_cassette(tmp_path: Path, suffix: str) -> None:
    number = "9" * 4301
    text = (
        f'{{"version": 1,\n"interactions": [],\n"x": {number}}}'
        if suffix == "json"
        else f"version: 1\ninteractions: []\nx: {number}\n"
    )
    error = load_error(cassette(tmp_path, text, f"big.{suffix}"))
    assert "number too long" in str(error)
    assert error.line == 3


# -- pre-1.0 vcrpy cassettes ---------------------------------------------------


def test_a_pre_1_0_vcrpy_cassette_points_to_vcrpys_migration(tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_bytes((REAL / "vcrpy_pre1.yaml").read_bytes())
    error = load_error(path)
    assert "vcrpy before 1.0" in str(error)
    assert f"python -m vcr.migration {path}" in str(error)
    assert "invalid YAML" not in str(error)
    from vcr.migration import try_migrate  # type: ignore[import-untyped]

    assert try_migrate(str(path))  # what the message says to do works
    assert read_cassette(path, "yaml", cache_dir=None).interactions[0]["request"]["uri"] == (
        "http://api.example.test/users/1"
    )


def test_a_pre_1_0_cassette_without_python_tags_is_named_too(tmp_path: Path) -> None:
    old = [{"request": {"method": "GET"}, "response": {"status": {"code": 200}}}]
    path = cassette(tmp_path, json.dumps(old), "old.json")
    assert "python -m vcr.migration" in str(load_error(path))


# -- recorded timing and replay_timing --------------------------------------------


@pytest.mark.parametrize("value", [".inf", ".nan", "-1.0", "'soon'", "true"])
def test_recorded_timing_must_be_finite_seconds(tmp_path: Path, value: str) -> None:
    text = GOOD.replace("CODE", "200").replace("HEADERS", "{}")
    text = text.replace(
        "    status:", f"    httpdeck: {{chunks: [1, 1], timing: [0.0, {value}]}}\n    status:"
    )
    error = load_error(cassette(tmp_path, text.replace("string: ok", "string: ab")))
    assert "`httpdeck.timing` holds" in str(error)
    assert "replay_timing" in str(error)


@pytest.mark.parametrize("value", [math.inf, math.nan, -1.0, 1, "yes", None])
def test_replay_timing_must_be_a_bool(tmp_path: Path, value: object) -> None:
    with pytest.raises(HTTPConfigError, match="Invalid replay_timing") as info:
        RecordReplayInterceptor(tmp_path / "c.yaml", replay_timing=value)  # type: ignore[arg-type]
    assert repr(value) in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.asyncio
async def test_use_cassette_checks_replay_timing_before_installing_anything(tmp_path: Path) -> None:
    async with HTTPClient(transport=ScriptTransport()) as client:
        with pytest.raises(HTTPConfigError, match="replay_timing inf"):
            async with use_cassette(client, tmp_path / "c.yaml", replay_timing=math.inf):  # type: ignore[arg-type]
                pass
        assert not list(client.interceptors)
    assert not (tmp_path / "c.yaml").exists()


def test_an_error_message_shows_a_long_value_cut_short(tmp_path: Path) -> None:
    text = GOOD.replace("CODE", "200").replace("HEADERS", "'" + "x" * 10_000 + "'")
    assert len(str(load_error(cassette(tmp_path, text)))) < 600
