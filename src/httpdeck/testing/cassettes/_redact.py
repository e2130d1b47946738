"""Redaction: secrets are replaced before an interaction reaches disk.

Which names are secret is decided in one place, `httpdeck.client._redaction`
(the client uses the same rules for redirects and error messages). Two passes,
on requests and responses alike:

1. By name. Secret headers (Authorization, Proxy-Authorization, Cookie,
   Set-Cookie, X-Api-Key, X-Auth-Token, any `*-Token`, `*-Secret`, ...), the
   password in URL userinfo (`http://user:REDACTED@host`; a user name with no
   password is the credential itself and is replaced), and query, form and
   JSON fields named like a secret (token, api_key, access_token, password,
   secret, client_secret, sig, and any name ending in token, secret,
   password, passwd, apikey, privatekey or signature; `-`, `_` and case
   ignored) get the placeholder `REDACTED`. Authorization keeps its scheme
   (`Bearer REDACTED`), cookies keep their names and attributes. In JSON,
   string values of secret fields become `REDACTED` and numbers become `0`
   (a numeric PIN is a secret; `0` keeps the JSON type); booleans and null
   are kept, and objects and arrays under a secret name have each of their
   strings and numbers redacted that way.
2. By value. Every secret string found in pass 1 (6 characters or longer)
   is then replaced wherever else it appears: a token the server echoes back
   in a body, a header or a Location URL does not survive. (Numbers are not
   scrubbed by value: their digits would hit unrelated numbers.)

Only the bytes of replaced values change: a body, header list or URL with no
secret in it is kept exactly as it was (key order, spacing, escapes, header
case and order). Redacting is idempotent, and the same rules run on live
requests before matching, so matching still works on redacted fields.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, quote_plus

from multidict import CIMultiDict

from httpdeck.client._seam import (
    PLACEHOLDER,
    SECRET_FIELDS,
    SECRET_HEADERS,
    is_secret_name,
    normal_name,
    redact_query,
    redact_text,
    redact_url,
    userinfo,
)
from httpdeck.testing._json_limits import NOT_JSON, parse_json
from httpdeck.testing.cassettes._json_edit import KEEP, Edit, edit_members
from httpdeck.testing.cassettes._model import CassetteRequest, CassetteResponse

__all__ = ["MIN_SECRET_LENGTH", "PLACEHOLDER", "Redactor", "Secrets"]

DEFAULT_HEADERS: tuple[str, ...] = SECRET_HEADERS
DEFAULT_FIELDS: tuple[str, ...] = SECRET_FIELDS
MIN_SECRET_LENGTH = 6
# `a=1&b=2` with no Content-Type: how vcrpy's aiohttp cassettes store form bodies.
_FORM = re.compile(r"[\w.~%+*\[\]-]+=[^&\s]*(?:&[\w.~%+*\[\]-]+=[^&\s]*)*")


@dataclass(slots=True)
class Secrets:
    """Secret values found while redacting, to be scrubbed everywhere else."""

    values: set[str] = field(default_factory=set)

    def add(self, value: str, placeholder: str) -> None:
        value = value.strip()
        if len(value) >= MIN_SECRET_LENGTH and placeholder not in value:
            self.values.add(value)

    def forms(self) -> list[str]:
        """Each value as written raw and percent-encoded, longest first."""
        out = {v for s in self.values for v in (s, quote(s, safe=""), quote_plus(s))}
        return sorted(out, key=len, reverse=True)


class Redactor:
    """Applies the redaction rules; `headers`/`fields` add names to the built-in ones."""

    def __init__(self, *, headers: Iterable[str] = (), fields: Iterable[str] = ()) -> None:
        self.placeholder = PLACEHOLDER
        self._extra_headers = frozenset(h.lower() for h in headers)
        self._extra_fields = frozenset(normal_name(f) for f in fields)

    def is_secret_field(self, name: str) -> bool:
        return is_secret_name(name) or normal_name(name) in self._extra_fields

    def is_secret_header(self, name: str) -> bool:
        return is_secret_name(name) or name.lower() in self._extra_headers

    # -- pieces ------------------------------------------------------------------

    def query(self, query: str, secrets: Secrets) -> str:
        """Redact `a=1&token=x` style text, leaving every other byte as it was."""
        return redact_query(query, is_secret=self.is_secret_field, found=self._found(secrets))

    def url(self, url: str, secrets: Secrets) -> str:
        """`url` with its userinfo and secret query values redacted (other bytes kept).

        The userinfo's password, and base64 of `user:password` (what Basic
        auth sends for it, which a server may echo), become known secrets."""
        credentials = userinfo(url)
        if credentials is not None and PLACEHOLDER not in credentials:
            user, password = credentials
            pair = f"{user}:{password}".encode()
            secrets.add(base64.b64encode(pair).decode("ascii"), self.placeholder)
        return redact_url(url, is_secret=self.is_secret_field, found=self._found(secrets))

    def _found(self, secrets: Secrets) -> Any:
        return lambda value: secrets.add(value, self.placeholder)

    def _secret_value(self, value: Any, secrets: Secrets) -> Any:
        """The redacted form of a JSON value under a secret name, or KEEP."""
        if isinstance(value, str):
            if not value or value == self.placeholder:
                return KEEP
            secrets.add(value, self.placeholder)
            return self.placeholder
        if isinstance(value, bool) or value is None:
            return KEEP
        if isinstance(value, int | float):
            return KEEP if value == 0 else 0
        if isinstance(value, dict | list):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            changed = False
            out: Any = {} if isinstance(value, dict) else [None] * len(value)
            for key, item in items:
                new = self._secret_value(item, secrets)
                changed = changed or new is not KEEP
                out[key] = item if new is KEEP else new
            return out if changed else KEEP
        return KEEP  # pragma: no cover - json.loads gives nothing else

    def _has_secret(self, value: Any) -> bool:
        # A loop, not recursion: a document json.loads parsed may still be
        # deeper than a recursive walk from here can go.
        stack = [value]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                for key, item in value.items():
                    if self.is_secret_field(str(key)) and item not in (
                        None,
                        True,
                        False,
                        "",
                        0,
                        self.placeholder,
                    ):
                        return True
                    stack.append(item)
            elif isinstance(value, list):
                stack.extend(value)
        return False

    def json_text(self, text: str, secrets: Secrets) -> str:
        """Redact the secret fields of a JSON document, changing only their values.

        A document past Python's limits (`parse_json`) is left as it is: only
        the known-value scrub (pass 2) applies to it.
        """
        document = parse_json(text)
        if document is NOT_JSON:
            return text
        if not self._has_secret(document):  # the common case, at C speed
            return text

        def pick(key: str) -> Edit | None:
            if not self.is_secret_field(key):
                return None
            return lambda value: self._secret_value(value, secrets)

        return edit_members(text, pick)

    def _event_stream(self, text: str, secrets: Secrets) -> str:
        lines = text.split("\n")
        for index, line in enumerate(lines):
            if line.startswith("data:"):
                payload = line[5:].lstrip(" ")
                if payload[:1] in ("{", "["):
                    pad = line[5 : len(line) - len(payload)]
                    lines[index] = "data:" + pad + self.json_text(payload.rstrip("\r"), secrets)
                    if payload.endswith("\r"):
                        lines[index] += "\r"
        return "\n".join(lines)

    def scrub(self, text: str, secrets: Secrets) -> str:
        """Replace every known secret value in `text` (pass 2)."""
        for form in secrets.forms():
            if form in text:
                text = text.replace(form, self.placeholder)
        return text

    def message(self, text: str, secrets: Secrets) -> str:
        """A log line or error message with URL secrets and known values removed."""
        text = redact_text(text, is_secret=self.is_secret_field, found=self._found(secrets))
        return self.scrub(text, secrets)

    def _structured(self, text: str, content_type: str, secrets: Secrets) -> str:
        kind = content_type.lower()
        if "x-www-form-urlencoded" in kind or (not kind and _FORM.fullmatch(text)):
            return self.query(text, secrets)
        if "event-stream" in kind:
            return self._event_stream(text, secrets)
        if "json" in kind or text.lstrip()[:1] in ("{", "["):
            return self.json_text(text, secrets)
        return text

    def body(self, body: bytes, content_type: str, secrets: Secrets, *, scrub: bool) -> bytes:
        """Redact a text body by name (and by value when `scrub`); binary is left as is."""
        if not body:
            return body
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return body
        new = self._structured(text, content_type, secrets)
        if scrub:
            new = self.scrub(new, secrets)
        return body if new == text else new.encode("utf-8")

    def _header(self, name: str, value: str, secrets: Secrets) -> str:
        lower = name.lower()
        ph = self.placeholder
        if lower in ("authorization", "proxy-authorization"):
            scheme, _, credentials = value.partition(" ")
            if not credentials:
                secrets.add(scheme, ph)
                return ph
            secrets.add(credentials, ph)
            if scheme.lower() == "basic":
                try:
                    decoded = base64.b64decode(credentials, validate=True).decode()
                    secrets.add(decoded.partition(":")[2], ph)
                except (binascii.Error, UnicodeDecodeError):
                    pass
            return f"{scheme} {ph}"
        if lower == "cookie":
            pairs = []
            for pair in value.split(";"):
                cookie, eq, cookie_value = pair.strip().partition("=")
                if eq:
                    secrets.add(cookie_value, ph)
                pairs.append(f"{cookie}={ph}" if eq else cookie)
            return "; ".join(pairs)
        if lower == "set-cookie":
            first, sep, attributes = value.partition(";")
            cookie, eq, cookie_value = first.partition("=")
            secrets.add(cookie_value, ph)
            return f"{cookie}={ph}{sep}{attributes}" if eq else ph
        secrets.add(value, ph)
        return ph

    def _headers(self, headers: CIMultiDict[str], secrets: Secrets) -> CIMultiDict[str]:
        """Secret headers redacted and Location URLs cleaned; names, case and
        order kept. `headers` itself when nothing changed."""
        pairs = []
        changed = False
        for name, value in headers.items():
            if self.is_secret_header(name):
                new = self._header(name, value, secrets)
            elif name.lower() == "location":
                new = self.url(value, secrets)
            else:
                new = value
            changed = changed or new != value
            pairs.append((name, new))
        return CIMultiDict(pairs) if changed else headers

    def _scrub_headers(self, headers: CIMultiDict[str], secrets: Secrets) -> CIMultiDict[str]:
        """Known secret values removed from every header value (names, case and order kept)."""
        if not secrets.values:
            return headers
        pairs = [(name, self.scrub(value, secrets)) for name, value in headers.items()]
        if all(new == old for (_, new), old in zip(pairs, headers.values(), strict=True)):
            return headers
        return CIMultiDict(pairs)

    # -- whole requests and responses --------------------------------------------

    def request(self, request: CassetteRequest) -> tuple[CassetteRequest, Secrets]:
        secrets = Secrets()
        headers = self._headers(request.headers, secrets)
        uri = self.url(request.uri, secrets)
        content_type = request.headers.get("Content-Type", "")
        body = request.body
        if body is not None:
            body = self.body(body, content_type, secrets, scrub=False)
        if secrets.values:
            uri = self.scrub(uri, secrets)
            headers = self._scrub_headers(headers, secrets)
            if body is not None:
                body = self.body(body, "", secrets, scrub=True)
        return CassetteRequest(request.method, uri, headers, body), secrets

    def response(self, response: CassetteResponse, secrets: Secrets) -> CassetteResponse:
        headers = self._headers(response.headers, secrets)
        content_type = response.headers.get("Content-Type", "")
        # Pass 1 over the body first, so secrets it names are scrubbed from headers too.
        self.body(response.body, content_type, secrets, scrub=False)
        headers = self._scrub_headers(headers, secrets)
        body = self.body(response.body, content_type, secrets, scrub=True)
        chunk_sizes, timing = response.chunk_sizes, response.timing
        if body != response.body and chunk_sizes and len(chunk_sizes) > 1:
            parts = [self.body(c, content_type, secrets, scrub=True) for c in response.chunks()]
            if b"".join(parts) == body:
                chunk_sizes = [len(p) for p in parts]
            else:  # a secret spans a chunk boundary: keep it safe, lose the boundaries
                chunk_sizes, timing = None, None
        error = response.error
        if error is not None:
            error = replace(error, message=self.message(error.message, secrets))
        return replace(
            response,
            headers=headers,
            body=body,
            chunk_sizes=chunk_sizes,
            timing=timing,
            error=error,
        )
