"""Optional anonymization: listed JSON fields get consistent fake values (Faker).

```python
Anonymizer(["email", "name", "phone"], seed=7)
Anonymizer({"contact": "email", "who": "name"})   # field -> kind, when the name says nothing
```

Kinds: `email`, `name`, `first_name`, `last_name`, `phone`, `address`, `ip`,
`ipv6`, `user_name`, `company`, `text`. A field's kind is guessed from its
name when not given. A fake value is derived from the seed, the kind and the
real value, so the same real value always gets the same fake value (in
requests and responses, in this cassette and the next), and matching on
anonymized request bodies still works. For that reason its seed is its own
(0 unless given), never the run's `--httpdeck-seed`: a cassette recorded in
one run must match the anonymized requests of the next. The fake value's
seed is `derive_seed(seed, kind, real)`, httpdeck's one seed recipe. Only the
faked values change in the body's bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from httpdeck.testing._seeds import derive_seed
from httpdeck.testing.cassettes._json_edit import KEEP, Edit, edit_members
from httpdeck.testing.cassettes._model import CassetteRequest, CassetteResponse

_KINDS: dict[str, Callable[[Any], str]] = {
    "email": lambda f: f.email(),
    "name": lambda f: f.name(),
    "first_name": lambda f: f.first_name(),
    "last_name": lambda f: f.last_name(),
    "phone": lambda f: f.phone_number(),
    "address": lambda f: f.address().replace("\n", ", "),
    "ip": lambda f: f.ipv4(),
    "ipv6": lambda f: f.ipv6(),
    "user_name": lambda f: f.user_name(),
    "company": lambda f: f.company(),
    "text": lambda f: f.sentence(),
}
_GUESSES = (
    ("email", "email"),
    ("mail", "email"),
    ("firstname", "first_name"),
    ("lastname", "last_name"),
    ("surname", "last_name"),
    ("username", "user_name"),
    ("login", "user_name"),
    ("phone", "phone"),
    ("mobile", "phone"),
    ("address", "address"),
    ("ipv6", "ipv6"),
    ("ip", "ip"),
    ("company", "company"),
    ("name", "name"),
)


def guess_kind(field: str) -> str:
    normal = re.sub(r"[^a-z0-9]", "", field.lower())
    for fragment, kind in _GUESSES:
        if fragment in normal:
            return kind
    return "text"


class Anonymizer:
    """Replaces the values of the listed JSON fields with fake ones. Needs Faker
    (`pip install httpdeck[testing]`)."""

    def __init__(
        self, fields: Iterable[str] | Mapping[str, str], *, seed: int = 0, locale: str = "en_US"
    ) -> None:
        try:
            from faker import Faker
        except ImportError as exc:  # pragma: no cover - faker is in the testing extra
            msg = "Anonymization needs Faker: pip install 'httpdeck[testing]'."
            raise ImportError(msg) from exc
        pairs = (
            fields.items() if isinstance(fields, Mapping) else ((f, guess_kind(f)) for f in fields)
        )
        self.fields: dict[str, str] = {}
        for name, kind in pairs:
            if kind not in _KINDS:
                msg = f"Unknown fake kind {kind!r} for field {name!r}; kinds: {', '.join(_KINDS)}."
                raise ValueError(msg)
            self.fields[name] = kind
        self.seed = seed
        self._faker = Faker(locale)
        self._mapping: dict[tuple[str, str], str] = {}

    def fake(self, kind: str, real: str) -> str:
        """The fake value for `real` (always the same one)."""
        key = (kind, real)
        if key not in self._mapping:
            self._faker.seed_instance(derive_seed(self.seed, kind, real))
            self._mapping[key] = _KINDS[kind](self._faker)
        return self._mapping[key]

    def _fake_value(self, kind: str, value: Any) -> Any:
        if isinstance(value, str | int | float) and not isinstance(value, bool) and value != "":
            return self.fake(kind, str(value))
        if isinstance(value, list):
            return [self.fake(kind, item) if isinstance(item, str) else item for item in value]
        return KEEP

    def _pick(self, key: str) -> Edit | None:
        kind = self.fields.get(key)
        if kind is None:
            return None
        return lambda value: self._fake_value(kind, value)

    def body(self, body: bytes | None) -> bytes | None:
        """`body` with the listed JSON fields faked, or `body` itself (the same object)
        when it is not JSON or holds none of them. Only the faked values change:
        key order, spacing and escapes stay as they were.
        """
        if not body or body.lstrip()[:1] not in (b"{", b"["):
            return body
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return body
        new = edit_members(text, self._pick)
        return body if new == text else new.encode("utf-8")

    def request(self, request: CassetteRequest) -> CassetteRequest:
        """`request` with its body anonymized; the same object when nothing changed."""
        body = self.body(request.body)
        if body is request.body:
            return request
        return CassetteRequest(request.method, request.uri, request.headers, body)

    def response(self, response: CassetteResponse) -> CassetteResponse:
        """`response` with its body anonymized; the same object when nothing changed.

        A changed body loses its recorded chunk boundaries and timing.
        """
        body = self.body(response.body) or b""
        if body is response.body:
            return response
        return replace(response, body=body, chunk_sizes=None, timing=None)
