"""HTTPModule and HTTPProvider: lifecycle, configure() vs stub(), the container
protocol and HTTPClientProtocol."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from httpdeck.client import (
    CircuitBreaker,
    ContainerProtocol,
    Err,
    HTTPCircuitOpenError,
    HTTPClient,
    HTTPClientConfig,
    HTTPClientProtocol,
    HTTPModule,
    HTTPProvider,
    HTTPRetryExhaustedError,
    Ok,
    ResiliencePipeline,
    RetryPolicy,
    SimpleContainer,
)
from httpdeck.testing import FakeClock, FakeHTTPClient, FakeResponse, Route

pytestmark = pytest.mark.asyncio

URL = "https://api.example.com/users"


def retry(clock: FakeClock, attempts: int) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=attempts,
        jitter=0.0,
        clock=clock.monotonic,
        sleep=clock.sleep,
        budget_ratio=None,
    )


async def fetch_users(http: HTTPClientProtocol) -> list[Any] | None:
    """Application code: it only knows the protocol."""
    match await http.get(URL):
        case Ok(response):
            users: list[Any] = response.json()
            return users
        case Err(_):
            return None


async def test_configure_provides_a_started_real_client_and_stops_it() -> None:
    config = HTTPClientConfig(headers={"X-Team": "payments"})
    module = HTTPModule.configure(config)
    assert (module.stubbed, len(module.providers)) == (False, 1)
    async with module.lifespan() as container:
        client = container.resolve(HTTPClientProtocol)
        assert type(client) is HTTPClient
        assert client.is_started()
        assert client.config is config
        assert container.resolve(HTTPClient) is client
        assert (await module.provider.health_check()).healthy
    assert client.is_closed
    assert not (await module.provider.health_check()).healthy


async def test_configure_without_config_uses_the_defaults() -> None:
    module = HTTPModule.configure()
    assert module.provider.config == HTTPClientConfig()


@pytest.mark.parametrize(
    ("build", "where"),
    [
        (lambda: HTTPModule.configure({"timeout": 3}), "HTTPModule.configure()"),  # type: ignore[arg-type]
        (lambda: HTTPModule.stub({"timeout": 3}), "HTTPModule.stub()"),  # type: ignore[arg-type]
        (lambda: HTTPProvider({"timeout": 3}), "HTTPProvider()"),  # type: ignore[arg-type]
    ],
)
async def test_a_wrong_config_type_is_a_type_error_naming_it(build: Any, where: str) -> None:
    with pytest.raises(TypeError) as caught:
        build()
    assert str(caught.value) == (
        f"{where} takes an HTTPClientConfig or None, got dict. "
        "Build one with HTTPClientConfig(...) or HTTPClientConfig.from_env()."
    )


async def test_stub_provides_a_fake_that_app_code_cannot_tell_apart() -> None:
    module = HTTPModule.stub(routes=[Route("GET", URL).respond(json=[{"id": 1}])])
    assert module.stubbed
    async with module.lifespan() as container:
        client = container.resolve(HTTPClientProtocol)
        assert await fetch_users(client) == [{"id": 1}]
        fake = container.resolve(FakeHTTPClient)
        assert fake is client
        fake.routes[0].assert_called_once()
        fake.route("GET", URL).respond(503)  # a test may change the answer later
        assert await fetch_users(client) is None


async def test_the_same_module_serves_several_lifespans_with_fresh_clients() -> None:
    module = HTTPModule.stub(routes=[Route("GET", URL).respond(json=[])])
    clients = []
    for _ in range(2):
        async with module.lifespan() as container:
            fake = container.resolve(FakeHTTPClient)
            assert await fetch_users(fake) == []
            assert fake.routes[0].call_count == 1
            clients.append(fake)
    assert clients[0] is not clients[1]


async def test_health_check_is_healthy_only_while_started() -> None:
    provider = HTTPModule.stub().provider
    container = SimpleContainer()
    states = [await provider.health_check()]
    await provider.register(container)
    states.append(await provider.health_check())
    await provider.boot(container)
    states.append(await provider.health_check())
    await provider.shutdown()
    states.append(await provider.health_check())
    assert [(s.healthy, s.message) for s in states] == [
        (False, "HTTPClient is not registered yet."),
        (False, "FakeHTTPClient is not started."),
        (True, "FakeHTTPClient is started."),
        (False, "FakeHTTPClient is closed."),
    ]
    assert states[2].details == {"client": "FakeHTTPClient", "resilience": "None"}


async def test_boot_resolves_a_retry_policy_from_the_container() -> None:
    clock = FakeClock()
    route = Route("GET", URL).respond_sequence([503, FakeResponse(200, json=[])])
    container = SimpleContainer()
    container.register(RetryPolicy, retry(clock, 3))
    async with HTTPModule.stub(routes=[route]).lifespan(container) as same:
        assert same is container
        assert await fetch_users(container.resolve(HTTPClientProtocol)) == []
    assert route.call_count == 2
    assert clock.sleeps == [0.5]


async def test_without_a_retry_policy_nothing_is_retried() -> None:
    route = Route("GET", URL).respond_sequence([503, 200])
    async with HTTPModule.stub(routes=[route]).lifespan() as container:
        assert await fetch_users(container.resolve(HTTPClientProtocol)) is None
    assert route.call_count == 1


async def test_boot_resolves_a_circuit_breaker() -> None:
    container = SimpleContainer()
    container.register(CircuitBreaker, CircuitBreaker(failure_threshold=1))
    route = Route("GET", URL).respond(500)
    async with HTTPModule.stub(routes=[route]).lifespan(container):
        client = container.resolve(HTTPClientProtocol)
        assert await fetch_users(client) is None
        refused = await client.get(URL)
        assert isinstance(refused.unwrap_err(), HTTPCircuitOpenError)
    assert route.call_count == 1


async def test_a_resilience_pipeline_wins_over_the_separate_parts() -> None:
    clock = FakeClock()
    container = SimpleContainer()
    container.register(ResiliencePipeline, ResiliencePipeline(retry=retry(clock, 2)))
    container.register(RetryPolicy, retry(clock, 5))
    route = Route("GET", URL).respond(503)
    async with HTTPModule.stub(routes=[route]).lifespan(container):
        result = await container.resolve(HTTPClientProtocol).get(URL)
        assert isinstance(result.unwrap_err(), HTTPRetryExhaustedError)
    assert route.call_count == 2


async def test_lifespan_shuts_down_when_boot_fails() -> None:
    class Broken(SimpleContainer):
        def resolve(self, key: Any) -> Any:
            if key is ResiliencePipeline:
                raise RuntimeError("container exploded")
            return super().resolve(key)

    module = HTTPModule.stub()
    with pytest.raises(RuntimeError, match="container exploded"):
        async with module.lifespan(Broken()):
            pass  # pragma: no cover - never reached
    assert module.provider.client.is_closed


async def test_provider_steps_and_lexigram_constructor() -> None:
    provider = HTTPProvider.from_config(HTTPClientConfig(), app="ignored")
    await provider.shutdown()  # before anything: nothing to stop
    with pytest.raises(RuntimeError, match=r"not built yet: call `await provider.register"):
        provider.client  # noqa: B018 - the property raises
    container = SimpleContainer()
    await provider.boot(container)  # registers first when needed
    assert container.resolve(HTTPClientProtocol) is provider.client
    other = SimpleContainer()
    await provider.register(other)  # a second registration binds the same running client
    assert other.resolve(HTTPClient) is provider.client
    await provider.shutdown()
    await provider.shutdown()


async def test_any_container_with_register_and_resolve_works() -> None:
    class Adapter:
        def __init__(self) -> None:
            self.bindings: dict[Any, Any] = {}

        def register(self, key: Any, instance: Any) -> None:
            self.bindings[key] = instance

        def resolve(self, key: Any) -> Any:
            return self.bindings[key]

    adapter = Adapter()
    assert isinstance(adapter, ContainerProtocol)
    async with HTTPModule.stub().lifespan(adapter) as container:
        assert isinstance(container.resolve(HTTPClientProtocol), FakeHTTPClient)
    assert set(adapter.bindings) == {HTTPClientProtocol, HTTPClient, FakeHTTPClient}


async def test_simple_container_says_what_is_missing() -> None:
    container = SimpleContainer()
    with pytest.raises(KeyError, match="Nothing is registered under RetryPolicy"):
        container.resolve(RetryPolicy)
    assert RetryPolicy not in container


async def test_both_clients_satisfy_the_protocol() -> None:
    async with HTTPClient() as real, FakeHTTPClient() as fake:
        assert isinstance(real, HTTPClientProtocol)
        assert isinstance(fake, HTTPClientProtocol)
    assert not isinstance(object(), HTTPClientProtocol)


async def test_stub_without_the_testing_extra_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "httpdeck.testing.fake._client", None)
    with pytest.raises(ImportError) as caught:
        HTTPModule.stub()
    assert str(caught.value).startswith(
        "HTTPModule.stub() needs httpdeck's test doubles, which come with the testing extra: "
        "pip install httpdeck[testing]"
    )


async def test_the_client_package_does_not_import_the_testing_package() -> None:
    code = (
        "import sys, httpdeck.client as c; c.HTTPModule.configure(); "
        "print(sorted(m for m in sys.modules if m.startswith('httpdeck.testing') or m == 'faker'))"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert (process.returncode, out.decode().strip()) == (0, "[]")
