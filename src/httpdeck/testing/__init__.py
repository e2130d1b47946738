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
import inspect
import sys
import typing

_EXPORTS: dict[str, str] = {
    "Anonymizer": "httpdeck.testing._anonymize",
    "Call": "httpdeck.testing._routes",
    "Cassette": "httpdeck.testing._cassette",
    "CassetteError": "httpdeck.testing._cassette_errors",
    "CassetteMissError": "httpdeck.testing._cassette_errors",
    "CassetteRequest": "httpdeck.testing._cassette_model",
    "CassetteResponse": "httpdeck.testing._cassette_model",
    "ChaosProxy": "httpdeck.testing._chaos_proxy",
    "ChaosReport": "httpdeck.testing._chaos_report",
    "Const": "httpdeck.testing._fake_data",
    "FakeClock": "httpdeck.testing._responses",
    "FakeDataFactory": "httpdeck.testing._fake_data",
    "FakeError": "httpdeck.testing._responses",
    "FakeHTTPClient": "httpdeck.testing._fake",
    "FakeResponse": "httpdeck.testing._responses",
    "FakeTransport": "httpdeck.testing._fake",
    "FaultEvent": "httpdeck.testing._injector",
    "FaultInjectionInterceptor": "httpdeck.testing._injector",
    "FaultInjectionTransport": "httpdeck.testing._injector",
    "FaultInjector": "httpdeck.testing._injector",
    "FaultRule": "httpdeck.testing._injector",
    "faults": "httpdeck.testing.faults",
    "Field": "httpdeck.testing._fake_data",
    "Interaction": "httpdeck.testing._cassette_model",
    "ListOf": "httpdeck.testing._fake_data",
    "MalformedCassetteError": "httpdeck.testing._cassette_errors",
    "RecordReplayInterceptor": "httpdeck.testing._record",
    "Route": "httpdeck.testing._routes",
    "schedules": "httpdeck.testing.schedules",
    "UnmatchedRequestError": "httpdeck.testing._router",
    "use_cassette": "httpdeck.testing._record",
}

if typing.TYPE_CHECKING:
    from httpdeck.testing import faults as faults
    from httpdeck.testing import schedules as schedules
    from httpdeck.testing._anonymize import Anonymizer as Anonymizer
    from httpdeck.testing._cassette import Cassette as Cassette
    from httpdeck.testing._cassette_errors import CassetteError as CassetteError
    from httpdeck.testing._cassette_errors import CassetteMissError as CassetteMissError
    from httpdeck.testing._cassette_errors import MalformedCassetteError as MalformedCassetteError
    from httpdeck.testing._cassette_model import CassetteRequest as CassetteRequest
    from httpdeck.testing._cassette_model import CassetteResponse as CassetteResponse
    from httpdeck.testing._cassette_model import Interaction as Interaction
    from httpdeck.testing._chaos_proxy import ChaosProxy as ChaosProxy
    from httpdeck.testing._chaos_report import ChaosReport as ChaosReport
    from httpdeck.testing._fake import FakeHTTPClient as FakeHTTPClient
    from httpdeck.testing._fake import FakeTransport as FakeTransport
    from httpdeck.testing._fake_data import Const as Const
    from httpdeck.testing._fake_data import FakeDataFactory as FakeDataFactory
    from httpdeck.testing._fake_data import Field as Field
    from httpdeck.testing._fake_data import ListOf as ListOf
    from httpdeck.testing._injector import FaultEvent as FaultEvent
    from httpdeck.testing._injector import FaultInjectionInterceptor as FaultInjectionInterceptor
    from httpdeck.testing._injector import FaultInjectionTransport as FaultInjectionTransport
    from httpdeck.testing._injector import FaultInjector as FaultInjector
    from httpdeck.testing._injector import FaultRule as FaultRule
    from httpdeck.testing._record import RecordReplayInterceptor as RecordReplayInterceptor
    from httpdeck.testing._record import use_cassette as use_cassette
    from httpdeck.testing._responses import FakeClock as FakeClock
    from httpdeck.testing._responses import FakeError as FakeError
    from httpdeck.testing._responses import FakeResponse as FakeResponse
    from httpdeck.testing._router import UnmatchedRequestError as UnmatchedRequestError
    from httpdeck.testing._routes import Call as Call
    from httpdeck.testing._routes import Route as Route

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
