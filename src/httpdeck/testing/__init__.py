"""Test doubles, cassettes, fault injection and the pytest plugin for httpdeck.

Needs the `testing` extra: `pip install httpdeck[testing]`.

Exports are imported lazily (PEP 562): pytest imports
`httpdeck.testing.plugin` at start-up in every project that installs
httpdeck, so this package must not import aiohttp, vcrpy or faker until a
name is used. To export a name, add it to `_EXPORTS` (name -> private module)
and to the `TYPE_CHECKING` block; never as an eager import here.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import typing

_EXPORTS: dict[str, str] = {
    "Anonymizer": "httpdeck.testing.cassettes._anonymize",
    "Call": "httpdeck.testing.fake._routes",
    "Cassette": "httpdeck.testing.cassettes._cassette",
    "CassetteError": "httpdeck.testing.cassettes._errors",
    "CassetteMissError": "httpdeck.testing.cassettes._errors",
    "CassetteRequest": "httpdeck.testing.cassettes._model",
    "CassetteResponse": "httpdeck.testing.cassettes._model",
    "ChaosProxy": "httpdeck.testing.faults._chaos_proxy",
    "ChaosReport": "httpdeck.testing.faults._chaos_report",
    "Const": "httpdeck.testing.fake._data",
    "FakeClock": "httpdeck.testing.fake._responses",
    "FakeDataFactory": "httpdeck.testing.fake._data",
    "FakeError": "httpdeck.testing.fake._responses",
    "FakeHTTPClient": "httpdeck.testing.fake._client",
    "FakeResponse": "httpdeck.testing.fake._responses",
    "FakeTransport": "httpdeck.testing.fake._client",
    "FaultEvent": "httpdeck.testing.faults._injector",
    "FaultInjectionInterceptor": "httpdeck.testing.faults._injector",
    "FaultInjectionTransport": "httpdeck.testing.faults._injector",
    "FaultInjector": "httpdeck.testing.faults._injector",
    "FaultRule": "httpdeck.testing.faults._injector",
    "faults": "httpdeck.testing.faults",
    "Field": "httpdeck.testing.fake._data",
    "Interaction": "httpdeck.testing.cassettes._model",
    "ListOf": "httpdeck.testing.fake._data",
    "MalformedCassetteError": "httpdeck.testing.cassettes._errors",
    "RecordReplayInterceptor": "httpdeck.testing.cassettes._record",
    "Route": "httpdeck.testing.fake._routes",
    "schedules": "httpdeck.testing.schedules",
    "UnmatchedRequestError": "httpdeck.testing.fake._router",
    "use_cassette": "httpdeck.testing.cassettes._record",
}

if typing.TYPE_CHECKING:
    from httpdeck.testing import faults as faults
    from httpdeck.testing import schedules as schedules
    from httpdeck.testing.cassettes._anonymize import Anonymizer as Anonymizer
    from httpdeck.testing.cassettes._cassette import Cassette as Cassette
    from httpdeck.testing.cassettes._errors import CassetteError as CassetteError
    from httpdeck.testing.cassettes._errors import CassetteMissError as CassetteMissError
    from httpdeck.testing.cassettes._errors import MalformedCassetteError as MalformedCassetteError
    from httpdeck.testing.cassettes._model import CassetteRequest as CassetteRequest
    from httpdeck.testing.cassettes._model import CassetteResponse as CassetteResponse
    from httpdeck.testing.cassettes._model import Interaction as Interaction
    from httpdeck.testing.cassettes._record import (
        RecordReplayInterceptor as RecordReplayInterceptor,
    )
    from httpdeck.testing.cassettes._record import use_cassette as use_cassette
    from httpdeck.testing.fake._client import FakeHTTPClient as FakeHTTPClient
    from httpdeck.testing.fake._client import FakeTransport as FakeTransport
    from httpdeck.testing.fake._data import Const as Const
    from httpdeck.testing.fake._data import FakeDataFactory as FakeDataFactory
    from httpdeck.testing.fake._data import Field as Field
    from httpdeck.testing.fake._data import ListOf as ListOf
    from httpdeck.testing.fake._responses import FakeClock as FakeClock
    from httpdeck.testing.fake._responses import FakeError as FakeError
    from httpdeck.testing.fake._responses import FakeResponse as FakeResponse
    from httpdeck.testing.fake._router import UnmatchedRequestError as UnmatchedRequestError
    from httpdeck.testing.fake._routes import Call as Call
    from httpdeck.testing.fake._routes import Route as Route
    from httpdeck.testing.faults._chaos_proxy import ChaosProxy as ChaosProxy
    from httpdeck.testing.faults._chaos_report import ChaosReport as ChaosReport
    from httpdeck.testing.faults._injector import FaultEvent as FaultEvent
    from httpdeck.testing.faults._injector import (
        FaultInjectionInterceptor as FaultInjectionInterceptor,
    )
    from httpdeck.testing.faults._injector import FaultInjectionTransport as FaultInjectionTransport
    from httpdeck.testing.faults._injector import FaultInjector as FaultInjector
    from httpdeck.testing.faults._injector import FaultRule as FaultRule

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'httpdeck.testing' has no attribute {name!r}"
        raise AttributeError(msg)
    imported = importlib.import_module(module)
    # `faults` and `schedules` are namespace modules, exported as themselves.
    value = imported if module == f"{__name__}.{name}" else getattr(imported, name)
    globals()[name] = value
    _publish()
    return value


def _publish() -> None:
    """Give every exported class whose module is loaded the public
    `__module__` "httpdeck.testing", so tracebacks and reprs name
    `httpdeck.testing.UnmatchedRequestError`. Lazy exports cannot be renamed
    before their module loads: this runs on each export lookup and before each
    test body under the pytest plugin, and touches only loaded modules."""
    for name, module in _EXPORTS.items():
        loaded = sys.modules.get(module)
        value = getattr(loaded, name, None) if loaded is not None else None
        if inspect.isclass(value):  # not functions: doctest finds them through it
            value.__module__ = __name__


def __dir__() -> list[str]:
    dunders = {name for name in globals() if name.startswith("__")}
    return sorted({*dunders, *_EXPORTS})


del typing
