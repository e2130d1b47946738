"""What counts as a secret, in one place, and how a URL is shown without one.

The client uses these rules to drop credentials on a redirect to another
origin and to keep secrets out of every error message; the testing toolkit
uses the same rules to redact cassettes, lint them and word its errors. There
is no other list.

One rule for every name, wherever it appears (a header, a query parameter,
a form field, a JSON key; `-`, `_` and case ignored): a name is secret when
it is one of `SECRET_HEADERS` or `SECRET_FIELDS`, or ends in one of
`SECRET_SUFFIXES`. So `Authorization`, `Proxy-Authorization`, `Cookie`,
`Set-Cookie`, `X-Api-Key`, `Api-Key`, `X-Auth-Token`, `X-Amz-Security-Token`,
`X-Goog-Api-Key`, `X-Signature`, `token`, `api_key`, `access_token`,
`refresh_token`, `password`, `db_password`, `secret`, `client_secret`,
`sig` are secret; names that only contain one of those words (`max_tokens`,
`token_type`, `secretary`) are not. `key` and `auth` alone are not on the
list (too common as JSON keys for objects that hold no secret); add them
where they are one (`redact_fields=["key", "auth"]`).

URL userinfo is always a credential: `http://user:pass@host` is shown as
`http://user:REDACTED@host`, and `http://token@host` (a token as the user
name, with no password) as `http://REDACTED@host`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from urllib.parse import unquote, unquote_plus

from yarl import URL

PLACEHOLDER = "REDACTED"
SECRET_HEADERS: tuple[str, ...] = (
    "Authorization",
    "Proxy-Authorization",
    "Cookie",
    "Cookie2",
    "Set-Cookie",
    "Set-Cookie2",
)
"""Secret by name (as headers, and as query, form or JSON names too)."""
SECRET_FIELDS: tuple[str, ...] = (
    "token",
    "api_key",
    "access_token",
    "password",
    "secret",
    "client_secret",
    "sig",
)
"""Secret by name (as query, form or JSON names, and as headers too)."""
SECRET_SUFFIXES: tuple[str, ...] = (
    "token",
    "secret",
    "password",
    "passwd",
    "apikey",
    "privatekey",
    "signature",
)

_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_NAMES = frozenset(_NOT_ALNUM.sub("", n.lower()) for n in (*SECRET_HEADERS, *SECRET_FIELDS))
# A URL in running text: stops at whitespace, quotes and parentheses (as in repr() and
# f"{x!r}"); sentence punctuation and an unmatched "]" at its end are not part of it.
_URL_IN_TEXT = re.compile(r"(?i)\b(?:https?|wss?)://[^\s'\"<>()]+")
_TRAILING = ".,;:!?"
_AUTHORITY = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)([^/?#]*)")

Found = Callable[[str], None]


def normal_name(name: str) -> str:
    """`name` lower-cased with everything but letters and digits removed."""
    return _NOT_ALNUM.sub("", name.lower())


def is_secret_name(name: str, extra: Iterable[str] = ()) -> bool:
    """True for a header, query, form or JSON name that holds a secret (see the
    module docs); `extra` adds names, compared the same way."""
    normal = normal_name(name)
    if normal in _NAMES or normal.endswith(SECRET_SUFFIXES):
        return True
    return any(normal == normal_name(e) for e in extra)


def redact_query(
    query: str,
    *,
    is_secret: Callable[[str], bool] = is_secret_name,
    found: Found | None = None,
) -> str:
    """`a=1&token=x` with the secret values replaced, every other byte kept.

    `found` is called with each secret value removed (decoded)."""
    if not query:
        return query
    parts = query.split("&")
    changed = False
    for index, part in enumerate(parts):
        name, eq, value = part.partition("=")
        if eq and value != PLACEHOLDER and is_secret(unquote_plus(name)):
            if found is not None:
                found(unquote_plus(value))
            parts[index] = f"{name}={PLACEHOLDER}"
            changed = True
    return "&".join(parts) if changed else query


def _redact_authority(authority: str, found: Found | None) -> str:
    userinfo, at, host = authority.rpartition("@")
    if not at or not userinfo:
        return authority
    user, colon, password = userinfo.partition(":")
    if password:
        if password == PLACEHOLDER:
            return authority
        if found is not None:
            found(unquote(password))
        return f"{user}:{PLACEHOLDER}@{host}"
    if user == PLACEHOLDER:
        return authority
    if found is not None:
        found(unquote(user))
    return f"{PLACEHOLDER}{colon}@{host}"


def userinfo(url: str) -> tuple[str, str] | None:
    """The decoded `(user, password)` of `url`, or None when it has no userinfo."""
    match = _AUTHORITY.match(url) if "@" in url else None
    if match is None:
        return None
    info, at, _ = match.group(2).rpartition("@")
    if not at or not info:
        return None
    user, _, password = info.partition(":")
    return unquote(user), unquote(password)


def redact_url(
    url: str | URL,
    *,
    is_secret: Callable[[str], bool] = is_secret_name,
    found: Found | None = None,
) -> str:
    """`url` as text with its userinfo and secret query values replaced by
    `REDACTED`; the rest is kept byte for byte, so the same URL always gives
    the same text. `found` is called with each secret removed (decoded).

    >>> redact_url("https://ann:pw@api.test/x?api_key=k1&page=2#top")
    'https://ann:REDACTED@api.test/x?api_key=REDACTED&page=2#top'
    """
    text = str(url)
    if "@" in text:
        match = _AUTHORITY.match(text)
        if match is not None:
            authority = _redact_authority(match.group(2), found)
            if authority != match.group(2):
                text = match.group(1) + authority + text[match.end() :]
    base, question, rest = text.partition("?")
    if not question:
        return text
    query, hash_, fragment = rest.partition("#")
    return f"{base}?{redact_query(query, is_secret=is_secret, found=found)}{hash_}{fragment}"


def redact_text(
    text: str,
    *,
    is_secret: Callable[[str], bool] = is_secret_name,
    found: Found | None = None,
) -> str:
    """`text` (an error message, a log line) with every URL in it passed through
    `redact_url`; text without a URL is returned as it is."""
    if "://" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        url = match.group(0)
        end = len(url)
        while end and (url[end - 1] in _TRAILING or (url[end - 1] == "]" and "[" not in url)):
            end -= 1
        return redact_url(url[:end], is_secret=is_secret, found=found) + url[end:]

    return _URL_IN_TEXT.sub(one, text)
