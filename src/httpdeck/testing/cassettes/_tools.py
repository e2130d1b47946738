"""The logic of `httpdeck cassette ...` (see `cassettes._cli`)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from httpdeck.client._seam import PLACEHOLDER, userinfo
from httpdeck.testing.cassettes._bodies import MAX_INFLATED_BYTES, body_problems
from httpdeck.testing.cassettes._content_coding import (
    TooLarge,
    Undecodable,
    can_decode,
    content_codings,
)
from httpdeck.testing.cassettes._content_coding import decode as decode_content
from httpdeck.testing.cassettes._format import format_for, locked, parse, write_cassette
from httpdeck.testing.cassettes._model import (
    CassetteRequest,
    CassetteResponse,
    Interaction,
    Raw,
    kept_keys,
    request_to_raw,
    response_to_raw,
)
from httpdeck.testing.cassettes._redact import Redactor, Secrets


def load(path: Path) -> list[Interaction]:
    raw, _ = parse(path.read_bytes(), format_for(path), path)
    return [Interaction(item) for item in raw]


# -- show and stats ------------------------------------------------------------


def _flags(interaction: Interaction) -> str:
    response = interaction.response
    flags = []
    if response.error is not None:
        flags.append(f"error:{response.error.type}")
    if response.chunk_sizes:
        flags.append(f"{len(response.chunk_sizes)} chunks")
    if response.partial:
        flags.append("partial")
    return ", ".join(flags)


def show(path: Path, interactions: list[Interaction], redactor: Redactor, out: TextIO) -> None:
    out.write(f"{path} ({len(interactions)} interactions)\n")
    rows = [("#", "METHOD", "URL", "STATUS", "TYPE", "BYTES", "NOTES")]
    for number, interaction in enumerate(interactions, 1):
        response = interaction.response
        uri = redactor.url(interaction.uri, Secrets())
        content_type = response.headers.get("Content-Type", "").split(";")[0]
        rows.append(
            (
                str(number),
                interaction.method,
                uri if len(uri) <= 70 else uri[:67] + "...",
                str(response.status),
                content_type,
                str(len(response.body)),
                _flags(interaction),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.write("  ".join(cells).rstrip() + "\n")


def stats(path: Path, interactions: list[Interaction], out: TextIO) -> None:
    hosts = Counter(i.request.host or "?" for i in interactions)
    methods = Counter(i.method for i in interactions)
    statuses = Counter(f"{i.response.status // 100}xx" for i in interactions)
    bodies = sum(len(i.response.body) + len(i.request.body or b"") for i in interactions)
    errors = sum(1 for i in interactions if i.response.error is not None)
    streams = sum(1 for i in interactions if i.response.chunk_sizes)
    partial = sum(1 for i in interactions if i.response.partial)
    out.write(f"{path}\n")
    out.write(f"  format: {format_for(path)}, file size: {path.stat().st_size} bytes\n")
    out.write(f"  interactions: {len(interactions)} ({bodies} body bytes)\n")
    out.write(f"  methods: {_counts(methods)}\n")
    out.write(f"  statuses: {_counts(statuses)}\n")
    out.write(f"  hosts: {_counts(hosts)}\n")
    out.write(f"  streamed: {streams}, partial: {partial}, transport errors: {errors}\n")


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{key} {count}" for key, count in counter.most_common()) or "none"


# -- lint ------------------------------------------------------------------------


def lint(
    interactions: list[Interaction],
    redactor: Redactor,
    *,
    max_inflated_bytes: int = MAX_INFLATED_BYTES,
) -> Iterator[str]:
    """Findings, one line each, naming the interaction (1-based). Bodies are
    checked by `cassettes._bodies` (decoded, at most `max_inflated_bytes`)."""
    seen: dict[str, int] = {}
    for number, interaction in enumerate(interactions, 1):
        request, response = interaction.request, interaction.response
        redacted, secrets = redactor.request(request)
        shown = redactor.url(interaction.uri, secrets)
        where = f"interaction #{number} ({interaction.method} {shown})"
        if redacted.uri != request.uri:
            yield from _uri_findings(where, request, redactor)
        for name in sorted(
            {k for k in request.headers if request.headers.getall(k) != redacted.headers.getall(k)}
        ):
            yield f"{where}: unredacted secret in request header {name}"
        if redacted.body != request.body:
            yield f"{where}: unredacted secret in the request body"
        clean = redactor.response(response, secrets)
        for name in sorted(
            {k for k in response.headers if response.headers.getall(k) != clean.headers.getall(k)}
        ):
            yield f"{where}: unredacted secret in response header {name}"
        plain = decoded_for_redaction(response, max_inflated_bytes)
        if plain is not response:
            clean = redactor.response(plain, secrets)
        if clean.body != plain.body:
            coding = (
                "" if plain is response else f" ({response.headers['Content-Encoding']}-decoded)"
            )
            yield f"{where}: unredacted secret in the response body{coding}"
        limit = max_inflated_bytes
        yield from body_problems(
            where, "request", request.headers, request.body, max_inflated_bytes=limit
        )
        if not response.partial and response.error is None:
            yield from body_problems(
                where, "response", response.headers, response.body, max_inflated_bytes=limit
            )
        key = json.dumps(interaction.raw, sort_keys=True, default=repr)
        if key in seen:
            yield f"{where}: duplicates interaction #{seen[key]} exactly (request and response)"
        else:
            seen[key] = number


def _uri_findings(where: str, request: CassetteRequest, redactor: Redactor) -> Iterator[str]:
    found = False
    credentials = userinfo(request.uri)
    if credentials is not None and PLACEHOLDER not in credentials:
        found = True
        yield f"{where}: unredacted credentials in the URL userinfo (user:password@)"
    query = request.parsed_uri.query
    if redactor.query(query, Secrets()) != query:
        found = True
        yield f"{where}: unredacted secret in the URL query"
    if not found:
        yield f"{where}: a secret value from another field appears in the URL"


# -- redact ------------------------------------------------------------------------


def decoded_for_redaction(response: CassetteResponse, limit: int) -> CassetteResponse:
    """`response` with its Content-Encoding undone (`cassettes._content_coding.decode`,
    at most `limit` bytes) and the header dropped, as httpdeck's recorder
    stores it with `decode_compressed_response=True`; `response` itself when
    it has no coding, one that cannot be undone here, or a body that does not
    decode (stored decoded with the header kept: its bytes are searched as
    they are)."""
    codings = content_codings(response.headers.getall("Content-Encoding", []))
    if not codings or not response.body or not all(map(can_decode, codings)):
        return response
    try:
        body = decode_content(response.body, codings, limit=limit)
    except (TooLarge, Undecodable):
        return response
    headers = response.headers.copy()
    headers.popall("Content-Encoding", None)
    if "Content-Length" in headers:
        headers["Content-Length"] = str(len(body))
    return replace(response, headers=headers, body=body, chunk_sizes=None, timing=None)


def redact_file(path: Path, redactor: Redactor) -> int:
    """Redact `path` in place (atomically, under the writers' lock); returns how
    many interactions changed. Every other interaction is kept exactly as it was."""
    fmt = format_for(path)
    with locked(path):
        raw, metadata = parse(path.read_bytes(), fmt, path)
        out: list[Raw] = []
        for item in raw:
            interaction = Interaction(item)
            before, old = interaction.request, interaction.response
            request, secrets = redactor.request(before)
            response = redactor.response(old, secrets)
            plain = decoded_for_redaction(old, MAX_INFLATED_BYTES)
            if plain is not old:
                clean = redactor.response(plain, secrets)
                if clean.body != plain.body:
                    # A secret inside a compressed body: stored decoded, without
                    # Content-Encoding, as the recorder stores bodies by default.
                    response = clean
            same_request = (request.uri, list(request.headers.items()), request.body) == (
                before.uri,
                list(before.headers.items()),
                before.body,
            )
            same_response = (list(response.headers.items()), response.body, response.error) == (
                list(old.headers.items()),
                old.body,
                old.error,
            )
            if same_request and same_response:
                out.append(item)
                continue
            new_response = response_to_raw(response, fmt)
            for key, value in kept_keys(item["response"]).items():  # keys other tools added
                new_response.setdefault(key, value)
            out.append({**item, "request": request_to_raw(request, fmt), "response": new_response})
        changed = sum(1 for new, old_item in zip(out, raw, strict=True) if new is not old_item)
        if changed:
            write_cassette(path, out, fmt, metadata=metadata, cache_dir=None)
    return changed
