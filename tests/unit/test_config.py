"""HTTPClientConfig, ConnectionPoolConfig, TimeoutConfig: defaults, validation, from_env."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from httpdeck import (
    ConnectionPoolConfig,
    HTTPClientConfig,
    HTTPClientError,
    HTTPConfigError,
    TimeoutConfig,
    __version__,
)


def _any(value: object) -> Any:
    """A deliberately wrong value, typed so that mypy lets the test pass it."""
    return value


def test_pool_defaults() -> None:
    """lexigram-http's defaults, except the pool sizes: aiohttp's and httpx's."""
    pool = ConnectionPoolConfig()
    assert (
        pool.max_connections,
        pool.max_keepalive_connections,
        pool.max_connections_per_host,
        pool.timeout,
        pool.ttl_dns_cache,
        pool.force_close,
        pool.verify_ssl,
    ) == (100, 20, 100, 30.0, 300, False, True)
    assert pool.keepalive_timeout == 15.0


def test_client_defaults() -> None:
    config = HTTPClientConfig()
    assert config.pool == ConnectionPoolConfig()
    assert config.timeouts == TimeoutConfig()
    assert config.follow_redirects is True
    assert config.max_redirects == 10
    assert dict(config.headers) == {}
    assert config.proxy is None
    assert config.trust_env is True
    assert config.cookie_jar is True
    assert config.max_response_bytes is None
    assert config.url_safety is False
    assert config.secret_headers == ()
    assert config.service_name is None


def test_user_agent_names_httpdeck_and_its_version() -> None:
    assert HTTPClientConfig().user_agent == f"httpdeck/{__version__}"


def test_timeout_defaults_connect_only() -> None:
    assert TimeoutConfig() == TimeoutConfig(connect=10.0, pool=None, read=None, write=None)


def test_total_timeout_falls_back_to_pool_timeout() -> None:
    assert HTTPClientConfig().total_timeout == 30.0
    config = HTTPClientConfig(timeouts=TimeoutConfig(total=2.5))
    assert config.total_timeout == 2.5
    config = HTTPClientConfig(pool=ConnectionPoolConfig(timeout=7.0))
    assert config.total_timeout == 7.0


def test_configs_are_frozen_and_keyword_only() -> None:
    config = HTTPClientConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.max_redirects = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        ConnectionPoolConfig(10)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (
            lambda: TimeoutConfig(connect=0),
            "TimeoutConfig.connect must be a positive number of seconds or None, got 0.",
        ),
        (lambda: TimeoutConfig(read=-1.0), "TimeoutConfig.read must be a positive number"),
        (lambda: TimeoutConfig(total=float("inf")), "got inf"),
        (lambda: TimeoutConfig(pool=_any("5")), "TimeoutConfig.pool must be a number of seconds"),
        (lambda: TimeoutConfig(write=True), "TimeoutConfig.write must be a number"),
        (
            lambda: ConnectionPoolConfig(max_connections=0),
            "ConnectionPoolConfig.max_connections must be an integer >= 1, got 0.",
        ),
        (
            lambda: ConnectionPoolConfig(max_keepalive_connections=-1),
            "max_keepalive_connections must be an integer >= 0, got -1.",
        ),
        (
            lambda: ConnectionPoolConfig(max_connections_per_host=_any(2.5)),
            "max_connections_per_host must be an integer >= 1, got 2.5.",
        ),
        (lambda: ConnectionPoolConfig(ttl_dns_cache=-5), "ttl_dns_cache must be an integer >= 0"),
        (
            lambda: ConnectionPoolConfig(timeout=0),
            "ConnectionPoolConfig.timeout must be a positive number of seconds or None, got 0.",
        ),
        (lambda: HTTPClientConfig(max_redirects=-1), "max_redirects must be an integer >= 0"),
        (lambda: HTTPClientConfig(max_response_bytes=0), "max_response_bytes must be"),
        (
            lambda: HTTPClientConfig(proxy="socks5://127.0.0.1:1080"),
            "proxy must be an http:// or https:// URL with a host, like "
            "http://proxy.internal:3128, got 'socks5://127.0.0.1:1080'.",
        ),
        (
            lambda: HTTPClientConfig(pool=_any({"max_connections": 3})),
            "pool must be a ConnectionPool",
        ),
        (lambda: HTTPClientConfig(timeouts=_any(5.0)), "timeouts must be a TimeoutConfig, got 5.0"),
    ],
)
def test_bad_values_fail_when_the_config_is_built(build: Any, fragment: str) -> None:
    with pytest.raises(HTTPConfigError) as info:
        build()
    assert fragment in str(info.value)


def test_config_error_is_a_value_error_and_a_client_error() -> None:
    with pytest.raises(ValueError, match="max_connections"):
        ConnectionPoolConfig(max_connections=0)
    assert issubclass(HTTPConfigError, HTTPClientError)


def test_max_keepalive_zero_is_allowed() -> None:
    assert ConnectionPoolConfig(max_keepalive_connections=0).max_keepalive_connections == 0


# -- from_env ------------------------------------------------------------------


def test_from_env_with_nothing_set_is_the_default() -> None:
    assert HTTPClientConfig.from_env(environ={}) == HTTPClientConfig()


def test_from_env_reads_nested_values() -> None:
    env = {
        "HTTPDECK_HTTP__POOL__MAX_CONNECTIONS": "100",
        "HTTPDECK_HTTP__POOL__VERIFY_SSL": "no",
        "HTTPDECK_HTTP__POOL__TIMEOUT": "12.5",
        "HTTPDECK_HTTP__TIMEOUTS__CONNECT": "2.5",
        "HTTPDECK_HTTP__TIMEOUTS__READ": "none",
        "HTTPDECK_HTTP__TIMEOUTS__TOTAL": "9",
        "HTTPDECK_HTTP__TRUST_ENV": "false",
        "HTTPDECK_HTTP__FOLLOW_REDIRECTS": "0",
        "HTTPDECK_HTTP__MAX_REDIRECTS": "3",
        "HTTPDECK_HTTP__HEADERS": '{"X-Team": "payments"}',
        "HTTPDECK_HTTP__USER_AGENT": "billing/2.0",
        "HTTPDECK_HTTP__PROXY": "http://127.0.0.1:3128",
        "HTTPDECK_HTTP__SECRET_HEADERS": "X-Api-Key, X-Token",
        "HTTPDECK_HTTP__MAX_RESPONSE_BYTES": "1048576",
        "HTTPDECK_HTTP__SERVICE_NAME": "billing",
        "UNRELATED": "ignored",
        "HTTPDECK_HTTPX__POOL__MAX_CONNECTIONS": "not ours",
    }
    config = HTTPClientConfig.from_env(environ=env)
    assert config.pool.max_connections == 100
    assert config.pool.verify_ssl is False
    assert config.pool.timeout == 12.5
    assert config.pool.max_keepalive_connections == 20  # untouched default
    assert config.timeouts == TimeoutConfig(connect=2.5, read=None, total=9.0)
    assert config.trust_env is False
    assert config.follow_redirects is False
    assert config.max_redirects == 3
    assert dict(config.headers) == {"X-Team": "payments"}
    assert config.user_agent == "billing/2.0"
    assert config.proxy == "http://127.0.0.1:3128"
    assert config.secret_headers == ("X-Api-Key", "X-Token")
    assert config.max_response_bytes == 1048576
    assert config.service_name == "billing"


@pytest.mark.parametrize("word", ["1", "true", "YES", " on "])
def test_from_env_true_words(word: str) -> None:
    env = {"HTTPDECK_HTTP__POOL__FORCE_CLOSE": word}
    assert HTTPClientConfig.from_env(environ=env).pool.force_close is True


def test_from_env_optional_value_can_be_unset_with_empty_none_or_null() -> None:
    for word in ("", "None", "null"):
        env = {"HTTPDECK_HTTP__TIMEOUTS__CONNECT": word}
        assert HTTPClientConfig.from_env(environ=env).timeouts.connect is None


def test_from_env_custom_prefix() -> None:
    env = {"BILLING__POOL__MAX_CONNECTIONS": "42", "HTTPDECK_HTTP__MAX_REDIRECTS": "1"}
    config = HTTPClientConfig.from_env("BILLING", environ=env)
    assert config.pool.max_connections == 42
    assert config.max_redirects == 10


def test_from_env_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPDECK_HTTP__POOL__MAX_CONNECTIONS", "64")
    assert HTTPClientConfig.from_env().pool.max_connections == 64


def test_from_env_bad_value_names_field_variable_and_value() -> None:
    env = {"HTTPDECK_HTTP__POOL__MAX_CONNECTIONS": "lots"}
    with pytest.raises(HTTPConfigError) as info:
        HTTPClientConfig.from_env(environ=env)
    assert str(info.value) == (
        "Invalid value for ConnectionPoolConfig.max_connections: "
        "HTTPDECK_HTTP__POOL__MAX_CONNECTIONS='lots' "
        "(invalid literal for int() with base 10: 'lots')."
    )


def test_from_env_bad_boolean_lists_the_accepted_words() -> None:
    env = {"HTTPDECK_HTTP__TRUST_ENV": "maybe"}
    with pytest.raises(HTTPConfigError) as info:
        HTTPClientConfig.from_env(environ=env)
    assert str(info.value) == (
        "Invalid value for HTTPClientConfig.trust_env: HTTPDECK_HTTP__TRUST_ENV='maybe' "
        "(expected one of true/false/1/0/yes/no/on/off)."
    )


@pytest.mark.parametrize("raw", ["not json", '["a"]', '{"X-Count": 3}'])
def test_from_env_headers_must_be_a_json_object_of_strings(raw: str) -> None:
    with pytest.raises(
        HTTPConfigError, match=r"HTTPClientConfig\.headers: HTTPDECK_HTTP__HEADERS="
    ):
        HTTPClientConfig.from_env(environ={"HTTPDECK_HTTP__HEADERS": raw})


def test_from_env_value_that_parses_but_is_invalid_says_where_it_came_from() -> None:
    env = {"HTTPDECK_HTTP__POOL__MAX_CONNECTIONS": "0"}
    with pytest.raises(HTTPConfigError) as info:
        HTTPClientConfig.from_env(environ=env)
    assert str(info.value) == (
        "ConnectionPoolConfig.max_connections must be an integer >= 1, got 0. "
        "(loaded from HTTPDECK_HTTP__POOL__MAX_CONNECTIONS='0')"
    )


def test_from_env_unknown_variable_lists_known_settings_and_suggests_one() -> None:
    env = {"HTTPDECK_HTTP__POOL__MAX_CONECTIONS": "100"}
    with pytest.raises(HTTPConfigError) as info:
        HTTPClientConfig.from_env(environ=env)
    assert str(info.value) == (
        "HTTPDECK_HTTP__POOL__MAX_CONECTIONS names no setting of ConnectionPoolConfig "
        "(known: FORCE_CLOSE, KEEPALIVE_TIMEOUT, MAX_CONNECTIONS, MAX_CONNECTIONS_PER_HOST, "
        "MAX_KEEPALIVE_CONNECTIONS, TIMEOUT, TTL_DNS_CACHE, VERIFY_SSL). "
        "Did you mean HTTPDECK_HTTP__POOL__MAX_CONNECTIONS?"
    )


def test_from_env_unknown_top_level_variable_without_a_close_match() -> None:
    with pytest.raises(HTTPConfigError) as info:
        HTTPClientConfig.from_env(environ={"HTTPDECK_HTTP__ZZZ": "1"})
    message = str(info.value)
    assert message.startswith("HTTPDECK_HTTP__ZZZ names no setting of HTTPClientConfig (known: ")
    assert "Did you mean" not in message


def test_from_env_nesting_under_a_plain_setting_is_an_error() -> None:
    with pytest.raises(HTTPConfigError) as info:
        HTTPClientConfig.from_env(environ={"HTTPDECK_HTTP__TRUST_ENV__X": "1"})
    assert str(info.value) == (
        "HTTPDECK_HTTP__TRUST_ENV__X: HTTPClientConfig.trust_env has no nested settings."
    )


@pytest.mark.parametrize(
    ("proxy", "why"),
    [
        ("http://", "it names no host"),
        ("https://:3128", "host is required"),
        ("http://127.0.0.1:notaport", "port can't be converted to integer"),
        ("proxy.internal:3128", "got 'proxy.internal:3128'"),
    ],
)
def test_a_proxy_url_without_a_usable_host_and_port_is_refused(proxy: str, why: str) -> None:
    with pytest.raises(HTTPConfigError) as info:
        HTTPClientConfig(proxy=proxy)
    message = str(info.value)
    assert message.startswith("HTTPClientConfig.proxy must be an http:// or https:// URL")
    assert repr(proxy) in message
    assert why in message


def test_from_env_a_proxy_without_a_host_names_the_variable_and_the_value() -> None:
    with pytest.raises(HTTPConfigError) as info:
        HTTPClientConfig.from_env(environ={"HTTPDECK_HTTP__PROXY": "http://"})
    assert str(info.value) == (
        "HTTPClientConfig.proxy must be an http:// or https:// URL with a host, like "
        "http://proxy.internal:3128, got 'http://': it names no host. "
        "(loaded from HTTPDECK_HTTP__PROXY='http://')"
    )
