"""The errors a cassette raises.

```
HTTPClientError
└── CassetteError                 anything wrong with a cassette (raised, never an Err)
    ├── CassetteMissError         replay found no recorded interaction for a request
    │                             (also an UnmatchedRequestError, as a fake's miss is)
    └── MalformedCassetteError    the file is not a cassette (names the file and line)
```

They are `HTTPClientError`s so that they cross the interceptor chain
unchanged, and they set `raised_by_verbs` so that `client.get()` raises them
instead of returning them as `Err`: a cassette miss is a broken test setup,
never an outcome for the code under test to handle.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from httpdeck.client import HTTPClientError
from httpdeck.testing.fake._router import UnmatchedRequestError

if TYPE_CHECKING:
    from httpdeck.client import Request
    from httpdeck.testing.cassettes._model import CassetteRequest


class CassetteError(HTTPClientError):
    """Base class of cassette errors; `path` names the cassette file."""

    raised_by_verbs: ClassVar[bool] = True

    def __init__(self, message: str, *, path: str | Path, request: Request | None = None) -> None:
        super().__init__(message, request=request)
        self.path = Path(path)


class CassetteMissError(CassetteError, UnmatchedRequestError):
    """A request has no (unplayed) recorded interaction and the record mode
    does not allow recording it.

    `cassette_request` is the request as the cassette saw it (redacted),
    `record_mode` the mode in force, `closest` the closest recorded requests
    with the names of the matchers that failed for each.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path,
        request: Request | None = None,
        cassette_request: CassetteRequest,
        record_mode: str,
        closest: list[tuple[CassetteRequest, list[str]]],
    ) -> None:
        super().__init__(message, path=path, request=request)
        self.cassette_request = cassette_request
        self.record_mode = record_mode
        self.closest = closest


class MalformedCassetteError(CassetteError, ValueError):
    """The cassette file cannot be read as a cassette; `line` is 1-based when known."""

    def __init__(self, message: str, *, path: str | Path, line: int | None = None) -> None:
        super().__init__(message, path=path)
        self.line = line
