"""Run every benchmark side by side, print the ratios, write docs/benchmarks.md and a plot.

Usage: `make bench` (or `make bench BENCH_ARGS=--quick`, or
`.venv/bin/python benchmarks/run_all.py [--quick] [--only bench_fake ...]`).

Each `bench_<topic>.py` module exposes `main(quick: bool = False) -> list[dict]` with rows
`{"benchmark", "subject", "value", "unit", "ratio", "target"}`. Subjects are measured side by
side in one run, because the machines are shared and absolute times drift; the ratios are
what to read.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs"
MODULES = [
    "bench_client",
    "bench_streaming",
    "bench_fake",
    "bench_cassette",
    "bench_faults",
    "bench_resilience",
    "bench_plugin_startup",
]
ROW_KEYS = {"benchmark": str, "subject": str, "value": (int, float), "unit": str, "target": str}


def check_rows(module: str, rows: object) -> list[dict[str, Any]]:
    """The rows a `main(quick)` returned, in the documented shape, or an error naming the module."""
    if not isinstance(rows, list):
        msg = f"{module}.main() returned {type(rows).__name__}, not a list of row dicts."
        raise TypeError(msg)
    for row in rows:
        problems = [
            f"{key}={row.get(key)!r} is not {getattr(kind, '__name__', 'a number')}"
            for key, kind in ROW_KEYS.items()
            if not isinstance(row, dict) or not isinstance(row.get(key), kind)
        ]
        ratio = row.get("ratio") if isinstance(row, dict) else None
        if ratio is not None and not isinstance(ratio, int | float):
            problems.append(f"ratio={ratio!r} is not a number or None")
        if problems:
            msg = f"{module}.main() returned a malformed row {row!r}: {'; '.join(problems)}."
            raise TypeError(msg)
    return rows


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| benchmark | subject | value | unit | ratio | target |",
        "|---|---|---:|---|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['benchmark']} | {row['subject']} | {_fmt(row['value'])} | {row['unit']} "
            f"| {_fmt(row.get('ratio'))} | {row.get('target', '')} |"
        )
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rated = [row for row in rows if (row.get("ratio") or 0) > 0]  # a log axis: positive only
    labels = [f"{row['benchmark']}: {row['subject']}" for row in rated]
    fig, ax = plt.subplots(figsize=(10, 0.32 * len(rated) + 1.5))
    ax.barh(labels, [row["ratio"] for row in rated], color="#3b7dd8")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("ratio (see each benchmark's target for its direction)")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds, for a smoke run")
    parser.add_argument("--only", nargs="*", help="run only these modules")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    rows: list[dict[str, Any]] = []
    began = time.perf_counter()
    for name in args.only or MODULES:
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        module = importlib.import_module(name)
        found = check_rows(name, module.main(quick=args.quick))
        rows.extend(found)
        print(f"   {len(found)} rows in {time.perf_counter() - started:.1f} s", flush=True)
    text = table(rows)
    print(text)
    print(f"\nall benchmarks: {time.perf_counter() - began:.0f} s", flush=True)
    DOCS.mkdir(exist_ok=True)
    plot(rows, DOCS / "benchmarks.png")
    header = (
        "# Benchmark results\n\n"
        f"Measured by `make bench`{' (a --quick run: fewer, shorter rounds)' if args.quick else ''} "
        f"on {time.strftime('%Y-%m-%d')}, Python "
        f"{platform.python_version()}, {platform.machine()}, on a shared 2-core machine. "
        "Every subject in a row group ran side by side in the same run; read the ratios, "
        "not the absolute values.\n\n"
        "![ratios](benchmarks.png)\n\n"
    )
    (DOCS / "benchmarks.md").write_text(header + text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
