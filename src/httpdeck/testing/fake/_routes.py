"""Routes: a request pattern, what it answers, and the calls it answered.

```python
route = fake.route("GET", "https://api.example.com/users", params={"page": "1"})
route.respond(json=[{"id": 1}])
...
route.assert_called_once()
assert route.calls[0].params["page"] == "1"
```
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Unpack, overload

from multidict import CIMultiDict, MultiDictProxy
from yarl import URL

from httpdeck.client import HttpResponse, Request
from httpdeck.testing._json_limits import load_json
from httpdeck.testing.fake._matching import (
    ANY,
    ContentSpec,
    HeaderValue,
    ParamsSpec,
    ParamValue,
    Pattern,
    RequestMatch,
    Seen,
    URLSpec,
)
from httpdeck.testing.fake._responses import (
    MISSING,
    Answer,
    FakeError,
    FakeResponse,
    Responder,
    SequenceItem,
    SSEEvent,
    to_answer,
)
from httpdeck.testing.fake._suggest import missing_attribute

__all__ = ["Call", "Route", "RouteList"]


class Call:
    """One request the fake received, as it was when the transport saw it.

    `route` is the route that answered (None when none matched or the
    request passed through); `response` or `error` is what it got.
    """

    __slots__ = (
        "attempt",
        "body",
        "error",
        "headers",
        "method",
        "passthrough",
        "request",
        "response",
        "route",
        "url",
    )

    def __init__(self, request: Request, body: bytes | None, route: Route | None) -> None:
        self.request = request
        self.method = request.method
        self.url: URL = request.url
        # The live mapping: nothing in the pipeline changes a request once the
        # transport has it (retries and redirects send copies).
        self.headers: CIMultiDict[str] = request.headers
        self.body = body
        self.attempt = request.attempt
        self.route = route
        self.response: HttpResponse | None = None
        self.error: BaseException | None = None
        self.passthrough = False

    @property
    def params(self) -> MultiDictProxy[str]:
        """The query parameters."""
        return self.url.query

    @property
    def text(self) -> str:
        """The request body decoded as UTF-8 (invalid bytes replaced); empty when there is none."""
        return (self.body or b"").decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The request body decoded as JSON (ValueError when it is not JSON, or
        is past Python's limits: use `body`)."""
        return load_json(self.body or b"", "the request body")

    def seen(self) -> Seen:
        """The request as route patterns match it (what `assert_called_with` compares)."""
        return Seen(self.method, self.url, self.headers, self.body)

    def __repr__(self) -> str:
        outcome = (
            f"-> {type(self.error).__name__}"
            if self.error is not None
            else f"-> {self.response.status}"
            if self.response is not None
            else ""
        )
        return f"<Call {self.method} {self.url} {outcome}>".replace(" >", ">")


class _Sequence:
    __slots__ = ("answers", "position", "then")

    def __init__(self, answers: list[Answer], then: Literal["repeat", "error"]) -> None:
        self.answers = answers
        self.then = then
        self.position = 0

    def next(self) -> Answer | None:
        index = self.position
        self.position += 1
        if index < len(self.answers):
            return self.answers[index]
        return self.answers[-1] if self.then == "repeat" else None


def _expected(method: str, url: URLSpec | None, match: RequestMatch) -> Pattern:
    # A path alone (`/users`) is checked on any host, as in the fake's routes.
    return Pattern(method, url, **match, any_host=isinstance(url, str) and url.startswith("/"))


class Route:
    """A request pattern and its answer, with the history of calls it answered.

    Build routes with `fake.route(...)`; `Route(...)` itself takes the same
    arguments and makes a route to hand to `FakeHTTPClient(routes=[...])` or
    `HTTPModule.stub(routes=[...])`. Until told otherwise a route answers
    `200` with an empty body. Every `respond*` method returns the route.
    """

    def __init__(
        self,
        method: str = ANY,
        url: URLSpec | None = None,
        *,
        params: ParamsSpec | None = None,
        exact_params: bool = False,
        headers: Mapping[str, HeaderValue] | None = None,
        json: Any = MISSING,
        data: Mapping[str, ParamValue | Sequence[ParamValue]] | None = None,
        content: ContentSpec | None = None,
        any_host: bool = False,
        name: str | None = None,
        optional: bool = False,
        base_url: str | URL | None = None,
    ) -> None:
        base = URL(base_url) if isinstance(base_url, str) else base_url
        self.pattern = Pattern(
            method,
            url,
            params=params,
            exact_params=exact_params,
            headers=headers,
            json=json,
            data=data,
            content=content,
            any_host=any_host,
            base_url=base,
        )
        self.name = name
        self.optional = optional
        self.calls: list[Call] = []
        self.seq = 0
        self.owner: object | None = None
        self._answer: Answer | _Sequence = FakeResponse(200)

    # -- what it answers --------------------------------------------------

    def respond(
        self,
        status: int = 200,
        *,
        json: Any = MISSING,
        text: str | None = None,
        content: bytes | None = None,
        chunks: Iterable[bytes | str] | None = None,
        sse: Iterable[SSEEvent] | None = None,
        ndjson: Iterable[Any] | None = None,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        content_type: str | None = None,
        reason: str | None = None,
        delay: float = 0.0,
        status_code: int | None = None,
    ) -> Route:
        """Answer every call with this response (see `FakeResponse`).

        `status_code=` is accepted as another name for `status` (respx and
        httpx spell it so); give one or the other.
        """
        if status_code is not None:
            if status != 200:
                msg = f"respond() got status={status} and status_code={status_code}; give one."
                raise TypeError(msg)
            status = status_code
        self._answer = FakeResponse(
            status,
            json=json,
            text=text,
            content=content,
            chunks=chunks,
            sse=sse,
            ndjson=ndjson,
            headers=headers,
            content_type=content_type,
            reason=reason,
            delay=delay,
        )
        return self

    def respond_with(self, responder: Responder | FakeResponse) -> Route:
        """Answer with `responder(request)` (sync or async), returning a
        `FakeResponse` or an `HttpResponse`; it may raise to fail the call."""
        self._answer = to_answer(responder)
        return self

    def raise_error(self, error: BaseException | FakeError) -> Route:
        """Raise `error` on every call: an `HTTPClientError` instance (a copy
        is raised each time, with the request attached), or
        `FakeError.connection_reset(sent=...)` / `FakeError.timeout(phase)`."""
        self._answer = FakeError.of(error)
        return self

    def respond_sequence(
        self, answers: Iterable[SequenceItem], *, then: Literal["repeat", "error"] = "repeat"
    ) -> Route:
        """One answer per call, in order: `FakeResponse`s, status codes,
        exceptions, `FakeError`s or callables. After the
        last, `then="repeat"` repeats it and `then="error"` fails the call
        with `UnmatchedRequestError` (and records it as unexpected)."""
        items = [to_answer(item) for item in answers]
        if not items:
            msg = "respond_sequence() needs at least one answer."
            raise ValueError(msg)
        if then not in ("repeat", "error"):
            msg = f"then must be 'repeat' or 'error', got {then!r}."
            raise ValueError(msg)
        self._answer = _Sequence(items, then)
        return self

    def redirect(self, location: str, *, status: int = 302) -> Route:
        """Answer with a redirect to `location`; the client follows it."""
        self._answer = FakeResponse.redirect(location, status=status)
        return self

    def next_answer(self) -> Answer | None:
        """The answer for the next call; None when a sequence ran out."""
        answer = self._answer
        return answer.next() if isinstance(answer, _Sequence) else answer

    @property
    def sequence_length(self) -> int:
        """How many answers the route's `respond_sequence()` holds; 0 for a single answer."""
        return len(self._answer.answers) if isinstance(self._answer, _Sequence) else 0

    # -- history -------------------------------------------------------------

    @property
    def call_count(self) -> int:
        """How many requests the route matched so far (the length of `calls`)."""
        return len(self.calls)

    @property
    def called(self) -> bool:
        """True once the route matched a request."""
        return bool(self.calls)

    @property
    def last_call(self) -> Call:
        """The most recent `Call`; an `AssertionError` when the route was never called."""
        if not self.calls:
            msg = f"Route {self.label} was never called."
            raise AssertionError(msg)
        return self.calls[-1]

    def reset(self) -> None:
        """Forget the calls (and restart a sequence); the answer stays."""
        self.calls.clear()
        if isinstance(self._answer, _Sequence):
            self._answer.position = 0

    @property
    def label(self) -> str:
        """How messages name the route: its `name`, if any, and its pattern."""
        described = self.pattern.describe()
        return f"{self.name!r} {described}" if self.name else described

    def assert_called(self) -> None:
        """Raise `AssertionError` unless the route was called at least once."""
        if not self.calls:
            msg = f"Expected route {self.label} to be called; it was never called."
            raise AssertionError(msg)

    def assert_not_called(self) -> None:
        """Raise `AssertionError` listing every call if the route was called.

        The route is then expected to stay uncalled: the teardown check for
        never-called routes (`assert_all_called()`) no longer requires it.
        """
        self.optional = True
        if self.calls:
            msg = f"Expected route {self.label} not to be called; {self._times()}:\n" + "\n".join(
                f"  - {call.method} {call.url}" for call in self.calls
            )
            raise AssertionError(msg)

    def assert_called_once(self) -> None:
        """Raise `AssertionError` unless the route was called exactly once."""
        self.assert_call_count(1)

    def assert_call_count(self, count: int) -> None:
        """Raise `AssertionError` unless the route was called exactly `count` times."""
        if len(self.calls) != count:
            times = "once" if count == 1 else f"{count} times"
            msg = f"Expected route {self.label} to be called {times}; {self._times()}."
            raise AssertionError(msg)

    def _times(self) -> str:
        n = len(self.calls)
        return "it was never called" if n == 0 else f"it was called {n} time{'s' * (n != 1)}"

    def assert_called_with(
        self, method: str = ANY, url: URLSpec | None = None, **match: Unpack[RequestMatch]
    ) -> None:
        """Check the *last* call; arguments work as in `route()` (`params=`,
        `exact_params=`, `headers=`, `json=`, `data=`, `content=`), and only
        those given are checked."""
        expected = _expected(method, url, match)
        self._check_calls(expected, self.calls[-1:], "The last call to route {} does not match")

    def assert_any_call(
        self, method: str = ANY, url: URLSpec | None = None, **match: Unpack[RequestMatch]
    ) -> None:
        """Check that *some* call matches; arguments work as in `assert_called_with()`."""
        self._check_calls(_expected(method, url, match), self.calls, "No call to route {} matches")

    def assert_called_once_with(
        self, method: str = ANY, url: URLSpec | None = None, **match: Unpack[RequestMatch]
    ) -> None:
        """`assert_called_once()` then `assert_called_with(...)`, as in unittest.mock."""
        self.assert_called_once()
        self.assert_called_with(method, url, **match)

    if not TYPE_CHECKING:  # at run time only: mypy keeps flagging unknown attributes

        def __getattr__(self, name: str) -> Any:
            raise missing_attribute("Route", name, dir(self), _ROUTE_HABITS)

    def _check_calls(self, expected: Pattern, calls: list[Call], lead: str) -> None:
        wanted = expected.describe(skip_any=True) or "anything"
        if not self.calls:
            msg = f"Expected route {self.label} to be called with {wanted}; it was never called."
            raise AssertionError(msg)
        failures = [(call, expected.differences(call.seen())) for call in calls]
        if all(diffs for _, diffs in failures):
            lines = [f"{lead.format(self.label)} {wanted}:"]
            for call, diffs in failures:
                lines.append(f"  - {call.method} {call.url}: " + "; ".join(t for _, t in diffs))
            raise AssertionError("\n".join(lines))

    def copy(self) -> Route:
        """The same pattern, name and answer, with no history (a sequence restarts)."""
        clone = Route.__new__(Route)
        clone.pattern, clone.name, clone.optional = self.pattern, self.name, self.optional
        clone.calls, clone.seq, clone.owner = [], 0, None
        answer = self._answer
        clone._answer = (
            _Sequence(answer.answers, answer.then) if isinstance(answer, _Sequence) else answer
        )
        return clone

    def __repr__(self) -> str:
        return f"<Route {self.label} ({len(self.calls)} calls)>"


# Names from unittest.mock, respx and aioresponses, and what a Route has instead.
_ROUTE_HABITS = {
    "call_args": "'last_call'",
    "call_args_list": "'calls'",
    "mock_calls": "'calls'",
    "mock": "'respond(...)', 'respond_with(...)' or 'respond_sequence([...])'",
    "return_value": "'respond(...)'",
    "side_effect": "'respond_sequence([...])', 'raise_error(...)' or 'respond_with(...)'",
    "assert_has_calls": "'assert_any_call(...)' for each call",
    "assert_not_awaited": "'assert_not_called'",
    "assert_awaited": "'assert_called'",
    "assert_awaited_once": "'assert_called_once'",
    "assert_awaited_once_with": "'assert_called_once_with'",
    "await_count": "'call_count'",
    "pass_through": "passthrough_hosts=[...] on the fake",
    "reset_mock": "'reset'",
}


class RouteList(Sequence[Route]):
    """The routes of a fake, in registration order; `routes["name"]` by name."""

    __slots__ = ("_routes",)

    def __init__(self, routes: list[Route]) -> None:
        self._routes = routes

    @overload
    def __getitem__(self, key: int | str) -> Route: ...

    @overload
    def __getitem__(self, key: slice) -> Sequence[Route]: ...

    def __getitem__(self, key: int | str | slice) -> Route | Sequence[Route]:
        if isinstance(key, str):
            for route in self._routes:
                if route.name == key:
                    return route
            names = ", ".join(repr(r.name) for r in self._routes if r.name) or "none"
            msg = f"No route is named {key!r} (named routes: {names})."
            raise KeyError(msg)
        return self._routes[key]

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[Route]:
        return iter(self._routes)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return any(route.name == item for route in self._routes)
        return any(route is item for route in self._routes)
