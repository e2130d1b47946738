"""The URL safety gate's block list and the DNS cache it guards (no sockets)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from httpdeck.client import (
    HTTPClient,
    HTTPClientConfig,
    HTTPUnsafeURLError,
    HTTPValidationError,
    URLSafety,
)
from httpdeck.client._safety import UnsafeAddressError, parse_ip
from httpdeck.client._transports._connector import DNSCache

BLOCKED = [
    "0.0.0.0",
    "0.1.2.3",
    "10.0.0.1",
    "10.255.255.255",
    "100.64.0.1",
    "100.127.255.254",
    "127.0.0.1",
    "127.255.255.254",
    "169.254.169.254",  # cloud metadata
    "172.16.0.1",
    "172.31.255.255",
    "192.0.0.8",
    "192.0.2.1",
    "192.168.1.1",
    "198.18.0.1",
    "198.19.255.255",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "::127.0.0.1",
    "::ffff:127.0.0.1",
    "::ffff:8.8.8.8",  # IPv4-mapped, whatever it maps to
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::808:808",
    "64:ff9b:1::1",
    "2001::1",  # Teredo
    "2001:db8::1",
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:c0a8:101::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fe80::1%eth0",
    "fec0::1",
    "ff02::1",
]

SPELLINGS = {
    "2130706433": "127.0.0.1",
    "0x7f000001": "127.0.0.1",
    "0x7f.0.0.1": "127.0.0.1",
    "0177.0.0.1": "127.0.0.1",
    "017700000001": "127.0.0.1",
    "127.1": "127.0.0.1",
    "127.0.1": "127.0.0.1",
    "0": "0.0.0.0",
    "3232235777": "192.168.1.1",
    "0xa9.0xfe.0xa9.0xfe": "169.254.169.254",
    "[::1]": "::1",
    "[::ffff:127.0.0.1]": "::ffff:7f00:1",
    "[0:0:0:0:0:ffff:7f00:1]": "::ffff:7f00:1",
}

PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450:4001::1"]


@pytest.mark.parametrize("address", BLOCKED)
def test_blocked_ranges(address: str) -> None:
    reason = URLSafety().blocked_reason(address)
    assert reason is not None
    assert "/" in reason  # names the range, e.g. "loopback (127.0.0.0/8)"


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert URLSafety().blocked_reason(address) is None


@pytest.mark.parametrize(("spelling", "address"), SPELLINGS.items())
def test_decimal_hex_octal_and_bracketed_spellings_are_understood(
    spelling: str, address: str
) -> None:
    assert str(parse_ip(spelling)) == address
    with pytest.raises(UnsafeAddressError):
        URLSafety().check_host(spelling)


@pytest.mark.parametrize("host", ["api.example.com", "1.example", "0x7f.example", "deadbeef"])
def test_host_names_are_left_for_resolution(host: str) -> None:
    assert parse_ip(host) is None
    URLSafety().check_host(host)


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST.", "api.localhost"])
def test_localhost_names_are_refused_without_a_lookup(host: str) -> None:
    with pytest.raises(UnsafeAddressError, match="localhost"):
        URLSafety().check_host(host)


def test_an_allow_list_lets_chosen_networks_through() -> None:
    safety = URLSafety(allow=["10.20.0.0/16", "::1/128", "127.0.0.0/8"])
    assert safety.blocked_reason("10.20.1.2") is None
    assert safety.blocked_reason("10.21.1.2") is not None
    assert safety.blocked_reason("::1") is None
    safety.check_host("localhost")


def test_one_blocked_address_refuses_the_whole_answer() -> None:
    with pytest.raises(UnsafeAddressError) as caught:
        URLSafety().check_addresses("mixed.test", ["8.8.8.8", "10.0.0.5", "1.1.1.1"])
    assert (caught.value.host, caught.value.address) == ("mixed.test", "10.0.0.5")
    URLSafety().check_addresses("ok.test", ["8.8.8.8", "2606:4700:4700::1111"])


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1/",
        "http://2130706433:1/",
        "http://0x7f.1:1/",
        "http://[::1]:1/",
        "http://[::ffff:127.0.0.1]:1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:1/",
    ],
)
async def test_the_client_refuses_literal_and_local_hosts_before_connecting(url: str) -> None:
    # Port 1 on loopback: had a connection been tried, the error would be a
    # refused connection, not the gate's.
    async with HTTPClient(HTTPClientConfig(url_safety=True)) as client:
        with pytest.raises(HTTPUnsafeURLError) as caught:
            await client.request("GET", url)
        assert client.transport.pool.connection_counts() == (0, 0)  # type: ignore[attr-defined]
    error = caught.value
    assert isinstance(error, HTTPValidationError)
    assert "No connection was made" in str(error)
    assert error.reason


@pytest.mark.asyncio
async def test_the_gate_is_off_by_default() -> None:
    assert HTTPClientConfig().url_safety is False


class FakeResolver:
    def __init__(self, answers: list[list[str]]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    async def resolve(self, host: str, port: int) -> Sequence[str]:
        self.calls.append(host)
        await asyncio.sleep(0)
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.asyncio
async def test_dns_cache_keeps_an_answer_for_its_ttl() -> None:
    resolver, clock = FakeResolver([["8.8.8.8"], ["1.1.1.1"]]), Clock()
    cache = DNSCache(resolver, ttl=10, clock=clock)
    assert await cache.resolve("a.test", 80) == ("8.8.8.8",)
    clock.now += 9.9
    assert await cache.resolve("a.test", 80) == ("8.8.8.8",)
    assert not cache.expired("a.test", 80)
    clock.now += 0.1
    assert cache.expired("a.test", 80)
    assert await cache.resolve("a.test", 80) == ("1.1.1.1",)
    assert resolver.calls == ["a.test", "a.test"]
    assert cache.current("a.test", 80) == ("1.1.1.1",)
    assert cache.current("b.test", 80) is None


@pytest.mark.asyncio
async def test_dns_cache_with_ttl_zero_resolves_every_time_and_never_expires() -> None:
    resolver = FakeResolver([["8.8.8.8"]])
    cache = DNSCache(resolver, ttl=0)
    await cache.resolve("a.test", 80)
    await cache.resolve("a.test", 80)
    assert len(resolver.calls) == 2
    assert not cache.expired("a.test", 80)


@pytest.mark.asyncio
async def test_concurrent_lookups_share_one_resolution() -> None:
    resolver = FakeResolver([["8.8.8.8"]])
    cache = DNSCache(resolver, ttl=10)
    answers = await asyncio.gather(*(cache.resolve("a.test", 80) for _ in range(20)))
    assert set(answers) == {("8.8.8.8",)}
    assert resolver.calls == ["a.test"]


@pytest.mark.asyncio
async def test_a_cancelled_caller_does_not_cancel_the_shared_lookup() -> None:
    resolver = FakeResolver([["8.8.8.8"]])
    cache = DNSCache(resolver, ttl=10)
    first = asyncio.ensure_future(cache.resolve("a.test", 80))
    second = asyncio.ensure_future(cache.resolve("a.test", 80))
    await asyncio.sleep(0)
    first.cancel()
    assert await second == ("8.8.8.8",)


@pytest.mark.asyncio
async def test_dns_cache_refuses_an_answer_with_a_blocked_address_and_keeps_nothing() -> None:
    resolver = FakeResolver([["93.184.216.34", "127.0.0.1"]])
    cache = DNSCache(resolver, ttl=10, safety=URLSafety())
    with pytest.raises(UnsafeAddressError, match=r"rebind\.test -> 127\.0\.0\.1"):
        await cache.resolve("rebind.test", 80)
    assert cache.current("rebind.test", 80) is None


@pytest.mark.asyncio
async def test_trusted_hosts_such_as_the_proxy_are_not_checked() -> None:
    cache = DNSCache(
        FakeResolver([["10.0.0.3"]]), ttl=10, safety=URLSafety(), trusted={"proxy.internal"}
    )
    assert await cache.resolve("proxy.internal", 3128) == ("10.0.0.3",)


@pytest.mark.asyncio
async def test_an_empty_answer_is_a_lookup_failure() -> None:
    cache = DNSCache(FakeResolver([[]]), ttl=10)
    with pytest.raises(OSError, match="no address"):
        await cache.resolve("void.test", 80)
