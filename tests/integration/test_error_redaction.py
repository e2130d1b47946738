"""Client errors never print a secret from the URL, against real servers on 127.0.0.1.

The rendered text (`str(error)`, `repr(request)`) loses the userinfo password
and secret query values; `error.request.url` keeps the real URL, which is the
caller's own data.
"""

from __future__ import annotations

import pytest
from aiohttp import web
from client_apps import refused_url
from yarl import URL

from conftest import Serve
from httpdeck.client import (
    HTTPClient,
    HTTPConnectionError,
    HTTPRetryExhaustedError,
    HTTPStatusError,
    HTTPValidationError,
    RetryPolicy,
)

pytestmark = pytest.mark.asyncio

PASSWORD = "pa55-w0rd-canary"
API_KEY = "key-canary-7f3a"
SECRETS = (PASSWORD, API_KEY, "sig-canary-99", "tok-canary-42")
QUERY = f"?api_key={API_KEY}&page=2&sig=sig-canary-99&access_token=tok-canary-42"
REDACTED_QUERY = "?api_key=REDACTED&page=2&sig=REDACTED&access_token=REDACTED"


def failing_app() -> web.Application:
    async def boom(request: web.Request) -> web.Response:
        return web.Response(status=500, text="down")

    app = web.Application()
    app.router.add_get("/boom", boom)
    return app


async def no_sleep(delay: float) -> None:
    return None


def with_secrets(url: URL) -> URL:
    return URL(str(url.with_user("ann").with_password(PASSWORD)) + QUERY)


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, text


async def test_a_status_error_shows_the_url_without_its_secrets(serve: Serve) -> None:
    base = await serve(failing_app())
    url = with_secrets(base / "boom")
    async with HTTPClient() as client:
        response = await client.request("GET", url)
        with pytest.raises(HTTPStatusError) as raised:
            response.raise_for_status()
        returned = (await client.get(url)).unwrap_err()
    for error in (raised.value, returned):
        text = str(error)
        assert_clean(text)
        assert f"http://ann:REDACTED@127.0.0.1:{base.port}/boom{REDACTED_QUERY}" in text
        assert_clean(repr(error.request))
        assert_clean(repr(error.response))
        # The caller's own data is untouched.
        assert error.request is not None
        assert error.request.url.password == PASSWORD
        assert error.request.url.query["api_key"] == API_KEY


async def test_a_refused_connection_and_the_retry_summary_hide_the_secrets() -> None:
    with refused_url() as refused:
        url = with_secrets(refused)
        async with HTTPClient() as client:
            with pytest.raises(HTTPConnectionError) as single:
                await client.request("GET", url)
        retry = RetryPolicy(max_attempts=2, base_delay=0, budget_ratio=None, sleep=no_sleep)
        async with HTTPClient(retry_policy=retry) as client:
            with pytest.raises(HTTPRetryExhaustedError) as exhausted:
                await client.request("GET", url)
    for error in (single.value, exhausted.value):
        assert_clean(str(error))
        assert "ann:REDACTED@127.0.0.1" in str(error)
        assert error.request is not None
        assert error.request.url.password == PASSWORD
    assert all(isinstance(a, HTTPConnectionError) for a in exhausted.value.attempts)
    for attempt in exhausted.value.attempts:
        assert_clean(str(attempt))


async def test_an_invalid_url_error_hides_the_password() -> None:
    async with HTTPClient() as client:
        with pytest.raises(HTTPValidationError) as raised:
            await client.request("GET", f"http://ann:{PASSWORD}@127.0.0.1:99999/x{QUERY}")
    assert_clean(str(raised.value))
