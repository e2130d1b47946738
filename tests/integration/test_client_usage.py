"""Using the client against a real server: lifecycle, BaseURLHTTPClient, interceptors,
auth and following redirects."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable

import pytest
from client_apps import Observed, echo_app, refused_url
from yarl import URL

from conftest import Serve
from httpdeck import (
    BaseURLHTTPClient,
    BasicAuth,
    BearerAuth,
    CallNext,
    Err,
    HTTPClient,
    HTTPClientClosedError,
    HTTPClientConfig,
    HTTPConnectionError,
    HTTPInterceptorError,
    HTTPRedirectError,
    HttpResponse,
    HTTPStatusError,
    HTTPTimeoutError,
    HTTPValidationError,
    Ok,
    Request,
    RequestContext,
    ResponseContext,
)

pytestmark = pytest.mark.asyncio

CLOSED = "Cannot send a request: the client is closed. Create a new HTTPClient."


# -- lifecycle ---------------------------------------------------------------------------


async def test_client_starts_lazily_and_stops(serve: Serve) -> None:
    base = await serve(echo_app())
    client = HTTPClient()
    assert not client.is_started()
    assert not client.is_closed
    assert isinstance(await client.get(base / "echo"), Ok)
    assert client.is_started()
    await client.stop()
    assert client.is_closed
    assert not client.is_started()
    await client.stop()  # twice is fine


@pytest.mark.parametrize(
    "use",
    [
        lambda client, url: client.get(url),
        lambda client, url: client.post(url, json={}),
        lambda client, url: client.request("GET", url),
        lambda client, url: client.start(),
    ],
    ids=["get", "post", "request", "start"],
)
async def test_a_closed_client_says_so_in_a_plain_sentence(
    serve: Serve, use: Callable[[HTTPClient, URL], Awaitable[object]]
) -> None:
    observed = Observed()
    base = await serve(echo_app(observed))
    async with HTTPClient() as client:
        await client.get(base / "echo")
    with pytest.raises(HTTPClientClosedError) as info:
        await use(client, base / "echo")
    assert str(info.value) == CLOSED
    assert len(observed.requests) == 1


async def test_a_closed_client_cannot_stream(serve: Serve) -> None:
    base = await serve(echo_app())
    client = HTTPClient()
    await client.stop()
    with pytest.raises(HTTPClientClosedError, match="the client is closed"):
        async with client.stream("GET", base / "echo"):
            pass


async def test_session_context_opens_and_closes(serve: Serve) -> None:
    base = await serve(echo_app())
    config = HTTPClientConfig(headers={"X-From": "session"})
    async with HTTPClient.session_context(config) as client:
        assert client.is_started()
        response = await client.request("GET", base / "echo")
        assert response.json()["headers"]["x-from"] == "session"
    assert client.is_closed


async def test_session_context_closes_on_error() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with HTTPClient.session_context() as client:
            raise RuntimeError("boom")
    assert client.is_closed


async def test_config_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(TypeError, match="config must be an HTTPClientConfig, got dict"):
        HTTPClient({"max_redirects": 1})  # type: ignore[arg-type]


# -- BaseURLHTTPClient -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_path", "path", "expected"),
    [
        ("/v1", "users", "/echo/v1/users"),
        ("/v1", "/users", "/echo/v1/users"),
        ("/v1/", "/users/42", "/echo/v1/users/42"),
        ("", "users", "/echo/users"),
        ("/v1", "", "/echo/v1/"),
    ],
)
async def test_base_url_joins_relative_paths(
    serve: Serve, base_path: str, path: str, expected: str
) -> None:
    base = await serve(echo_app())
    async with BaseURLHTTPClient(str(base) + "/echo" + base_path) as api:
        response = (await api.get(path)).unwrap()
    assert response.json()["path"] == expected


async def test_base_url_keeps_the_query_of_the_path(serve: Serve) -> None:
    base = await serve(echo_app())
    async with BaseURLHTTPClient(base / "echo") as api:
        response = (await api.get("search?q=a", params={"page": 2})).unwrap()
    assert response.json()["query"] == [["q", "a"], ["page", "2"]]


async def test_base_url_passes_absolute_urls_through(serve: Serve) -> None:
    base = await serve(echo_app())
    other = await serve(echo_app())
    async with BaseURLHTTPClient(base / "v1") as api:
        response = (await api.get(other / "echo" / "elsewhere")).unwrap()
    assert response.url.port == other.port
    assert response.json()["path"] == "/echo/elsewhere"


async def test_base_url_rejects_protocol_relative_paths(serve: Serve) -> None:
    base = await serve(echo_app())
    async with BaseURLHTTPClient(base) as api:
        with pytest.raises(HTTPValidationError, match=r"'//evil\.example/x' is protocol-relative"):
            await api.get("//evil.example/x")


async def test_base_url_merges_default_headers(serve: Serve) -> None:
    base = await serve(echo_app())
    config = HTTPClientConfig(headers={"X-Team": "payments", "X-Env": "prod"})
    async with BaseURLHTTPClient(
        base, headers={"X-Env": "test", "X-Key": "k1"}, config=config
    ) as api:
        seen = (await api.get("echo", headers={"X-Key": "k2"})).unwrap().json()["headers"]
    assert (seen["x-team"], seen["x-env"], seen["x-key"]) == ("payments", "test", "k2")


@pytest.mark.parametrize("status", [404, 500])
async def test_base_url_returns_error_statuses_as_err(serve: Serve, status: int) -> None:
    base = await serve(echo_app())
    async with BaseURLHTTPClient(base) as api:
        error = (await api.get(f"status/{status}")).unwrap_err()
        response = await api.request("GET", f"status/{status}")
    assert isinstance(error, HTTPStatusError)
    assert error.status == status
    assert response.status == status  # request() returns the response whatever its status
    assert not response.ok


@pytest.mark.parametrize("verb", ["get", "post", "put", "patch", "delete", "head", "options"])
async def test_base_url_verbs(serve: Serve, verb: str) -> None:
    base = await serve(echo_app())
    async with BaseURLHTTPClient(base) as api:
        response = (await getattr(api, verb)("/echo")).unwrap()
    assert response.headers["X-Method"] == verb.upper()


async def test_base_url_returns_a_transport_failure_as_err() -> None:
    with refused_url() as url:
        async with BaseURLHTTPClient(url.origin()) as api:
            error = (await api.get("/anything")).unwrap_err()
            with pytest.raises(HTTPConnectionError):
                await api.request("GET", "/anything")
    assert isinstance(error, HTTPConnectionError)
    assert error.sent is False


async def test_base_url_timeout_is_the_total_timeout(serve: Serve) -> None:
    base = await serve(echo_app())
    async with BaseURLHTTPClient(base, timeout=0.1) as api:
        assert api.client.config.timeouts.total == 0.1
        error = (await api.get("/forever")).unwrap_err()
    assert isinstance(error, HTTPTimeoutError)
    assert error.phase == "total"


async def test_base_url_starts_lazily_and_closes(serve: Serve) -> None:
    base = await serve(echo_app())
    api = BaseURLHTTPClient(base, name="echo-service")
    assert api.name == "echo-service"
    assert api.client.config.service_name == "echo-service"
    assert not api.client.is_started()
    await api.get("/echo")
    assert api.client.is_started()
    await api.close()
    with pytest.raises(HTTPClientClosedError):
        await api.get("/echo")
    await api.stop()


async def test_base_url_keeps_a_service_name_from_the_config(serve: Serve) -> None:
    base = await serve(echo_app())
    config = HTTPClientConfig(service_name="billing")
    async with BaseURLHTTPClient(base, name="billing-v2", config=config) as api:
        assert api.name == "billing-v2"
        assert api.client.config.service_name == "billing"


async def test_base_url_name_defaults_to_the_host(serve: Serve) -> None:
    base = await serve(echo_app())
    async with BaseURLHTTPClient(base) as api:
        assert api.name == "127.0.0.1"
        async with api.stream("GET", "/echo") as response:
            assert (await response.aread()).startswith(b"{")


async def test_base_url_over_an_existing_client(serve: Serve) -> None:
    base = await serve(echo_app())
    async with HTTPClient(HTTPClientConfig(headers={"X-Shared": "1"})) as shared:
        api = BaseURLHTTPClient(base / "echo", client=shared)
        response = (await api.get("x")).unwrap()
        assert response.json()["headers"]["x-shared"] == "1"
        assert api.client is shared
        await api.close()
        assert not shared.is_closed  # handed in: its owner closes it
        assert not api.is_started()
        with pytest.raises(HTTPClientClosedError):
            await api.get("x")
        assert (await shared.get(base / "echo" / "x")).unwrap().status == 200


# -- interceptors over the real transport ------------------------------------------------------


async def test_interceptors_change_what_is_sent_and_see_what_came_back(serve: Serve) -> None:
    observed = Observed()
    base = await serve(echo_app(observed))
    log: list[tuple[str, int, int | None]] = []

    class Trace:
        async def intercept_request(self, context: RequestContext) -> None:
            context.headers["X-Trace"] = f"trace-{context.attempt}"
            log.append(("request", context.attempt, None))

        async def intercept_response(self, context: ResponseContext) -> None:
            assert context.duration > 0
            log.append(("response", context.attempt, context.status))

    class Stamp:
        async def intercept(self, request: Request, call_next: CallNext) -> HttpResponse:
            request.headers["X-Order"] = request.headers.get("X-Trace", "missing")
            return await call_next(request)

    async with HTTPClient(interceptors=[Trace(), Stamp()]) as client:
        result = await client.get(base / "status" / "503")
        await client.get(base / "echo")
    assert isinstance(result, Err)
    assert log == [
        ("request", 0, None),
        ("response", 0, 503),
        ("request", 0, None),
        ("response", 0, 200),
    ]
    assert observed.requests[0]["headers"]["x-order"] == "trace-0"


async def test_interceptors_run_for_every_attempt(serve: Serve) -> None:
    observed = Observed()
    base = await serve(echo_app(observed))

    class ThreeAttempts:
        async def execute(
            self, request: Request, send: Callable[[Request], Awaitable[HttpResponse]]
        ) -> HttpResponse:
            for attempt in range(3):
                request.attempt = attempt
                response = await send(request)
            return response

    class Number:
        def intercept_request(self, context: RequestContext) -> None:
            context.headers["X-Attempt"] = str(context.attempt)

    async with HTTPClient(interceptors=[Number()], retry_policy=ThreeAttempts()) as client:
        await client.get(base / "echo")
    assert [r["headers"]["x-attempt"] for r in observed.requests] == ["0", "1", "2"]


async def test_a_failing_interceptor_stops_the_request_before_the_wire(serve: Serve) -> None:
    observed = Observed()
    base = await serve(echo_app(observed))

    class SignRequests:
        def intercept_request(self, context: RequestContext) -> None:
            raise LookupError("no signing key for this host")

    async with HTTPClient(interceptors=[SignRequests()]) as client:
        result = await client.get(base / "echo")
    assert isinstance(result, Err)
    error = result.error
    assert isinstance(error, HTTPInterceptorError)
    assert str(error) == (
        "Interceptor SignRequests raised LookupError: no signing key for this host "
        f"(while handling GET {base}/echo, attempt 0)."
    )
    assert observed.requests == []


# -- auth ---------------------------------------------------------------------------------------


async def test_basic_auth(serve: Serve) -> None:
    base = await serve(echo_app())
    async with HTTPClient() as client:
        for auth in (("ada", "pa:ss wörd"), BasicAuth("ada", "pa:ss wörd")):
            seen = (await client.request("GET", base / "echo", auth=auth)).json()
            scheme, _, token = seen["headers"]["authorization"].partition(" ")
            assert scheme == "Basic"
            assert base64.b64decode(token).decode() == "ada:pa:ss wörd"


async def test_bearer_auth(serve: Serve) -> None:
    base = await serve(echo_app())
    async with HTTPClient() as client:
        seen = (await client.request("GET", base / "echo", auth=BearerAuth("t0k3n"))).json()
    assert seen["headers"]["authorization"] == "Bearer t0k3n"


# -- redirects (basic behaviour; the hardening has its own tests) ---------------------------------


async def test_redirects_are_followed_to_the_end(serve: Serve) -> None:
    observed = Observed()
    base = await serve(echo_app(observed))
    async with HTTPClient() as client:
        response = await client.request("GET", base / "redirect" / "3")
    assert response.status == 200
    assert response.url.path == "/redirect/0"
    assert response.request is not None
    assert response.request.redirect_hop == 3
    assert observed.connections == 1


async def test_redirects_not_followed_per_request_or_by_config(serve: Serve) -> None:
    base = await serve(echo_app())
    async with HTTPClient() as client:
        response = await client.request("GET", base / "redirect" / "2", follow_redirects=False)
    assert response.status == 302
    async with HTTPClient(HTTPClientConfig(follow_redirects=False)) as client:
        response = await client.request("GET", base / "redirect" / "2")
        assert response.status == 302
        response = await client.request("GET", base / "redirect" / "2", follow_redirects=True)
        assert response.status == 200


async def test_too_many_redirects(serve: Serve) -> None:
    base = await serve(echo_app())
    async with HTTPClient(HTTPClientConfig(max_redirects=2)) as client:
        with pytest.raises(HTTPRedirectError) as info:
            await client.request("GET", base / "redirect" / "3")
        result = await client.get(base / "redirect" / "3")
        assert isinstance(await client.get(base / "redirect" / "2"), Ok)
    assert "was redirected more than max_redirects=2 times" in str(info.value)
    assert isinstance(result, Err)
    assert isinstance(result.error, HTTPRedirectError)


async def test_post_then_303_becomes_a_get_without_body(serve: Serve) -> None:
    observed = Observed()
    base = await serve(echo_app(observed))
    async with HTTPClient() as client:
        response = await client.request(
            "POST", base.with_path("/redirect/1").with_query(status=303), json={"a": 1}
        )
    final = response.json()
    assert (final["method"], final["body"]) == ("GET", "")
    assert "content-type" not in final["headers"]


async def test_307_keeps_the_method_and_body(serve: Serve) -> None:
    base = await serve(echo_app())
    async with HTTPClient() as client:
        response = await client.request(
            "PUT", base.with_path("/redirect/1").with_query(status=307), content=b"payload"
        )
    assert (response.json()["method"], response.json()["body"]) == ("PUT", "payload")


async def test_concurrent_use_of_one_client(serve: Serve) -> None:
    observed = Observed()
    base = await serve(echo_app(observed))
    async with HTTPClient() as client:
        results = await asyncio.gather(
            *(client.get(base / "echo", params={"i": i}) for i in range(50))
        )
    assert sorted(int(r.unwrap().json()["query"][0][1]) for r in results) == list(range(50))
