"""The fault catalog: small frozen values, each producing exactly what the
real client sees from the real failure.

| fault | what the caller gets | `sent` |
|---|---|---|
| `ConnectionRefused()` | `HTTPConnectionError` | False |
| `DNSFailure()` | `HTTPConnectionError` | False |
| `TLSFailure(reason)` | `HTTPConnectionError` | False |
| `PoolExhausted()` | `HTTPTimeoutError`, phase "pool" | False |
| `ConnectionReset(after_send=False)` | `HTTPConnectionError` | False |
| `ConnectionReset(after_send=True)` | `HTTPConnectionError` | True |
| `Disconnect()` | `HTTPConnectionError` (closed before answering) | True |
| `Timeout("connect" / "pool")` | `HTTPTimeoutError` with that phase | False |
| `Timeout("read" / "total")` | `HTTPTimeoutError` with that phase | True |
| `Status(503, retry_after=1)` | a 503 response (`Err(HTTPStatusError)` from verbs) | - |
| `TruncatedBody()` / `BadContentLength(+n)` | `HTTPProtocolError` while reading | True |
| `BadContentLength(-n)` | `HTTPProtocolError` (malformed response) | True |
| `StallBody()` / `SlowDrip()` / `BlackHole()` | `HTTPTimeoutError` when a timeout runs out | True |
| `Latency(seconds)` | a slower response, or the timeout it runs into | - |
| `InvalidJSON()` / `WrongContentType()` | a 2xx whose `json()` raises `HTTPDecodeError` | - |

Faults that fail before the request reaches the server never call the
inner transport. After-send failures do not either, unless
`processed=True` says the server handled the request before the failure
(the case that makes a retried POST a duplicate). Body faults pass the
request on and damage the real response.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from http import HTTPStatus
from typing import ClassVar, Literal

from httpdeck.client import ByteStream, CallNext, HttpResponse, Request
from httpdeck.testing.faults._support import (
    Failure,
    FaultEnv,
)

__all__ = [
    "BlackHole",
    "ConnectionRefused",
    "ConnectionReset",
    "DNSFailure",
    "Disconnect",
    "Fault",
    "FaultEnv",
    "Latency",
    "PoolExhausted",
    "Status",
    "TLSFailure",
    "Timeout",
]


class Fault(ABC):
    """A failure to inject. Subclass it (as a frozen dataclass) for your own.

    `apply` gets the request, the next handler (the inner transport, or the
    rest of the interceptor chain) and a `FaultEnv` (seeded random source,
    injectable sleep, the request's timeouts); it returns a response or
    raises the error the real client would raise.
    """

    __slots__ = ()
    _kind: ClassVar[str] = "fault"

    @property
    def kind(self) -> str:
        """A short name for reports: "connection_reset", "timeout.read", "status.503"."""
        return self._kind

    @abstractmethod
    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        """Produce the fault's effect for `request`."""


async def _processed(request: Request, call_next: CallNext) -> None:
    response = await call_next(request)
    await response.aclose()


@dataclass(frozen=True, slots=True)
class Latency(Fault):
    """Delay the request (`where="request"`) or the response's first byte
    (`where="response"`, the default) by `seconds`.

    `jitter` spreads the delay: uniform in seconds ± jitter (the default), a
    normal distribution with `distribution="normal"` (jitter is sigma), or
    an exponential one with mean `seconds`. Draws come from the injector's
    seed. A delay longer than the read timeout (response side) or the total
    timeout raises that timeout, after waiting it out on the injected sleep.
    """

    seconds: float = 0.1
    _: KW_ONLY
    jitter: float = 0.0
    distribution: Literal["uniform", "normal", "exponential"] = "uniform"
    where: Literal["request", "response"] = "response"
    _kind: ClassVar[str] = "latency"

    def __post_init__(self) -> None:
        if not (self.seconds >= 0 and self.jitter >= 0 and math.isfinite(self.seconds)):
            msg = f"Latency needs seconds >= 0 and jitter >= 0, got {self.seconds!r}, {self.jitter!r}."
            raise ValueError(msg)
        if self.where not in ("request", "response"):
            msg = f'Latency(where=) must be "request" or "response", got {self.where!r}.'
            raise ValueError(msg)

    def sample(self, env: FaultEnv) -> float:
        """One delay in seconds, drawn from `env.rng` by `distribution`; never negative."""
        if self.distribution == "exponential":
            return env.rng.expovariate(1 / self.seconds) if self.seconds else 0.0
        if self.distribution == "normal":
            return max(0.0, env.rng.gauss(self.seconds, self.jitter))
        if self.jitter:
            return max(0.0, self.seconds + env.rng.uniform(-self.jitter, self.jitter))
        return self.seconds

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        """Wait the sampled delay before sending or after the response head, on `env`'s
        sleep; a wait past a timeout raises that `HTTPTimeoutError`.
        """
        delay = self.sample(env)
        if self.where == "request":
            await env.wait(request, delay, reading=False)
            return await call_next(request)
        response = await call_next(request)
        try:
            await env.wait(request, delay, reading=True)
        except BaseException:
            await response.aclose()
            raise
        return response


@dataclass(frozen=True, slots=True)
class ConnectionRefused(Fault):
    """Nothing listens on the port: refused before any byte is sent."""

    _kind: ClassVar[str] = "connection_refused"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        """Raise `HTTPConnectionError(sent=False)` without calling `call_next`."""
        env.fail(request, "refused")


@dataclass(frozen=True, slots=True)
class DNSFailure(Fault):
    """The host name does not resolve."""

    _kind: ClassVar[str] = "dns_failure"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        """Raise `HTTPConnectionError(sent=False)` without calling `call_next`."""
        env.fail(request, "dns")


@dataclass(frozen=True, slots=True)
class TLSFailure(Fault):
    """The TLS handshake fails (certificate verification, by default)."""

    reason: str = "self-signed certificate"
    _kind: ClassVar[str] = "tls_failure"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        """Raise `HTTPConnectionError(sent=False)` naming `reason`, without calling `call_next`."""
        env.fail(request, "tls", detail=self.reason)


@dataclass(frozen=True, slots=True)
class PoolExhausted(Fault):
    """Every pooled connection stayed busy past the pool timeout:
    `HTTPPoolTimeoutError` (an `HTTPTimeoutError`, phase "pool", `sent=False`), with the real transport's
    message (the pool timeout and max_connections of the config)."""

    _kind: ClassVar[str] = "pool_exhausted"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        """Raise `HTTPPoolTimeoutError` (phase "pool", `sent=False`) without calling `call_next`."""
        env.fail(request, "pool_timeout", sent=False)


@dataclass(frozen=True, slots=True)
class ConnectionReset(Fault):
    """The peer resets the connection (TCP RST).

    `after_send=True` (the default): the request went out, so `sent=True`
    and a POST must not be retried. `processed=True`: the server handled the
    request before the reset (the inner transport is called, its response
    dropped). `after_send=False`: reset while connecting, `sent=False`.
    """

    after_send: bool = True
    _: KW_ONLY
    processed: bool = False

    def __post_init__(self) -> None:
        if self.processed and not self.after_send:
            msg = "ConnectionReset(after_send=False) cannot be processed=True: nothing was sent."
            raise ValueError(msg)

    @property
    def kind(self) -> str:
        """`"connection_reset"`, or `"connection_reset.before_send"` with `after_send=False`."""
        return "connection_reset" if self.after_send else "connection_reset.before_send"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        """Raise `HTTPConnectionError` (`sent` as `after_send`); `call_next` runs first
        only with `processed=True`.
        """
        if not self.after_send:
            env.fail(request, "reset_before_send")
        if self.processed:
            await _processed(request, call_next)
        env.fail(request, "reset")


@dataclass(frozen=True, slots=True)
class Disconnect(Fault):
    """The server closes the connection without answering (a stale keep-alive
    connection, a crashed worker): `sent=True`."""

    _: KW_ONLY
    processed: bool = False
    _kind: ClassVar[str] = "disconnect"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        """Raise `HTTPConnectionError(sent=True)`; with `processed=True`, after `call_next`."""
        if self.processed:
            await _processed(request, call_next)
        env.fail(request, "disconnect")


_TIMEOUTS: dict[str, Failure] = {
    "connect": "connect_timeout",
    "pool": "pool_timeout",
    "read": "read_timeout",
    "total": "total_timeout",
}


@dataclass(frozen=True, slots=True)
class Timeout(Fault):
    """A timeout of one phase, raised at once (use `BlackHole` or `Latency`
    to spend the time on the injected clock first).

    "connect" and "pool" (same as `PoolExhausted()`) have `sent=False`;
    "read" and "total" have `sent=True`, and with `processed=True` the
    server handled the request first.
    """

    phase: Literal["connect", "pool", "read", "total"] = "read"
    _: KW_ONLY
    processed: bool = False

    def __post_init__(self) -> None:
        if self.phase not in _TIMEOUTS:
            msg = f"Timeout phase must be one of {', '.join(_TIMEOUTS)}; got {self.phase!r}."
            raise ValueError(msg)
        if self.processed and self.phase in ("connect", "pool"):
            msg = f'Timeout("{self.phase}") cannot be processed=True: nothing was sent.'
            raise ValueError(msg)

    @property
    def kind(self) -> str:
        """`"timeout."` and the phase: `"timeout.read"`, ..."""
        return f"timeout.{self.phase}"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        """Raise `HTTPTimeoutError` for `phase`; with `processed=True`, after `call_next`."""
        if self.processed:
            await _processed(request, call_next)
        env.fail(request, _TIMEOUTS[self.phase], sent=self.phase in ("read", "total"))


@dataclass(frozen=True, slots=True)
class BlackHole(Fault):
    """The request goes out and nothing ever comes back: waits (on the
    injected sleep) until the read or total timeout, then raises it. With no
    timeout configured it hangs, as the real client would."""

    _kind: ClassVar[str] = "black_hole"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        """Wait out the read or total timeout, then raise it; with neither, wait forever."""
        await env.wait(request, math.inf, reading=True)
        raise AssertionError("unreachable: an endless wait returned")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Status(Fault):
    """Answer with an error status instead of the server: 500, 502, 503, 504,
    429 or any 4xx/5xx, with an optional `Retry-After` (seconds or an
    HTTP-date string). The inner transport is not called."""

    status: int = 503
    _: KW_ONLY
    retry_after: int | str | None = None
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.status, bool) or not isinstance(self.status, int):
            msg = f"Status needs an integer status code, got {self.status!r}."
            raise TypeError(msg)
        if not 400 <= self.status <= 599:
            msg = f"Status fault needs a 4xx or 5xx status, got {self.status}."
            raise ValueError(msg)

    @property
    def kind(self) -> str:
        """`"status."` and the code: `"status.503"`, ..."""
        return f"status.{self.status}"

    async def apply(self, request: Request, call_next: CallNext, env: FaultEnv) -> HttpResponse:
        """Answer with `status`, `Retry-After` and `headers` without calling `call_next`."""
        try:
            reason = HTTPStatus(self.status).phrase
        except ValueError:
            reason = ""
        body = self.body if self.body is not None else f"{self.status} {reason}".encode()
        headers = {"Content-Type": "text/plain; charset=utf-8", "Content-Length": str(len(body))}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        headers.update(self.headers)
        return HttpResponse(
            self.status, headers=headers, stream=ByteStream(body), request=request, reason=reason
        )
