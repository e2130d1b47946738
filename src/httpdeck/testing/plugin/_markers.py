"""The pytest plugin's markers, and what they decide for one test: its
cassettes and their paths, its seed, whether its network is blocked.

The closest marker wins (the test's own, then its class's, then its module's);
a record mode given on the command line wins over every marker.
Light, like `plugin._config`: imported at pytest start-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from httpdeck.testing._seeds import derive_seed
from httpdeck.testing.cassettes._layout import lookup, recording_dirs, recording_names
from httpdeck.testing.plugin._config import (
    RECORD_MODES,
    Settings,
    parse_host,
    split_list,
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


# -- markers --------------------------------------------------------------

MARKERS = {
    "httpdeck_cassette": (
        "httpdeck_cassette(name=None, *, record_mode=None, match_on=None, filter_headers=None, "
        "**options): the cassette for this test (several markers: several cassettes)."
    ),
    "httpdeck_faults": (
        "httpdeck_faults(*faults, schedule=None, seed=None, decide_by='call', real_time=False): "
        "faults injected into "
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
        "httpdeck_fake_data(*, seed=None, locale=None, reference_date=None): seed, locale and "
        "reference date of httpdeck_fake_data."
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
    """`<cassette_dir>/<test module>/<test name, or name>.yaml` (an absolute name
    as is), or the file pytest-recording's layout has for it when only that
    exists (the lookup order is in `cassettes._layout`)."""
    return cassette_lookup(settings, item, name)[0]


def cassette_lookup(
    settings: Settings, item: pytest.Item, name: str | None
) -> tuple[Path, tuple[Path, ...]]:
    """(`cassette_path`, every path it looked at, in order)."""
    module, test = cassette_parts(item, item.config.rootpath)
    if name is None:
        ours = settings.cassette_dir / module / f"{test}.yaml"
        files = recording_names(item)
    else:
        path = Path(name)
        if not path.suffix:
            path = path.with_suffix(".yaml")
        if path.is_absolute():
            return path, (path,)
        ours = settings.cassette_dir / module / path
        files = [str(path)]
    dirs = recording_dirs(item, settings.cassette_dir, configured=settings.cassette_dir_configured)
    return lookup(ours, (folder / file for folder in dirs for file in files))


@dataclass(frozen=True, slots=True)
class CassetteSpec:
    """One cassette of a test: its file, record mode and interceptor options.

    The first is the primary: the one recorded into and the `httpdeck_cassette`
    fixture's value; the others replay only (record mode `none`)."""

    path: Path
    record_mode: str
    options: dict[str, Any]
    looked_at: tuple[Path, ...] = ()
    """Every path the cassette was looked for at (named when it does not exist)."""


def cassette_specs(item: pytest.Item, settings: Settings) -> list[CassetteSpec]:
    """The test's cassettes, from its `httpdeck_cassette` markers.

    A marker without a name gives options (the closest marker wins per
    option) for every cassette of the test; each marker with a name adds a
    cassette with its own options on top. Without named markers the test has
    one cassette at the default path. Named cassettes come in the order they
    are written, the test's own before its class's and module's.

    The record mode is `--httpdeck-record-mode` when given, else the
    marker's, else the ini's, else `none` (secondary cassettes: always `none`).
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
        mode = merged.pop("record_mode", None)
        if mode is not None and mode not in RECORD_MODES:
            msg = (
                f"@pytest.mark.httpdeck_cassette(record_mode={mode!r}) is not valid: "
                f"choose one of {', '.join(RECORD_MODES)}."
            )
            pytest.fail(msg, pytrace=False)
        if mode is None or settings.record_mode_forced:
            mode = settings.record_mode
        headers = (
            *settings.filter_headers,
            *split_list(merged.pop("filter_headers", ())),
            *split_list(merged.pop("redact_headers", ())),
        )
        if headers:
            merged["redact_headers"] = tuple(dict.fromkeys(headers))
        if settings.match_on:
            merged.setdefault("match_on", settings.match_on)
        path, looked_at = cassette_lookup(settings, item, name)
        return CassetteSpec(path, mode if primary else "none", merged, looked_at)

    if not named:
        return [build(None, {}, primary=True)]
    return [build(name, own, primary=i == 0) for i, (name, own) in enumerate(named)]


def seed_for_test(run_seed: int, nodeid: str, purpose: str | None = None) -> int:
    """The seed of one test (the `httpdeck_seed` fixture), or of one `purpose` in
    it: stable for (run seed, test id, purpose), whatever ran before it or on
    which xdist worker. `_seeds.derive_seed`, the one recipe."""
    if purpose is None:
        return derive_seed(run_seed, nodeid)
    return derive_seed(run_seed, nodeid, purpose)


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
