"""The plugin over HTTP/2: a project whose client config turns `http2` on gets
`HttpxTransport` from `httpdeck_client`, and cassettes, faults and network
blocking work over it unchanged, against a real hypercorn server (TLS, h2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from plugin_project import Project

H2SERVER = (Path(__file__).parent.parent / "integration" / "h2server.py").read_text()

CONFTEST = """
    import pytest
    import pytest_asyncio

    from h2server import h2_server
    from httpdeck import ConnectionPoolConfig, HTTPClientConfig

    @pytest_asyncio.fixture
    async def h2(tmp_path):
        async with h2_server(tmp_path) as server:
            yield server

    @pytest.fixture
    def httpdeck_client_config():
        # The throwaway CA is not in the system store: no verification here.
        return HTTPClientConfig(http2=True, pool=ConnectionPoolConfig(verify_ssl=False))
"""

TESTS = """
    import os

    import pytest

    from httpdeck import HttpxTransport, RetryPolicy
    from httpdeck.testing import faults, schedules

    pytestmark = pytest.mark.asyncio

    # `h2` first: the client closes before the server stops (else hypercorn
    # waits 30 s for the TLS shutdown of a connection the client still holds).

    async def test_the_client_speaks_http2(h2, httpdeck_client):
        assert isinstance(httpdeck_client.transport, HttpxTransport)
        response = (await httpdeck_client.get(h2.url / "echo")).unwrap()
        assert response.http_version == "HTTP/2"
        assert h2.app.seen == [("2", "GET", "/echo")]

    @pytest.mark.httpdeck_cassette
    @pytest.mark.httpdeck_client(retry_policy=RetryPolicy(max_attempts=2, base_delay=0))
    @pytest.mark.httpdeck_faults(faults.Status(503), schedule=schedules.First(1))
    async def test_a_cassette_with_a_fault_on_top(h2, httpdeck_client, httpdeck_faults):
        response = (await httpdeck_client.get(h2.url / "echo")).unwrap()
        assert response.json()["http_version"] == "2"
        assert [event.kind for event in httpdeck_faults.log] == ["status.503"]
        if os.environ.get("H2_REPLAY"):
            assert h2.app.seen == []  # the cassette answered
"""


def test_cassettes_and_faults_work_over_http2_then_replay_with_the_network_blocked(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = Project(pytester)
    # The server gets a new port on every run: match without host and port.
    project.ini(extra="httpdeck_match_on = method path query\n")
    pytester.makepyfile(h2server=H2SERVER)
    project.conftest(CONFTEST)
    project.tests(TESTS, name="test_h2")
    recorded = project.run("--httpdeck-record-mode=once")
    recorded.assert_outcomes(passed=2)
    cassettes = list(pytester.path.rglob("*.yaml"))
    assert len(cassettes) == 1
    assert "http_version" in cassettes[0].read_text()

    # Replay: the server still runs (the fixture starts it), but the cassette
    # answers, with the fault injected on top of it again.
    monkeypatch.setenv("H2_REPLAY", "1")
    replayed = project.run(
        "--httpdeck-record-mode=none",
        "--httpdeck-block-network",
        "-k",
        "cassette",
    )
    replayed.assert_outcomes(passed=1)
