"""Realistic, reproducible JSON bodies from Faker providers.

A template maps field names to Faker provider names, and nests:

```python
data = FakeDataFactory(seed=1234)
user = {"id": "uuid4", "name": "name", "email": "email", "joined": "iso8601",
        "age": Field("pyint", min_value=18, max_value=90), "role": Const("admin"),
        "tags": ListOf("word", 3), "address": {"city": "city", "zip": "postcode"}}
fake.route("GET", "https://api.example.com/users").respond(json=data.build(user, n=10))
fake.route("GET", "https://api.example.com/me").respond_with(data.responder(user))
```

The same seed gives the same bodies in every run: the factory owns a seeded
Faker, and providers whose default range ends "now" (`iso8601`,
`date_time`, `unix_time`, ...) get a fixed `reference_date` as their end
instead. Providers with other "now"-relative defaults (`date_between`,
`past_date`, ...) need explicit dates in `Field(...)` to be reproducible.
Values are JSON-ready: datetimes and dates become ISO strings, UUIDs strings,
Decimals floats.
"""

from __future__ import annotations

import base64
import datetime as _dt
import decimal
import difflib
import inspect
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

try:
    from faker import Faker
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    msg = "FakeDataFactory needs Faker, from the testing extra: pip install httpdeck[testing]"
    raise ImportError(msg) from exc

from httpdeck.client import Request
from httpdeck.testing._seeds import FAKE_DATA, default_seed, derive_seed
from httpdeck.testing.fake._responses import FakeResponse

__all__ = ["Const", "FakeDataFactory", "Field", "ListOf", "Template"]

DEFAULT_REFERENCE_DATE = _dt.datetime(2025, 1, 1)


class Field:
    """A Faker provider called with arguments: `Field("pyint", min_value=1, max_value=9)`."""

    __slots__ = ("kwargs", "provider")

    def __init__(self, provider: str, /, **kwargs: Any) -> None:
        self.provider = provider
        self.kwargs = kwargs

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.kwargs.items())
        return f"Field({self.provider!r}{args})"


class Const:
    """A fixed value, for strings that would otherwise name a provider."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Const({self.value!r})"


class ListOf:
    """A list of `n` items built from `template` (`n` may be a (min, max) range)."""

    __slots__ = ("n", "template")

    def __init__(self, template: Template, n: int | tuple[int, int]) -> None:
        low, high = (n, n) if isinstance(n, int) else n
        if not 0 <= low <= high:
            msg = f"ListOf needs 0 <= n, or a (min, max) range with min <= max; got {n!r}."
            raise ValueError(msg)
        self.template = template
        self.n = (low, high)

    def __repr__(self) -> str:
        low, high = self.n
        return f"ListOf({self.template!r}, {low if low == high else self.n!r})"


Template: TypeAlias = (
    str
    | Field
    | Const
    | ListOf
    | Mapping[str, "Template"]
    | Callable[[Faker], Any]
    | int
    | float
    | bool
    | None
)
"""A provider name, `Field(...)`, `Const(...)`, `ListOf(...)`, a mapping of
templates, a callable taking the Faker, or a constant number, bool or None."""


def _json_ready(value: Any) -> Any:
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_ready(v) for v in value]
    return value


class FakeDataFactory:
    """Builds JSON bodies from templates with a seeded Faker.

    - `seed`: the same seed gives the same sequence of bodies in every run
      (`reseed()` changes it later). Without one: the running test's seed
      for fake data under the pytest plugin (so `--httpdeck-seed` drives it),
      else 0.
    - `locale`: Faker's locale, `en_US` by default.
    - `reference_date`: the "now" that time providers end their range at.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        locale: str | Sequence[str] = "en_US",
        reference_date: _dt.datetime = DEFAULT_REFERENCE_DATE,
    ) -> None:
        self.faker = Faker(locale)
        self.reference_date = reference_date
        if seed is None:
            seed = default_seed(FAKE_DATA)
        self.seed = seed
        self._providers: dict[str, Callable[..., Any]] = {}
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        """Restart the sequence of values from `seed`."""
        if isinstance(seed, bool) or not isinstance(seed, int):
            msg = f"A fake data seed is an int, got {seed!r}."
            raise TypeError(msg)
        self.seed = seed
        self.faker.seed_instance(seed)

    @staticmethod
    def derive_seed(base_seed: int, name: str) -> int:
        """A stable seed for `name` (a test id) under `base_seed`: the same in
        every run and process, unlike `hash()` (httpdeck's one seed recipe)."""
        return derive_seed(base_seed, name)

    def _provider(self, name: str) -> Callable[..., Any]:
        found = self._providers.get(name)
        if found is not None:
            return found
        provider = getattr(self.faker, name, None) if not name.startswith("_") else None
        if not callable(provider):
            close = difflib.get_close_matches(
                name, [n for n in dir(self.faker) if not n.startswith("_")], n=3
            )
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            msg = (
                f"{name!r} is not a Faker provider.{hint} Wrap a literal string in "
                "Const(...), or see https://faker.readthedocs.io/en/master/providers.html."
            )
            raise ValueError(msg)
        try:
            ends_now = "end_datetime" in inspect.signature(provider).parameters
        except (TypeError, ValueError):  # pragma: no cover - builtins without signatures
            ends_now = False
        if ends_now:
            reference = self.reference_date
            base = provider

            def provider(*args: Any, **kwargs: Any) -> Any:
                kwargs.setdefault("end_datetime", reference)
                return base(*args, **kwargs)

        self._providers[name] = provider
        return provider

    def check(self, template: Template) -> None:
        """Raise `ValueError` now for a template naming an unknown provider."""
        if isinstance(template, str):
            self._provider(template)
        elif isinstance(template, Field):
            self._provider(template.provider)
        elif isinstance(template, ListOf):
            self.check(template.template)
        elif isinstance(template, Mapping):
            for value in template.values():
                self.check(value)

    def _value(self, template: Template) -> Any:
        if isinstance(template, str):
            return _json_ready(self._provider(template)())
        if isinstance(template, Field):
            return _json_ready(self._provider(template.provider)(**template.kwargs))
        if isinstance(template, Const):
            return template.value
        if isinstance(template, ListOf):
            low, high = template.n
            count = low if low == high else self.faker.random_int(low, high)
            return [self._value(template.template) for _ in range(count)]
        if isinstance(template, Mapping):
            return {key: self._value(value) for key, value in template.items()}
        if callable(template):
            return _json_ready(template(self.faker))
        if template is None or isinstance(template, int | float | bool):
            return template
        msg = (
            f"Cannot build fake data from {template!r}: use a provider name, Field(...), "
            "Const(...), ListOf(...), a mapping, or a callable taking the Faker."
        )
        raise TypeError(msg)

    def build(self, template: Template, *, n: int | None = None) -> Any:
        """One value built from `template`, or a list of `n` of them."""
        self.check(template)
        if n is None:
            return self._value(template)
        return [self._value(template) for _ in range(n)]

    def response(
        self,
        template: Template,
        *,
        n: int | None = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> FakeResponse:
        """A `FakeResponse` whose JSON body is built once, now."""
        return FakeResponse(status, json=self.build(template, n=n), headers=headers)

    def responder(
        self,
        template: Template,
        *,
        n: int | None = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Callable[[Request], FakeResponse]:
        """For `route.respond_with(...)`: a fresh body for every call."""
        self.check(template)

        def respond(request: Request) -> FakeResponse:
            return self.response(template, n=n, status=status, headers=headers)

        return respond

    def __repr__(self) -> str:
        return f"<FakeDataFactory seed={self.seed}>"
