"""Request matchers: vcrpy's, by name, plus a JSON-aware body and user matchers.

A matcher is `matcher(request, recorded) -> bool | None` that returns False or
raises `AssertionError("why")` when the two differ (vcrpy's contract, so a
matcher written for vcrpy works here). Both arguments are `CassetteRequest`s.

Replay never tries every recorded interaction: interactions are indexed by a
key built from the cheap built-in matchers in `match_on` (method, host, path,
or the whole URI), and the full matcher list runs only on the interactions
that share the request's key.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeAlias

from vcr import matchers as vcr_matchers  # type: ignore[import-untyped]

from httpdeck.client._seam import PLACEHOLDER, is_secret_name
from httpdeck.testing._json_limits import NOT_JSON, parse_json
from httpdeck.testing.cassettes._model import CassetteRequest, KeyParts

Matcher: TypeAlias = Callable[[CassetteRequest, CassetteRequest], "bool | None"]
MatchOn: TypeAlias = Iterable["str | Matcher"]

DEFAULT_MATCH_ON: tuple[str, ...] = ("method", "scheme", "host", "port", "path", "query")


def _json_of(request: CassetteRequest) -> Any:
    body = request.body
    if not body:
        return None
    content_type = request.headers.get("Content-Type", "").lower()
    if "json" not in content_type and body.lstrip()[:1] not in (b"{", b"["):
        return NOT_JSON
    return parse_json(body)  # NOT_JSON when not JSON, or past Python's limits


def _diff(new: str, recorded: str) -> str:
    lines = list(
        difflib.unified_diff(
            recorded.splitlines(), new.splitlines(), "recorded", "this request", n=1, lineterm=""
        )
    )
    shown = lines[:20] + ([f"... ({len(lines) - 20} more lines)"] if len(lines) > 20 else [])
    return "\n".join(shown)


def body(request: CassetteRequest, recorded: CassetteRequest) -> None:
    """Bodies equal; JSON bodies compared as values (key order and spacing
    ignored); form, XML-RPC and chunked bodies as vcrpy compares them."""
    if (request.body or b"") == (recorded.body or b""):
        return
    try:
        new, old = _json_of(request), _json_of(recorded)
        if new is not NOT_JSON and old is not NOT_JSON:
            if new == old:
                return
            raise AssertionError(
                _diff(
                    json.dumps(new, indent=2, sort_keys=True),
                    json.dumps(old, indent=2, sort_keys=True),
                )
            )
        vcr_matchers.body(request, recorded)
    except RecursionError:
        # JSON nested too deeply to parse, compare or show (vcrpy parses it
        # again): compared byte for byte, as vcrpy does bodies that do not parse.
        vcr_matchers.raw_body(request, recorded)


def headers(request: CassetteRequest, recorded: CassetteRequest) -> None:
    """Header names (any case) and values equal, as multisets."""
    new = sorted((k.lower(), v) for k, v in request.headers.items())
    old = sorted((k.lower(), v) for k, v in recorded.headers.items())
    if new != old:
        added = [_shown(k, v) for k, v in new if (k, v) not in old]
        missing = [_shown(k, v) for k, v in old if (k, v) not in new]
        raise AssertionError(
            f"only in this request: {added or 'nothing'}; only recorded: {missing or 'nothing'}"
        )


def _shown(name: str, value: str) -> str:
    # A miss error is printed in CI logs: a secret header's value is never shown.
    return f"{name}: ***" if is_secret_name(name) and value != PLACEHOLDER else f"{name}: {value}"


BUILTIN: dict[str, Matcher] = {
    "method": vcr_matchers.method,
    "uri": vcr_matchers.uri,
    "url": vcr_matchers.uri,
    "scheme": vcr_matchers.scheme,
    "host": vcr_matchers.host,
    "port": vcr_matchers.port,
    "path": vcr_matchers.path,
    "query": vcr_matchers.query,
    "headers": headers,
    "raw_body": vcr_matchers.raw_body,
    "body": body,
}


def resolve(
    match_on: MatchOn, custom: Mapping[str, Matcher] | None = None
) -> list[tuple[str, Matcher]]:
    """Turn names and callables into `(name, matcher)` pairs; unknown names are
    an error listing the known ones."""
    known = {**BUILTIN, **(custom or {})}
    resolved: list[tuple[str, Matcher]] = []
    for item in match_on:
        if isinstance(item, str):
            if item not in known:
                msg = (
                    f"Unknown matcher {item!r} in match_on. Known matchers: "
                    f"{', '.join(sorted(known))}; or pass a callable(request, recorded)."
                )
                raise ValueError(msg)
            resolved.append((item, known[item]))
        elif callable(item):
            resolved.append((getattr(item, "__name__", repr(item)), item))
        else:
            msg = f"match_on takes matcher names or callables, got {item!r}."
            raise TypeError(msg)
    return resolved


KeyFunc: TypeAlias = Callable[[KeyParts], tuple[Any, ...]]


def key_function(matchers: list[tuple[str, Matcher]]) -> KeyFunc:
    """A function turning a request's `key_parts` (method, host, path) into its
    index key. Requests that pass every matcher always share a key: the key
    keeps only what the built-in method, host, path and uri matchers compare."""
    used = {name for name, fn in matchers if BUILTIN.get(name) is fn}
    by_method = "method" in used
    by_uri = bool(used & {"uri", "url"})
    by_host = by_uri or "host" in used
    by_path = by_uri or "path" in used
    if by_method and by_host and by_path:
        return tuple

    def key(parts: KeyParts) -> tuple[Any, ...]:
        method, host, path = parts
        return (method if by_method else None, host if by_host else None, path if by_path else None)

    return key


def failures(
    request: CassetteRequest, recorded: CassetteRequest, matchers: list[tuple[str, Matcher]]
) -> list[tuple[str, str]]:
    """`(matcher name, why)` for every matcher that fails."""
    failed: list[tuple[str, str]] = []
    for name, matcher in matchers:
        try:
            ok = matcher(request, recorded)
        except AssertionError as exc:
            failed.append((name, str(exc).strip()))
            continue
        if ok is False:
            failed.append((name, ""))
    return failed


def all_match(
    request: CassetteRequest, recorded: CassetteRequest, matchers: list[tuple[str, Matcher]]
) -> bool:
    for _, matcher in matchers:
        try:
            if matcher(request, recorded) is False:
                return False
        except AssertionError:
            return False
    return True
