"""`httpdeck cassette show|lint|redact|stats`: tools for cassette files.

- `show`: a table of the interactions (URLs shown redacted).
- `lint`: unredacted secrets, duplicate interactions, files that do not
  parse, bodies that do not match their Content-Encoding and Content-Type.
  Exit code 1 on findings.
- `redact`: apply the redaction rules to existing cassettes, in place and
  atomically (only the interactions that change are rewritten).
- `stats`: counts, sizes, hosts, methods and statuses.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

# The tools import vcrpy and PyYAML (the `testing` extra): only when a cassette
# command runs, so `httpdeck demo` works without them.


def add_parser(commands: Any) -> None:
    """Register `cassette` and its subcommands on the top-level subparsers."""
    cassette = commands.add_parser("cassette", help="inspect, lint and redact cassette files")
    tools = cassette.add_subparsers(dest="tool", required=True)
    show = tools.add_parser("show", help="a table of the interactions")
    show.add_argument("paths", nargs="+", type=Path)
    lint = tools.add_parser("lint", help="find secrets, duplicates and broken bodies (exit 1)")
    lint.add_argument("paths", nargs="+", type=Path)
    lint.add_argument(
        "--max-inflated-bytes",
        type=_size,
        default=None,
        metavar="N",
        help="largest size a compressed body is inflated to, to check it (default: 64 MiB)",
    )
    redact = tools.add_parser("redact", help="redact secrets in place, atomically")
    redact.add_argument("paths", nargs="+", type=Path)
    stats = tools.add_parser("stats", help="counts, sizes and hosts")
    stats.add_argument("paths", nargs="+", type=Path)
    for tool in (lint, redact):
        tool.add_argument("--header", action="append", default=[], help="another secret header")
        tool.add_argument("--field", action="append", default=[], help="another secret field")


def _size(value: str) -> int:
    try:
        size = int(value)
    except ValueError:
        size = 0
    if size <= 0:
        msg = f"{value!r} is not a byte count: give a positive whole number, e.g. 134217728."
        raise argparse.ArgumentTypeError(msg)
    return size


def run(args: argparse.Namespace, out: TextIO) -> int:
    from httpdeck.testing.cassettes._bodies import MAX_INFLATED_BYTES
    from httpdeck.testing.cassettes._errors import MalformedCassetteError
    from httpdeck.testing.cassettes._redact import Redactor
    from httpdeck.testing.cassettes._tools import lint, load, redact_file, show, stats

    redactor = Redactor(headers=getattr(args, "header", ()), fields=getattr(args, "field", ()))
    status = 0
    for path in args.paths:
        try:
            interactions = load(path)
        except (MalformedCassetteError, OSError) as exc:
            out.write(f"{path}: {exc}\n")
            status = 1
            continue
        tool = args.tool
        if tool == "show":
            show(path, interactions, redactor, out)
        elif tool == "stats":
            stats(path, interactions, out)
        elif tool == "lint":
            limit = args.max_inflated_bytes or MAX_INFLATED_BYTES
            findings = list(lint(interactions, redactor, max_inflated_bytes=limit))
            for finding in findings:
                out.write(f"{path}: {finding}\n")
            status = max(status, 1 if findings else 0)
            if not findings:
                out.write(f"{path}: ok ({len(interactions)} interactions)\n")
        else:
            changed = redact_file(path, redactor)
            out.write(f"{path}: redacted {changed} of {len(interactions)} interactions\n")
    return status
