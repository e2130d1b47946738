"""The effective timeouts of one request: the one rule every transport applies.

A request's own `timeout=` (`Request.timeout`, a whole `TimeoutConfig`)
replaces the client's `HTTPClientConfig.timeouts`; a `total` of None falls
back to `ConnectionPoolConfig.timeout` (lexigram-http's request timeout).
Both real transports, the fake and the fault injector read their limits from
`effective_timeouts()`, so a limit reads the same everywhere. Part of the
client's seam for `httpdeck.testing` (`_seam`).

The aiohttp transport computes this once per client and again only for a
request that carries its own `timeout=`, so the common path pays nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from httpdeck.client._config import HTTPClientConfig
    from httpdeck.client._models import Request

__all__ = ["EffectiveTimeouts", "effective_timeouts"]


@dataclass(frozen=True, slots=True)
class EffectiveTimeouts:
    """The limits, in seconds, that apply to one request (None: no limit).

    - `connect`: opening the connection (TCP and TLS).
    - `read`: between two reads of the response (head or body).
    - `write`: for the server to take each chunk of a streamed request body.
    - `pool`: the wait for a free connection; None lets it last up to the
      total timeout (`pool_wait`).
    - `total`: the whole request, until the body is read or closed.
    """

    connect: float | None
    read: float | None
    write: float | None
    pool: float | None
    total: float | None

    @property
    def pool_wait(self) -> float | None:
        """How long a request may wait for a pool slot: `pool`, else `total`."""
        return self.total if self.pool is None else self.pool


def effective_timeouts(
    config: HTTPClientConfig, request: Request | None = None
) -> EffectiveTimeouts:
    """The timeouts a client with `config` applies to `request` (its own
    `timeout=` when it has one, else `config.timeouts`; `total` None falls back
    to `config.pool.timeout`)."""
    own = None if request is None else request.timeout
    timeouts = config.timeouts if own is None else own
    total = timeouts.total if timeouts.total is not None else config.pool.timeout
    return EffectiveTimeouts(
        connect=timeouts.connect,
        read=timeouts.read,
        write=timeouts.write,
        pool=timeouts.pool,
        total=total,
    )
