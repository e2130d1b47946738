"""Every fixture in a generated project, in pytest-asyncio's strict and auto modes."""

from __future__ import annotations

import pytest
from plugin_project import Project, failure_section

APP_CONFTEST = """
    import pytest
    from aiohttp import web

    from httpdeck import HTTPClientConfig

    @pytest.fixture
    def httpdeck_client_config():
        return HTTPClientConfig(headers={"X-Team": "platform"})

    @pytest.fixture
    def httpdeck_app():
        async def echo(request):
            return web.json_response(
                {"path": request.path, "team": request.headers.get("X-Team")}
            )

        app = web.Application()
        app.router.add_get("/{tail:.*}", echo)
        return app
"""

# In strict mode every async test gets `@pytest.mark.asyncio`; auto mode needs none.
FIXTURE_TESTS = """
    import pytest
    from aiohttp import web

    from httpdeck import HTTPClientProtocol, RetryPolicy, is_testing
    from httpdeck.testing import FakeResponse, faults, schedules
    from httpdeck.testing.fake._data import FakeDataFactory
    from httpdeck.testing._seeds import derive_seed

    async def test_fake(httpdeck_fake):
        users = httpdeck_fake.route("GET", "https://api.example.com/users").respond(json=[1])
        response = (await httpdeck_fake.get("https://api.example.com/users")).unwrap()
        assert response.json() == [1]
        users.assert_called_once()

    async def test_client_reaches_the_local_server(httpdeck_client, httpdeck_server):
        response = (await httpdeck_client.get(httpdeck_server.url / "hello")).unwrap()
        assert response.json() == {{"path": "/hello", "team": "platform"}}
        assert httpdeck_server.url.host == "127.0.0.1"

    @pytest.mark.httpdeck_client(headers={{"X-Team": "payments"}})
    async def test_client_marker_configures_the_client(httpdeck_client, httpdeck_server):
        response = (await httpdeck_client.get(httpdeck_server.url / "team")).unwrap()
        assert response.json()["team"] == "payments"

    async def other_app():
        async def other(request):
            return web.json_response({{"path": "other", "team": None}})

        app = web.Application()
        app.router.add_get("/", other)
        return app

    @pytest.mark.httpdeck_server(app=other_app)
    async def test_server_marker_gives_the_app(httpdeck_client, httpdeck_server):
        response = (await httpdeck_client.get(httpdeck_server.url)).unwrap()
        assert response.json()["path"] == "other"

    async def test_chaos_proxy_in_front_of_the_server(httpdeck_client, httpdeck_chaos_proxy):
        response = (await httpdeck_client.get(httpdeck_chaos_proxy.url / "via")).unwrap()
        assert response.json()["path"] == "/via"
        assert httpdeck_chaos_proxy.connections == 1

    @pytest.mark.httpdeck_faults(faults.Status(502), schedule=schedules.First(1))
    async def test_stub_module(httpdeck_stub_module, httpdeck_faults):
        stub = httpdeck_stub_module
        stub.fake.route("GET", "https://api.example.com/health").respond(json={{"ok": True}})
        client = stub.container.resolve(HTTPClientProtocol)
        assert client is stub.fake
        assert client.config.headers == {{"X-Team": "platform"}}
        assert (await client.get("https://api.example.com/health")).unwrap_err().status == 502
        response = (await client.get("https://api.example.com/health")).unwrap()
        assert response.json() == {{"ok": True}}

    @pytest.mark.httpdeck_fake(base_url="https://api.example.com")
    async def test_stub_module_and_fake_are_one_fake(httpdeck_fake, httpdeck_stub_module):
        assert httpdeck_stub_module.fake is httpdeck_fake
        client = httpdeck_stub_module.container.resolve(HTTPClientProtocol)
        assert client is httpdeck_fake
        users = httpdeck_fake.route("GET", "/users").respond(json=[])
        assert (await client.get("/users")).unwrap().json() == []
        users.assert_called_once()

    @pytest.mark.httpdeck_faults(faults.Status(503), schedule=schedules.First(1))
    async def test_faults_marker_on_the_fake(httpdeck_fake, httpdeck_faults):
        httpdeck_fake.route("GET", "https://api.example.com/orders").respond(json=[])
        first = await httpdeck_fake.get("https://api.example.com/orders")
        second = await httpdeck_fake.get("https://api.example.com/orders")
        assert first.unwrap_err().status == 503
        assert second.unwrap().json() == []
        assert [event.kind for event in httpdeck_faults.log] == ["status.503"]

    async def test_latency_runs_on_the_fakes_virtual_clock(httpdeck_fake, httpdeck_faults):
        httpdeck_faults.on("GET", "*/slow").inject(faults.Latency(5.0)).first(1)
        httpdeck_fake.route("GET", "https://api.example.com/slow").respond(json=[])
        assert (await httpdeck_fake.get("https://api.example.com/slow")).unwrap().json() == []
        assert httpdeck_fake.clock.sleeps == [5.0]

    @pytest.mark.httpdeck_fake(
        base_url="https://api.example.com",
        retry_policy=RetryPolicy(max_attempts=3, base_delay=20.0),
    )
    async def test_fake_marker_and_retry_testing_mode(httpdeck_fake):
        httpdeck_fake.route("GET", "/flaky").respond_sequence([503, 503, FakeResponse(json="ok")])
        # Backoff of up to 20-30 s per retry: testing mode skips the waits.
        assert (await httpdeck_fake.get("https://api.example.com/flaky")).unwrap().json() == "ok"
        print("retry testing:", is_testing())

    @pytest.mark.httpdeck_fake_data(seed=5)
    def test_fake_data_marker_pins_the_seed(httpdeck_fake_data):
        template = {{"name": "name", "email": "email"}}
        assert httpdeck_fake_data.build(template) == FakeDataFactory(seed=5).build(template)

    def test_fake_data_and_seed_derive_from_the_run_seed(httpdeck_fake_data, httpdeck_seed, request):
        nodeid = request.node.nodeid
        assert httpdeck_seed == derive_seed(1234, nodeid)
        assert httpdeck_fake_data.seed == derive_seed(1234, nodeid, "fake_data")
        # A factory made in the test without a seed is the fixture's twin.
        assert FakeDataFactory().seed == httpdeck_fake_data.seed
"""


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_every_fixture_works_in_strict_and_auto_mode(pytester: pytest.Pytester, mode: str) -> None:
    project = Project(pytester)
    project.ini(mode=mode)
    project.conftest(APP_CONFTEST)
    source = FIXTURE_TESTS.replace("{{", "{").replace("}}", "}")
    if mode == "strict":
        source = source.replace("\n    async def ", "\n    @pytest.mark.asyncio\n    async def ")
    project.tests(source)
    # -W error: an unclosed session or a leaked socket from any fixture fails the run.
    result = project.run("-s", "--httpdeck-seed=1234", "-W", "error")
    result.assert_outcomes(passed=12)
    result.stdout.fnmatch_lines(["*retry testing: True"])
    result.stdout.fnmatch_lines(
        [
            "*= httpdeck =*",
            "seed: 1234 (repeat with --httpdeck-seed=1234)",
            "cassettes: 0 played (0 interactions), 0 recorded (0 interactions)",
            "unused interactions: 0",
            "faults injected: 3 (latency x1, status.502 x1, status.503 x1)",
        ]
    )


def test_retry_testing_mode_can_be_turned_off_in_the_ini(pytester: pytest.Pytester) -> None:
    project = Project(pytester)
    project.ini(extra="httpdeck_retry_testing = false\n")
    project.tests(
        """
        from httpdeck import is_testing

        def test_mode():
            print("retry testing:", is_testing())
        """
    )
    result = project.run("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*retry testing: False"])
    # Nothing httpdeck did in this run: no summary section.
    result.stdout.no_fnmatch_line("*= httpdeck =*")


FAKE_CHECKS = """
    import pytest

    from httpdeck.testing import UnmatchedRequestError

    pytestmark = pytest.mark.asyncio

    async def test_unused_route_fails_the_test(httpdeck_fake):
        httpdeck_fake.route("GET", "https://api.example.com/users").respond(json=[])
        httpdeck_fake.route("POST", "https://api.example.com/users", name="create").respond(
            status=201
        )

    async def test_swallowed_unmatched_request_fails_the_test(httpdeck_fake):
        try:
            await httpdeck_fake.request("GET", "https://api.example.com/missing")
        except Exception:
            pass  # the code under test hides the error

    async def test_optional_route_may_stay_unused(httpdeck_fake):
        httpdeck_fake.route("GET", "https://api.example.com/users", optional=True).respond(json=[])

    @pytest.mark.httpdeck_allow_unused_routes
    async def test_marker_allows_unused_routes(httpdeck_fake):
        httpdeck_fake.route("GET", "https://api.example.com/users").respond(json=[])

    @pytest.mark.httpdeck_allow_unmatched_requests
    async def test_marker_allows_unmatched_requests(httpdeck_fake):
        with pytest.raises(UnmatchedRequestError):
            await httpdeck_fake.get("https://api.example.com/missing")

    async def test_a_failing_body_reports_only_its_own_failure(httpdeck_fake):
        httpdeck_fake.route("GET", "https://api.example.com/users").respond(json=[])
        assert 1 + 1 == 3, "the test's own failure"

    async def test_the_stub_modules_fake_is_checked_too(httpdeck_stub_module):
        httpdeck_stub_module.fake.route("GET", "https://api.example.com/health").respond()

    async def test_one_fake_for_fake_and_stub_module_is_checked_once(
        httpdeck_fake, httpdeck_stub_module
    ):
        httpdeck_fake.route("GET", "https://api.example.com/health").respond()

    async def test_a_server_without_an_app_says_how_to_give_one(httpdeck_server):
        pass

    @pytest.mark.httpdeck_cassette(recordmode="once")
    async def test_a_misspelt_marker_option_is_named(httpdeck_client):
        pass

    @pytest.mark.httpdeck_cassette(record_mode="sometimes")
    async def test_bad_marker_record_mode(httpdeck_client):
        pass

    @pytest.mark.httpdeck_faults("reset")
    def test_bad_fault(httpdeck_faults):
        pass

    @pytest.mark.httpdeck_client(max_redirects=-1)
    async def test_bad_client_field(httpdeck_client):
        pass

    @pytest.mark.httpdeck_server(app=42)
    async def test_bad_app(httpdeck_server):
        pass

    @pytest.mark.httpdeck_block_network(True, ["localhost"])
    def test_too_many_positional_arguments():
        pass
"""


def test_fake_fails_the_test_for_unused_routes_and_unexpected_requests(
    pytester: pytest.Pytester,
) -> None:
    project = Project(pytester)
    project.tests(FAKE_CHECKS)
    result = project.run()
    result.assert_outcomes(passed=3, failed=5, errors=7)
    result.stdout.fnmatch_lines(
        [
            "*_ test_unused_route_fails_the_test _*",
            "httpdeck_fake: 2 routes were never called:",
            "  - GET https://api.example.com/users",
            "  - 'create' POST https://api.example.com/users",
            "Call them, remove them, or declare them with optional=True.",
            "Or mark the test @pytest.mark.httpdeck_allow_unused_routes to allow unused routes.",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_swallowed_unmatched_request_fails_the_test _*",
            "httpdeck_fake: 1 request matched no route:",
            "  - GET https://api.example.com/missing",
            "The first one failed with:",
            "No route matched GET https://api.example.com/missing*",
            "*Declare a route for it, or, if the test expects it, mark the test "
            "@pytest.mark.httpdeck_allow_unmatched_requests.",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_a_failing_body_reports_only_its_own_failure _*",
            "*AssertionError: the test's own failure*",
        ]
    )
    own_failure = failure_section(result, "test_a_failing_body_reports_only_its_own_failure")
    assert "the test's own failure" in own_failure
    assert "never called" not in own_failure
    result.stdout.fnmatch_lines(
        [
            "*_ test_the_stub_modules_fake_is_checked_too _*",
            "httpdeck_fake (httpdeck_stub_module.fake): 1 route was never called:",
        ]
    )
    once = failure_section(result, "test_one_fake_for_fake_and_stub_module_is_checked_once")
    assert once.count("route was never called") == 1, once
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at setup of test_a_server_without_an_app_says_how_to_give_one _*",
            "httpdeck_server needs an app: define a fixture named httpdeck_app that returns an "
            "aiohttp.web.Application, or mark the test "
            "@pytest.mark.httpdeck_server(app=app_or_factory).",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at setup of test_a_misspelt_marker_option_is_named _*",
            "@pytest.mark.httpdeck_cassette got an unknown option 'recordmode'; known options: "
            "name, record_mode, match_on, filter_headers, *",
        ]
    )
    for line in (
        "@pytest.mark.httpdeck_cassette(record_mode='sometimes') is not valid: choose one of "
        "none, once, new_episodes, all, rewrite.",
        "@pytest.mark.httpdeck_faults takes faults as positional arguments (from httpdeck.testing "
        "import faults), got 'reset'.",
        "@pytest.mark.httpdeck_client: HTTPClientConfig.max_redirects must be an integer >= 0, "
        "got -1.",
        "httpdeck_server needs an aiohttp.web.Application (or a function returning one), got 42.",
        "@pytest.mark.httpdeck_block_network takes at most 1 positional argument(s), got 2: "
        "[[]True, [[]'localhost'[]][]].",
    ):
        result.stdout.fnmatch_lines([line])


PER_TEST_OBJECTS = """
    import pytest

    from httpdeck import CircuitBreaker, HTTPCircuitOpenError, InMemoryMetrics
    from httpdeck.testing import FakeClock

    URL = "https://pay.example.com/charge"

    def breaker():
        return CircuitBreaker(failure_threshold=1)

    # A class marker's arguments are built once, at import, for all its tests:
    # objects with state are given as factories, called for each test.
    @pytest.mark.asyncio
    @pytest.mark.httpdeck_fake(circuit_breaker=breaker, clock=FakeClock, metrics=InMemoryMetrics)
    class TestPayments:
        @pytest.mark.parametrize("attempt", [1, 2])
        async def test_a_failure_opens_this_tests_breaker(self, httpdeck_fake, attempt):
            httpdeck_fake.route("GET", URL).respond(503)
            assert (await httpdeck_fake.get(URL)).unwrap_err().status == 503
            refused = (await httpdeck_fake.get(URL)).unwrap_err()
            assert isinstance(refused, HTTPCircuitOpenError)
            await httpdeck_fake.clock.sleep(10)
            assert httpdeck_fake.metrics.count("http.request.status") == 1

        async def test_a_success_starts_afresh(self, httpdeck_fake):
            httpdeck_fake.route("GET", URL).respond(200)
            assert (await httpdeck_fake.get(URL)).unwrap().status == 200
            assert httpdeck_fake.clock.now == 0
            assert httpdeck_fake.metrics.count("http.request.status") == 1

    @pytest.mark.asyncio
    @pytest.mark.httpdeck_client(interceptors=lambda: [Recorder()])
    @pytest.mark.parametrize("path", ["a", "b"])
    async def test_client_marker_factories_too(httpdeck_client, httpdeck_server, path):
        await httpdeck_client.get(httpdeck_server.url / path)
        (recorder,) = httpdeck_client.interceptors
        assert recorder.seen == [f"/{path}"]

    class Recorder:
        def __init__(self):
            self.seen = []

        async def intercept_request(self, context):
            self.seen.append(context.request.url.path)
"""


def test_marker_options_with_state_take_a_factory_called_per_test(
    pytester: pytest.Pytester,
) -> None:
    project = Project(pytester)
    project.conftest(APP_CONFTEST)
    project.tests(PER_TEST_OBJECTS)
    result = project.run()
    result.assert_outcomes(passed=5)


def test_a_route_asserted_not_called_passes_the_teardown_check(pytester: pytest.Pytester) -> None:
    project = Project(pytester)
    project.tests(
        """
        import pytest

        @pytest.mark.asyncio
        async def test_deleting_is_never_attempted(httpdeck_fake):
            remove = httpdeck_fake.route("DELETE", "https://api.example.com/users/1")
            httpdeck_fake.route("GET", "https://api.example.com/users/1").respond(json={})
            (await httpdeck_fake.get("https://api.example.com/users/1")).unwrap()
            remove.assert_not_called()
        """
    )
    project.run().assert_outcomes(passed=1)
