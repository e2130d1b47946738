"""mypy --strict accepts tests/typing/api_usage.py and rejects misuse of the API.

The typing file is never run; this test type-checks it, together with a file of
plain mistakes that must each be reported, so the check cannot pass vacuously.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MISTAKES = textwrap.dedent(
    """
    from httpdeck import HTTPClient, HTTPClientConfig, Ok

    async def mistakes(client: HTTPClient) -> None:
        await client.get("http://127.0.0.1/", retries=3)
        await client.post("http://127.0.0.1/", timeout="2s")
        HTTPClientConfig(max_redirects="3")
        result = await client.get("http://127.0.0.1/")
        result.value
    """
)


def test_api_usage_type_checks_and_mistakes_do_not(tmp_path: Path) -> None:
    mistakes = tmp_path / "mistakes.py"
    mistakes.write_text(MISTAKES)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "mypy-cache"),
            str(ROOT / "tests" / "typing" / "api_usage.py"),
            str(ROOT / "tests" / "typing" / "check_http_client_protocol.py"),
            str(mistakes),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    errors = [line for line in completed.stdout.splitlines() if ": error:" in line]
    assert not [line for line in errors if "mistakes.py" not in line], completed.stdout
    reported = {int(line.split(":")[1]) for line in errors if "mistakes.py" in line}
    assert reported == {5, 6, 7, 9}, completed.stdout
