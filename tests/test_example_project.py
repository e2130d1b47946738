"""The example project (examples/weather) passes its own test suite, as its users run it.

Its tests run in a subprocess, from a copy of the project, with its own
pytest configuration and httpdeck's plugin loaded from its entry point: the
way a downstream project runs them. They replay the committed cassettes with
the network blocked.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "weather"
FIXTURES = (
    "httpdeck_fake",
    "httpdeck_client",
    "httpdeck_cassette",
    "httpdeck_faults",
    "httpdeck_server",
    "httpdeck_chaos_proxy",
    "httpdeck_stub_module",
    "httpdeck_fake_data",
    "httpdeck_app",
    "httpdeck_client_config",
)


def test_the_example_projects_tests_pass(tmp_path: Path) -> None:
    project = tmp_path / "weather"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", ".*cache"))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--httpdeck-block-network"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    summary = run.stdout.strip().splitlines()[-1]
    passed = int(re.search(r"(\d+) passed", summary)[1])  # type: ignore[index]
    assert passed >= 15, summary
    assert "skipped" not in summary
    assert "0 recorded" in run.stdout  # everything replayed from the committed cassettes
    # Replaying wrote nothing: the cassettes are as committed.
    for cassette in (EXAMPLE / "cassettes").rglob("*.yaml"):
        copy = project / cassette.relative_to(EXAMPLE)
        assert copy.read_bytes() == cassette.read_bytes(), cassette


@pytest.mark.parametrize("fixture", FIXTURES)
def test_the_example_uses_every_fixture_of_the_plugin(fixture: str) -> None:
    sources = "\n".join(path.read_text() for path in (EXAMPLE / "tests").glob("*.py"))
    assert re.search(rf"\b{fixture}\b", sources), f"examples/weather/tests never uses {fixture}"


def test_the_committed_cassettes_hold_no_api_key() -> None:
    server = (EXAMPLE / "src" / "weather" / "server.py").read_text()
    api_key = re.search(r'^API_KEY = "([^"]+)"$', server, flags=re.MULTILINE)[1]  # type: ignore[index]
    cassettes = list((EXAMPLE / "cassettes").rglob("*.yaml"))
    assert cassettes
    for cassette in cassettes:
        assert api_key not in cassette.read_text(), cassette
