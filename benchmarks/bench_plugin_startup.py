"""What the pytest plugin costs at start-up, next to its peers' plugins.

Each measurement is one `python -m pytest` run, in a fresh subprocess, of a
throwaway project holding one trivial test. The baseline disables every
plugin under measurement; each subject enables one of them on top of it
(`-p no:<name>` for the others). Runs of all subjects are interleaved round
by round, so drift on a shared machine hits them alike, and the median of
many runs is reported as milliseconds over the baseline.

Subjects: httpdeck's plugin; the peers whose job overlaps (pytest-recording,
pytest-httpx, respx) and Faker's plugin; and, for information, httpdeck's
plugin with a test that uses `httpdeck_fake` (the client's import cost,
paid only once a fixture is used).

Target: httpdeck's plugin adds under 50 ms to pytest's start-up.

Run: `.venv/bin/python benchmarks/bench_plugin_startup.py [--quick]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# entry-point name -> label
PLUGINS = {
    "httpdeck": "httpdeck",
    "recording": "pytest-recording",
    "pytest_httpx": "pytest-httpx",
    "respx": "respx",
    "faker": "Faker's plugin",
}
# Loaded in none of the runs: not under measurement (httpbin imports Flask).
ALWAYS_OFF = ("httpbin", "anyio", "cacheprovider")

PLAIN_TEST = "def test_nothing():\n    pass\n"
FAKE_TEST = """
import pytest

@pytest.mark.asyncio
async def test_fake(httpdeck_fake):
    httpdeck_fake.route("GET", "https://api.example.com/").respond(json=[])
    assert (await httpdeck_fake.get("https://api.example.com/")).unwrap().json() == []
"""
INI = "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"


def _command(enabled: str | None, test: str) -> list[str]:
    disabled = [name for name in PLUGINS if name != enabled] + list(ALWAYS_OFF)
    args = [sys.executable, "-m", "pytest", "-q", test]
    for name in disabled:
        args += ["-p", f"no:{name}"]
    return args


def _run(args: list[str], cwd: Path) -> float:
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    started = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        msg = f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        raise RuntimeError(msg)
    return elapsed


def main(quick: bool = False) -> list[dict[str, Any]]:
    rounds = 7 if quick else 31
    with tempfile.TemporaryDirectory(prefix="httpdeck-bench-") as folder:
        root = Path(folder)
        (root / "pytest.ini").write_text(INI)
        (root / "test_plain.py").write_text(PLAIN_TEST)
        (root / "test_fake.py").write_text(FAKE_TEST)
        cases: dict[str, list[str]] = {"baseline": _command(None, "test_plain.py")}
        for name in PLUGINS:
            cases[name] = _command(name, "test_plain.py")
        cases["httpdeck+fixture"] = _command("httpdeck", "test_fake.py")
        for args in cases.values():  # warm the caches (bytecode, file system)
            _run(args, root)
        times: dict[str, list[float]] = {case: [] for case in cases}
        for _ in range(rounds):
            for case, args in cases.items():
                times[case].append(_run(args, root))
    medians = {case: statistics.median(values) * 1000 for case, values in times.items()}
    base = medians["baseline"]
    ours = medians["httpdeck"] - base
    rows: list[dict[str, Any]] = [
        {
            "benchmark": "plugin start-up",
            "subject": "pytest alone (baseline)",
            "value": base,
            "unit": "ms",
            "ratio": None,
            "target": "",
        }
    ]
    for name, label in PLUGINS.items():
        extra = medians[name] - base
        rows.append(
            {
                "benchmark": "plugin start-up",
                "subject": f"{label}: added",
                "value": extra,
                "unit": "ms",
                # how many times httpdeck's cost this plugin's cost is (httpdeck's row: 1)
                "ratio": extra / ours if ours > 0 and name != "httpdeck" else None,
                "target": "< 50 ms" if name == "httpdeck" else "",
            }
        )
    rows.append(
        {
            "benchmark": "plugin start-up",
            "subject": "httpdeck + a test using httpdeck_fake: added",
            "value": medians["httpdeck+fixture"] - base,
            "unit": "ms",
            "ratio": None,
            "target": "(info: the client is imported on first use)",
        }
    )
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    options = parser.parse_args()
    for row in main(quick=options.quick):
        ratio = f"  (x{row['ratio']:.2f} of httpdeck's)" if row["ratio"] is not None else ""
        print(f"{row['subject']:<48} {row['value']:8.1f} {row['unit']}{ratio}  {row['target']}")
