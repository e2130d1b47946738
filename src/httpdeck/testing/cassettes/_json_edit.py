"""Change the values of chosen JSON object members, keeping every other byte.

Redaction and anonymization use it, so a recorded JSON body keeps its key
order, spacing and escapes: only the values they replace are rewritten.

```python
edit_members('{"a": 1, "password": "pw"}', lambda key: (lambda v: "X") if key == "password" else None)
# '{"a": 1, "password": "X"}'
```
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

KEEP: Any = object()
"""What an edit returns to leave a value as it is."""

Edit = Callable[[Any], Any]
Pick = Callable[[str], "Edit | None"]

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def edit_members(text: str, pick: Pick) -> str:
    """`text` (a JSON document) with the value of each object member, at any
    depth, whose key `pick` returns an edit for replaced by `edit(value)`
    (unless that returns `KEEP`); the members of a picked value are not
    visited. A new value is written with `json.dumps` (non-ASCII kept, the
    document's own compact or spaced separators); every byte outside the
    replaced values stays as it was. Text that is not JSON is returned as is.
    """
    edits: list[tuple[int, int, str]] = []
    compact = ": " not in text and ", " not in text
    separators = (",", ":") if compact else (", ", ": ")
    try:
        end = _value(text, _skip(text, 0), pick, edits, separators)
    except (ValueError, IndexError, RecursionError):
        return text
    if _skip(text, end) != len(text):
        return text
    for start, stop, new in reversed(edits):
        text = text[:start] + new + text[stop:]
    return text


def _skip(text: str, index: int) -> int:
    match = _WS.match(text, index)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _value(
    text: str, index: int, pick: Pick, edits: list[tuple[int, int, str]], sep: tuple[str, str]
) -> int:
    """Walk the value at `index`, recording edits; returns the index after it."""
    char = text[index]
    if char == "{":
        index = _skip(text, index + 1)
        if text[index] == "}":
            return index + 1
        while True:
            key, index = _DECODER.raw_decode(text, index)
            if not isinstance(key, str):
                raise ValueError("object key is not a string")
            index = _skip(text, index)
            if text[index] != ":":
                raise ValueError("':' expected")
            index = _skip(text, index + 1)
            edit = pick(key)
            if edit is None:
                end = _value(text, index, pick, edits, sep)
            else:
                value, end = _DECODER.raw_decode(text, index)
                new = edit(value)
                if new is not KEEP:
                    edits.append((index, end, json.dumps(new, ensure_ascii=False, separators=sep)))
            index = _skip(text, end)
            if text[index] == "}":
                return index + 1
            if text[index] != ",":
                raise ValueError("',' or '}' expected")
            index = _skip(text, index + 1)
    if char == "[":
        index = _skip(text, index + 1)
        if text[index] == "]":
            return index + 1
        while True:
            index = _skip(text, _value(text, index, pick, edits, sep))
            if text[index] == "]":
                return index + 1
            if text[index] != ",":
                raise ValueError("',' or ']' expected")
            index = _skip(text, index + 1)
    return int(_DECODER.raw_decode(text, index)[1])
