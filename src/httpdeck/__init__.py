"""httpdeck: an async HTTP client on aiohttp, with the tools to test code that uses it.

The client API is re-exported here; test doubles, cassettes, faults and the
pytest plugin live in `httpdeck.testing`.
"""

from httpdeck.client import *  # noqa: F403 - the curated client API is the top-level API
from httpdeck.client import __all__ as _client_all
from httpdeck.client._config import __version__

__all__ = ["__version__", *_client_all]
