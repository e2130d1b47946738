"""Redaction: secrets are replaced before an interaction reaches disk.

Two passes, on requests and responses alike:

1. By name. The headers Authorization, Proxy-Authorization, Cookie,
   Set-Cookie and X-Api-Key, and query, form and JSON fields named like a
   secret (token, api_key, access_token, password, secret, client_secret,
   and any name ending in token, secret, password or apikey; `-`, `_` and
   case ignored) get the placeholder `REDACTED`. Authorization keeps its
   scheme (`Bearer REDACTED`), cookies keep their names and attributes.
2. By value. Every secret value found in pass 1 (6 characters or longer) is
   then replaced wherever else it appears: a token the server echoes back in
   a body, a header or a Location URL does not survive.

Redacting is idempotent, and the same rules run on live requests before
matching, so matching still works on redacted fields.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

from httpdeck.testing._cassette_model import CassetteRequest, CassetteResponse

PLACEHOLDER = "REDACTED"
DEFAULT_HEADERS: tuple[str, ...] = (
    "Authorization",
    "Proxy-Authorization",
    "Cookie",
    "Set-Cookie",
    "X-Api-Key",
)
DEFAULT_FIELDS: tuple[str, ...] = (
    "token",
    "api_key",
    "access_token",
    "password",
    "secret",
    "client_secret",
)
_SUFFIXES = ("token", "secret", "password", "passwd", "apikey")
MIN_SECRET_LENGTH = 6
_URL = re.compile(r"https?://[^\s'\"<>]+")


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


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
    """Applies the redaction rules; `headers`/`fields` add names to the defaults."""

    def __init__(
        self,
        *,
        headers: Iterable[str] = (),
        fields: Iterable[str] = (),
        placeholder: str = PLACEHOLDER,
    ) -> None:
        self.placeholder = placeholder
        self.header_names = {h.lower() for h in (*DEFAULT_HEADERS, *headers)}
        self.field_names = {_normal(f) for f in (*DEFAULT_FIELDS, *fields)}

    def is_secret_field(self, name: str) -> bool:
        normal = _normal(name)
        return normal in self.field_names or normal.endswith(_SUFFIXES)

    # -- pieces ------------------------------------------------------------------

    def query(self, query: str, secrets: Secrets) -> str:
        """Redact `a=1&token=x` style text, leaving every other byte as it was."""
        if not query:
            return query
        parts = query.split("&")
        changed = False
        for index, part in enumerate(parts):
            name, eq, value = part.partition("=")
            if eq and value != self.placeholder and self.is_secret_field(unquote_plus(name)):
                secrets.add(unquote_plus(value), self.placeholder)
                parts[index] = f"{name}={self.placeholder}"
                changed = True
        return "&".join(parts) if changed else query

    def url(self, url: str, secrets: Secrets) -> str:
        base, question, rest = url.partition("?")
        if not question:
            return url
        query, hash_, fragment = rest.partition("#")
        return f"{base}?{self.query(query, secrets)}{hash_}{fragment}"

    def _json(self, value: Any, secrets: Secrets) -> Any:
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if self.is_secret_field(str(key)) and item != self.placeholder and item is not None:
                    if isinstance(item, str | int | float):
                        secrets.add(str(item), self.placeholder)
                    out[key] = self.placeholder
                else:
                    out[key] = self._json(item, secrets)
            return out
        if isinstance(value, list):
            return [self._json(item, secrets) for item in value]
        return value

    def json_text(self, text: str, secrets: Secrets) -> str:
        try:
            document = json.loads(text)
        except ValueError:
            return text
        redacted = self._json(document, secrets)
        if redacted == document:
            return text
        compact = ": " not in text and ", " not in text
        separators = (",", ":") if compact else None
        return json.dumps(redacted, ensure_ascii=False, separators=separators)

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
        """A log line or error message with URL query secrets and known values removed."""
        text = _URL.sub(lambda m: self.url(m.group(0), secrets), text)
        return self.scrub(text, secrets)

    def _structured(self, text: str, content_type: str, secrets: Secrets) -> str:
        kind = content_type.lower()
        if "x-www-form-urlencoded" in kind:
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

    def _headers(self, headers: Any, secrets: Secrets) -> Any:
        out = headers.copy()
        for name in {k for k in headers if k.lower() in self.header_names}:
            values = headers.getall(name)
            out.popall(name)
            for value in values:
                out.add(name, self._header(name, value, secrets))
        if "Location" in out:
            out["Location"] = self.url(out["Location"], secrets)
        return out

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
            for name, value in list(headers.items()):
                if value != (new := self.scrub(value, secrets)):
                    headers[name] = new
            if body is not None:
                body = self.body(body, "", secrets, scrub=True)
        return CassetteRequest(request.method, uri, headers, body), secrets

    def response(self, response: CassetteResponse, secrets: Secrets) -> CassetteResponse:
        headers = self._headers(response.headers, secrets)
        content_type = response.headers.get("Content-Type", "")
        # Pass 1 over the body first, so secrets it names are scrubbed from headers too.
        self.body(response.body, content_type, secrets, scrub=False)
        for name, value in list(headers.items()):
            if value != (new := self.scrub(value, secrets)):
                headers[name] = new
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
