"""Finding the route for a request without scanning every route.

Exact-URL routes live in a hash index keyed by (method, origin, path,
query); only glob, regex and any-URL routes are scanned. Precedence is
registration order everywhere: the *first declared* route that matches
answers, whichever kind it is (an index hit is compared by its position
with the scanned routes declared before it).
"""

from __future__ import annotations

from typing import Any, ClassVar

from httpdeck.client import HTTPClientError, Request
from httpdeck.client._seam import is_secret_name
from httpdeck.testing.fake._matching import ANY, Seen, short
from httpdeck.testing.fake._routes import Route

__all__ = ["RouteTable", "UnmatchedRequestError"]

# How far a difference puts a route from the request: a route for another
# method or endpoint is further away than one that differs in a detail.
_WEIGHTS = {"method": 3, "origin": 4, "path": 3, "query": 1, "headers": 1, "body": 1}
_CLOSEST = 3


class UnmatchedRequestError(HTTPClientError):
    """No route of a fake matched a request (or its sequence ran out).

    It is an `HTTPClientError` but not a transport error, on purpose: a
    request nobody declared is a mistake in the test, not a network failure
    for the code under test to recover from. So a retry policy does not
    retry it, a circuit breaker does not count it, and, like a cassette miss,
    the verb methods raise it instead of returning `Err` (`raised_by_verbs`),
    so it fails once, loudly, with this message intact. The fake records it
    too: `assert_all_requests_were_expected()` fails even when the code under
    test caught and swallowed it.

    `candidates` holds the closest routes, each with how the request differs.
    """

    raised_by_verbs: ClassVar[bool] = True

    def __init__(
        self,
        message: str,
        *,
        request: Request | None = None,
        candidates: list[tuple[Route, list[str]]] | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.candidates = candidates or []


class RouteTable:
    """The routes of one fake: an exact-URL index plus a scanned list."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self._index: dict[tuple[str, Any, str, Any], list[Route]] = {}
        self._scanned: list[Route] = []
        # Which key shapes exist: (any method, any host, exact query).
        self._shapes: list[tuple[bool, bool, bool]] = []
        self._next_seq = 0

    def add(self, route: Route) -> Route:
        """Add `route`, or return the identical route declared before it.

        A route that already belongs to another fake is copied (fresh history).
        """
        if route.owner is not None and route.owner is not self:
            route = route.copy()
        key = route.pattern.index_key
        peers = self._index.get(key, []) if key is not None else self._scanned
        for existing in peers:
            if existing.pattern == route.pattern and existing.name == route.name:
                existing.optional = existing.optional or route.optional
                return existing
        if route.name is not None:
            for existing in self.routes:
                if existing.name == route.name:
                    msg = (
                        f"A route named {route.name!r} already exists ({existing.label}); "
                        "route names are unique."
                    )
                    raise ValueError(msg)
        route.seq = self._next_seq
        route.owner = self
        self._next_seq += 1
        self.routes.append(route)
        if key is None:
            self._scanned.append(route)
        else:
            self._index.setdefault(key, []).append(route)
            method, origin, _, query_key = key
            shape = (method == ANY, origin == ANY, query_key is not None)
            if shape not in self._shapes:
                self._shapes.append(shape)
        return route

    def find(self, request: Request, body: bytes | None) -> Route | None:
        """The first-declared route that matches the request, or None."""
        best: Route | None = None
        seen: Seen | None = None
        if self._shapes:
            url = request.url
            method, path = request.method, url.path
            origin = (url.scheme, url.host, url.port)
            query_key = None
            index = self._index
            for any_method, any_host, with_query in self._shapes:
                if with_query and query_key is None:
                    query_key = tuple(sorted(url.query.items()))
                bucket = index.get(
                    (
                        ANY if any_method else method,
                        ANY if any_host else origin,
                        path,
                        query_key if with_query else None,
                    )
                )
                if bucket is None:
                    continue
                for route in bucket:
                    if best is not None and route.seq > best.seq:
                        break
                    pattern = route.pattern
                    if not pattern.trivial:
                        if seen is None:
                            seen = Seen(method, url, request.headers, body)
                        if not pattern.matches_rest(seen):
                            continue
                    best = route
                    break
        for route in self._scanned:
            if best is not None and route.seq > best.seq:
                break
            if seen is None:
                seen = Seen(request.method, request.url, request.headers, body)
            if route.pattern.matches(seen):
                return route
        return best

    def closest(self, seen: Seen) -> list[tuple[Route, list[str]]]:
        """Every route with how `seen` differs from it, closest first."""
        scored = []
        for route in self.routes:
            diffs = route.pattern.differences(seen)
            score = sum(_WEIGHTS[kind] for kind, _ in diffs)
            scored.append((score, route.seq, route, [text for _, text in diffs]))
        scored.sort(key=lambda item: (item[0], item[1]))
        return [(route, diffs) for _, _, route, diffs in scored]

    def unmatched(
        self, seen: Seen, request: Request, *, passthrough_hint: bool
    ) -> UnmatchedRequestError:
        """The error for a request no route matched, naming the closest routes."""
        candidates = self.closest(seen)
        count = len(self.routes)
        declared = (
            "no routes are declared" if not count else f"{count} route{'s' * (count != 1)} declared"
        )
        lines = [f"No route matched {seen.method} {seen.url} ({declared})."]
        if any(route.pattern.looks_at_headers for route in self.routes):
            shown = {k: "***" if is_secret_name(k) else v for k, v in seen.headers.items()}
            lines.append(f"  request headers: {shown!r}")
        if seen.body and any(route.pattern.looks_at_body for route in self.routes):
            lines.append(f"  request body: {short(seen.body, 120)}")
        if candidates:
            lines.append("Closest routes:")
            for route, diffs in candidates[:_CLOSEST]:
                lines.append(f"  - {route.label}: {'; '.join(diffs) or 'matches'}")
            if len(candidates) > _CLOSEST:
                lines.append(f"  ({len(candidates) - _CLOSEST} more not shown)")
        hint = f'Declare it, e.g. fake.route("{seen.method}", "{seen.url}").respond(...)'
        if passthrough_hint:
            hint += f", or let it through with passthrough_hosts=[{seen.url.host!r}]"
        lines.append(hint + ".")
        return UnmatchedRequestError(
            "\n".join(lines), request=request, candidates=candidates[:_CLOSEST]
        )

    def exhausted(self, route: Route, request: Request) -> UnmatchedRequestError:
        count = route.sequence_length
        msg = (
            f"Route {route.label} gave all {count} answer{'s' * (count != 1)} of its sequence; "
            f"{request.method} {request.url} (call {route.call_count}) has none left. "
            "Add answers, or pass then='repeat' to repeat the last one."
        )
        return UnmatchedRequestError(msg, request=request, candidates=[(route, [])])
