"""The lexigram-http helpers: URL, header, timeout and value checks."""

from __future__ import annotations

import doctest
from typing import Any

import pytest

import httpdeck.client._helpers as helpers_module
from httpdeck import (
    HTTPClientError,
    HTTPValidationError,
    build_url,
    extract_json_type,
    format_timeout,
    merge_headers,
    parse_headers,
    parse_url_parts,
    validate_host,
    validate_port,
    validate_positive_int,
    validate_timeout,
    validate_url,
)


def test_docstring_examples_hold() -> None:
    failed, attempted = doctest.testmod(helpers_module)
    assert attempted > 0
    assert failed == 0


@pytest.mark.parametrize(
    ("base", "path", "params", "expected"),
    [
        ("https://api.example.com", "/users", None, "https://api.example.com/users"),
        ("https://api.example.com/", "users", None, "https://api.example.com/users"),
        ("https://api.example.com/v1/", "/users/", None, "https://api.example.com/v1/users/"),
        ("https://api.example.com", "", {"a": 1}, "https://api.example.com?a=1"),
        ("https://h/x?a=1", "", {"b": 2}, "https://h/x?a=1&b=2"),
        ("https://h", "/s", {"tag": ["x", "y"], "skip": None}, "https://h/s?tag=x&tag=y"),
        ("https://h", "/s", {"q": "a b&c"}, "https://h/s?q=a+b%26c"),
    ],
)
def test_build_url(base: str, path: str, params: dict[str, Any] | None, expected: str) -> None:
    assert build_url(base, path, params) == expected


def test_parse_headers_lowercases_names_and_strips_values() -> None:
    assert parse_headers({"X-Count": 3, "Accept": " */* "}) == {"x-count": "3", "accept": "*/*"}


def test_merge_headers_later_wins() -> None:
    merged = merge_headers({"Accept": "text/html", "X-A": "1"}, {"accept": "application/json"})
    assert merged == {"accept": "application/json", "x-a": "1"}


def test_merge_headers_without_normalizing_keeps_names() -> None:
    merged = merge_headers({"Accept": "a"}, {"accept": "b"}, normalize=False)
    assert merged == {"Accept": "a", "accept": "b"}


def test_parse_url_parts() -> None:
    assert parse_url_parts("http://127.0.0.1:8080/a/b?x=1&y=2#frag") == {
        "scheme": "http",
        "host": "127.0.0.1",
        "port": 8080,
        "path": "/a/b",
        "params": {"x": "1", "y": "2"},
        "fragment": "frag",
    }


def test_parse_url_parts_fills_the_default_port() -> None:
    assert parse_url_parts("https://example.com")["port"] == 443


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", "application/json"),
        ("Application/JSON; charset=utf-8", "application/json"),
        ("application/vnd.api+json", "application/vnd.api+json"),
        ("text/plain", None),
        ("", None),
    ],
)
def test_extract_json_type(content_type: str, expected: str | None) -> None:
    assert extract_json_type(content_type) == expected


def test_format_timeout() -> None:
    assert format_timeout(30) == "30.0s"
    assert format_timeout(0.25) == "0.25s"
    assert format_timeout(None) == "no timeout"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/x", "https://api.example.com"])
def test_validate_url_accepts(url: str) -> None:
    validate_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "A URL is required, got ''."),
        ("   ", "A URL is required, got '   '."),
        (None, "A URL is required, got None."),
        ("ftp://example.com/f", "URL 'ftp://example.com/f' needs an http:// or https:// scheme."),
        ("/relative/path", "URL '/relative/path' needs an http:// or https:// scheme."),
        ("http:///nohost", "URL 'http:///nohost' has no host."),
        ("http://[::1", "Malformed URL 'http://[::1'"),
    ],
)
def test_validate_url_rejects(url: Any, message: str) -> None:
    with pytest.raises(HTTPValidationError) as info:
        validate_url(url)
    assert str(info.value).startswith(message)


def test_validate_url_without_scheme_requirement() -> None:
    validate_url("/relative/path", require_scheme=False)


@pytest.mark.parametrize(
    "host", ["example.com", "a-b.c.example.com.", "localhost", "127.0.0.1", "::1", "[::1]"]
)
def test_validate_host_accepts(host: str) -> None:
    validate_host(host)


@pytest.mark.parametrize(
    "host", ["-bad.com", "under_score.com", "a..b", "x" * 64 + ".com", "sp ace"]
)
def test_validate_host_rejects(host: str) -> None:
    with pytest.raises(HTTPValidationError, match=r"Invalid host .*expected a hostname like"):
        validate_host(host)


@pytest.mark.parametrize("host", ["", None])
def test_validate_host_requires_a_value(host: Any) -> None:
    with pytest.raises(HTTPValidationError, match="A host is required"):
        validate_host(host)


@pytest.mark.parametrize("port", [1, 80, 65535])
def test_validate_port_accepts(port: int) -> None:
    validate_port(port)


@pytest.mark.parametrize("port", [0, 65536, -1, True, "80", 80.0])
def test_validate_port_rejects(port: Any) -> None:
    with pytest.raises(HTTPValidationError, match="expected an integer from 1 to 65535"):
        validate_port(port)


@pytest.mark.parametrize("timeout", [None, 0.1, 5, 30.0])
def test_validate_timeout_accepts(timeout: float | None) -> None:
    validate_timeout(timeout)


@pytest.mark.parametrize("timeout", [0, -1.0, float("nan"), float("inf"), False, "5"])
def test_validate_timeout_rejects(timeout: Any) -> None:
    with pytest.raises(HTTPValidationError, match="expected a positive number of seconds or None"):
        validate_timeout(timeout)


def test_validate_positive_int_names_the_field() -> None:
    validate_positive_int(1)
    with pytest.raises(HTTPValidationError) as info:
        validate_positive_int(0, "max_connections")
    assert str(info.value) == "Invalid max_connections 0: expected a positive integer."


@pytest.mark.parametrize("value", [-3, True, 2.0, "2"])
def test_validate_positive_int_rejects(value: Any) -> None:
    with pytest.raises(HTTPValidationError, match="expected a positive integer"):
        validate_positive_int(value)


def test_validation_errors_are_client_errors_and_value_errors() -> None:
    assert issubclass(HTTPValidationError, HTTPClientError)
    assert issubclass(HTTPValidationError, ValueError)
