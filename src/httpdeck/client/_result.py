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
        """True: this is a success."""
        return True

    def is_err(self) -> bool:
        """False: this is a success."""
        return False

    def unwrap(self) -> T:
        """The value."""
        return self.value

    def unwrap_err(self) -> NoReturn:
        """Raises `UnwrapError`: a success has no error."""
        msg = f"Called unwrap_err() on an Ok result: {self.value!r}"
        raise UnwrapError(msg)

    def unwrap_or(self, default: object) -> T:
        """The value (`default` is not used)."""
        return self.value

    def map(self, fn: Callable[[T], U]) -> Ok[U]:
        """`Ok(fn(value))`."""
        return Ok(fn(self.value))

    def map_err(self, fn: Callable[[Any], object]) -> Ok[T]:
        """This same `Ok` (there is no error to map)."""
        return self


@dataclass(frozen=True, slots=True)
class Err(Generic[E]):
    """A failure holding `error`."""

    error: E

    def is_ok(self) -> bool:
        """False: this is a failure."""
        return False

    def is_err(self) -> bool:
        """True: this is a failure."""
        return True

    def unwrap(self) -> NoReturn:
        """Raises `UnwrapError`, chained to the error when it is an exception."""
        if isinstance(self.error, BaseException):
            msg = f"Called unwrap() on an Err result: {self.error}"
            raise UnwrapError(msg) from self.error
        msg = f"Called unwrap() on an Err result: {self.error!r}"
        raise UnwrapError(msg)

    def unwrap_err(self) -> E:
        """The error."""
        return self.error

    def unwrap_or(self, default: D) -> D:
        """`default`, since there is no value."""
        return default

    def map(self, fn: Callable[[Any], object]) -> Err[E]:
        """This same `Err` (there is no value to map)."""
        return self

    def map_err(self, fn: Callable[[E], U]) -> Err[U]:
        """`Err(fn(error))`."""
        return Err(fn(self.error))


Result: TypeAlias = Ok[T] | Err[E]
"""`Ok[T] | Err[E]`: what the verb methods return, `Result[HttpResponse, HTTPClientError]`."""
