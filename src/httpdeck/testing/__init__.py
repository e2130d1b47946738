"""Test doubles, cassettes, fault injection and the pytest plugin for httpdeck.

Needs the `testing` extra: `pip install httpdeck[testing]`.

Exports are imported lazily (PEP 562): pytest imports
`httpdeck.testing.pytest_plugin` at start-up in every project that installs
httpdeck, so this package must not import aiohttp, vcrpy or faker until a
name is used. To export a name, add it to `_EXPORTS` (name -> private module)
and to the `TYPE_CHECKING` block; never as an eager import here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {}

if TYPE_CHECKING:
    pass

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'httpdeck.testing' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
