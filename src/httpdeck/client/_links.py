"""The `Link` header (RFC 8288) parsed as httpx's `Response.links` gives it."""

from __future__ import annotations

from collections.abc import Iterable


def parse_links(values: Iterable[str]) -> dict[str | None, dict[str, str]]:
    """`{rel or url: {"url": ..., "rel": ..., other params}}` for every link in
    the `Link` header values, in order (a later link with the same key wins).

    Parameter names are lower-cased, quotes removed; commas and semicolons
    inside quoted values or inside `<...>` do not split. A link with no `rel`
    is keyed by its URL, as in httpx and requests.
    """
    links: dict[str | None, dict[str, str]] = {}
    for value in values:
        for link in _split(value):
            links[link.get("rel") or link.get("url")] = link
    return links


def _split(header: str) -> list[dict[str, str]]:
    links: list[dict[str, str]] = []
    i, n = 0, len(header)
    while i < n:
        start = header.find("<", i)
        if start < 0:
            break
        end = header.find(">", start)
        if end < 0:
            break
        link = {"url": header[start + 1 : end].strip()}
        i = end + 1
        while i < n:  # parameters up to the next top-level comma
            while i < n and header[i] in " \t":
                i += 1
            if i >= n or header[i] == ",":
                i += 1
                break
            if header[i] != ";":  # stray text: skip to the next separator
                i += 1
                continue
            i += 1
            name_end = i
            while name_end < n and header[name_end] not in "=;,":
                name_end += 1
            name = header[i:name_end].strip().lower()
            i = name_end
            param = ""
            if i < n and header[i] == "=":
                i += 1
                while i < n and header[i] in " \t":
                    i += 1
                if i < n and header[i] == '"':
                    close = i + 1
                    chars: list[str] = []
                    while close < n and header[close] != '"':
                        if header[close] == "\\" and close + 1 < n:
                            close += 1
                        chars.append(header[close])
                        close += 1
                    param = "".join(chars)
                    i = close + 1
                else:
                    value_end = i
                    while value_end < n and header[value_end] not in ";,":
                        value_end += 1
                    param = header[i:value_end].strip()
                    i = value_end
            if name and name not in link:
                link[name] = param
        links.append(link)
    return links
