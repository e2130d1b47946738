"""A generated pytest project, run by pytest in a subprocess, for the plugin tests.

The plugin loads there through its `pytest11` entry point, as in a user's
project (this suite itself runs with `-p no:httpdeck`).
"""

from __future__ import annotations

import textwrap

import pytest

# Other plugins installed in the dev environment that these tests do not
# need; leaving them out keeps each subprocess start-up short (pytest-httpbin
# imports Flask) and keeps their imports out of the import-cost checks.
QUIET = (
    "-p",
    "no:cacheprovider",
    "-p",
    "no:httpbin",
    "-p",
    "no:faker",
    "-p",
    "no:pytest_httpx",
    "-p",
    "no:respx",
    "-p",
    "no:anyio",
    "-p",
    "no:recording",
)


class Project:
    """A throwaway pytest project: an ini file, test files, and a way to run it."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.path = pytester.path
        self.ini()

    def ini(self, *, mode: str = "strict", extra: str = "") -> None:
        """pytest.ini as a strict project has it: asyncio `mode`, warnings as errors."""
        self.pytester.makefile(
            ".ini",
            pytest="[pytest]\n"
            f"asyncio_mode = {mode}\n"
            "asyncio_default_fixture_loop_scope = function\n"
            "filterwarnings = error\n"
            "addopts = --strict-markers\n" + textwrap.dedent(extra),
        )

    def tests(self, source: str, *, name: str = "test_generated") -> None:
        self.pytester.makepyfile(**{name: textwrap.dedent(source)})

    def conftest(self, source: str) -> None:
        self.pytester.makeconftest(textwrap.dedent(source))

    def run(self, *args: str) -> pytest.RunResult:
        """Run pytest on the project in a subprocess."""
        return self.pytester.runpytest_subprocess(*QUIET, *args)

    def run_inprocess(self, *args: str) -> pytest.RunResult:
        """For option parsing only (no tests run): much faster than a subprocess."""
        return self.pytester.runpytest_inprocess(*QUIET, *args)


def failure_section(result: pytest.RunResult, test_name: str) -> str:
    """The text of one test's block under FAILURES (or ERRORS) in a run's output.

    The short summary at the end repeats each failure's first line, truncated
    to the terminal's width, so counting over the whole output depends on the
    terminal; a test's own section does not.
    """
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if f" {test_name} _" in line)
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].startswith(("___", "===="))),
        len(lines),
    )
    return "\n".join(lines[start + 1 : end])
