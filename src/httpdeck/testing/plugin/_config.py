"""The pytest plugin's run-wide settings: its options and their ini twins.

The command line wins over the ini file, which wins over the default. A
test's markers (`plugin._markers`) win over the ini file and the default,
and over the command line too, except for the record mode: a record mode
given on the command line (`--httpdeck-record-mode=rewrite` to refresh every
cassette) applies to every test, whatever its marker says. Bad values raise
`pytest.UsageError` naming the option, the value and the valid choices.

This module imports nothing but the standard library and pytest: it runs at
pytest start-up in every project that installs httpdeck.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# The one list of record modes at start-up; `cassettes._cassette.RecordMode` (a Literal,
# for typing) must name the same ones (tests/unit/test_plugin_docs_sync.py).
RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")
# The cassette matchers an ini file can name (`cassettes._matchers.BUILTIN`, which
# imports vcrpy, so it is not imported at start-up; a test keeps them equal).
MATCHERS = (
    "method",
    "uri",
    "url",
    "scheme",
    "host",
    "port",
    "path",
    "query",
    "headers",
    "raw_body",
    "body",
)
DEFAULT_CASSETTE_DIR = "cassettes"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: a command-line flag (optional) and its ini twin."""

    ini: str
    help: str
    flag: str | None = None
    ini_type: str = "string"
    metavar: str | None = None
    boolean: bool = False


OPTIONS = (
    Option(
        "httpdeck_record_mode",
        f"cassette record mode: {', '.join(RECORD_MODES)} (default: none, replay only).",
        flag="--httpdeck-record-mode",
        metavar="MODE",
    ),
    Option(
        "httpdeck_cassette_dir",
        "folder of cassettes (default: <rootdir>/cassettes); a cassette is "
        "<dir>/<test module path>/<test name>.yaml, or pytest-recording's "
        "<dir>/<module name>/<test name>.yaml when only that exists.",
        flag="--httpdeck-cassette-dir",
        metavar="DIR",
    ),
    Option(
        "httpdeck_block_network",
        "fail real connections to hosts that are not allowed (httpdeck's client and raw sockets).",
        flag="--httpdeck-block-network",
        boolean=True,
    ),
    Option(
        "httpdeck_allow_hosts",
        "hosts reachable while the network is blocked (comma separated; host, IP or host:port; "
        "compared by name and by address, so localhost allows 127.0.0.1).",
        flag="--httpdeck-allow-hosts",
        metavar="HOSTS",
    ),
    Option(
        "httpdeck_seed",
        "seed for faults and fake data (an integer, or 'random': a new seed each run, "
        "printed in the header). Default: random.",
        flag="--httpdeck-seed",
        metavar="SEED",
    ),
    Option(
        "httpdeck_filter_headers",
        "extra headers to redact in recorded cassettes (besides the built-in list).",
        ini_type="linelist",
    ),
    Option(
        "httpdeck_match_on",
        "how cassette requests are matched (default: method scheme host port path query).",
        ini_type="linelist",
    ),
    Option(
        "httpdeck_retry_testing",
        "turn retry backoff waits off during tests (RetryPolicy testing mode). Default: true.",
    ),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """The effective run-wide settings (command line over ini over default)."""

    record_mode: str = "none"
    # Where record_mode came from: "--httpdeck-record-mode" (it beats markers),
    # "httpdeck_record_mode" (the ini file) or "default".
    record_mode_origin: str = "default"
    cassette_dir: Path = Path(DEFAULT_CASSETTE_DIR)
    # False for the default <rootdir>/cassettes: then pytest-recording's own
    # default place (cassettes/ next to each test module) is looked at too.
    cassette_dir_configured: bool = False
    block_network: bool = False
    allow_hosts: tuple[str, ...] = ()
    seed: int = 0
    seed_origin: str = "random"
    filter_headers: tuple[str, ...] = ()
    match_on: tuple[str, ...] = ()
    retry_testing: bool = True

    @property
    def record_mode_forced(self) -> bool:
        """True when the command line set the record mode: it beats the markers."""
        return self.record_mode_origin.startswith("--")

    def header(self, rootpath: Path) -> str:
        try:
            cassette_dir = str(self.cassette_dir.relative_to(rootpath))
        except ValueError:
            cassette_dir = str(self.cassette_dir)
        hosts = ",".join(self.allow_hosts) or "-"
        if self.record_mode_forced:
            mode = f"{self.record_mode} ({self.record_mode_origin}, over markers)"
        else:
            mode = f"{self.record_mode} ({self.record_mode_origin}; markers override)"
        return (
            f"httpdeck: record_mode={mode}, cassette_dir={cassette_dir}, "
            f"block_network={'yes' if self.block_network else 'no'} (allow_hosts={hosts}), "
            f"seed={self.seed} ({self.seed_origin}; repeat with --httpdeck-seed={self.seed})"
        )


class _Source:
    """Where a raw value came from, for error messages."""

    def __init__(self, config: pytest.Config, option: Option) -> None:
        self.config = config
        self.option = option

    def raw(self) -> tuple[Any, str] | None:
        opt = self.option
        if opt.flag is not None:
            value = self.config.getoption(opt.ini)
            if value is not None:
                return value, opt.flag
        value = self.config.getini(opt.ini)
        if value in (None, "", []):
            return None
        inifile = self.config.inipath.name if self.config.inipath else "the ini file"
        return value, f"{opt.ini} (in {inifile})"


def _choice(value: str, where: str, choices: Sequence[str]) -> str:
    word = value.strip().lower()
    if word not in choices:
        msg = f"{where}={value!r} is not valid: choose one of {', '.join(choices)}."
        raise pytest.UsageError(msg)
    return word


def parse_bool(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    msg = f"{where}={value!r} is not valid: choose one of true, false (or 1, 0, yes, no, on, off)."
    raise pytest.UsageError(msg)


MAX_SEED = 2**64 - 1
"""The largest seed: seeds are 64-bit, as every derived seed is (`_seeds.derive_seed`)."""


def parse_seed(value: object, where: str) -> int | None:
    """An integer seed from 0 to `MAX_SEED` in ASCII digits, or None for 'random'."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SEED:
        return value
    text = str(value).strip()
    if text.lower() == "random":
        return None
    # ASCII digits only: str.isdigit() also takes '²' and other scripts' digits,
    # and int() of more than 4300 digits raises ValueError.
    if text.isascii() and text.isdigit() and len(text) <= len(str(MAX_SEED)):
        seed = int(text)
        if seed <= MAX_SEED:
            return seed
    shown = repr(value) if not isinstance(value, str) else repr(value.strip())
    if len(shown) > 40:
        shown = f"{shown[:21]}...' ({len(text)} characters)"
    msg = (
        f"{where}={shown} is not valid: pass an integer from 0 to {MAX_SEED} (ASCII digits), "
        "or 'random' for a new seed each run."
    )
    raise pytest.UsageError(msg)


def split_list(value: object) -> tuple[str, ...]:
    """Comma- or whitespace-separated words; lists (ini linelist, repeated flags) flattened."""
    items = value if isinstance(value, list | tuple) else [value]
    out: list[str] = []
    for item in items:
        out.extend(part for part in re.split(r"[,\s]+", str(item)) if part)
    return tuple(out)


def parse_host(entry: str, where: str) -> tuple[str, int | None]:
    """`host`, `host:port`, an IPv6 address, or `[v6]:port`, lowercased."""
    text = entry.strip().lower().rstrip(".")
    host, port_text, ipv6 = text, None, False
    valid = True
    if text.startswith("["):
        host, closed, rest = text[1:].partition("]")
        valid = bool(closed) and (not rest or rest.startswith(":"))
        port_text, ipv6 = (rest[1:] if rest else None), True
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    elif ":" in text:
        ipv6 = True
    if ipv6:
        import ipaddress

        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            valid = False
    else:
        valid = valid and re.fullmatch(r"[a-z0-9._\-*]+", host) is not None
    port: int | None = None
    if port_text is not None:
        port = int(port_text) if port_text.isdigit() else 0
        valid = valid and 0 < port < 65536
    if not valid:
        msg = (
            f"{where} has an invalid host {entry!r}: expected a host name, an IP address, "
            "host:port or [IPv6]:port, for example localhost,127.0.0.1:8080."
        )
        raise pytest.UsageError(msg)
    return host, port


def _path(value: str, base: Path) -> Path:
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else (base / path).resolve()


def load_settings(config: pytest.Config, *, worker_seed: int | None = None) -> Settings:
    """Read, check and combine every option; raise `pytest.UsageError` on bad values."""
    by_name = {opt.ini: opt for opt in OPTIONS}

    def raw(name: str) -> tuple[Any, str] | None:
        return _Source(config, by_name[name]).raw()

    values: dict[str, Any] = {}
    if found := raw("httpdeck_record_mode"):
        values["record_mode"] = _choice(str(found[0]), found[1], RECORD_MODES)
        values["record_mode_origin"] = found[1].split(" ")[0]
    if found := raw("httpdeck_cassette_dir"):
        value, where = found
        # A path on the command line is relative to where pytest runs; one in
        # the ini file, to the ini file's folder.
        base = Path.cwd() if where.startswith("--") else _ini_dir(config)
        values["cassette_dir"] = _path(str(value), base)
        values["cassette_dir_configured"] = True
    else:
        values["cassette_dir"] = config.rootpath / DEFAULT_CASSETTE_DIR
    if found := raw("httpdeck_block_network"):
        values["block_network"] = parse_bool(*found)
    if found := raw("httpdeck_allow_hosts"):
        hosts = split_list(found[0])
        for host in hosts:
            parse_host(host, found[1])
        values["allow_hosts"] = hosts
    if found := raw("httpdeck_filter_headers"):
        values["filter_headers"] = split_list(found[0])
    if found := raw("httpdeck_match_on"):
        values["match_on"] = split_list(found[0])
        for name in values["match_on"]:
            _choice(name, found[1], MATCHERS)
    if found := raw("httpdeck_retry_testing"):
        values["retry_testing"] = parse_bool(*found)

    seed: int | None = None
    origin = "random"
    if found := raw("httpdeck_seed"):
        seed = parse_seed(*found)
        if seed is not None:
            origin = found[1].split(" ")[0]
    if worker_seed is not None:
        # An xdist worker uses the controller's seed, so all workers agree.
        seed, origin = worker_seed, "from the xdist controller"
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "big") % 10**6
    return Settings(seed=seed, seed_origin=origin, **values)


def _ini_dir(config: pytest.Config) -> Path:
    return config.inipath.parent if config.inipath is not None else config.rootpath
