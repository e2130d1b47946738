""" "Did you mean" for attribute names carried over from unittest.mock, respx and aioresponses."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping


def missing_attribute(
    owner: str, name: str, known: Iterable[str], habits: Mapping[str, str]
) -> AttributeError:
    """The AttributeError for `owner.name`, suggesting the closest public names.

    `habits` maps a name from another mocking library to what to use instead
    (`"call_args": "last_call"`); otherwise difflib picks the closest of `known`.
    """
    public = sorted({k for k in known if not k.startswith("_")})
    hint = habits.get(name)
    if hint is None:
        close = difflib.get_close_matches(name, public, n=2, cutoff=0.6)
        hint = " or ".join(repr(c) for c in close)
    message = f"{owner!r} object has no attribute {name!r}"
    if hint:
        message += f"; did you mean {hint}?"
    return AttributeError(message, name=name)
