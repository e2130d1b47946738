"""`make bench` collects every benchmark module, and checks the rows they return.

The benchmarks themselves are not run here (speed is measured by `make bench`,
never asserted in tests); these tests check the collection: every
benchmarks/bench_*.py is in run_all's list, each exposes `main(quick=...)`,
and malformed rows are refused with the module's name.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import run_all  # noqa: E402 - benchmarks/ is not a package

MODULES = sorted(path.stem for path in BENCHMARKS.glob("bench_*.py"))


def test_run_all_runs_every_benchmark_module() -> None:
    assert sorted(run_all.MODULES) == MODULES


@pytest.mark.parametrize("module", MODULES)
def test_each_benchmark_exposes_main_with_quick(module: str) -> None:
    # Read the source rather than importing it: importing pulls in every peer library.
    tree = ast.parse((BENCHMARKS / f"{module}.py").read_text())
    mains = [
        node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "main"
    ]
    assert mains, f"{module}.py has no top-level main()"
    arguments = mains[-1].args
    first = (arguments.posonlyargs + arguments.args)[0]
    assert first.arg == "quick"
    assert len(arguments.defaults) >= 1  # quick has a default: main() is a full run


def test_rows_in_the_documented_shape_pass() -> None:
    rows = [
        {
            "benchmark": "b",
            "subject": "httpdeck",
            "value": 1.5,
            "unit": "ms",
            "ratio": None,
            "target": "",
        },
        {
            "benchmark": "b",
            "subject": "peer",
            "value": 3,
            "unit": "ms",
            "ratio": 2.0,
            "target": "< 1",
        },
    ]
    assert run_all.check_rows("bench_x", rows) is rows
    assert "| b | peer | 3 | ms | 2 | < 1 |" in run_all.table(rows)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({"benchmark": "b"}, "returned dict, not a list"),
        ([{"benchmark": "b", "subject": "s", "unit": "ms", "target": ""}], "value=None"),
        (
            [
                {
                    "benchmark": "b",
                    "subject": "s",
                    "value": 1,
                    "unit": "ms",
                    "target": "",
                    "ratio": "x",
                }
            ],
            "ratio='x'",
        ),
    ],
)
def test_malformed_rows_name_the_module(rows: object, message: str) -> None:
    with pytest.raises(TypeError, match=message) as info:
        run_all.check_rows("bench_x", rows)
    assert "bench_x.main()" in str(info.value)
