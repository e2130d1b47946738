"""Each fault, through the real HTTPClient over an in-memory transport, in
both placements: the documented error type, `sent` flag and phase."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
import yarl

from httpdeck.client import (
    AiohttpTransport,
    ByteStream,
    HTTPClient,
    HTTPClientConfig,
    HTTPClientError,
    HTTPConnectionError,
    HTTPDecodeError,
    HTTPPoolTimeoutError,
    HTTPProtocolError,
    HttpResponse,
    HTTPStatusError,
    HTTPTimeoutError,
    HttpxTransport,
    Request,
    TimeoutConfig,
    Transport,
)
from httpdeck.testing import FakeTransport, faults
from httpdeck.testing.faults._injector import FaultInjectionInterceptor, FaultInjectionTransport
from httpdeck.testing.faults._support import FaultEnv

BODY = b'{"items": [' + b", ".join(b'{"id": %d}' % i for i in range(20)) + b"]}"
N = len(BODY)
URL = "http://api.test:8080/items"


class MemoryTransport:
    """A tiny in-memory transport: answers 200 with BODY in three chunks."""

    def __init__(self, *, length: bool = True) -> None:
        self.requests: list[Request] = []
        self.closed_streams = 0
        self.length = length

    async def send(self, request: Request) -> HttpResponse:
        self.requests.append(request)
        headers = {"Content-Type": "application/json"}
        if self.length:
            headers["Content-Length"] = str(len(BODY))
        third = len(BODY) // 3
        stream = _CountingStream([BODY[:third], BODY[third : 2 * third], BODY[2 * third :]], self)
        return HttpResponse(200, headers=headers, stream=stream, request=request)

    async def aclose(self) -> None:
        pass


class _CountingStream(ByteStream):
    def __init__(self, chunks: list[bytes], owner: MemoryTransport) -> None:
        super().__init__(chunks)
        self._owner = owner

    async def aclose(self) -> None:
        if not self._closed:
            self._owner.closed_streams += 1
        await super().aclose()


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


CONFIG = HTTPClientConfig(timeouts=TimeoutConfig(read=2.0, total=10.0))


def _client(fault: faults.Fault, placement: str, clock: FakeClock, inner: Transport) -> HTTPClient:
    options: dict[str, Any] = {"faults": [fault], "sleep": clock.sleep, "clock": clock}
    if placement == "transport":
        transport = FaultInjectionTransport(inner, config=CONFIG, **options)
        return HTTPClient(CONFIG, transport=transport)
    interceptor = FaultInjectionInterceptor(config=CONFIG, **options)
    return HTTPClient(CONFIG, transport=inner, interceptors=[interceptor])


ERRORS = [
    (
        faults.ConnectionRefused(),
        HTTPConnectionError,
        False,
        None,
        "Cannot connect to api.test",
        False,
    ),
    (
        faults.DNSFailure(),
        HTTPConnectionError,
        False,
        None,
        "DNS lookup failed for 'api.test'",
        False,
    ),
    (faults.TLSFailure(), HTTPConnectionError, False, None, "TLS handshake failed", False),
    (
        faults.PoolExhausted(),
        HTTPPoolTimeoutError,
        False,
        "pool",
        "No connection became free",
        False,
    ),
    (
        faults.ConnectionReset(after_send=False),
        HTTPConnectionError,
        False,
        None,
        "reset by peer",
        False,
    ),
    (faults.ConnectionReset(), HTTPConnectionError, True, None, "reset by peer", False),
    (
        faults.ConnectionReset(processed=True),
        HTTPConnectionError,
        True,
        None,
        "reset by peer",
        True,
    ),
    (faults.Disconnect(), HTTPConnectionError, True, None, "closed the connection before", False),
    (faults.Timeout("connect"), HTTPTimeoutError, False, "connect", "Timed out connecting", False),
    (faults.Timeout("pool"), HTTPPoolTimeoutError, False, "pool", "pool timeout of 10.0s", False),
    (faults.Timeout("read"), HTTPTimeoutError, True, "read", "no data within the read", False),
    (
        faults.Timeout("total", processed=True),
        HTTPTimeoutError,
        True,
        "total",
        "total timeout",
        True,
    ),
    (
        faults.TruncatedBody(),
        HTTPProtocolError,
        True,
        None,
        f"received {N // 2} of {N} bytes",
        True,
    ),
    (
        faults.TruncatedBody(after_bytes=0),
        HTTPProtocolError,
        True,
        None,
        f"received 0 of {N} bytes",
        True,
    ),
    (
        faults.BadContentLength(7),
        HTTPProtocolError,
        True,
        None,
        f"received {N} of {N + 7} bytes",
        True,
    ),
    (faults.BadContentLength(-5), HTTPProtocolError, True, None, "malformed response", True),
    (faults.StallBody(), HTTPTimeoutError, True, "read", "no data within the read", True),
    (faults.SlowDrip(interval=2.0), HTTPTimeoutError, True, "read", "read timeout", True),
    (faults.BlackHole(), HTTPTimeoutError, True, "read", "read timeout", False),
    (faults.Latency(5.0), HTTPTimeoutError, True, "read", "read timeout", True),
    (faults.Latency(20.0, where="request"), HTTPTimeoutError, False, "total", "of 10.0s", False),
]


@pytest.mark.asyncio
@pytest.mark.parametrize("placement", ["transport", "interceptor"])
@pytest.mark.parametrize("inner_kind", ["memory", "fake"])
@pytest.mark.parametrize(
    ("fault", "error", "sent", "phase", "message", "reaches_server"),
    ERRORS,
    ids=[f"{e[0]!r}" for e in ERRORS],
)
async def test_each_fault_raises_the_documented_error(
    placement: str,
    inner_kind: str,
    fault: faults.Fault,
    error: type[Exception],
    sent: bool,
    phase: str | None,
    message: str,
    reaches_server: bool,
) -> None:
    memory = MemoryTransport()
    fake = FakeTransport(config=CONFIG)
    fake.route("GET", URL).respond(content=BODY, content_type="application/json")
    inner = memory if inner_kind == "memory" else fake
    async with _client(fault, placement, FakeClock(), inner) as client:
        result = await client.get(URL)
    exc = result.unwrap_err()
    assert type(exc) is error
    assert exc.sent is sent  # type: ignore[attr-defined]
    assert getattr(exc, "phase", None) == phase
    assert message in str(exc)
    assert f"GET {URL}" in str(exc)
    assert exc.request is not None
    assert exc.request.url.path == "/items"
    # Chained to the low-level exception, as the real transport does.
    assert exc.__cause__ is not None
    assert not isinstance(exc.__cause__, HTTPClientError)
    served = len(memory.requests) + len(fake.requests)
    assert served == (1 if reaches_server else 0)
    # A body that reached the client is released, read to the end or not.
    assert memory.closed_streams == len(memory.requests)


@pytest.mark.asyncio
@pytest.mark.parametrize("placement", ["transport", "interceptor"])
async def test_status_fault_answers_instead_of_the_server(placement: str) -> None:
    inner = MemoryTransport()
    fault = faults.Status(503, retry_after=7)
    async with _client(fault, placement, FakeClock(), inner) as client:
        error = (await client.get(URL)).unwrap_err()
        response = await client.request("GET", URL)
    assert isinstance(error, HTTPStatusError)
    assert error.status == 503
    assert response.status == 503
    assert response.reason == "Service Unavailable"
    assert response.headers["Retry-After"] == "7"
    assert response.content == b"503 Service Unavailable"
    assert inner.requests == []


@pytest.mark.asyncio
async def test_status_takes_headers_body_and_http_date_retry_after() -> None:
    fault = faults.Status(429, retry_after="Wed, 21 Oct 2026 07:28:00 GMT", body=b"slow down")
    fault = faults.Status(429, retry_after=fault.retry_after, body=b"{}", headers={"X-Limit": "5"})
    async with _client(fault, "transport", FakeClock(), MemoryTransport()) as client:
        response = await client.request("GET", URL)
    assert (response.status, response.content) == (429, b"{}")
    assert response.headers["Retry-After"] == "Wed, 21 Oct 2026 07:28:00 GMT"
    assert response.headers["X-Limit"] == "5"


@pytest.mark.parametrize("status", [200, 302, 600])
def test_status_fault_rejects_non_error_statuses(status: int) -> None:
    with pytest.raises(ValueError, match=f"4xx or 5xx status, got {status}"):
        faults.Status(status)
    with pytest.raises(TypeError, match="integer status code, got '503'"):
        faults.Status(_BAD_STATUS)


_BAD_STATUS: Any = "503"


@pytest.mark.asyncio
@pytest.mark.parametrize("placement", ["transport", "interceptor"])
async def test_invalid_json_and_wrong_content_type_keep_the_status(placement: str) -> None:
    for fault, content_type in [
        (faults.InvalidJSON(), "application/json"),
        (faults.WrongContentType(), "text/html; charset=utf-8"),
    ]:
        async with _client(fault, placement, FakeClock(), MemoryTransport()) as client:
            response = (await client.get(URL)).unwrap()
        assert response.status == 200
        assert response.headers["Content-Type"] == content_type
        assert response.headers["Content-Length"] == str(len(response.content))
        with pytest.raises(HTTPDecodeError, match="is not valid JSON"):
            response.json()


@pytest.mark.asyncio
async def test_wrong_content_type_can_keep_the_real_body() -> None:
    fault = faults.WrongContentType("text/plain", body=None)
    async with _client(fault, "transport", FakeClock(), MemoryTransport()) as client:
        response = (await client.get(URL)).unwrap()
    assert response.headers["Content-Type"] == "text/plain"
    assert response.content == BODY


@pytest.mark.asyncio
async def test_latency_sleeps_on_the_injected_clock_and_succeeds_under_the_timeouts() -> None:
    clock = FakeClock()
    fault = faults.Latency(0.25)
    async with _client(fault, "transport", clock, MemoryTransport()) as client:
        response = (await client.get(URL)).unwrap()
    assert response.content == BODY
    assert clock.sleeps == [0.25]


@pytest.mark.asyncio
async def test_latency_distributions_are_seeded() -> None:
    def draws(fault: faults.Latency, seed: int) -> list[float]:
        env = FaultEnv(rng=random.Random(seed), sleep=FakeClock().sleep, read=None, total=None)
        return [fault.sample(env) for _ in range(200)]

    uniform = faults.Latency(1.0, jitter=0.5)
    assert draws(uniform, 1) == draws(uniform, 1)
    assert all(0.5 <= d <= 1.5 for d in draws(uniform, 1))
    assert draws(uniform, 1) != draws(uniform, 2)
    normal = draws(faults.Latency(1.0, jitter=0.1, distribution="normal"), 3)
    assert 0.9 < sum(normal) / len(normal) < 1.1
    exponential = draws(faults.Latency(0.5, distribution="exponential"), 4)
    assert min(exponential) >= 0
    assert 0.35 < sum(exponential) / len(exponential) < 0.65


@pytest.mark.asyncio
async def test_a_stall_past_the_end_of_a_short_body_still_times_out() -> None:
    clock = FakeClock()
    fault = faults.StallBody(after_bytes=10 * N)
    async with _client(fault, "transport", clock, MemoryTransport()) as client:
        error = (await client.get(URL)).unwrap_err()
    assert isinstance(error, HTTPTimeoutError)
    assert clock.sleeps == [2.0]


@pytest.mark.asyncio
async def test_stall_shorter_than_the_read_timeout_resumes_and_completes() -> None:
    clock = FakeClock()
    fault = faults.StallBody(after_bytes=10, seconds=1.5)
    inner = MemoryTransport()
    async with _client(fault, "transport", clock, inner) as client:
        response = (await client.get(URL)).unwrap()
    assert response.content == BODY
    assert clock.sleeps == [1.5]
    assert inner.closed_streams == 1


@pytest.mark.asyncio
async def test_stall_and_drip_run_into_the_total_timeout_when_reads_are_unbounded() -> None:
    clock = FakeClock()
    config = HTTPClientConfig(timeouts=TimeoutConfig(read=None, total=3.0))
    transport = FaultInjectionTransport(
        MemoryTransport(),
        faults=[faults.SlowDrip(10, interval=0.5)],
        config=config,
        sleep=clock.sleep,
    )
    async with HTTPClient(config, transport=transport) as client:
        error = (await client.get(URL)).unwrap_err()
    assert isinstance(error, HTTPTimeoutError)
    assert error.phase == "total"
    assert sum(clock.sleeps) == pytest.approx(3.0)


@pytest.mark.asyncio
async def test_slow_drip_delivers_every_byte_in_small_chunks_when_in_time() -> None:
    clock = FakeClock()
    transport = FaultInjectionTransport(
        MemoryTransport(),
        faults=[faults.SlowDrip(50, interval=0.1)],
        config=CONFIG,
        sleep=clock.sleep,
    )
    async with (
        HTTPClient(CONFIG, transport=transport) as client,
        client.stream("GET", URL) as response,
    ):
        chunks = [chunk async for chunk in response.aiter_bytes()]
    assert b"".join(chunks) == BODY
    assert max(map(len, chunks)) <= 50
    assert len(clock.sleeps) == len(chunks)


@pytest.mark.asyncio
async def test_truncated_body_in_a_stream_yields_the_head_then_fails() -> None:
    transport = FaultInjectionTransport(
        MemoryTransport(length=False), faults=[faults.TruncatedBody(after_bytes=70)], config=CONFIG
    )
    received: list[bytes] = []

    async def read_stream(client: HTTPClient) -> None:
        async with client.stream("GET", URL) as response:
            async for chunk in response.aiter_bytes():
                received.append(chunk)

    async with HTTPClient(CONFIG, transport=transport) as client:
        with pytest.raises(HTTPProtocolError, match="transfer length") as caught:
            await read_stream(client)
    assert b"".join(received) == BODY[:70]
    assert caught.value.sent is True


@pytest.mark.asyncio
async def test_truncation_without_a_content_length_cuts_half_the_body() -> None:
    transport = FaultInjectionTransport(
        MemoryTransport(length=False), faults=[faults.TruncatedBody()], config=CONFIG
    )
    async with HTTPClient(CONFIG, transport=transport) as client:
        error = (await client.get(URL)).unwrap_err()
    assert "Not enough data to satisfy transfer length header" in str(error)


@pytest.mark.asyncio
async def test_black_hole_without_any_timeout_hangs_until_cancelled() -> None:
    env = FaultEnv(rng=random.Random(0), sleep=FakeClock().sleep, read=None, total=None)
    task = asyncio.ensure_future(
        faults.BlackHole().apply(Request("GET", yarl.URL(URL)), _never, env)
    )
    for _ in range(3):
        await asyncio.sleep(0)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def _never(request: Request) -> HttpResponse:
    raise AssertionError("a black hole never calls the server")


_BAD: Any = "body"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: faults.Latency(-1), "seconds >= 0"),
        (lambda: faults.Latency(1, where=_BAD), 'must be "request" or "response"'),
        (lambda: faults.Timeout(_BAD), "one of connect, pool, read, total; got 'body'"),
        (lambda: faults.Timeout("connect", processed=True), "nothing was sent"),
        (lambda: faults.ConnectionReset(after_send=False, processed=True), "nothing was sent"),
        (lambda: faults.BadContentLength(0), "must not be 0"),
        (lambda: faults.SlowDrip(0), "chunk_size >= 1"),
    ],
)
def test_bad_fault_arguments_say_what_is_wrong(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_faults_are_frozen_values_with_kinds() -> None:
    fault = faults.Timeout("read")
    with pytest.raises(AttributeError):
        fault.phase = "connect"  # type: ignore[misc]
    assert fault == faults.Timeout("read")
    assert [f.kind for f in (fault, faults.Status(429), faults.ConnectionReset(False))] == [
        "timeout.read",
        "status.429",
        "connection_reset.before_send",
    ]


CATALOG = [
    faults.ConnectionRefused(),
    faults.DNSFailure(),
    faults.TLSFailure(),
    faults.PoolExhausted(),
    faults.ConnectionReset(after_send=False),
    faults.ConnectionReset(),
    faults.Disconnect(),
    faults.Timeout("connect"),
    faults.Timeout("read"),
    faults.Timeout("total"),
]


@pytest.mark.asyncio
@pytest.mark.parametrize("inner", ["aiohttp", "httpx"])
@pytest.mark.parametrize("fault", CATALOG, ids=repr)
async def test_injected_errors_carry_no_transport_library_exception(
    inner: str, fault: faults.Fault
) -> None:
    # The fault answers before the inner transport opens anything.
    transport: Transport = (
        AiohttpTransport(CONFIG) if inner == "aiohttp" else HttpxTransport(CONFIG)
    )
    injecting = FaultInjectionTransport(transport, faults=[fault], sleep=FakeClock().sleep)
    async with HTTPClient(CONFIG, transport=injecting) as client:
        error = (await client.get(URL)).unwrap_err()
    cause = error.__cause__
    assert cause is not None
    assert type(cause).__module__ in {"builtins", "socket", "ssl"}, type(cause)
    assert "aiohttp" not in repr(cause)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("inner", "wording"),
    [
        ("aiohttp", " (the wait for a pool slot not included);"),
        ("httpx", " (the wait for a pool slot included);"),
        ("fake", "of 10.0s;"),
    ],
)
async def test_an_injected_total_timeout_is_worded_as_the_inner_transport_words_it(
    inner: str, wording: str
) -> None:
    transports: dict[str, Transport] = {
        "aiohttp": AiohttpTransport(CONFIG),
        "httpx": HttpxTransport(CONFIG),
        "fake": FakeTransport(config=CONFIG),
    }
    injecting = FaultInjectionTransport(
        transports[inner], faults=[faults.Timeout("total")], sleep=FakeClock().sleep
    )
    async with HTTPClient(CONFIG, transport=injecting) as client:
        error = (await client.get(URL)).unwrap_err()
    assert isinstance(error, HTTPTimeoutError)
    assert wording in str(error)
    if inner == "fake":
        assert "pool slot" not in str(error)
