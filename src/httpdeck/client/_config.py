"""Client configuration: `HTTPClientConfig`, `ConnectionPoolConfig`, `TimeoutConfig`.

All three are frozen, keyword-only dataclasses that validate themselves, so a
bad value fails when the config is built, not on the first request.
`HTTPClientConfig.from_env()` loads them from environment variables with a
prefix and `__` nesting:

```
HTTPDECK_HTTP__POOL__MAX_CONNECTIONS=100
HTTPDECK_HTTP__TIMEOUTS__CONNECT=2.5
HTTPDECK_HTTP__TRUST_ENV=false
HTTPDECK_HTTP__HEADERS={"X-Team": "payments"}
```
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Union, get_args, get_origin, get_type_hints

from yarl import URL

from httpdeck.client._exceptions import HTTPConfigError
from httpdeck.client._timeouts import effective_timeouts

try:
    __version__ = version("httpdeck")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

DEFAULT_USER_AGENT = f"httpdeck/{__version__}"
# Extra names only: the built-in secret headers (httpdeck.client._redaction) always count.
DEFAULT_SECRET_HEADERS: tuple[str, ...] = ()


def _check_timeout(owner: str, name: str, value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{owner}.{name} must be a number of seconds or None, got {value!r}."
        raise HTTPConfigError(msg)
    if not math.isfinite(value) or value <= 0:
        msg = f"{owner}.{name} must be a positive number of seconds or None, got {value!r}."
        raise HTTPConfigError(msg)


def check_proxy_url(value: object, source: str, *, hint: str = "") -> str:
    """`value` if it is a usable proxy URL, else `HTTPConfigError` naming `source`.

    Usable: a string with the http:// or https:// scheme, a host and, if
    given, a numeric port. The one rule for `HTTPClientConfig.proxy` and
    the proxy environment variables (aiohttp would quietly go direct for
    `http://`, and fail on the first request for a bad port). `hint` ends
    the message (what to do).
    """
    what = "must be an http:// or https:// URL with a host, like http://proxy.internal:3128"
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        msg = f"{source} {what}, got {value!r}.{hint}"
        raise HTTPConfigError(msg)
    try:
        url = URL(value)
        url.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as exc:
        msg = f"{source} {what}, got {value!r} ({exc}).{hint}"
        raise HTTPConfigError(msg) from exc
    if not url.raw_host:
        msg = f"{source} {what}, got {value!r}: it names no host.{hint}"
        raise HTTPConfigError(msg)
    return value


def check_byte_limit(name: str, value: object) -> None:
    """A `max_response_bytes` value: None (no limit) or an integer >= 1.

    0 is refused, like a negative number: it would allow only empty bodies,
    which is never what "no limit" (None) meant. `HTTPConfigError` names
    `name` and the value.
    """
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = (
            f"{name} must be a positive integer (bytes, counted after decompression) "
            f"or None for no limit, got {value!r}."
        )
        raise HTTPConfigError(msg)


def _check_count(owner: str, name: str, value: int, *, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        msg = f"{owner}.{name} must be an integer >= {minimum}, got {value!r}."
        raise HTTPConfigError(msg)


@dataclass(frozen=True, kw_only=True, slots=True)
class TimeoutConfig:
    """Timeouts in seconds for each phase of a request; None disables one.

    - `connect`: opening the TCP (and TLS) connection.
    - `pool`: waiting for a free connection when the pool is full; not counted
      against `total`. None: the wait may last up to the total timeout.
    - `read`: the gap between two reads of the response.
    - `write`: handing one chunk of a streamed request body (`content=` an
      async iterable) to the socket; in-memory bodies are bounded by `total`.
    - `total`: the whole request from the moment a pool slot is granted
      (connecting, sending, the body); for `sse()`, the response head only.
      None means `ConnectionPoolConfig.timeout`.
    """

    connect: float | None = 10.0
    pool: float | None = None
    read: float | None = None
    write: float | None = None
    total: float | None = None

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _check_timeout("TimeoutConfig", f.name, getattr(self, f.name))


@dataclass(frozen=True, kw_only=True, slots=True)
class ConnectionPoolConfig:
    """The connection pool, with lexigram-http's fields.

    The pool sizes default to aiohttp's and httpx's (100 connections, 20 kept
    idle per host), not lexigram-http's 10 and 5: a pool of 10 queues the
    11th concurrent request, and costs a third of the throughput at 64
    requests in flight (see docs/benchmarks.md). `timeout` is lexigram-http's
    request timeout, used as the total timeout when `TimeoutConfig.total` is
    not set.
    """

    max_connections: int = 100
    max_keepalive_connections: int = 20
    max_connections_per_host: int = 100
    timeout: float = 30.0
    ttl_dns_cache: int = 300
    keepalive_timeout: float = 15.0
    force_close: bool = False
    verify_ssl: bool = True

    def __post_init__(self) -> None:
        _check_count("ConnectionPoolConfig", "max_connections", self.max_connections)
        _check_count(
            "ConnectionPoolConfig",
            "max_keepalive_connections",
            self.max_keepalive_connections,
            minimum=0,
        )
        _check_count(
            "ConnectionPoolConfig", "max_connections_per_host", self.max_connections_per_host
        )
        _check_count("ConnectionPoolConfig", "ttl_dns_cache", self.ttl_dns_cache, minimum=0)
        _check_timeout("ConnectionPoolConfig", "timeout", self.timeout)
        _check_timeout("ConnectionPoolConfig", "keepalive_timeout", self.keepalive_timeout)


@dataclass(frozen=True, kw_only=True, slots=True)
class HTTPClientConfig:
    """Everything that configures an `HTTPClient`.

    Example:
        ```python
        config = HTTPClientConfig(
            pool=ConnectionPoolConfig(max_connections=100),
            timeouts=TimeoutConfig(connect=2.0, total=10.0),
            headers={"X-Team": "payments"},
        )
        ```

    `http2=True` makes `HTTPClient` send through `HttpxTransport` with
    HTTP/2 (the `http2` extra: `pip install 'httpdeck[http2]'`) instead of
    the default aiohttp transport.
    """

    pool: ConnectionPoolConfig = field(default_factory=ConnectionPoolConfig)
    timeouts: TimeoutConfig = field(default_factory=TimeoutConfig)
    follow_redirects: bool = True
    max_redirects: int = 10
    headers: Mapping[str, str] = field(default_factory=dict)
    user_agent: str = DEFAULT_USER_AGENT
    proxy: str | None = None
    trust_env: bool = True
    cookie_jar: bool = True
    max_response_bytes: int | None = None
    url_safety: bool = False
    secret_headers: tuple[str, ...] = DEFAULT_SECRET_HEADERS
    service_name: str | None = None
    http2: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.pool, ConnectionPoolConfig):
            msg = f"HTTPClientConfig.pool must be a ConnectionPoolConfig, got {self.pool!r}."
            raise HTTPConfigError(msg)
        if not isinstance(self.timeouts, TimeoutConfig):
            msg = f"HTTPClientConfig.timeouts must be a TimeoutConfig, got {self.timeouts!r}."
            raise HTTPConfigError(msg)
        _check_count("HTTPClientConfig", "max_redirects", self.max_redirects, minimum=0)
        check_byte_limit("HTTPClientConfig.max_response_bytes", self.max_response_bytes)
        if self.proxy is not None:
            check_proxy_url(self.proxy, "HTTPClientConfig.proxy")

    @property
    def total_timeout(self) -> float | None:
        """The effective total timeout: `timeouts.total`, else `pool.timeout`
        (the rule of `_timeouts.effective_timeouts`)."""
        return effective_timeouts(self).total

    @classmethod
    def from_env(
        cls, prefix: str = "HTTPDECK_HTTP", *, environ: Mapping[str, str] | None = None
    ) -> HTTPClientConfig:
        """Build a config from `<prefix>__<FIELD>[__<FIELD>]` environment variables.

        Unset variables keep their defaults. A value that does not parse, or a
        variable under the prefix that names no field, raises `HTTPConfigError`
        naming the field, the variable and the value.
        """
        env = os.environ if environ is None else environ
        marker = prefix + "__"
        values = {k[len(marker) :]: v for k, v in env.items() if k.startswith(marker)}
        config = _load(cls, values, prefix)
        assert isinstance(config, HTTPClientConfig)
        return config


def _load(cls: type[Any], values: dict[str, str], prefix: str) -> Any:
    # In this module's namespace: the classes' __module__ is the public "httpdeck".
    hints = get_type_hints(cls, globalns=globals())
    fields = {f.name.upper(): f.name for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    nested: dict[str, dict[str, str]] = {}
    for key, raw in values.items():
        head, _, rest = key.partition("__")
        name = fields.get(head)
        if name is None:
            close = difflib.get_close_matches(head, list(fields), n=1)
            hint = f" Did you mean {prefix}__{close[0]}?" if close else ""
            known = ", ".join(sorted(fields))
            msg = f"{prefix}__{key} names no setting of {cls.__name__} (known: {known}).{hint}"
            raise HTTPConfigError(msg)
        if dataclasses.is_dataclass(hints[name]):
            nested.setdefault(name, {})[rest] = raw
        elif rest:
            msg = f"{prefix}__{key}: {cls.__name__}.{name} has no nested settings."
            raise HTTPConfigError(msg)
        else:
            kwargs[name] = _parse(hints[name], raw, f"{prefix}__{key}", f"{cls.__name__}.{name}")
    for name, sub in nested.items():
        kwargs[name] = _load(hints[name], sub, f"{prefix}__{name.upper()}")
    try:
        return cls(**kwargs)
    except HTTPConfigError as exc:
        # Name the variable whose value the error is about, when it names a field.
        named = [
            f"{prefix}__{key}={raw!r}"
            for key, raw in values.items()
            if key in fields and f"{cls.__name__}.{fields[key]} " in f"{exc} "
        ]
        where = ", ".join(named) if named else f"environment variables under {prefix}__"
        msg = f"{exc} (loaded from {where})"
        raise HTTPConfigError(msg) from exc


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_NONE = {"", "none", "null"}


def _parse(hint: Any, raw: str, variable: str, field_name: str) -> Any:
    args = get_args(hint)
    is_union = get_origin(hint) in (Union, types.UnionType)
    try:
        if is_union and type(None) in args:
            if raw.strip().lower() in _NONE:
                return None
            (inner,) = (a for a in args if a is not type(None))
            return _parse(inner, raw, variable, field_name)
        if hint is bool:
            word = raw.strip().lower()
            if word in _TRUE | _FALSE:
                return word in _TRUE
            msg = "expected one of true/false/1/0/yes/no/on/off"
            raise ValueError(msg)
        if hint is int:
            return int(raw)
        if hint is float:
            return float(raw)
        if hint is str:
            return raw
        if get_origin(hint) is tuple:
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        value = json.loads(raw)
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            msg = 'expected a JSON object of strings, like {"X-Team": "payments"}'
            raise ValueError(msg)
        return value
    except ValueError as exc:
        msg = f"Invalid value for {field_name}: {variable}={raw!r} ({exc})."
        raise HTTPConfigError(msg) from exc
