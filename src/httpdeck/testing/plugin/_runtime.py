"""What the pytest plugin's fixtures do, apart from pytest itself.

Imported only when a test uses an httpdeck fixture (it imports the client,
aiohttp and, for some fixtures, vcrpy and Faker), never at pytest start-up.
"""

from __future__ import annotations

import dataclasses
import inspect
import random
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from aiohttp import web

from httpdeck.client import (
    HTTPClient,
    HTTPClientConfig,
    HTTPConfigError,
    HTTPModule,
    HTTPProvider,
    SimpleContainer,
    set_testing,
)
from httpdeck.client._seam import TESTING, use_default_rng
from httpdeck.testing.fake._client import FakeHTTPClient
from httpdeck.testing.plugin._markers import check_marker_args, marker_kwargs
from httpdeck.testing.plugin._stats import RunStats

CONFIG_FIELDS = tuple(f.name for f in dataclasses.fields(HTTPClientConfig))
CLIENT_KEYWORDS = (
    "config",
    "retry_policy",
    "circuit_breaker",
    "resilience",
    "interceptors",
    "metrics",
)
FAKE_KEYWORDS = (
    "base_url",
    "routes",
    "passthrough_hosts",
    "clock",
    "interceptors",
    "retry_policy",
    "circuit_breaker",
    "resilience",
    "metrics",
)
# Options whose objects keep state (a breaker's state, a clock's time, counts,
# an interceptor's own): a marker's arguments are built once, when its module is
# imported, and shared by every test it marks (a class, a module, each case of a
# parametrized test). So these also take a zero-argument factory (a function
# or a class), called for each test.
PER_TEST_KEYWORDS = (
    "interceptors",
    "retry_policy",
    "circuit_breaker",
    "resilience",
    "metrics",
    "clock",
)
FAULT_KEYWORDS = ("schedule", "seed", "decide_by", "real_time")
FAKE_DATA_KEYWORDS = ("seed", "locale", "reference_date")


def seed_retry_jitter(seed: int | None) -> None:
    """Seed the jitter of every RetryPolicy built without an rng (None: unseeded again)."""
    use_default_rng(None if seed is None else random.Random(seed))


def apply_retry_testing(enabled: bool) -> None:
    """Turn RetryPolicy's testing mode (no backoff waits) on or off for the next test."""
    if TESTING.enabled != enabled:
        set_testing(enabled)


def _replace(config: HTTPClientConfig, fields: dict[str, Any], marker: str) -> HTTPClientConfig:
    try:
        return dataclasses.replace(config, **fields)
    except (HTTPConfigError, TypeError) as exc:
        pytest.fail(f"@pytest.mark.{marker}: {exc}", pytrace=False)


def client_config(item: pytest.Item, base: HTTPClientConfig) -> HTTPClientConfig:
    """`base` (the httpdeck_client_config fixture) with the marker's config fields on top."""
    options = marker_kwargs(item, "httpdeck_client", CONFIG_FIELDS + CLIENT_KEYWORDS)
    config = options.get("config") or base
    if not isinstance(config, HTTPClientConfig):
        msg = (
            f"@pytest.mark.httpdeck_client(config=...) must be an HTTPClientConfig, got {config!r}."
        )
        pytest.fail(msg, pytrace=False)
    fields = {k: v for k, v in options.items() if k in CONFIG_FIELDS}
    return _replace(config, fields, "httpdeck_client") if fields else config


def _per_test(options: dict[str, Any]) -> dict[str, Any]:
    """`options` with each factory of a `PER_TEST_KEYWORDS` option called."""
    for key in PER_TEST_KEYWORDS:
        value = options.get(key)
        if inspect.isclass(value) or inspect.isroutine(value) or isinstance(value, partial):
            options[key] = value()
    return options


def make_client(item: pytest.Item, config: HTTPClientConfig) -> HTTPClient:
    options = marker_kwargs(item, "httpdeck_client", CONFIG_FIELDS + CLIENT_KEYWORDS)
    extra = {k: v for k, v in options.items() if k in CLIENT_KEYWORDS and k != "config"}
    return HTTPClient(config, **_per_test(extra))


def make_fake(item: pytest.Item, config: HTTPClientConfig) -> FakeHTTPClient:
    options = _per_test(marker_kwargs(item, "httpdeck_fake", FAKE_KEYWORDS))
    try:
        return FakeHTTPClient(config, **options)
    except (TypeError, ValueError) as exc:
        pytest.fail(f"@pytest.mark.httpdeck_fake: {exc}", pytrace=False)


def verify_fake(item: pytest.Item, label: str, fake: FakeHTTPClient) -> str | None:
    """The teardown checks of one fake: routes never called, requests never expected."""
    problems: list[str] = []
    if item.get_closest_marker("httpdeck_allow_unused_routes") is None:
        try:
            fake.assert_all_called()
        except AssertionError as exc:
            problems.append(
                f"{exc}\nOr mark the test @pytest.mark.httpdeck_allow_unused_routes "
                "to allow unused routes."
            )
    if item.get_closest_marker("httpdeck_allow_unmatched_requests") is None:
        try:
            fake.assert_all_requests_were_expected()
        except AssertionError as exc:
            problems.append(
                f"{exc}\nDeclare a route for it, or, if the test expects it, mark the test "
                "@pytest.mark.httpdeck_allow_unmatched_requests."
            )
    if not problems:
        return None
    return f"{label}: " + "\n\n".join(problems)


def make_fake_data(item: pytest.Item, seed: int) -> Any:
    from httpdeck.testing.fake._data import FakeDataFactory

    options = marker_kwargs(item, "httpdeck_fake_data", FAKE_DATA_KEYWORDS)
    options.setdefault("seed", seed)
    try:
        return FakeDataFactory(**options)
    except (TypeError, ValueError, AttributeError) as exc:
        pytest.fail(f"@pytest.mark.httpdeck_fake_data: {exc}", pytrace=False)


def make_injector(item: pytest.Item, seed: int, clients: Iterable[HTTPClient]) -> Any:
    """A seeded `FaultInjector` installed (outermost) in each client's interceptors.

    Unless the marker says `real_time=True`, latency and stalls advance a
    virtual clock (the fake's, when there is one) instead of sleeping.
    """
    from httpdeck.testing.fake._responses import FakeClock
    from httpdeck.testing.faults._catalog import Fault
    from httpdeck.testing.faults._injector import FaultInjectionInterceptor, FaultInjector

    marker = item.get_closest_marker("httpdeck_faults")
    faults: tuple[Any, ...] = ()
    options: dict[str, Any] = {}
    if marker is not None:
        faults = tuple(marker.args)
        options = check_marker_args("httpdeck_faults", (), marker.kwargs, FAULT_KEYWORDS)
        for fault in faults:
            if not isinstance(fault, Fault):
                msg = (
                    f"@pytest.mark.httpdeck_faults takes faults as positional arguments "
                    f"(from httpdeck.testing import faults), got {fault!r}."
                )
                pytest.fail(msg, pytrace=False)
    bound = list(clients)
    real_time = bool(options.pop("real_time", False))
    options.setdefault("seed", seed)
    if not real_time:
        clock = next((c.clock for c in bound if isinstance(c, FakeHTTPClient)), None)
        clock = clock or FakeClock()
        options |= {"clock": clock.monotonic, "sleep": clock.sleep}
    if bound:
        options["config"] = bound[0].config
    try:
        injector = FaultInjector(faults=faults, **options)
    except (TypeError, ValueError) as exc:
        pytest.fail(f"@pytest.mark.httpdeck_faults: {exc}", pytrace=False)
    for client in bound:
        client.interceptors.add_interceptor(
            FaultInjectionInterceptor(injector=injector), first=True
        )
    return injector


def count_faults(stats: RunStats, injector: Any) -> None:
    stats.faults.update(event.kind for event in injector.log)


async def server_app(item: pytest.Item, request: pytest.FixtureRequest) -> web.Application:
    """The app for httpdeck_server: the marker's (an app or a factory), else `httpdeck_app`."""
    marker = item.get_closest_marker("httpdeck_server")
    source: Any
    if marker is not None:
        options = check_marker_args(
            "httpdeck_server", marker.args, marker.kwargs, ("app",), positional=("app",)
        )
        if "app" not in options:
            pytest.fail(
                "@pytest.mark.httpdeck_server needs the app: httpdeck_server(app=...).",
                pytrace=False,
            )
        source = options["app"]
    else:
        source = request.getfixturevalue("httpdeck_app")
    app = source
    if not isinstance(app, web.Application) and callable(app):
        app = app()
        if inspect.isawaitable(app):
            app = await app
    if not isinstance(app, web.Application):
        msg = (
            f"httpdeck_server needs an aiohttp.web.Application (or a function returning one), "
            f"got {source!r}."
        )
        pytest.fail(msg, pytrace=False)
    return app


@dataclass(frozen=True, slots=True)
class StubModule:
    """What httpdeck_stub_module gives: the booted module, its container and its fake."""

    module: HTTPModule
    container: SimpleContainer
    fake: FakeHTTPClient


@asynccontextmanager
async def stub_module(fake: FakeHTTPClient) -> AsyncIterator[StubModule]:
    """`HTTPModule.stub()`'s module, providing `fake` (httpdeck_fake) instead of a
    fake of its own. The container is fresh, so there is no resilience in it
    for the provider to install: `fake` keeps its own (the httpdeck_fake marker's)."""
    provider = HTTPProvider(fake.config, client_factory=lambda config, resilience: fake)
    module = HTTPModule(providers=(provider,), stubbed=True)
    async with module.lifespan() as container:
        yield StubModule(module, container, fake)
