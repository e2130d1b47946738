"""httpdeck: an async HTTP client on aiohttp, with the tools to test code that uses it.

The client API is re-exported here; test doubles, cassettes, faults and the
pytest plugin live in `httpdeck.testing`.

The re-export is lazy (PEP 562): `import httpdeck.testing.plugin`,
which pytest does at start-up for every project that installs httpdeck, must
not pay for importing aiohttp. `from httpdeck import HTTPClient` works as usual.
"""

from __future__ import annotations

import types
import typing

if typing.TYPE_CHECKING:
    from httpdeck.client import *  # noqa: F403 - the curated client API is the top-level API
    from httpdeck.client._config import __version__ as __version__


def __getattr__(name: str) -> object:
    if name == "__version__":
        from httpdeck.client._config import __version__ as __version__

        return __version__
    import httpdeck.client as client

    if name == "__all__":
        return sorted(["__version__", *client.__all__])
    if name in client.__all__:
        value = getattr(client, name)
        globals()[name] = value
        return value
    msg = f"module 'httpdeck' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    import httpdeck.client as client

    names = {
        n for n, v in globals().items() if n.startswith("__") or (n[0] != "_" and _is_subpackage(v))
    }
    return sorted({"__version__", *client.__all__, *names})


def _is_subpackage(value: object) -> bool:
    return isinstance(value, types.ModuleType) and value.__name__.startswith("httpdeck.")


del typing
