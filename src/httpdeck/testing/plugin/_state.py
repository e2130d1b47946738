"""State the pytest plugin keeps per run and per test (stash keys and holders).

Light: imported at pytest start-up, so only the standard library and pytest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from httpdeck.testing.plugin._config import Settings
from httpdeck.testing.plugin._markers import seed_for_test
from httpdeck.testing.plugin._stats import RunStats

if TYPE_CHECKING:
    from contextlib import ExitStack

    from httpdeck.testing.plugin._network import NetworkGuard


@dataclass(slots=True)
class TestState:
    """What one test's httpdeck fixtures share: its seed, its network guard,
    and the fakes to verify once the test body has passed."""

    __test__ = False  # not a test class, whatever pytest's collection rules say

    run_seed: int
    nodeid: str
    guard: NetworkGuard | None = None
    guard_exit: ExitStack | None = None
    # (fixture name, FakeHTTPClient) pairs checked after the test body
    fakes: list[tuple[str, Any]] = field(default_factory=list)
    # the CassetteSet installed on httpdeck_client, if the test uses cassettes
    cassettes: Any = None
    # whether RetryPolicy's default random source is this test's (set once)
    retry_rng: bool = False
    _seed: int | None = None

    @property
    def seed(self) -> int:
        """This test's seed, derived on first use (most tests never need one)."""
        if self._seed is None:
            self._seed = seed_for_test(self.run_seed, self.nodeid)
        return self._seed

    def seed_for(self, purpose: str) -> int:
        """This test's seed for one purpose (`_seeds.RETRY`, `FAULTS`, ...)."""
        return seed_for_test(self.run_seed, self.nodeid, purpose)


SETTINGS = pytest.StashKey[Settings]()
STATS = pytest.StashKey[RunStats]()
TEST_STATE = pytest.StashKey[TestState]()
