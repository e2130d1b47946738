"""The client's seam: everything `httpdeck.testing` may use from the client
beyond the public `httpdeck.client` API.

`httpdeck.testing` (the fake, cassettes, fault injection, the pytest
plugin) imports the client through two doors only: the public names of
`httpdeck.client`, and this module. `tests/test_seam.py` parses every module
of `httpdeck.testing` and fails on any other `httpdeck.client._...` import,
and on any import of `httpdeck.testing` from the client. So a test double
can never come to depend on a transport's private code (a private method,
an aiohttp exception object, a module global): what it needs is named here,
owned by the client module that applies the same rule to real traffic.

One module rather than several: the contract is the `__all__` below, read in
one place; each name stays defined in the module that owns its rule:

- transport errors (`_transports/_common`): the one constructor per
  failure; `FakeError` and the fault catalog build their errors with these,
  so a faked failure has the real one's type, message, `sent` and `phase`.
- effective timeouts (`_timeouts`): connect/read/write/pool/total of one
  request, from the config and the request's own `timeout=`.
- request extension keys (`_extensions`): every `Request.extensions` key.
- cookies (`_transports/_cookies`): the jar a client keeps, and the merge of
  jar cookies into a request's `Cookie` header.
- the connect guard (`_transports/_common`): the hook network blocking
  installs, called by every real transport before it connects.
- redaction (`_redaction`): the one list of secret headers and fields.
- body limits (`_limits`), URL joining (`_base_url`), the request
  description used in messages (`_exceptions.describe`), testing mode
  (`_retry_support`), and the default transport for a config.

A name is added here (and to docs/architecture.md, "The seam") when the
testing package needs it; the owning module keeps its docstring.
"""

from __future__ import annotations

from httpdeck.client._base_url import join_url
from httpdeck.client._exceptions import TimeoutPhase, describe
from httpdeck.client._extensions import (
    BODY_DEADLINE,
    CIRCUIT_OPENED,
    FRESH_CONNECTION,
    OBSERVER,
    STREAM,
)
from httpdeck.client._limits import BodyLimit, declared_length, limited
from httpdeck.client._redaction import (
    PLACEHOLDER,
    SECRET_FIELDS,
    SECRET_HEADERS,
    is_secret_name,
    normal_name,
    redact_query,
    redact_text,
    redact_url,
    userinfo,
)
from httpdeck.client._retry_support import TESTING, use_default_rng
from httpdeck.client._timeouts import EffectiveTimeouts, effective_timeouts
from httpdeck.client._transports._common import (
    ConnectGuard,
    body_error,
    cannot_connect_error,
    connect_timeout_error,
    connection_reset_error,
    disconnected_error,
    dns_error,
    malformed_response_error,
    pool_timeout_error,
    read_timeout_error,
    set_connect_guard,
    timeout_error,
    tls_error,
    total_timeout_error,
    write_timeout_error,
)
from httpdeck.client._transports._cookies import (
    CookieJar,
    keep_cookies,
    new_cookie_jar,
    send_cookies,
)
from httpdeck.client._transports.base import default_transport

__all__ = [
    "BODY_DEADLINE",
    "CIRCUIT_OPENED",
    "FRESH_CONNECTION",
    "OBSERVER",
    "PLACEHOLDER",
    "SECRET_FIELDS",
    "SECRET_HEADERS",
    "STREAM",
    "TESTING",
    "BodyLimit",
    "ConnectGuard",
    "CookieJar",
    "EffectiveTimeouts",
    "TimeoutPhase",
    "body_error",
    "cannot_connect_error",
    "connect_timeout_error",
    "connection_reset_error",
    "declared_length",
    "default_transport",
    "describe",
    "disconnected_error",
    "dns_error",
    "effective_timeouts",
    "is_secret_name",
    "join_url",
    "keep_cookies",
    "limited",
    "malformed_response_error",
    "new_cookie_jar",
    "normal_name",
    "pool_timeout_error",
    "read_timeout_error",
    "redact_query",
    "redact_text",
    "redact_url",
    "send_cookies",
    "set_connect_guard",
    "timeout_error",
    "tls_error",
    "total_timeout_error",
    "use_default_rng",
    "userinfo",
    "write_timeout_error",
]
