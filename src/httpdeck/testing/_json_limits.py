"""One rule for JSON past Python's limits, shared by every part of testing/.

`json.loads` gives up on a valid document nested deeper than the interpreter's
recursion limit (`RecursionError`) or holding an integer of more than 4,300
digits (a plain `ValueError`). Such a body is treated as opaque bytes
everywhere: the redactor does not redact it by JSON key (it still scrubs every
known secret value from it), anonymization leaves it alone, matchers compare it
byte for byte, and `httpdeck cassette lint` reports it as too deeply nested (or
holding too long a number) to check instead of calling it invalid.

```python
parse_json(b"[" * 100_000 + b"]" * 100_000)  # NOT_JSON
json_problem(b"1" * 5000)  # ("limits", "holds a number too long to check ...")
```
"""

from __future__ import annotations

import json
from typing import Any, Final, Literal

NOT_JSON: Final[Any] = object()
"""What `parse_json` returns for a body it cannot parse."""

TOO_DEEP: Final = "is too deeply nested to check (past Python's recursion limit)"
TOO_LONG: Final = "holds a number too long to check (more than Python's 4,300 digits)"


def json_problem(data: str | bytes) -> tuple[Literal["invalid", "limits"], str] | None:
    """Why `data` does not parse as JSON: ("invalid", the parser's message) for
    text that is not JSON, ("limits", why) for a document past Python's limits;
    None when it parses. Bytes that are not UTF-8/16/32 raise UnicodeDecodeError."""
    try:
        json.loads(data)
    except RecursionError:
        return "limits", TOO_DEEP
    except UnicodeDecodeError:
        raise
    except json.JSONDecodeError as exc:
        return "invalid", str(exc)
    except ValueError:  # int(): "Exceeds the limit (4300 digits) for integer string conversion"
        return "limits", TOO_LONG
    return None


def parse_json(data: str | bytes) -> Any:
    """`data` parsed as JSON, or NOT_JSON when it is not JSON or is past Python's limits."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
        return NOT_JSON


def load_json(data: str | bytes, what: str) -> Any:
    """`json.loads(data)`; a document past Python's limits raises ValueError
    saying so and naming `what` (as "the request body"), not RecursionError."""
    try:
        return json.loads(data)
    except RecursionError:
        problem = TOO_DEEP
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise
    except ValueError:
        problem = TOO_LONG
    msg = f"{what} {problem.replace('to check', 'to parse')}; read it as bytes instead."
    raise ValueError(msg) from None


def dump_json(value: Any, what: str, **options: Any) -> str:
    """`json.dumps(value, **options)`; a value too deep or holding too long an
    integer raises ValueError naming `what` (as `json=` of a fake response)."""
    try:
        return json.dumps(value, **options)
    except RecursionError:
        problem = "is nested too deeply to encode (past Python's recursion limit)"
    except ValueError as exc:
        if "circular" in str(exc).lower():
            raise ValueError(f"{what} holds a circular reference; pass a tree of values") from None
        problem = "holds an integer too long to encode (more than Python's 4,300 digits)"
    msg = f"{what} {problem}; pass the encoded bytes as content= instead."
    raise ValueError(msg) from None
