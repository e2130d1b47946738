"""Every `Request.extensions` key httpdeck reads or writes, in one place.

`Request.extensions` is a per-attempt dict that carries what a layer of the
pipeline (client, resilience, interceptors, transport) tells another. The
keys below are the complete list: a new key is added here, with its
docstring, and to the table in docs/architecture.md ("Request extensions");
`tests/test_seam.py` fails when a `"httpdeck.*"` key string appears in
src/ outside this module. Part of the client's seam (`_seam`): test
transports (the fake, cassettes, fault injection) honour the same keys.
"""

from __future__ import annotations

__all__ = ["BODY_DEADLINE", "CIRCUIT_OPENED", "FRESH_CONNECTION", "OBSERVER", "STREAM"]

STREAM = "stream"
"""Set by the client on every attempt: True inside `client.stream()` and
`sse()`, False when the body is read right away. A transport may read a
False request's body before returning (the aiohttp one does: two coroutine
frames less per request), and an around interceptor that answers by itself
(a cassette in replay) hands back a read body or a stream."""

FRESH_CONNECTION = "httpdeck.fresh_connection"
"""Set by the client on the one re-send of a request whose reused keep-alive
connection died unanswered (`HTTPConnectionError.stale`): the transport must
open a new connection for it rather than take an idle one."""

BODY_DEADLINE = "httpdeck.body_deadline"
"""Set to False (as `HTTPClient.sse()` does) and the total deadline covers
the connection and the response head only, not an endless body such as an
event stream. Both real transports honour it."""

CIRCUIT_OPENED = "httpdeck.circuit_opened"
"""Set by a circuit breaker: the breaker that opened on this attempt. A retry
loop outside the breaker reads it so as not to sleep before an attempt the
open breaker will refuse at once."""

OBSERVER = "httpdeck.observer"
"""Set by the client: the attempt's `Observer` (events and metrics); retries
and redirects copy it to the next attempt so one request is observed once."""
