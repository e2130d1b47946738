"""Dependency injection: `HTTPModule`, `HTTPProvider` and the container they talk to.

```python
module = HTTPModule.configure(HTTPClientConfig())     # production
module = HTTPModule.stub(routes=[...])                # tests: a FakeHTTPClient
async with module.lifespan() as container:            # no DI framework needed
    client = container.resolve(HTTPClientProtocol)
```

A provider has four steps, driven by a DI framework or by `lifespan()`:
`await register(container)` (builds the client and registers it), `await
boot(container)` (resolves an optional resilience pipeline, retry policy and
circuit breaker from the container, then starts the client), `await
health_check()` and `await shutdown()`. The container only needs
`register(key, instance)` and `resolve(key)` (see `ContainerProtocol`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Hashable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, overload, runtime_checkable

from httpdeck.client._circuit import CircuitBreaker, CircuitBreakerRegistry
from httpdeck.client._client import HTTPClient, ResilienceStrategy
from httpdeck.client._config import HTTPClientConfig
from httpdeck.client._models import HttpResponse, Request
from httpdeck.client._protocol import HTTPClientProtocol
from httpdeck.client._resilience import ResiliencePipeline
from httpdeck.client._retry import RetryPolicy

if TYPE_CHECKING:
    from httpdeck.testing import Route

__all__ = [
    "ContainerProtocol",
    "HTTPModule",
    "HTTPProvider",
    "HealthCheckResult",
    "SimpleContainer",
]

T = TypeVar("T")
C = TypeVar("C", bound="ContainerProtocol")
ClientFactory = Callable[[HTTPClientConfig, ResilienceStrategy], HTTPClient]


@runtime_checkable
class ContainerProtocol(Protocol):
    """The two calls `HTTPProvider` makes on a DI container.

    `register(key, instance)` binds a singleton; `resolve(key)` returns it
    and raises `LookupError` (`KeyError` is one) when nothing is bound. Keys
    are classes and protocols. Adapt another framework in a few lines:

    ```python
    class Adapter:
        def __init__(self, injector): self.injector = injector
        def register(self, key, instance): self.injector.binder.bind(key, to=instance)
        def resolve(self, key): return self.injector.get(key)
    ```
    """

    def register(self, key: Any, instance: Any) -> None:
        """Bind `instance` to `key`, replacing any earlier binding."""
        ...

    def resolve(self, key: Any) -> Any:
        """The instance bound to `key`; raise `LookupError` (or `KeyError`) when there is none."""
        ...


class SimpleContainer:
    """A dict-backed `ContainerProtocol`, enough to run modules without a DI framework."""

    def __init__(self) -> None:
        self._items: dict[Hashable, object] = {}

    def register(self, key: Hashable, instance: object) -> None:
        """Bind `instance` to `key`, replacing any earlier binding."""
        self._items[key] = instance

    @overload
    def resolve(self, key: Callable[..., T]) -> T: ...

    @overload
    def resolve(self, key: Hashable) -> Any: ...

    def resolve(self, key: Any) -> Any:
        """The instance bound to `key`; a `KeyError` naming the key when there is none."""
        try:
            return self._items[key]
        except KeyError:
            name = getattr(key, "__name__", repr(key))
            msg = f"Nothing is registered under {name}; register it, or boot the module first."
            raise KeyError(msg) from None

    def __contains__(self, key: object) -> bool:
        return key in self._items


@dataclass(frozen=True, slots=True)
class HealthCheckResult:
    """Whether a provider is healthy, with a reason and details."""

    healthy: bool
    message: str
    details: Mapping[str, object] = field(default_factory=dict)


def _first(container: ContainerProtocol, keys: Iterable[Any]) -> Any:
    for key in keys:
        try:
            return container.resolve(key)
        except LookupError:
            continue
    return None


class _ResolvedResilience:
    """The resilience the provider resolves at boot, installed in the client
    built at register time. With nothing resolved it only forwards."""

    __slots__ = ("inner",)

    def __init__(self) -> None:
        self.inner: ResilienceStrategy | None = None

    async def execute(self, request: Request, send: Callable[[Request], Any]) -> HttpResponse:
        inner = self.inner
        if inner is None:
            response: HttpResponse = await send(request)
            return response
        return await inner.execute(request, send)


def _default_factory(config: HTTPClientConfig, resilience: ResilienceStrategy) -> HTTPClient:
    return HTTPClient(config, resilience=resilience)


def _check_config(config: object, where: str) -> HTTPClientConfig | None:
    if config is not None and not isinstance(config, HTTPClientConfig):
        msg = (
            f"{where} takes an HTTPClientConfig or None, got {type(config).__name__}. "
            "Build one with HTTPClientConfig(...) or HTTPClientConfig.from_env()."
        )
        raise TypeError(msg)
    return config


class HTTPProvider:
    """Builds, registers, boots, health-checks and shuts down one client.

    At `register` it builds the client and binds it under
    `HTTPClientProtocol`, `HTTPClient` and its own class. At `boot` it
    resolves, when bound in the container, a `ResiliencePipeline` (which
    wins), else a `RetryPolicy` and a `CircuitBreakerRegistry` or
    `CircuitBreaker`, then starts the client. `health_check()` is healthy
    only between boot and shutdown.
    """

    PIPELINE_KEYS: ClassVar[tuple[Any, ...]] = (ResiliencePipeline,)
    RETRY_KEYS: ClassVar[tuple[Any, ...]] = (RetryPolicy,)
    BREAKER_KEYS: ClassVar[tuple[Any, ...]] = (CircuitBreakerRegistry, CircuitBreaker)

    def __init__(
        self,
        config: HTTPClientConfig | None = None,
        *,
        client_factory: ClientFactory | None = None,
    ) -> None:
        self.config = _check_config(config, "HTTPProvider()") or HTTPClientConfig()
        self._factory = client_factory or _default_factory
        self._resilience = _ResolvedResilience()
        self._client: HTTPClient | None = None
        self._booted = False

    @classmethod
    def from_config(cls, config: HTTPClientConfig, **context: Any) -> HTTPProvider:
        """lexigram-http's constructor; `context` is accepted and ignored."""
        return cls(config)

    @property
    def client(self) -> HTTPClient:
        """The client, once registered."""
        if self._client is None:
            msg = "The HTTP client is not built yet: call `await provider.register(container)`."
            raise RuntimeError(msg)
        return self._client

    async def register(self, container: ContainerProtocol) -> None:
        """Build the client (again, if the last one was stopped) and bind it in `container`.

        It is bound under `HTTPClientProtocol`, `HTTPClient` and the client's
        own class. Nothing is opened until `boot()`.
        """
        if self._client is None or self._client.is_closed:
            self._client = self._factory(self.config, self._resilience)
        client = self._client
        for key in dict.fromkeys((HTTPClientProtocol, HTTPClient, type(client))):
            container.register(key, client)

    async def boot(self, container: ContainerProtocol) -> None:
        """Install the resilience bound in `container`, then start the client.

        A `ResiliencePipeline` wins; else a `RetryPolicy` and a
        `CircuitBreakerRegistry` or `CircuitBreaker`, whichever are bound.
        Calls `register()` first if it has not run.
        """
        if self._client is None:
            await self.register(container)
        pipeline = _first(container, self.PIPELINE_KEYS)
        if pipeline is None:
            retry = _first(container, self.RETRY_KEYS)
            breaker = _first(container, self.BREAKER_KEYS)
            if retry is not None or breaker is not None:
                pipeline = ResiliencePipeline(retry=retry, circuit_breaker=breaker)
        self._resilience.inner = pipeline
        await self.client.start()
        self._booted = True

    async def health_check(self, timeout: float = 5.0) -> HealthCheckResult:  # noqa: ASYNC109 - lexigram-http's signature; nothing here waits
        """Healthy while the client is started; `timeout` is unused (lexigram-http's signature)."""
        client = self._client
        name = type(client).__name__ if client is not None else "HTTPClient"
        if client is None:
            return HealthCheckResult(False, f"{name} is not registered yet.")
        details = {"client": name, "resilience": repr(self._resilience.inner)}
        if self._booted and client.is_started():
            return HealthCheckResult(True, f"{name} is started.", details)
        state = "closed" if client.is_closed else "not started"
        return HealthCheckResult(False, f"{name} is {state}.", details)

    async def shutdown(self) -> None:
        """Stop the client (safe to call twice, or before boot)."""
        self._booted = False
        if self._client is not None:
            await self._client.stop()


@dataclass(frozen=True, slots=True)
class HTTPModule:
    """A module descriptor: the providers that put an HTTP client in a container.

    `HTTPModule.configure(config)` provides the real client; `HTTPModule.stub()`
    a `FakeHTTPClient`. Code that resolves `HTTPClientProtocol` cannot tell
    them apart, so a test swaps one line.
    """

    providers: tuple[HTTPProvider, ...]
    exports: tuple[Any, ...] = (HTTPClientProtocol, HTTPClient)
    stubbed: bool = False

    @classmethod
    def configure(cls, config: HTTPClientConfig | None = None) -> HTTPModule:
        """The module for a real client; `config=None` uses the defaults.

        A config that is not an `HTTPClientConfig` is a `TypeError` naming its type.
        """
        config = _check_config(config, "HTTPModule.configure()")
        return cls(providers=(HTTPProvider(config),))

    @classmethod
    def stub(
        cls, config: HTTPClientConfig | None = None, *, routes: Iterable[Route] = ()
    ) -> HTTPModule:
        """The module for a `FakeHTTPClient` answering `routes`; no real connection is made.

        It needs the testing extra (`pip install httpdeck[testing]`); the
        resolved client is also bound under `FakeHTTPClient`, to add routes
        and read its history in a test.
        """
        config = _check_config(config, "HTTPModule.stub()")
        try:
            from httpdeck.testing.fake._client import FakeHTTPClient
        except ImportError as exc:
            msg = (
                "HTTPModule.stub() needs httpdeck's test doubles, which come with the testing "
                f"extra: pip install httpdeck[testing] ({exc})."
            )
            raise ImportError(msg) from exc
        declared = list(routes)

        def factory(cfg: HTTPClientConfig, resilience: ResilienceStrategy) -> HTTPClient:
            return FakeHTTPClient(cfg, routes=declared, resilience=resilience)

        return cls(providers=(HTTPProvider(config, client_factory=factory),), stubbed=True)

    @property
    def provider(self) -> HTTPProvider:
        """The module's one provider (`providers[0]`)."""
        return self.providers[0]

    @overload
    def lifespan(self) -> AbstractAsyncContextManager[SimpleContainer]: ...

    @overload
    def lifespan(self, container: C) -> AbstractAsyncContextManager[C]: ...

    def lifespan(
        self, container: ContainerProtocol | None = None
    ) -> AbstractAsyncContextManager[Any]:
        """Register and boot the providers, yield the container, shut them down.

        Plain asyncio, no DI framework; a fresh `SimpleContainer` by default:

        ```python
        async with HTTPModule.configure(config).lifespan() as container:
            client = container.resolve(HTTPClientProtocol)
        ```
        """
        return _run(self.providers, container if container is not None else SimpleContainer())


@asynccontextmanager
async def _run(
    providers: tuple[HTTPProvider, ...], container: ContainerProtocol
) -> AsyncIterator[Any]:
    # shutdown() is safe before boot, so every provider is shut down, in
    # reverse order, however far registering and booting got.
    try:
        for provider in providers:
            await provider.register(container)
        for provider in providers:
            await provider.boot(container)
        yield container
    finally:
        for provider in reversed(providers):
            await provider.shutdown()
