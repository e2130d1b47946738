"""A project moving from pytest-recording keeps its cassettes where they are.

pytest-recording itself records the cassettes first (its `vcr` marker,
aiohttp patched by vcrpy, a 127.0.0.1 server), in its own layout:
`tests/cassettes/<module name>/<test name>.yaml`. The same tests, rewritten
for httpdeck, then replay them with the server gone and the network blocked.
"""

from __future__ import annotations

import pytest
import yaml
from plugin_project import QUIET, Project, failure_section

CONFTEST = """
    import pytest
    from aiohttp import web

    @pytest.fixture
    def httpdeck_app():
        async def handle(request):
            return web.json_response({"path": request.path})

        app = web.Application()
        app.router.add_get("/{tail:.*}", handle)
        return app
"""

# Recorded by pytest-recording: plain aiohttp under its `vcr` marker.
RECORDING = """
    import aiohttp
    import pytest

    pytestmark = pytest.mark.asyncio

    async def get(url):
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return await response.json()

    @pytest.mark.vcr
    async def test_users(httpdeck_server):
        assert (await get(httpdeck_server.url / "users"))["path"] == "/users"

    @pytest.mark.vcr
    async def test_both_layouts(httpdeck_server):
        assert (await get(httpdeck_server.url / "both"))["path"] == "/both"

    @pytest.mark.vcr
    @pytest.mark.parametrize("item", ["1", "a/b: c"])
    async def test_item(httpdeck_server, item):
        await get(httpdeck_server.url / "items" / item.replace("/", "_"))

    class TestOrders:
        @pytest.mark.vcr
        async def test_list(self, httpdeck_server):
            assert (await get(httpdeck_server.url / "orders"))["path"] == "/orders"
"""

# The same tests for httpdeck. 127.0.0.2:9 serves nothing and the network is
# blocked: every answer comes from a cassette.
REPLAY = """
    import pytest

    pytestmark = [pytest.mark.asyncio, pytest.mark.httpdeck_cassette]

    NOWHERE = "http://127.0.0.2:9"

    async def get(client, path):
        return (await client.get(f"{NOWHERE}/{path}")).unwrap().json()["path"]

    async def test_users(httpdeck_client, httpdeck_cassette):
        assert await get(httpdeck_client, "users") == "/users"
        print("PATH", httpdeck_cassette.path.name, httpdeck_cassette.path.parent.name)

    async def test_both_layouts(httpdeck_client, httpdeck_cassette):
        assert await get(httpdeck_client, "both") == "/ours"

    @pytest.mark.parametrize("item", ["1", "a/b: c"])
    async def test_item(httpdeck_client, httpdeck_cassette, item):
        path = "items/" + item.replace("/", "_")
        assert await get(httpdeck_client, path) == "/" + path
        assert httpdeck_cassette.play_count == 1

    class TestOrders:
        async def test_list(self, httpdeck_client, httpdeck_cassette):
            assert await get(httpdeck_client, "orders") == "/orders"

    @pytest.mark.httpdeck_cassette("shared")
    async def test_named(httpdeck_client):
        assert await get(httpdeck_client, "users") == "/users"
"""

INI = """
    httpdeck_match_on = method path query
"""


def test_cassettes_pytest_recording_wrote_replay_unchanged(pytester: pytest.Pytester) -> None:
    project = Project(pytester)
    project.ini(extra=INI)
    project.conftest(CONFTEST)
    pytester.mkdir("tests")
    (project.path / "tests" / "test_api.py").write_text(_dedent(RECORDING))
    assert QUIET[-2:] == ("-p", "no:recording")
    recorded = pytester.runpytest_subprocess(*QUIET[:-2], "--record-mode=once", "tests")
    recorded.assert_outcomes(passed=5)

    theirs = project.path / "tests" / "cassettes" / "test_api"
    assert sorted(p.name for p in theirs.iterdir()) == [
        "TestOrders.test_list.yaml",
        "test_both_layouts.yaml",
        "test_item[1].yaml",
        "test_item[a-b- c].yaml",
        "test_users.yaml",
    ]
    (theirs / "shared.yaml").write_text((theirs / "test_users.yaml").read_text())
    # test_both_layouts also has a cassette in httpdeck's layout, under the
    # configured dir and under the default one: that one wins.
    cassette = yaml.safe_load((theirs / "test_both_layouts.yaml").read_text())
    cassette["interactions"][0]["response"]["body"]["string"] = '{"path": "/ours"}'
    for root in ("tests/cassettes", "cassettes"):
        ours = project.path / root / "tests" / "test_api" / "test_both_layouts.yaml"
        ours.parent.mkdir(parents=True)
        ours.write_text(yaml.safe_dump(cassette))

    (project.path / "tests" / "test_api.py").write_text(_dedent(REPLAY))
    for args in (["--httpdeck-cassette-dir=tests/cassettes"], []):
        replayed = project.run("-s", "--httpdeck-block-network", *args, "tests")
        replayed.assert_outcomes(passed=6)
        replayed.stdout.fnmatch_lines(
            [
                "*PATH test_users.yaml test_api*",
                "cassettes: 6 played (6 interactions), 0 recorded (0 interactions)",
            ]
        )


def _dedent(source: str) -> str:
    import textwrap

    return textwrap.dedent(source)


def test_httpdeck_layout_keeps_working_without_a_pytest_recording_tree(
    pytester: pytest.Pytester,
) -> None:
    """Covered in depth by test_plugin_cassettes; here: a missing cassette is
    recorded into httpdeck's layout even when pytest-recording's folder exists."""
    project = Project(pytester)
    project.ini(extra=INI)
    project.conftest(CONFTEST)
    pytester.mkdir("tests")
    (project.path / "tests" / "cassettes" / "test_api").mkdir(parents=True)
    (project.path / "tests" / "test_api.py").write_text(
        _dedent(
            """
            import pytest

            @pytest.mark.asyncio
            async def test_new(httpdeck_client, httpdeck_server, httpdeck_cassette):
                await httpdeck_client.get(httpdeck_server.url / "new")
            """
        )
    )
    project.run("--httpdeck-record-mode=once", "tests").assert_outcomes(passed=1)
    assert (project.path / "cassettes" / "tests" / "test_api" / "test_new.yaml").is_file()
    assert list((project.path / "tests" / "cassettes" / "test_api").iterdir()) == []


@pytest.mark.parametrize("configured", [True, False])
def test_a_missing_cassette_names_every_path_the_lookup_tried(
    pytester: pytest.Pytester, configured: bool
) -> None:
    project = Project(pytester)
    project.ini(extra=INI)
    project.conftest(CONFTEST)
    pytester.mkdir("tests")
    (project.path / "tests" / "test_api.py").write_text(
        _dedent(
            """
            import pytest

            @pytest.mark.asyncio
            @pytest.mark.httpdeck_cassette(record_mode="none")
            async def test_gone(httpdeck_client, httpdeck_cassette):
                await httpdeck_client.request("GET", "http://127.0.0.2:9/gone")
            """
        )
    )
    args = ["--httpdeck-cassette-dir=tests/cassettes"] if configured else []
    result = project.run("--httpdeck-block-network", *args, "tests")
    result.assert_outcomes(failed=1)
    root = project.path / ("tests/cassettes" if configured else "cassettes")
    theirs = [root / "test_api"]
    if not configured:
        theirs.append(project.path / "tests" / "cassettes" / "test_api")
    paths = [root / "tests" / "test_api" / "test_gone.yaml"] + [
        folder / f"test_gone{suffix}" for folder in theirs for suffix in (".yaml", ".json")
    ]
    section = failure_section(result, "test_gone")
    assert f"  looked for it at: {', '.join(map(str, paths))}\n" in section
