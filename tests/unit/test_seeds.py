"""The one seed recipe (`_seeds.derive_seed`) and who uses it."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from faker import Faker

from httpdeck.client import RetryPolicy
from httpdeck.client._retry_support import use_default_rng
from httpdeck.testing import Anonymizer, ChaosProxy, FaultInjector
from httpdeck.testing._seeds import (
    CHAOS_PROXY,
    CURRENT,
    FAKE_DATA,
    FAULTS,
    RETRY,
    default_seed,
    derive_seed,
)
from httpdeck.testing.fake._data import FakeDataFactory
from httpdeck.testing.faults._schedules import _stream
from httpdeck.testing.plugin._markers import seed_for_test

NODEID = "tests/test_api.py::test_users[1]"


@pytest.fixture
def in_a_test() -> Iterator[None]:
    CURRENT.test = (1234, NODEID)
    try:
        yield
    finally:
        CURRENT.test = None


def test_derive_seed_is_stable_64_bit_and_distinct_per_name() -> None:
    seed = derive_seed(1234, NODEID, FAULTS)
    assert seed == derive_seed(1234, NODEID, FAULTS)
    assert 0 <= seed < 2**64
    assert seed == 8567914646730783648  # the same in every process and run
    others = {derive_seed(1234, NODEID, p) for p in (RETRY, FAKE_DATA, CHAOS_PROXY)}
    assert seed not in others
    assert len(others) == 3
    assert derive_seed(1235, NODEID, FAULTS) != seed


def test_a_tests_seeds_are_the_recipe_of_run_seed_node_id_and_purpose() -> None:
    assert seed_for_test(1234, NODEID) == derive_seed(1234, NODEID)
    assert seed_for_test(1234, NODEID, RETRY) == derive_seed(1234, NODEID, RETRY)
    assert FakeDataFactory.derive_seed(1234, NODEID) == derive_seed(1234, NODEID)


def test_outside_a_test_tools_default_to_seed_0() -> None:
    assert default_seed(FAULTS) == 0
    assert FaultInjector().seed == 0
    assert FakeDataFactory().seed == 0
    assert ChaosProxy("http://127.0.0.1:9").seed == 0


@pytest.mark.usefixtures("in_a_test")
def test_inside_a_test_tools_built_without_a_seed_take_the_tests() -> None:
    assert FaultInjector().seed == derive_seed(1234, NODEID, FAULTS)
    assert FakeDataFactory().seed == derive_seed(1234, NODEID, FAKE_DATA)
    assert ChaosProxy("http://127.0.0.1:9").seed == derive_seed(1234, NODEID, CHAOS_PROXY)
    assert FaultInjector(seed=3).seed == 3  # a given seed wins


@pytest.mark.usefixtures("in_a_test")
def test_the_anonymizer_keeps_its_own_seed_so_cassettes_match_across_runs() -> None:
    # Replay matches anonymized request bodies: the fakes must not change with the run seed.
    assert Anonymizer(["email"]).seed == 0
    expected = Faker("en_US")
    expected.seed_instance(derive_seed(7, "email", "ann@real.org"))
    assert Anonymizer(["email"], seed=7).fake("email", "ann@real.org") == expected.email()


def test_fault_schedules_and_the_proxy_draw_from_the_recipe() -> None:
    assert _stream(5, "rule", "", "") == derive_seed(5, "rule", "", "")


def test_a_policy_without_rng_draws_from_the_default_source_at_each_draw() -> None:
    policy = RetryPolicy(base_delay=1.0)  # built before the source is seeded, as a marker's is
    try:
        use_default_rng(random.Random(42))
        first = [policy.backoff(2) for _ in range(5)]
        use_default_rng(random.Random(42))
        assert [policy.backoff(2) for _ in range(5)] == first
        given = RetryPolicy(base_delay=1.0, rng=random.Random(1))  # a given rng wins
        assert given.backoff(2) == 4.0 * (1.0 - random.Random(1).random())
    finally:
        use_default_rng(None)
