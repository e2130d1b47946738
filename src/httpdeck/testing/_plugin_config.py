"""The pytest plugin's settings: options, their ini twins, markers and per-test values.

Precedence, most specific first: the closest marker on the test, then the
command line, then the ini file, then the default. Bad values raise
`pytest.UsageError` naming the option, the value and the valid choices.

This module imports nothing but the standard library and pytest: it runs at
pytest start-up in every project that installs httpdeck.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")
# The cassette matchers an ini file can name (`_matchers.BUILTIN`, which
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
CASSETTE_OPTIONS = (
    "record_mode",
    "match_on",
    "filter_headers",
    "allow_playback_repeats",
    "redact",
    "redact_headers",
    "redact_fields",
    "before_record_request",
    "before_record_response",
    "anonymize",
    "decode_compressed_response",
    "record_errors",
    "replay_timing",
    "cache_dir",
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
        "cassette record mode: none (replay only, the default), once, new_episodes, all, rewrite.",
        flag="--httpdeck-record-mode",
        metavar="MODE",
    ),
    Option(
        "httpdeck_cassette_dir",
        "folder of cassettes (default: <rootdir>/cassettes); a cassette is "
        "<dir>/<test module path>/<test name>.yaml.",
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
    cassette_dir: Path = Path(DEFAULT_CASSETTE_DIR)
    block_network: bool = False
    allow_hosts: tuple[str, ...] = ()
    seed: int = 0
    seed_origin: str = "random"
    filter_headers: tuple[str, ...] = ()
    match_on: tuple[str, ...] = ()
    retry_testing: bool = True

    def header(self, rootpath: Path) -> str:
        try:
            cassette_dir = str(self.cassette_dir.relative_to(rootpath))
        except ValueError:
            cassette_dir = str(self.cassette_dir)
        hosts = ",".join(self.allow_hosts) or "-"
        return (
            f"httpdeck: record_mode={self.record_mode}, cassette_dir={cassette_dir}, "
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


def parse_seed(value: object, where: str) -> int | None:
    """An integer seed, or None for 'random'."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    text = str(value).strip().lower()
    if text == "random":
        return None
    if text.isdigit():
        return int(text)
    msg = (
        f"{where}={value!r} is not valid: pass a non-negative integer, or 'random' "
        "for a new seed each run."
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
    if found := raw("httpdeck_cassette_dir"):
        value, where = found
        # A path on the command line is relative to where pytest runs; one in
        # the ini file, to the ini file's folder.
        base = Path.cwd() if where.startswith("--") else _ini_dir(config)
        values["cassette_dir"] = _path(str(value), base)
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


# -- markers --------------------------------------------------------------

MARKERS = {
    "httpdeck_cassette": (
        "httpdeck_cassette(name=None, *, record_mode=None, match_on=None, filter_headers=None, "
        "**options): the cassette for this test (several markers: several cassettes)."
    ),
    "httpdeck_faults": (
        "httpdeck_faults(*faults, schedule=None, seed=None): faults injected into "
        "httpdeck_client and httpdeck_fake for this test."
    ),
    "httpdeck_allow_unused_routes": (
        "httpdeck_allow_unused_routes: do not fail the test when httpdeck_fake routes were "
        "never called."
    ),
    "httpdeck_allow_unmatched_requests": (
        "httpdeck_allow_unmatched_requests: do not fail the test when a request to "
        "httpdeck_fake matched no route."
    ),
    "httpdeck_block_network": (
        "httpdeck_block_network(enabled=True, *, allow_hosts=()): block (or, with False, "
        "allow) real connections for this test."
    ),
    "httpdeck_client": (
        "httpdeck_client(**config): HTTPClientConfig fields (and retry_policy, "
        "circuit_breaker, interceptors) for httpdeck_client in this test."
    ),
    "httpdeck_fake": (
        "httpdeck_fake(**options): FakeHTTPClient options for httpdeck_fake in this test "
        "(base_url, passthrough_hosts, routes, retry_policy, circuit_breaker, ...)."
    ),
    "httpdeck_fake_data": (
        "httpdeck_fake_data(*, seed=None, locale=None): seed and locale of httpdeck_fake_data."
    ),
    "httpdeck_server": (
        "httpdeck_server(app=...): the aiohttp.web app (or a function returning one, sync or "
        "async) that httpdeck_server serves."
    ),
}


def marker_kwargs(
    item: pytest.Item, name: str, allowed: Iterable[str], *, positional: Sequence[str] = ()
) -> dict[str, Any]:
    """The closest `name` marker's arguments as keywords, checked against `allowed`."""
    marker = item.get_closest_marker(name)
    if marker is None:
        return {}
    return check_marker_args(name, marker.args, marker.kwargs, allowed, positional=positional)


def check_marker_args(
    name: str,
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    allowed: Iterable[str],
    *,
    positional: Sequence[str] = (),
) -> dict[str, Any]:
    known = tuple(allowed)
    if len(args) > len(positional):
        takes = (
            f"takes at most {len(positional)} positional" if positional else "takes no positional"
        )
        msg = f"@pytest.mark.{name} {takes} argument(s), got {len(args)}: {list(args)!r}."
        pytest.fail(msg, pytrace=False)
    out = dict(zip(positional, args, strict=False))
    for key, value in kwargs.items():
        if key not in known:
            msg = (
                f"@pytest.mark.{name} got an unknown option {key!r}; "
                f"known options: {', '.join(known)}."
            )
            pytest.fail(msg, pytrace=False)
        out[key] = value
    return out


# -- per-test values --------------------------------------------------------


def cassette_parts(item: pytest.Item, rootpath: Path) -> tuple[str, str]:
    """(module folder, file-safe test name) for `<dir>/<module>/<test>.yaml`."""
    path = Path(str(item.path))
    try:
        module = path.relative_to(rootpath).with_suffix("").as_posix()
    except ValueError:
        module = path.stem
    _, _, inner = item.nodeid.partition("::")
    return module, safe_name(inner.replace("::", ".") or item.name)


def safe_name(name: str, *, limit: int = 120) -> str:
    """A file name for `name`: unsafe characters become `_`, long names get a hash."""
    cleaned = re.sub(r"[^A-Za-z0-9_.\-\[\]=]", "_", name).strip(".") or "test"
    if len(cleaned) > limit:
        import hashlib

        digest = hashlib.sha1(name.encode()).hexdigest()[:10]
        cleaned = f"{cleaned[: limit - 11]}-{digest}"
    return cleaned


def cassette_path(settings: Settings, item: pytest.Item, name: str | None) -> Path:
    """`<cassette_dir>/<test module>/<test name, or name>.yaml` (an absolute name as is)."""
    module, test = cassette_parts(item, item.config.rootpath)
    if name is None:
        return settings.cassette_dir / module / f"{test}.yaml"
    path = Path(name)
    if not path.suffix:
        path = path.with_suffix(".yaml")
    return path if path.is_absolute() else settings.cassette_dir / module / path


@dataclass(frozen=True, slots=True)
class CassetteSpec:
    """One cassette of a test: its file, record mode and interceptor options.

    The first is the primary: the one recorded into and the `httpdeck_cassette`
    fixture's value; the others replay only (record mode `none`)."""

    path: Path
    record_mode: str
    options: dict[str, Any]


def cassette_specs(item: pytest.Item, settings: Settings) -> list[CassetteSpec]:
    """The test's cassettes, from its `httpdeck_cassette` markers.

    A marker without a name gives options (the closest marker wins per
    option) for every cassette of the test; each marker with a name adds a
    cassette with its own options on top. Without named markers the test has
    one cassette at the default path. Named cassettes come in the order they
    are written, the test's own before its class's and module's.
    """
    shared: dict[str, Any] = {}
    named: list[tuple[str, dict[str, Any]]] = []
    groups: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for node, mark in item.iter_markers_with_node("httpdeck_cassette"):
        options = check_marker_args(
            "httpdeck_cassette",
            mark.args,
            mark.kwargs,
            ("name", *CASSETTE_OPTIONS),
            positional=("name",),
        )
        name = options.pop("name", None)
        if name is None:
            for key, value in options.items():
                shared.setdefault(key, value)
        else:
            groups.setdefault(id(node), []).append((str(name), options))
    for group in groups.values():  # closest node first; decorators apply bottom-up
        named.extend(reversed(group))

    def build(name: str | None, own: dict[str, Any], *, primary: bool) -> CassetteSpec:
        merged = {**shared, **own}
        mode = str(merged.pop("record_mode", settings.record_mode))
        if mode not in RECORD_MODES:
            msg = (
                f"@pytest.mark.httpdeck_cassette(record_mode={mode!r}) is not valid: "
                f"choose one of {', '.join(RECORD_MODES)}."
            )
            pytest.fail(msg, pytrace=False)
        headers = (
            *settings.filter_headers,
            *split_list(merged.pop("filter_headers", ())),
            *split_list(merged.pop("redact_headers", ())),
        )
        if headers:
            merged["redact_headers"] = tuple(dict.fromkeys(headers))
        if settings.match_on:
            merged.setdefault("match_on", settings.match_on)
        path = cassette_path(settings, item, name)
        return CassetteSpec(path, mode if primary else "none", merged)

    if not named:
        return [build(None, {}, primary=True)]
    return [build(name, own, primary=i == 0) for i, (name, own) in enumerate(named)]


def seed_for_test(run_seed: int, nodeid: str) -> int:
    """The seed of one test: stable for (run seed, test id), whatever ran before it
    or on which xdist worker (the same formula as `FakeDataFactory.derive_seed`)."""
    import hashlib

    digest = hashlib.sha256(f"{run_seed}:{nodeid}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def records(item: pytest.Item, settings: Settings) -> bool:
    """Whether this test may record a cassette (its primary cassette's record
    mode is not `none`): such a test needs the real server."""
    names = getattr(item, "fixturenames", ())
    if "httpdeck_client" not in names:
        return False
    if "httpdeck_cassette" not in names and item.get_closest_marker("httpdeck_cassette") is None:
        return False
    return cassette_specs(item, settings)[0].record_mode != "none"


def network_for(item: pytest.Item, settings: Settings) -> tuple[bool, tuple[str, ...]]:
    """(block the network?, allowed hosts) for this test: its closest
    `httpdeck_block_network` marker, else the run's settings. A test that may
    record a cassette is never blocked: recording needs the real server."""
    options = marker_kwargs(
        item, "httpdeck_block_network", ("enabled", "allow_hosts"), positional=("enabled",)
    )
    block = bool(options.get("enabled", True)) if options or _has(item) else settings.block_network
    hosts = settings.allow_hosts
    if "allow_hosts" in options:
        extra = split_list(options["allow_hosts"])
        for host in extra:
            try:
                parse_host(host, "@pytest.mark.httpdeck_block_network(allow_hosts=...)")
            except pytest.UsageError as exc:
                pytest.fail(str(exc), pytrace=False)
        hosts = hosts + extra
    if block and records(item, settings):
        block = False
    return block, hosts


def _has(item: pytest.Item) -> bool:
    return item.get_closest_marker("httpdeck_block_network") is not None
