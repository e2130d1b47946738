"""Interceptors: code that runs around every attempt of every request.

Two shapes, freely mixed in one chain:

- hooks (lexigram-http's shape): `intercept_request(ctx: RequestContext)` and
  `intercept_response(ctx: ResponseContext)`, each may return a new context
  or None; either may be sync or async.
- around: `intercept(request, call_next) -> HttpResponse`, which may change
  the request, inspect or replace the response, or answer without calling
  `call_next` at all (a cassette in replay does).

The first interceptor added is the outermost: requests pass through the chain
in order, responses in reverse. Interceptors run once per attempt, inside the
retry loop, so `ctx.attempt` tells which attempt this is.

An interceptor that raises an `HTTPClientError` passes it on unchanged (a
fault injector raises connection errors on purpose); any other exception
becomes `HTTPInterceptorError` naming the interceptor.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Protocol, TypeAlias, runtime_checkable

from httpdeck.client._exceptions import HTTPClientError, HTTPInterceptorError, describe
from httpdeck.client._models import HttpResponse, Request, RequestContext, ResponseContext

CallNext: TypeAlias = Callable[[Request], Awaitable[HttpResponse]]
"""What an around interceptor calls to pass the request on: the rest of the chain,
then the transport. It returns the response (the body is read for verb calls)."""
Layer: TypeAlias = Callable[[Request, CallNext], Awaitable[HttpResponse]]


@runtime_checkable
class RequestInterceptor(Protocol):
    """Runs before each attempt: `intercept_request(ctx)` may change `ctx.headers`
    or `ctx.url`, and may return a new `RequestContext` (or None). Sync or async."""

    def intercept_request(
        self, context: RequestContext
    ) -> Awaitable[RequestContext | None] | RequestContext | None:
        """Called before each attempt, retries and redirect hops included.

        Change `context` in place, or return a new `RequestContext`; None
        keeps `context`. An exception other than an `HTTPClientError` reaches
        the caller as `HTTPInterceptorError`.
        """
        ...


@runtime_checkable
class ResponseInterceptor(Protocol):
    """Runs after each attempt: `intercept_response(ctx)` sees the response and
    `ctx.duration`, and may replace `ctx.response` or return a new context. Sync or async."""

    def intercept_response(
        self, context: ResponseContext
    ) -> Awaitable[ResponseContext | None] | ResponseContext | None:
        """Called after each attempt that got a response, with `context.duration` in seconds.

        Change `context` in place, or return a new `ResponseContext`; None
        keeps `context`. An exception other than an `HTTPClientError` reaches
        the caller as `HTTPInterceptorError`.
        """
        ...


@runtime_checkable
class AroundInterceptor(Protocol):
    """Wraps each attempt: `intercept(request, call_next)` returns the response,
    calling `call_next(request)` zero, one or more times."""

    async def intercept(self, request: Request, call_next: CallNext) -> HttpResponse:
        """Return the response to `request`, by calling `call_next` or on its own.

        `call_next(request)` runs the rest of the chain and the transport;
        pass a changed copy of the request to alter it. An exception other
        than an `HTTPClientError` reaches the caller as `HTTPInterceptorError`
        (errors raised by `call_next` pass through unchanged).
        """
        ...


Interceptor: TypeAlias = RequestInterceptor | ResponseInterceptor | AroundInterceptor
"""Anything with `intercept_request`, `intercept_response` or `intercept` (or several)."""


def _name(interceptor: object) -> str:
    return type(interceptor).__name__


def _wrap_error(interceptor: object, request: Request, exc: Exception) -> HTTPInterceptorError:
    msg = (
        f"Interceptor {_name(interceptor)} raised {type(exc).__name__}: {exc} "
        f"(while handling {describe(request)}, attempt {request.attempt})."
    )
    return HTTPInterceptorError(msg, request=request, interceptor=interceptor)


def _layer(interceptor: object) -> Layer:
    on_request = getattr(interceptor, "intercept_request", None)
    on_response = getattr(interceptor, "intercept_response", None)
    around = getattr(interceptor, "intercept", None)
    if not (on_request or on_response or around):
        msg = (
            f"{interceptor!r} is not an interceptor: define intercept_request(ctx), "
            "intercept_response(ctx) or intercept(request, call_next)."
        )
        raise TypeError(msg)

    async def layer(request: Request, call_next: CallNext) -> HttpResponse:
        # Errors that come up from further down the chain (an inner interceptor,
        # the transport, a fake's responder) are not this interceptor's doing.
        downstream: list[BaseException] = []

        async def guarded_next(req: Request) -> HttpResponse:
            try:
                return await call_next(req)
            except Exception as exc:
                downstream.append(exc)
                raise

        try:
            if on_request is not None:
                context = RequestContext(request, time.time())
                returned = on_request(context)
                if inspect.isawaitable(returned):
                    returned = await returned
                request = (returned or context).request
            started = time.perf_counter()
            if around is not None:
                response: HttpResponse = await around(request, guarded_next)
            else:
                response = await guarded_next(request)
            if on_response is not None:
                rcontext = ResponseContext(response, request, time.perf_counter() - started)
                out = on_response(rcontext)
                if inspect.isawaitable(out):
                    out = await out
                response = (out or rcontext).response
            return response
        except HTTPClientError:
            raise
        except Exception as exc:
            if any(exc is seen for seen in downstream):
                raise
            raise _wrap_error(interceptor, request, exc) from exc

    return layer


class InterceptorChain:
    """An ordered chain of interceptors, run once per attempt.

    Example:
        ```python
        class AddTrace:
            async def intercept_request(self, ctx):
                ctx.headers["X-Trace"] = "abc"

        chain = InterceptorChain([AddTrace()])
        ```
    """

    def __init__(self, interceptors: Iterable[Interceptor] = ()) -> None:
        self._interceptors: list[Interceptor] = []
        self._layers: list[Layer] = []
        for interceptor in interceptors:
            self.add_interceptor(interceptor)

    def add_interceptor(self, interceptor: Interceptor, *, first: bool = False) -> None:
        """Append an interceptor (innermost), or prepend it with `first=True`."""
        layer = _layer(interceptor)
        if first:
            self._interceptors.insert(0, interceptor)
            self._layers.insert(0, layer)
        else:
            self._interceptors.append(interceptor)
            self._layers.append(layer)

    def remove_interceptor(self, interceptor: Interceptor) -> None:
        """Remove an interceptor; a ValueError if it is not in the chain."""
        for index, existing in enumerate(self._interceptors):
            if existing is interceptor:
                del self._interceptors[index]
                del self._layers[index]
                return
        msg = f"{interceptor!r} is not in this interceptor chain."
        raise ValueError(msg)

    def __iter__(self) -> Iterator[Interceptor]:
        return iter(list(self._interceptors))

    def __len__(self) -> int:
        return len(self._interceptors)

    async def send(self, request: Request, handler: CallNext) -> HttpResponse:
        """Run `request` through every interceptor, then `handler`."""
        layers = self._layers
        if not layers:
            return await handler(request)

        def next_at(index: int) -> CallNext:
            if index == len(layers):
                return handler

            def call_next(req: Request) -> Awaitable[HttpResponse]:
                return layers[index](req, next_at(index + 1))

            return call_next

        return await next_at(0)(request)
