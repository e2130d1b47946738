"""Options, ini twins, the report header, markers, and what the plugin imports at start-up."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from plugin_project import Project

HEAVY = ("aiohttp", "vcr", "faker", "yaml", "httpdeck.client", "httpdeck.testing.fake._client")


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (
            ["--httpdeck-record-mode=sometimes"],
            "",
            "ERROR: --httpdeck-record-mode='sometimes' is not valid: "
            "choose one of none, once, new_episodes, all, rewrite.",
        ),
        (
            [],
            "httpdeck_record_mode = always\n",
            "ERROR: httpdeck_record_mode (in pytest.ini)='always' is not valid: "
            "choose one of none, once, new_episodes, all, rewrite.",
        ),
        (
            ["--httpdeck-seed=-3"],
            "",
            "ERROR: --httpdeck-seed='-3' is not valid: pass an integer from 0 to "
            "18446744073709551615 (ASCII digits), or 'random' for a new seed each run.",
        ),
        (
            ["--httpdeck-seed=" + "7" * 5000],
            "",
            "ERROR: --httpdeck-seed='77777777777777777777...' (5000 characters) is not valid: "
            "pass an integer from 0 to 18446744073709551615 (ASCII digits), or 'random' "
            "for a new seed each run.",
        ),
        (
            [],
            "httpdeck_block_network = sometimes\n",
            "ERROR: httpdeck_block_network (in pytest.ini)='sometimes' is not valid: "
            "choose one of true, false (or 1, 0, yes, no, on, off).",
        ),
        (
            ["--httpdeck-allow-hosts=localhost,exa mple:99999"],
            "",
            "ERROR: --httpdeck-allow-hosts has an invalid host 'mple:99999': expected a host "
            "name, an IP address, host:port or [IPv6]:port, for example localhost,127.0.0.1:8080.",
        ),
    ],
    ids=[
        "record-mode-cli",
        "record-mode-ini",
        "seed",
        "seed-5000-digits",
        "block-network-ini",
        "allow-hosts",
    ],
)
def test_bad_values_are_usage_errors_naming_the_valid_choices(
    pytester: pytest.Pytester, args: list[str], ini: str, message: str
) -> None:
    project = Project(pytester)
    project.ini(extra=ini)
    result = project.run_inprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_header_shows_the_effective_settings_and_the_command_line_wins_over_ini(
    pytester: pytest.Pytester,
) -> None:
    project = Project(pytester)
    project.ini(
        extra="""
        httpdeck_record_mode = once
        httpdeck_cassette_dir = recorded
        httpdeck_block_network = yes
        httpdeck_allow_hosts = localhost api.internal:8443
        httpdeck_seed = 7
        """
    )
    result = project.run_inprocess("--co")
    result.stdout.fnmatch_lines(
        [
            "httpdeck: record_mode=once (httpdeck_record_mode; markers override), "
            "cassette_dir=recorded, block_network=yes "
            "(allow_hosts=localhost,api.internal:8443), seed=7 (httpdeck_seed; "
            "repeat with --httpdeck-seed=7)"
        ]
    )

    result = project.run_inprocess(
        "--co",
        "--httpdeck-record-mode=new_episodes",
        "--httpdeck-seed=11",
        "--no-httpdeck-block-network",
        "--httpdeck-allow-hosts=127.0.0.1",
        f"--httpdeck-cassette-dir={project.path / 'elsewhere'}",
    )
    result.stdout.fnmatch_lines(
        [
            "httpdeck: record_mode=new_episodes (--httpdeck-record-mode, over markers), "
            "cassette_dir=elsewhere, block_network=no "
            "(allow_hosts=127.0.0.1), seed=11 (--httpdeck-seed; repeat with --httpdeck-seed=11)"
        ]
    )


def test_default_seed_is_random_and_printed_so_a_run_can_be_repeated(
    pytester: pytest.Pytester,
) -> None:
    project = Project(pytester)
    result = project.run_inprocess("--co")
    header = next(line for line in result.outlines if line.startswith("httpdeck:"))
    match = re.search(r"seed=(\d+) \(random; repeat with --httpdeck-seed=(\d+)\)$", header)
    assert match is not None, header
    assert match[1] == match[2]
    assert header.startswith(
        "httpdeck: record_mode=none (default; markers override), cassette_dir=cassettes, "
        "block_network=no (allow_hosts=-), "
    )


def test_help_lists_every_option_with_its_ini_twin_in_one_group(pytester: pytest.Pytester) -> None:
    project = Project(pytester)
    result = project.run_inprocess("--help")
    result.stdout.fnmatch_lines(
        [
            "httpdeck: fake client, cassettes, faults, network:",
            "*--httpdeck-record-mode=MODE*",
            "*--httpdeck-cassette-dir=DIR*",
            "*--httpdeck-block-network, --no-httpdeck-block-network*",
            "*--httpdeck-allow-hosts=HOSTS*",
            "*--httpdeck-seed=SEED*",
        ]
    )
    text = result.stdout.str()
    for ini in (
        "httpdeck_record_mode",
        "httpdeck_cassette_dir",
        "httpdeck_block_network",
        "httpdeck_allow_hosts",
        "httpdeck_seed",
        "httpdeck_filter_headers",
        "httpdeck_match_on",
        "httpdeck_retry_testing",
    ):
        assert f"  {ini} " in text, ini


def test_markers_are_registered(pytester: pytest.Pytester) -> None:
    project = Project(pytester)
    result = project.run_inprocess("--markers")
    for marker in (
        "httpdeck_cassette(name=None, *, record_mode=None, match_on=None, filter_headers=None",
        "httpdeck_faults(*faults, schedule=None, seed=None, decide_by=",
        "httpdeck_allow_unused_routes:",
        "httpdeck_allow_unmatched_requests:",
        "httpdeck_block_network(enabled=True, *, allow_hosts=())",
        "httpdeck_client(**config)",
        "httpdeck_fake(**options)",
        "httpdeck_fake_data(*, seed=None, locale=None, reference_date=None)",
        "httpdeck_server(app=...)",
    ):
        result.stdout.fnmatch_lines([f"@pytest.mark.{marker}*"])


def test_start_up_imports_nothing_heavy_until_a_fixture_is_used(pytester: pytest.Pytester) -> None:
    project = Project(pytester)
    project.tests(
        f"""
        import sys

        import pytest

        HEAVY = {HEAVY!r}

        def loaded():
            return sorted(m for m in sys.modules if m.startswith(HEAVY))

        def test_plain_test_sees_no_heavy_import():
            assert "httpdeck.testing.plugin" in sys.modules
            assert loaded() == []

        @pytest.mark.asyncio
        async def test_the_fake_fixture_imports_the_client(httpdeck_fake):
            assert "aiohttp" in loaded()
        """
    )
    result = project.run()
    result.assert_outcomes(passed=2)


def test_importing_the_plugin_module_alone_stays_light() -> None:
    code = (
        "import sys, httpdeck.testing.plugin\n"
        f"print(sorted(m for m in sys.modules if m.startswith({HEAVY!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_sits_next_to_pytest_recording_and_pytest_httpx(pytester: pytest.Pytester) -> None:
    project = Project(pytester)
    project.tests(
        """
        import httpx
        import pytest

        @pytest.mark.asyncio
        @pytest.mark.vcr
        async def test_both(httpx_mock, httpdeck_fake):
            httpx_mock.add_response(url="https://peer.example/", json={"peer": True})
            httpdeck_fake.route("GET", "https://api.example.com/").respond(json={"ours": True})
            async with httpx.AsyncClient() as client:
                assert (await client.get("https://peer.example/")).json() == {"peer": True}
            assert (await httpdeck_fake.get("https://api.example.com/")).unwrap().json() == {
                "ours": True
            }
        """
    )
    # Only Flask-importing httpbin is left out; pytest-recording and pytest-httpx load.
    result = project.pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "-p",
        "no:httpbin",
        "--record-mode=none",
        "--httpdeck-record-mode=none",
        "--block-network",
        "--httpdeck-block-network",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["plugins: *httpx-*recording-*httpdeck-*"])
