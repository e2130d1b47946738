"""httpdeck's pytest plugin: fixtures, markers and options for the fake client,
cassettes, faults, local servers and network blocking.

Registered through the `pytest11` entry point, so installing
`httpdeck[testing]` is enough. Everything is named `httpdeck_...` /
`--httpdeck-...`, so it sits next to pytest-recording or pytest-httpx.

This module stays thin: options, markers, fixtures and hooks. It imports
only pytest and the standard library at start-up; the client, aiohttp, vcrpy
and Faker are imported by the fixtures that need them (`plugin._runtime`).
See docs/pytest-plugin.md for every fixture, marker and option.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pytest

from httpdeck.testing import _seeds as seeds
from httpdeck.testing.plugin import _config as cfg
from httpdeck.testing.plugin import _markers as markers
from httpdeck.testing.plugin._state import SETTINGS, STATS, TEST_STATE, TestState
from httpdeck.testing.plugin._stats import RunStats

if TYPE_CHECKING:
    from aiohttp import web

    from httpdeck.client import HTTPClient, HTTPClientConfig
    from httpdeck.testing._server import LocalServer
    from httpdeck.testing.cassettes._cassette import Cassette
    from httpdeck.testing.fake._client import FakeHTTPClient
    from httpdeck.testing.fake._data import FakeDataFactory
    from httpdeck.testing.faults._chaos_proxy import ChaosProxy
    from httpdeck.testing.faults._injector import FaultInjector
    from httpdeck.testing.plugin._runtime import StubModule

F = TypeVar("F", bound=Callable[..., Any])

try:
    from pytest_asyncio import fixture as _pytest_asyncio_fixture
except ImportError:  # pragma: no cover - pytest-asyncio comes with httpdeck[testing]

    def async_fixture(function: F) -> F:
        name = function.__name__

        @pytest.fixture(name=name)
        def missing() -> None:
            msg = (
                f"The {name} fixture needs pytest-asyncio, from the testing extra: "
                "pip install httpdeck[testing]"
            )
            pytest.fail(msg, pytrace=False)

        return missing  # type: ignore[return-value]

else:

    def async_fixture(function: F) -> F:
        # pytest-asyncio's own decorator: the fixture works in strict and auto mode.
        return cast(F, _pytest_asyncio_fixture(function))


# -- options and configuration -------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("httpdeck", "httpdeck: fake client, cassettes, faults, network")
    for option in cfg.OPTIONS:
        if option.flag is not None:
            if option.boolean:
                group.addoption(
                    option.flag,
                    action=argparse.BooleanOptionalAction,
                    dest=option.ini,
                    default=None,
                    help=option.help + f" (ini: {option.ini})",
                )
            else:
                group.addoption(
                    option.flag,
                    dest=option.ini,
                    default=None,
                    metavar=option.metavar,
                    help=option.help + f" (ini: {option.ini})",
                )
        parser.addini(option.ini, option.help, type=option.ini_type)  # type: ignore[arg-type]


def pytest_configure(config: pytest.Config) -> None:
    for name, text in markers.MARKERS.items():
        config.addinivalue_line("markers", text if text.startswith(name) else f"{name}: {text}")
    workerinput = getattr(config, "workerinput", None)
    worker_seed = workerinput.get("httpdeck_seed") if workerinput else None
    config.stash[SETTINGS] = cfg.load_settings(config, worker_seed=worker_seed)
    config.stash[STATS] = RunStats()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: every worker uses the controller's seed."""
    node.workerinput["httpdeck_seed"] = node.config.stash[SETTINGS].seed


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist: add a finished worker's counts to the run's summary."""
    output = getattr(node, "workeroutput", None) or {}
    if "httpdeck_stats" in output:
        node.config.stash[STATS].merge_wire(output["httpdeck_stats"])


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["httpdeck_stats"] = session.config.stash[STATS].to_wire()


def pytest_report_header(config: pytest.Config) -> str:
    return config.stash[SETTINGS].header(config.rootpath)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if getattr(config, "workerinput", None) is not None:
        return
    lines = config.stash[STATS].lines(config.stash[SETTINGS].seed)
    if lines:
        terminalreporter.section("httpdeck")
        for line in lines:
            terminalreporter.write_line(line)


# -- per test: seed, retry testing mode, network guard, fake checks ---------------


def _sync_client(item: pytest.Item, state: TestState) -> None:
    """Retry testing mode, and this test's seeded jitter for every RetryPolicy
    built without an rng. Only if the client is already imported: importing
    it here would cost every pytest run the client's import time, so this
    runs again at the call and whenever a fixture starts."""
    if "httpdeck.client._retry_support" in sys.modules:
        from httpdeck.testing.plugin._runtime import apply_retry_testing, seed_retry_jitter

        apply_retry_testing(item.config.stash[SETTINGS].retry_testing)
        if not state.retry_rng:  # once: reseeding mid-test would replay the draws
            seed_retry_jitter(state.seed_for(seeds.RETRY))
            state.retry_rng = True


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    settings = item.config.stash[SETTINGS]
    state = TestState(settings.seed, item.nodeid)
    item.stash[TEST_STATE] = state
    # Tools built in this test without a seed (a FaultInjector, a
    # FakeDataFactory, a ChaosProxy) take the test's: one run seed drives all.
    seeds.CURRENT.test = (settings.seed, item.nodeid)
    _sync_client(item, state)
    block, hosts = markers.network_for(item, settings)
    if block:
        from httpdeck.testing.plugin._network import HostPolicy, NetworkGuard

        stats = item.config.stash[STATS]
        policy = HostPolicy(cfg.parse_host(h, "allow_hosts") for h in hosts)
        guard = NetworkGuard(
            policy, on_block=lambda attempt: stats.blocked.append(f"{item.nodeid} -> {attempt}")
        )
        state.guard_exit = ExitStack()
        state.guard = state.guard_exit.enter_context(guard.active())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    state = item.stash.get(TEST_STATE, None)
    if state is not None:
        _sync_client(item, state)
    from httpdeck.testing import _publish

    _publish()  # the fixtures loaded the fake, the cassettes...: public names in tracebacks
    result = yield
    # The test body passed: now the fakes must have seen exactly what they expected.
    if state is not None and state.fakes:
        from httpdeck.testing.plugin._runtime import verify_fake

        problems = [verify_fake(item, label, fake) for label, fake in state.fakes]
        found = [p for p in problems if p]
        if found:
            pytest.fail("\n\n".join(found), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    finally:
        state = item.stash.get(TEST_STATE, None)
        try:
            if state is not None and state.guard_exit is not None:
                state.guard_exit.close()
        finally:
            seeds.CURRENT.test = None
            if state is not None and state.retry_rng:
                from httpdeck.testing.plugin._runtime import seed_retry_jitter

                seed_retry_jitter(None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test's report names the run seed that reproduces it."""
    report = yield
    if report.failed:
        seed = item.config.stash[SETTINGS].seed
        state = item.stash.get(TEST_STATE, None)
        lines = [f"httpdeck seed: {seed} (rerun with --httpdeck-seed={seed})"]
        if state is not None:
            lines.append(f"this test's seed (the httpdeck_seed fixture): {state.seed}")
        report.sections.append(("httpdeck", "\n".join(lines)))
    return report


def _state(request: pytest.FixtureRequest) -> TestState:
    item: pytest.Item = request.node
    state = item.stash.get(TEST_STATE, None)
    if state is None:  # a fixture used outside the normal test protocol
        settings = request.config.stash[SETTINGS]
        state = TestState(settings.seed, item.nodeid)
        item.stash[TEST_STATE] = state
    request.config.stash[STATS].used = True
    _sync_client(item, state)
    return state


def _allow(state: TestState, host: str, port: int | None) -> None:
    if state.guard is not None:
        state.guard.policy.add(host, port)


# -- fixtures -----------------------------------------------------------------------


@pytest.fixture
def httpdeck_seed(request: pytest.FixtureRequest) -> int:
    """This test's seed: derived from the run's seed (--httpdeck-seed) and the test id.
    httpdeck's own tools each derive theirs from the run seed, the test id and
    their purpose (`_seeds.derive_seed`), so they never draw the same numbers."""
    return _state(request).seed


@pytest.fixture
def httpdeck_client_config() -> HTTPClientConfig:
    """The `HTTPClientConfig` for httpdeck_client, httpdeck_fake and httpdeck_stub_module.

    Override it in a conftest.py to configure them for a whole folder; the
    `httpdeck_client` marker's fields apply on top, per test.
    """
    from httpdeck.client import HTTPClientConfig

    return HTTPClientConfig()


@async_fixture
async def httpdeck_client(
    request: pytest.FixtureRequest, httpdeck_client_config: HTTPClientConfig
) -> AsyncIterator[HTTPClient]:
    """A started real `HTTPClient`, configured by httpdeck_client_config and the
    `httpdeck_client` marker; closed at teardown."""
    from httpdeck.testing.plugin import _runtime as runtime

    state = _state(request)
    item: pytest.Item = request.node
    config = runtime.client_config(item, httpdeck_client_config)
    client = runtime.make_client(item, config)
    if _uses_cassettes(item):
        from httpdeck.testing.plugin._cassettes import make_cassettes

        state.cassettes = make_cassettes(item, request.config.stash[SETTINGS])
        state.cassettes.install(client)
    await client.start()
    try:
        yield client
    finally:
        try:
            if state.cassettes is not None:
                state.cassettes.finish(client, request.config.stash[STATS], request.config.rootpath)
        finally:
            await client.stop()


def _uses_cassettes(item: pytest.Item) -> bool:
    names = getattr(item, "fixturenames", ())
    return (
        "httpdeck_cassette" in names
        or "httpdeck_cassettes" in names
        or item.get_closest_marker("httpdeck_cassette") is not None
    )


@pytest.fixture
def httpdeck_cassette(request: pytest.FixtureRequest, httpdeck_client: HTTPClient) -> Cassette:
    """The test's (primary) cassette, replayed and recorded through httpdeck_client:
    `<cassette_dir>/<test module>/<test name>.yaml` unless the `httpdeck_cassette`
    marker names it; `play_count`, `all_played`, `requests`, `recorded`. Saved
    at teardown."""
    cassette: Cassette = _state(request).cassettes.cassettes[0]
    return cassette


@pytest.fixture
def httpdeck_cassettes(
    request: pytest.FixtureRequest, httpdeck_client: HTTPClient
) -> list[Cassette]:
    """Every cassette of the test (several `httpdeck_cassette("name")` markers),
    the primary first."""
    cassettes: list[Cassette] = _state(request).cassettes.cassettes
    return cassettes


@async_fixture
async def httpdeck_fake(
    request: pytest.FixtureRequest, httpdeck_client_config: HTTPClientConfig
) -> AsyncIterator[FakeHTTPClient]:
    """A started `FakeHTTPClient`. Once the test body has passed, the test fails
    if a route was never called or a request matched no route (even one whose
    error the code under test swallowed); opt out with the
    `httpdeck_allow_unused_routes` / `httpdeck_allow_unmatched_requests`
    markers or `route(..., optional=True)`."""
    from httpdeck.testing.plugin import _runtime as runtime

    state = _state(request)
    config = runtime.client_config(request.node, httpdeck_client_config)
    fake = runtime.make_fake(request.node, config)
    await fake.start()
    state.fakes.append(("httpdeck_fake", fake))
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
def httpdeck_faults(request: pytest.FixtureRequest) -> Iterator[FaultInjector]:
    """A seeded `FaultInjector`, installed in httpdeck_client, httpdeck_fake and
    httpdeck_stub_module's fake (whichever the test uses), outermost, so it also
    hits replayed cassette traffic. Configure it with `.on(...)` rules or the
    `httpdeck_faults` marker."""
    from httpdeck.testing.plugin import _runtime as runtime

    state = _state(request)
    # httpdeck_stub_module's fake is httpdeck_fake: one injector per client.
    clients = [
        request.getfixturevalue(name)
        for name in ("httpdeck_fake", "httpdeck_client")
        if name in request.fixturenames
    ]
    injector = runtime.make_injector(request.node, state.seed_for(seeds.FAULTS), clients)
    try:
        yield injector
    finally:
        runtime.count_faults(request.config.stash[STATS], injector)


@async_fixture
async def httpdeck_stub_module(
    request: pytest.FixtureRequest, httpdeck_fake: FakeHTTPClient
) -> AsyncIterator[StubModule]:
    """A stub `HTTPModule` registered and booted in a `SimpleContainer`:
    `.container` (resolve `HTTPClientProtocol` from it), `.fake` (declare
    routes, read history) and `.module`. Its fake is httpdeck_fake, so a
    test that uses both has one fake: one set of routes, checked once."""
    from httpdeck.testing.plugin import _runtime as runtime

    state = _state(request)
    state.fakes = [
        (f"{label} (httpdeck_stub_module.fake)" if fake is httpdeck_fake else label, fake)
        for label, fake in state.fakes
    ]
    async with runtime.stub_module(httpdeck_fake) as stub:
        yield stub


@pytest.fixture
def httpdeck_fake_data(request: pytest.FixtureRequest) -> FakeDataFactory:
    """A `FakeDataFactory` (Faker-backed JSON bodies) seeded with this test's seed,
    or the `httpdeck_fake_data(seed=..., locale=...)` marker's."""
    from httpdeck.testing.plugin import _runtime as runtime

    seed = _state(request).seed_for(seeds.FAKE_DATA)
    factory: FakeDataFactory = runtime.make_fake_data(request.node, seed)
    return factory


@pytest.fixture
def httpdeck_app() -> web.Application:
    """The app httpdeck_server serves: override this fixture (or use the
    `httpdeck_server(app=...)` marker)."""
    msg = (
        "httpdeck_server needs an app: define a fixture named httpdeck_app that returns an "
        "aiohttp.web.Application, or mark the test @pytest.mark.httpdeck_server(app=app_or_factory)."
    )
    pytest.fail(msg, pytrace=False)


@async_fixture
async def httpdeck_server(request: pytest.FixtureRequest) -> AsyncIterator[LocalServer]:
    """A started `LocalServer` on 127.0.0.1 (`.url`, `.app`) serving the app of the
    `httpdeck_server` marker or the `httpdeck_app` fixture; always reachable,
    even with --httpdeck-block-network."""
    from httpdeck.testing._server import LocalServer
    from httpdeck.testing.plugin import _runtime as runtime

    state = _state(request)
    server = LocalServer(await runtime.server_app(request.node, request))
    await server.start()
    _allow(state, server.host, server.port)
    try:
        yield server
    finally:
        await server.stop()


@async_fixture
async def httpdeck_chaos_proxy(
    request: pytest.FixtureRequest, httpdeck_server: LocalServer
) -> AsyncIterator[ChaosProxy]:
    """A started `ChaosProxy` (toxiproxy's toxics) in front of httpdeck_server,
    seeded with this test's seed: send requests to `proxy.url`."""
    from httpdeck.testing.faults._chaos_proxy import ChaosProxy

    state = _state(request)
    proxy = ChaosProxy(httpdeck_server.url, seed=state.seed_for(seeds.CHAOS_PROXY))
    await proxy.start()
    _allow(state, "127.0.0.1", proxy.port)
    try:
        yield proxy
    finally:
        await proxy.stop()
