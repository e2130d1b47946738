"""httpdeck_cassette and its marker: record, replay, several cassettes, xdist, the summary."""

from __future__ import annotations

import re

import pytest
import yaml
from plugin_project import Project

# Cassettes are matched without host and port: the local server gets a new
# port on every run, a recorded API would not.
CONFTEST = """
    import pytest
    from aiohttp import web

    HITS = []

    @pytest.fixture
    def httpdeck_app():
        async def handle(request):
            HITS.append(request.path)
            echo = request.headers.get("X-Secret")
            return web.json_response({"path": request.path, "echo": echo})

        app = web.Application()
        app.router.add_get("/{tail:.*}", handle)
        return app
"""

INI = """
    httpdeck_match_on = method path query
    httpdeck_filter_headers = X-Team-Token
"""

RECORD = """
    import pytest
    from conftest import HITS

    pytestmark = pytest.mark.asyncio

    async def test_users(httpdeck_client, httpdeck_server, httpdeck_cassette):
        for path in ("users", "users/1"):
            response = (await httpdeck_client.get(httpdeck_server.url / path)).unwrap()
            assert response.json()["path"] == f"/{path}"
        assert len(HITS) == 2
        assert len(httpdeck_cassette.recorded) == 2

    @pytest.mark.httpdeck_cassette("shared", filter_headers=["X-Secret"])
    async def test_named_cassette_redacts_listed_headers(httpdeck_client, httpdeck_server):
        url = httpdeck_server.url / "orders"
        headers = {"X-Secret": "hunter2", "X-Team-Token": "swordfish"}
        response = (await httpdeck_client.get(url, headers=headers)).unwrap()
        assert response.json()["echo"] == "hunter2"
"""

REPLAY = """
    import pytest
    from conftest import HITS

    from httpdeck.testing import CassetteMissError, faults, schedules

    pytestmark = pytest.mark.asyncio

    # 127.0.0.2:9 serves nothing, and the network is blocked: answers come
    # from the cassettes or nowhere.
    NOWHERE = "http://127.0.0.2:9"

    async def test_users(httpdeck_client, httpdeck_cassette):
        response = (await httpdeck_client.get(f"{NOWHERE}/users")).unwrap()
        assert response.json()["path"] == "/users"
        assert httpdeck_cassette.play_count == 1
        assert not httpdeck_cassette.all_played  # /users/1 is left over

    @pytest.mark.httpdeck_cassette("shared")
    @pytest.mark.httpdeck_cassette("users_too")
    async def test_several_cassettes(httpdeck_client, httpdeck_cassettes):
        shared, users_too = httpdeck_cassettes  # the primary first: it records, if anything
        assert shared.path.name == "shared.yaml"
        assert users_too.path.name == "users_too.yaml"
        orders = (await httpdeck_client.get(f"{NOWHERE}/orders")).unwrap()
        assert orders.json()["echo"] != "hunter2"
        users = (await httpdeck_client.get(f"{NOWHERE}/users")).unwrap()
        assert users.json()["path"] == "/users"
        assert (shared.play_count, users_too.play_count) == (1, 1)

    @pytest.mark.httpdeck_cassette("shared")
    async def test_missing_request_names_the_record_mode_to_use(httpdeck_client):
        with pytest.raises(CassetteMissError) as caught:
            await httpdeck_client.request("GET", f"{NOWHERE}/never-recorded")
        print("MISS:", caught.value)

    @pytest.mark.httpdeck_cassette("shared")
    @pytest.mark.httpdeck_faults(faults.Status(503), schedule=schedules.First(1))
    async def test_faults_on_top_of_replayed_traffic(httpdeck_client, httpdeck_faults):
        first = await httpdeck_client.get(f"{NOWHERE}/orders")
        assert first.unwrap_err().status == 503
        second = await httpdeck_client.get(f"{NOWHERE}/orders")
        assert second.unwrap().json()["path"] == "/orders"

    async def test_no_server_was_hit():
        assert HITS == []
"""


def test_record_then_replay_with_markers_faults_and_summary(pytester: pytest.Pytester) -> None:
    project = Project(pytester)
    project.ini(extra=INI)
    project.conftest(CONFTEST)
    project.tests(RECORD)
    # Recording may reach the network even when it is blocked for other tests.
    recorded = project.run("--httpdeck-record-mode=once", "--httpdeck-block-network")
    recorded.assert_outcomes(passed=2)
    recorded.stdout.fnmatch_lines(
        [
            "*= httpdeck =*",
            "cassettes: 0 played (0 interactions), 2 recorded (3 interactions)",
            "unused interactions: 0",
        ]
    )
    folder = project.path / "cassettes" / "test_generated"
    users = yaml.safe_load((folder / "test_users.yaml").read_text())
    assert [i["request"]["method"] for i in users["interactions"]] == ["GET", "GET"]
    assert users["interactions"][1]["request"]["uri"].endswith("/users/1")
    shared = (folder / "shared.yaml").read_text()
    assert "hunter2" not in shared  # the marker's filter_headers
    assert "swordfish" not in shared  # the ini's httpdeck_filter_headers
    # A second cassette for the several-cassettes test, copied from the first.
    (folder / "users_too.yaml").write_text((folder / "test_users.yaml").read_text())

    project.tests(REPLAY)
    replayed = project.run("-s", "--httpdeck-block-network")
    replayed.assert_outcomes(passed=5)
    replayed.stdout.fnmatch_lines(
        [
            "*MISS: Cannot play back GET http://127.0.0.2:9/never-recorded: no interaction "
            "recorded in */shared.yaml matches it, and record_mode='none' does not record new "
            "requests.",
            "*--httpdeck-record-mode=new_episodes*",
        ]
    )
    replayed.stdout.fnmatch_lines(
        [
            "*= httpdeck =*",
            "seed: *",
            "cassettes: 3 played (4 interactions), 0 recorded (0 interactions)",
            "unused interactions: 2",
            "  cassettes/test_generated/test_users.yaml: 1 never played",
            "  cassettes/test_generated/users_too.yaml: 1 never played",
            "faults injected: 1 (status.503 x1)",
        ]
    )


XDIST = """
    import pytest

    pytestmark = pytest.mark.asyncio

    @pytest.mark.parametrize("n", range(4))
    @pytest.mark.httpdeck_cassette("shared", record_mode="{mode}")
    async def test_shared(httpdeck_client, httpdeck_server, n):
        response = (await httpdeck_client.get(httpdeck_server.url / f"item/{{n}}")).unwrap()
        assert response.json()["path"] == f"/item/{{n}}"

    @pytest.mark.parametrize("n", range(4))
    async def test_own(httpdeck_client, httpdeck_server, httpdeck_cassette, n):
        response = (await httpdeck_client.get(httpdeck_server.url / f"own/{{n}}")).unwrap()
        assert response.json()["path"] == f"/own/{{n}}"
"""


def test_xdist_workers_record_into_cassettes_and_the_controller_sums_up(
    pytester: pytest.Pytester,
) -> None:
    project = Project(pytester)
    # In the ini, not on the command line: there it would win over the markers.
    project.ini(extra=INI + "    httpdeck_record_mode = once\n")
    project.conftest(CONFTEST)
    project.tests(XDIST.format(mode="new_episodes"))
    recorded = project.run("-n", "2", "--httpdeck-seed=5", "--httpdeck-cassette-dir=tapes")
    recorded.assert_outcomes(passed=8)
    recorded.stdout.fnmatch_lines(
        [
            "*= httpdeck =*",
            "seed: 5 (repeat with --httpdeck-seed=5)",
            "cassettes: 0 played (0 interactions), 5 recorded (8 interactions)",
        ]
    )
    folder = project.path / "tapes" / "test_generated"
    shared = yaml.safe_load((folder / "shared.yaml").read_text())
    paths = sorted(i["request"]["uri"].rsplit("/", 2)[-1] for i in shared["interactions"])
    assert paths == ["0", "1", "2", "3"]
    assert len(list(folder.glob("test_own*.yaml"))) == 4

    project.ini(extra=INI)
    project.tests(XDIST.format(mode="none"))
    replayed = project.run("-n", "2", "--httpdeck-cassette-dir=tapes")
    replayed.assert_outcomes(passed=8)
    replayed.stdout.fnmatch_lines(
        [
            "cassettes: 5 played (8 interactions), 0 recorded (0 interactions)",
            "unused interactions: 0",
        ]
    )


VERSIONED_CONFTEST = """
    import pytest
    from aiohttp import web

    @pytest.fixture
    def httpdeck_app(pytestconfig):
        version = (pytestconfig.rootpath / "version.txt").read_text()

        async def handle(request):
            return web.json_response({"version": version})

        app = web.Application()
        app.router.add_get("/version", handle)
        return app
"""

PINNED = """
    import pytest

    @pytest.mark.asyncio
    @pytest.mark.httpdeck_cassette(record_mode="none")
    async def test_pinned(httpdeck_client, httpdeck_server):
        response = (await httpdeck_client.get(httpdeck_server.url / "version")).unwrap()
        print("VERSION", response.json()["version"])
"""


def test_the_command_line_record_mode_beats_markers_which_beat_the_ini(
    pytester: pytest.Pytester,
) -> None:
    project = Project(pytester)
    project.conftest(VERSIONED_CONFTEST)
    project.tests(PINNED)

    def run(version: str, *args: str, ini: str = "") -> str:
        (project.path / "version.txt").write_text(version)
        project.ini(extra=INI + ini)
        result = project.run("-s", *args)
        result.assert_outcomes(passed=1)
        found = re.search(r"VERSION \d", result.stdout.str())
        assert found is not None
        return found[0]

    # The marker says none, but the command line records the missing cassette...
    assert run("1", "--httpdeck-record-mode=once") == "VERSION 1"
    # ...an ini record mode does not beat the marker: replayed...
    assert run("2", ini="    httpdeck_record_mode = rewrite\n") == "VERSION 1"
    # ...and a command-line rewrite refreshes the cassette, whatever the marker says.
    assert run("2", "--httpdeck-record-mode=rewrite") == "VERSION 2"
    assert run("3") == "VERSION 2"


@pytest.mark.parametrize(
    ("args", "ini", "header"),
    [
        ([], "", "record_mode=none (default; markers override)"),
        (
            [],
            "httpdeck_record_mode = once\n",
            "record_mode=once (httpdeck_record_mode; markers override)",
        ),
        (
            ["--httpdeck-record-mode=rewrite"],
            "httpdeck_record_mode = once\n",
            "record_mode=rewrite (--httpdeck-record-mode, over markers)",
        ),
    ],
    ids=["default", "ini", "command-line"],
)
def test_the_header_says_where_the_record_mode_comes_from_and_what_it_beats(
    pytester: pytest.Pytester, args: list[str], ini: str, header: str
) -> None:
    project = Project(pytester)
    project.ini(extra=ini)
    result = project.run_inprocess("--co", *args)
    line = next(line for line in result.outlines if line.startswith("httpdeck:"))
    assert line.startswith(f"httpdeck: {header}, cassette_dir=")
