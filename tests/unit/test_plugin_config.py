"""The pytest plugin's pure parts: value parsing, names, seeds, host policy, run stats."""

from __future__ import annotations

import ipaddress

import pytest

from httpdeck.testing.cassettes._matchers import BUILTIN
from httpdeck.testing.fake._data import FakeDataFactory
from httpdeck.testing.plugin._config import (
    MATCHERS,
    RECORD_MODES,
    parse_bool,
    parse_host,
    parse_seed,
    split_list,
)
from httpdeck.testing.plugin._markers import safe_name, seed_for_test
from httpdeck.testing.plugin._network import BlockedAttempt, HostPolicy, to_ip
from httpdeck.testing.plugin._stats import RunStats


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("localhost", ("localhost", None)),
        ("API.Example.com.", ("api.example.com", None)),
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("::1", ("::1", None)),
        ("[::1]:443", ("::1", 443)),
        ("*.internal", ("*.internal", None)),
    ],
)
def test_parse_host_accepts_names_addresses_and_ports(
    entry: str, expected: tuple[str, int | None]
) -> None:
    assert parse_host(entry, "--httpdeck-allow-hosts") == expected


@pytest.mark.parametrize("entry", ["host:0", "host:70000", "host:http", "[::1", "[zz]:80", "a b"])
def test_parse_host_rejects_malformed_entries_naming_the_option(entry: str) -> None:
    with pytest.raises(pytest.UsageError, match=r"^--httpdeck-allow-hosts has an invalid host"):
        parse_host(entry, "--httpdeck-allow-hosts")


def test_seed_and_bool_parsing() -> None:
    assert parse_seed("42", "x") == 42
    assert parse_seed(" Random ", "x") is None
    assert parse_seed(7, "x") == 7
    with pytest.raises(pytest.UsageError, match="'random' for a new seed each run"):
        parse_seed("4.2", "--httpdeck-seed")
    assert parse_bool("On", "x") is True
    assert parse_bool("0", "x") is False
    assert parse_bool(True, "x") is True
    with pytest.raises(pytest.UsageError, match="choose one of true, false"):
        parse_bool("maybe", "httpdeck_block_network")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("9" * 5000, "'99999999999999999999...' (5000 characters)"),
        (str(2**64), "'18446744073709551616'"),
        ("\u00b2", "'\u00b2'"),
        ("\u0661\u0662", "'\u0661\u0662'"),
        ("-3", "'-3'"),
        ("4.2", "'4.2'"),
        (-1, "-1"),
        (True, "True"),
    ],
)
def test_a_bad_seed_is_a_usage_error_naming_the_option_the_value_and_the_range(
    value: object, shown: str
) -> None:
    with pytest.raises(pytest.UsageError) as caught:
        parse_seed(value, "--httpdeck-seed")
    assert str(caught.value) == (
        f"--httpdeck-seed={shown} is not valid: pass an integer from 0 to "
        f"{2**64 - 1} (ASCII digits), or 'random' for a new seed each run."
    )


def test_the_largest_seed_is_accepted() -> None:
    assert parse_seed(str(2**64 - 1), "x") == 2**64 - 1
    assert parse_seed(" 0 ", "x") == 0


def test_split_list_takes_commas_whitespace_and_lists() -> None:
    assert split_list("a, b  c,,d") == ("a", "b", "c", "d")
    assert split_list(["a b", "c"]) == ("a", "b", "c")


def test_safe_name_keeps_test_ids_readable_and_bounds_long_ones() -> None:
    assert safe_name("TestUsers.test_list[page-1]") == "TestUsers.test_list[page-1]"
    assert safe_name("test_x[a/b: c]") == "test_x[a_b__c]"
    long = "test_" + "x" * 300
    bounded = safe_name(long)
    assert len(bounded) == 120
    assert bounded == safe_name(long)  # stable across runs
    assert bounded != safe_name(long + "y")


def test_a_tests_seed_is_the_fake_data_factorys_derivation() -> None:
    nodeid = "tests/test_api.py::test_users[1]"
    assert seed_for_test(1234, nodeid) == FakeDataFactory.derive_seed(1234, nodeid)
    assert seed_for_test(1234, nodeid) != seed_for_test(1235, nodeid)


def test_the_ini_matcher_names_are_the_cassette_matchers() -> None:
    assert set(MATCHERS) == set(BUILTIN)
    assert RECORD_MODES == ("none", "once", "new_episodes", "all", "rewrite")


def test_host_policy_compares_names_ports_and_addresses() -> None:
    policy = HostPolicy([("localhost", None), ("api.internal", 8443), ("10.1.2.3", None)])
    assert policy.allows("LOCALHOST.", 80)
    assert policy.allows("127.0.0.1", 1234)  # localhost resolves to it
    assert policy.allows("api.internal", 8443)
    assert not policy.allows("api.internal", 443)
    assert policy.allows("10.1.2.3", 5)
    assert policy.allows("::ffff:10.1.2.3", 5)  # IPv4-mapped IPv6 is the same address
    assert not policy.allows("127.0.0.2", 80)
    assert policy.describe() == "localhost, api.internal:8443, 10.1.2.3"
    assert HostPolicy().describe() == "no hosts"


def test_host_policy_learns_added_hosts() -> None:
    policy = HostPolicy()
    policy.add("127.0.0.1", 9000)
    assert policy.allows("127.0.0.1", 9000)
    assert not policy.allows("127.0.0.1", 9001)


def test_to_ip() -> None:
    assert to_ip("[::1]") == ipaddress.ip_address("::1")
    assert to_ip("fe80::1%eth0") == ipaddress.ip_address("fe80::1")
    assert to_ip("localhost") is None
    assert str(BlockedAttempt("::1", 80, "socket")) == "[::1]:80"
    assert str(BlockedAttempt("example", None, "socket")) == "example"


def test_run_stats_travel_from_workers_and_count_cassettes_per_file() -> None:
    worker_a, worker_b, controller = RunStats(used=True), RunStats(), RunStats()
    # Two tests replay different parts of one shared cassette on two workers.
    worker_a.add_cassette(
        "cassettes/shared.yaml", loaded=3, played=[0], replays=1, recorded=0, written=False
    )
    worker_b.add_cassette(
        "cassettes/shared.yaml", loaded=3, played=[1], replays=1, recorded=0, written=False
    )
    worker_b.add_cassette(
        "cassettes/new.yaml", loaded=0, played=[], replays=0, recorded=2, written=True
    )
    worker_a.faults.update(["status.503", "status.503"])
    worker_b.faults.update(["latency"])
    worker_b.blocked.append("t.py::test_x -> 127.0.0.2:80")
    for worker in (worker_a, worker_b):
        controller.merge_wire(worker.to_wire())
    assert controller.lines(seed=9) == [
        "seed: 9 (repeat with --httpdeck-seed=9)",
        "cassettes: 1 played (2 interactions), 1 recorded (2 interactions)",
        "unused interactions: 1",
        "  cassettes/shared.yaml: 1 never played",
        "faults injected: 3 (latency x1, status.503 x2)",
        "blocked connections: 1",
        "  t.py::test_x -> 127.0.0.2:80",
    ]


def test_an_unused_plugin_prints_no_summary() -> None:
    assert RunStats().lines(seed=1) == []
