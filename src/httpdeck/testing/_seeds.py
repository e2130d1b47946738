"""The one seed recipe, and the seed of the test that is running.

Every seeded choice in httpdeck's testing tools derives its seed here, from
one run seed (`--httpdeck-seed`): the pytest plugin derives a test's seed
for each purpose as `derive_seed(run_seed, nodeid, purpose)`, and the tools
derive theirs from the seed they are given the same way (a fault rule's
random source from `(seed, rule, call)`, a proxy connection's from
`(seed, connection)`, an anonymized value from `(seed, kind, value)`). One
function, so that the same inputs always give the same seed, in every run,
process and xdist worker (unlike `hash()`).

Purposes the plugin uses: `"retry"` (the jitter of every `RetryPolicy`
built without an `rng`), `"faults"` (`httpdeck_faults` and any
`FaultInjector` built without a seed), `"fake_data"`, `"chaos_proxy"`.

Light: imported at pytest start-up, so only the standard library.
"""

from __future__ import annotations

import hashlib

__all__ = ["CURRENT", "default_seed", "derive_seed", "digest64"]

RETRY = "retry"
FAULTS = "faults"
FAKE_DATA = "fake_data"
CHAOS_PROXY = "chaos_proxy"


def derive_seed(seed: int, *names: object) -> int:
    """A 64-bit seed for `names` under `seed`: BLAKE2b of the values joined by
    the unit separator, the same in every run and process.

    ```python
    derive_seed(1234, "tests/test_api.py::test_users", "faults")
    ```
    """
    return digest64("\x1f".join([str(seed), *map(str, names)]))


def digest64(text: str) -> int:
    """The 64-bit BLAKE2b digest of `text`: the hash every seed and key is drawn by."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


class _Current:
    """The running test's (run seed, node id), set by the pytest plugin for
    the test's setup, call and teardown; None outside a test."""

    __slots__ = ("test",)

    def __init__(self) -> None:
        self.test: tuple[int, str] | None = None


CURRENT = _Current()


def default_seed(purpose: str) -> int:
    """The seed a tool built without one uses: the running test's seed for
    `purpose` under the pytest plugin, else 0."""
    test = CURRENT.test
    return 0 if test is None else derive_seed(test[0], test[1], purpose)
