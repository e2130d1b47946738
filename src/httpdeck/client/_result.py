"""A small Result type: `Ok(value)` or `Err(error)`.

The verb methods of `HTTPClient` return `Result[HttpResponse, HTTPClientError]`
so that the caller handles failure where it happens:

```python
match await client.get(url):
    case Ok(response):
        use(response.json())
    case Err(HTTPStatusError() as error):
        log(error.status)
    case Err(error):
        raise error
```
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, NoReturn, TypeAlias, TypeVar

T = TypeVar("T", covariant=True)
E = TypeVar("E", covariant=True)
U = TypeVar("U")
D = TypeVar("D")


class UnwrapError(Exception):
    """`unwrap()` was called on an `Err`, or `unwrap_err()` on an `Ok`."""


@dataclass(frozen=True, slots=True)
class Ok(Generic[T]):
    """A success holding `value`."""

    value: T

    def is_ok(self) -> bool:
        return True

    def is_err(self) -> bool:
        return False

    def unwrap(self) -> T:
        return self.value

    def unwrap_err(self) -> NoReturn:
        msg = f"Called unwrap_err() on an Ok result: {self.value!r}"
        raise UnwrapError(msg)

    def unwrap_or(self, default: object) -> T:
        return self.value

    def map(self, fn: Callable[[T], U]) -> Ok[U]:
        return Ok(fn(self.value))

    def map_err(self, fn: Callable[[Any], object]) -> Ok[T]:
        return self


@dataclass(frozen=True, slots=True)
class Err(Generic[E]):
    """A failure holding `error`."""

    error: E

    def is_ok(self) -> bool:
        return False

    def is_err(self) -> bool:
        return True

    def unwrap(self) -> NoReturn:
        if isinstance(self.error, BaseException):
            msg = f"Called unwrap() on an Err result: {self.error}"
            raise UnwrapError(msg) from self.error
        msg = f"Called unwrap() on an Err result: {self.error!r}"
        raise UnwrapError(msg)

    def unwrap_err(self) -> E:
        return self.error

    def unwrap_or(self, default: D) -> D:
        return default

    def map(self, fn: Callable[[Any], object]) -> Err[E]:
        return self

    def map_err(self, fn: Callable[[E], U]) -> Err[U]:
        return Err(fn(self.error))


Result: TypeAlias = Ok[T] | Err[E]
"""`Ok[T] | Err[E]`: what the verb methods return, `Result[HttpResponse, HTTPClientError]`."""
