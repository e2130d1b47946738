"""The `httpdeck` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="httpdeck", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run the end-to-end demo against a local server")
    from httpdeck.testing.cassettes._cli import add_parser as add_cassette_parser

    add_cassette_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "demo":
        from httpdeck._demo import run

        return asyncio.run(run(sys.stdout))
    if args.command == "cassette":
        from httpdeck.testing.cassettes._cli import run as run_cassette_tool

        return run_cassette_tool(args, sys.stdout)
    return 2  # pragma: no cover - argparse rejects unknown commands
