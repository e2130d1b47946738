"""HttpxTransport, the second real transport: HTTP/2 against hypercorn over TLS, and
HTTP/1.1 against aiohttp.web, with the fake-independent tools (cassettes, fault
injection, retry and the breaker) running over it unchanged."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web
from client_apps import refused_url
from h2server import H2Server, h2_server

from conftest import Serve
from httpdeck.client import (
    CircuitBreaker,
    HTTPCircuitOpenError,
    HTTPClient,
    HTTPClientConfig,
    HTTPConnectionError,
    HTTPResponseTooLargeError,
    HTTPStatusError,
    HTTPTimeoutError,
    HTTPUnsafeURLError,
    HTTPValidationError,
    HttpxTransport,
    Request,
    RetryPolicy,
    TimeoutConfig,
)
from httpdeck.client._transports import _common
from httpdeck.testing import FaultInjectionTransport, faults, schedules, use_cassette


@pytest_asyncio.fixture
async def h2(tmp_path: Path) -> AsyncIterator[H2Server]:
    async with h2_server(tmp_path) as server:
        yield server


def transport(server: H2Server, config: HTTPClientConfig | None = None) -> HttpxTransport:
    return HttpxTransport(config, http2=True, ssl_context=server.ssl_context())


async def no_sleep(seconds: float) -> None:
    return None


# -- HTTP/2: verbs, request(), streaming ------------------------------------------


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
@pytest.mark.asyncio
async def test_every_verb_returns_ok_over_http2(h2: H2Server, method: str) -> None:
    async with HTTPClient(transport=transport(h2)) as client:
        result = await getattr(client, method)(h2.url / "echo", content=b"payload")
    response = result.unwrap()
    assert response.http_version == "HTTP/2"
    assert response.json()["method"] == method.upper()
    assert response.json()["user_agent"].startswith("httpdeck/")  # not httpx's own
    assert h2.app.seen == [("2", method.upper(), "/echo")]


@pytest.mark.asyncio
async def test_head_and_error_statuses_are_results_over_http2(h2: H2Server) -> None:
    async with HTTPClient(transport=transport(h2)) as client:
        head = (await client.head(h2.url / "echo")).unwrap()
        missing = (await client.get(h2.url / "status/404")).unwrap_err()
        raw = await client.request("GET", h2.url / "status/503")
    assert (head.status, head.content) == (200, b"")
    assert isinstance(missing, HTTPStatusError)
    assert missing.status == 404
    assert (raw.status, raw.content, raw.http_version) == (503, b"status", "HTTP/2")
    assert {version for version, _, _ in h2.app.seen} == {"2"}


@pytest.mark.asyncio
async def test_config_http2_picks_the_httpx_transport() -> None:
    config = HTTPClientConfig.from_env(environ={"HTTPDECK_HTTP__HTTP2": "true"})
    client = HTTPClient(config)
    assert config.http2 is True
    assert isinstance(client.transport, HttpxTransport)
    assert client.transport.http2 is True
    await client.aclose()


@pytest.mark.asyncio
async def test_many_concurrent_requests_share_one_http2_connection(h2: H2Server) -> None:
    import asyncio

    async with HTTPClient(transport=transport(h2)) as client:
        results = await asyncio.gather(*(client.get(h2.url / "echo") for _ in range(20)))
    assert all(result.unwrap().http_version == "HTTP/2" for result in results)
    assert len(h2.app.seen) == 20


@pytest.mark.asyncio
async def test_a_stream_hands_over_each_chunk_as_it_arrives(h2: H2Server) -> None:
    received: list[bytes] = []
    async with (
        HTTPClient(transport=transport(h2)) as client,
        client.stream("GET", h2.url / "paced") as response,
    ):
        async for chunk in response.aiter_bytes():
            received.append(chunk)
            # The server sends the second chunk only after this line: a
            # transport that buffered the body would wait here forever.
            h2.app.next_chunk.set()
    assert b"".join(received) == b"first;second"
    assert received[0] == b"first;"


@pytest.mark.asyncio
async def test_a_streamed_request_body_reaches_the_server(h2: H2Server) -> None:
    async def body() -> AsyncIterator[bytes]:
        for part in (b"one,", b"two,", b"three"):
            yield part

    async with HTTPClient(transport=transport(h2)) as client:
        response = await client.request("POST", h2.url / "echo", content=body())
    assert response.json()["body"] == "one,two,three"


@pytest.mark.asyncio
async def test_cookies_and_redirects_work_over_http2(h2: H2Server) -> None:
    async with HTTPClient(transport=transport(h2)) as client:
        await client.request("GET", h2.url / "login")
        echoed = await client.request("GET", h2.url / "redirect")
    assert echoed.status == 200
    assert echoed.json()["cookie"] == "session=s3cr3t"
    assert [path for _, _, path in h2.app.seen] == ["/login", "/redirect", "/echo"]


# -- errors -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_refused_connection_is_a_connection_error_not_sent() -> None:
    with refused_url() as url:
        async with HTTPClient(transport=HttpxTransport(http2=True)) as client:
            error = (await client.get(url)).unwrap_err()
    assert isinstance(error, HTTPConnectionError)
    assert error.sent is False
    assert "Connection refused" in str(error)
    assert f"Cannot connect to 127.0.0.1:{url.port}" in str(error)


@pytest.mark.asyncio
async def test_a_certificate_nobody_trusts_is_a_tls_error_not_sent(h2: H2Server) -> None:
    async with HTTPClient(transport=HttpxTransport(http2=True)) as client:
        error = (await client.get(h2.url / "echo")).unwrap_err()
    assert isinstance(error, HTTPConnectionError)
    assert error.sent is False
    assert str(error).startswith(f"TLS handshake failed for GET {h2.url / 'echo'}")


@pytest.mark.asyncio
async def test_a_silent_server_is_a_read_timeout(h2: H2Server) -> None:
    config = HTTPClientConfig(timeouts=TimeoutConfig(read=0.2))
    async with HTTPClient(config, transport=transport(h2, config)) as client:
        error = (await client.get(h2.url / "hang")).unwrap_err()
    assert isinstance(error, HTTPTimeoutError)
    assert (error.phase, error.sent) == ("read", True)


@pytest.mark.asyncio
async def test_the_total_deadline_bounds_a_request_over_http2(h2: H2Server) -> None:
    async with HTTPClient(transport=transport(h2)) as client:
        error = (await client.get(h2.url / "hang", timeout=0.2)).unwrap_err()
    assert isinstance(error, HTTPTimeoutError)
    assert (error.phase, error.sent) == ("total", True)
    assert "total timeout of 0.2s (the wait for a pool slot included)" in str(error)


@pytest.mark.parametrize(
    ("path", "message"),
    [("big", "declares 10000 bytes"), ("bomb", "passed that size")],
    ids=["declared", "after-decompression"],
)
@pytest.mark.asyncio
async def test_max_response_bytes_over_http2(h2: H2Server, path: str, message: str) -> None:
    async with HTTPClient(transport=transport(h2)) as client:
        error = (await client.get(h2.url / path, max_response_bytes=5000)).unwrap_err()
        after = await client.request("GET", h2.url / "echo")  # the connection lives on
    assert isinstance(error, HTTPResponseTooLargeError)
    assert message in str(error)
    assert after.status == 200


@pytest.mark.asyncio
async def test_cr_lf_in_a_header_set_by_an_interceptor_is_refused(h2: H2Server) -> None:
    class Smuggle:
        async def intercept_request(self, context: object) -> None:
            context.headers["X-Evil"] = "a\r\nInjected: yes"  # type: ignore[attr-defined]

    async with HTTPClient(transport=transport(h2), interceptors=[Smuggle()]) as client:
        with pytest.raises(HTTPValidationError, match="Check the headers interceptors set"):
            await client.request("GET", h2.url / "echo")
    assert h2.app.seen == []


@pytest.mark.asyncio
async def test_the_url_safety_gate_checks_the_addresses_httpx_connects_to(h2: H2Server) -> None:
    class Resolver:
        async def resolve(self, host: str, port: int) -> list[str]:
            return ["127.0.0.1"]

    config = HTTPClientConfig(url_safety=True)
    inner = HttpxTransport(config, http2=True, ssl_context=h2.ssl_context(), resolver=Resolver())
    async with HTTPClient(config, transport=inner) as client:
        error = (await client.get(f"https://api.example.test:{h2.url.port}/echo")).unwrap_err()
    assert isinstance(error, HTTPUnsafeURLError)
    assert (error.host, error.address) == ("api.example.test", "127.0.0.1")
    assert error.reason.startswith("loopback")
    assert h2.app.seen == []


@pytest.mark.asyncio
async def test_the_network_guard_blocks_the_httpx_transport_before_it_connects(
    h2: H2Server,
) -> None:
    async def guard(request: Request, proxy: str | None) -> None:
        raise HTTPConnectionError(f"blocked {request.url}", request=request, sent=False)

    previous, _common.connect_guard = _common.connect_guard, guard
    try:
        async with HTTPClient(transport=transport(h2)) as client:
            error = (await client.get(h2.url / "echo")).unwrap_err()
    finally:
        _common.connect_guard = previous
    assert str(error) == f"blocked {h2.url / 'echo'}"
    assert h2.app.seen == []


# -- the fake-independent tools over it, unchanged ----------------------------------


@pytest.mark.asyncio
async def test_a_cassette_recorded_over_http2_replays_without_the_server(
    h2: H2Server, tmp_path: Path
) -> None:
    path = tmp_path / "h2.yaml"
    async with HTTPClient(transport=transport(h2)) as client, use_cassette(client, path):
        recorded = (await client.post(h2.url / "echo", json={"n": 1})).unwrap()
    async with (
        HTTPClient(transport=transport(h2)) as client,
        use_cassette(client, path, record_mode="none") as cassette,
    ):
        replayed = (await client.post(h2.url / "echo", json={"n": 1})).unwrap()
    assert replayed.json() == recorded.json()
    assert replayed.json()["http_version"] == "2"
    assert cassette.play_count == 1
    assert len(h2.app.seen) == 1  # the replay never reached the server


@pytest.mark.asyncio
async def test_fault_injection_wraps_the_httpx_transport_and_retry_recovers(
    h2: H2Server,
) -> None:
    inner = transport(h2)
    injecting = FaultInjectionTransport(
        inner, faults=[faults.Status(503)], schedule=schedules.First(2), sleep=no_sleep
    )
    retry = RetryPolicy(max_attempts=3, base_delay=0, budget_ratio=None, sleep=no_sleep)
    async with HTTPClient(transport=injecting, retry_policy=retry) as client:
        response = (await client.get(h2.url / "echo")).unwrap()
    assert response.http_version == "HTTP/2"
    assert [event.kind for event in injecting.log] == ["status.503", "status.503"]
    assert h2.app.seen == [("2", "GET", "/echo")]  # the two 503s never left the process


@pytest.mark.asyncio
async def test_injected_connection_faults_over_the_httpx_transport_open_the_breaker(
    h2: H2Server,
) -> None:
    injecting = FaultInjectionTransport(
        transport(h2), faults=[faults.ConnectionRefused()], schedule=schedules.First(2)
    )
    breaker = CircuitBreaker(failure_threshold=2, recovery_timeout=60)
    async with HTTPClient(transport=injecting, circuit_breaker=breaker) as client:
        first = (await client.get(h2.url / "echo")).unwrap_err()
        second = (await client.get(h2.url / "echo")).unwrap_err()
        third = (await client.get(h2.url / "echo")).unwrap_err()
    assert isinstance(third, HTTPCircuitOpenError)
    assert isinstance(first, HTTPConnectionError)
    assert isinstance(second, HTTPConnectionError)
    assert first.sent is False
    assert h2.app.seen == []


# -- HTTP/1.1 through the same transport ---------------------------------------------


def http1_app() -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "version": f"{request.version.major}.{request.version.minor}",
                "cookie": request.headers.get("Cookie"),
                "body": (await request.read()).decode(),
            }
        )

    async def login(request: web.Request) -> web.Response:
        response = web.Response(text="ok")
        response.set_cookie("session", "abc")
        return response

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/echo")

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"y" * 10_000)

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/login", login)
    app.router.add_get("/moved", moved)
    app.router.add_get("/big", big)
    return app


@pytest.mark.asyncio
async def test_the_httpx_transport_speaks_http1_to_a_plain_server(serve: Serve) -> None:
    url = await serve(http1_app())
    async with HTTPClient(transport=HttpxTransport(http2=True)) as client:
        await client.request("GET", url / "login")
        moved = (await client.get(url / "moved")).unwrap()
        posted = (await client.post(url / "echo", json={"a": 1})).unwrap()
        too_large = (await client.get(url / "big", max_response_bytes=100)).unwrap_err()
    # http:// never negotiates HTTP/2: HTTP/1.1, with cookies, redirects and limits intact.
    assert moved.http_version == "HTTP/1.1"
    assert moved.json() == {"version": "1.1", "cookie": "session=abc", "body": ""}
    assert posted.json()["body"] == '{"a":1}'
    assert isinstance(too_large, HTTPResponseTooLargeError)


@pytest.mark.asyncio
async def test_the_aiohttp_transport_reports_http1_too(serve: Serve) -> None:
    url = await serve(http1_app())
    async with HTTPClient() as client:
        response = (await client.get(url / "echo")).unwrap()
    assert response.http_version == "HTTP/1.1"


# -- without the extra ----------------------------------------------------------------


def _without_httpx(code: str) -> subprocess.CompletedProcess[str]:
    script = "import sys\nsys.modules['httpx'] = None\n" + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )


def test_the_client_imports_and_builds_without_httpx() -> None:
    done = _without_httpx(
        """
        from httpdeck import HTTPClient, HTTPClientConfig, HTTPConfigError, HttpxTransport
        HTTPClient()
        for make in (HttpxTransport, lambda: HTTPClient(HTTPClientConfig(http2=True))):
            try:
                make()
            except HTTPConfigError as exc:
                print(exc)
        """
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert "needs httpx, which is not installed" in line
        assert "pip install 'httpdeck[http2]'" in line


@pytest.fixture
def no_h2() -> Iterator[None]:
    saved = sys.modules.get("h2")
    sys.modules["h2"] = None  # type: ignore[assignment]
    yield
    if saved is None:
        del sys.modules["h2"]
    else:
        sys.modules["h2"] = saved


@pytest.mark.usefixtures("no_h2")
def test_http2_without_h2_names_the_extra() -> None:
    from httpdeck.client import HTTPConfigError

    with pytest.raises(HTTPConfigError, match=r"HTTP/2 needs the h2 package.*httpdeck\[http2\]"):
        HttpxTransport(http2=True)
    assert HttpxTransport(http2=False).http2 is False
