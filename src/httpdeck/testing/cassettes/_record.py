"""`RecordReplayInterceptor` and `use_cassette`: cassettes on any httpdeck client.

```python
async with use_cassette(client, "cassettes/users.yaml", record_mode="once") as cassette:
    response = await client.request("GET", "https://api.example.com/users")
assert cassette.all_played
```

The interceptor is an around interceptor, so it runs once per attempt inside
the retry loop (every attempt is recorded and replayed in order). In replay it
answers from the cassette without calling the transport; in record it calls
through and appends what it saw. Requests are redacted (and anonymized, and
passed to `before_record_request`) before they are matched or recorded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypedDict, Unpack

from multidict import CIMultiDict

from httpdeck.client import (
    BaseURLHTTPClient,
    CallNext,
    HTTPClient,
    HTTPConfigError,
    HttpResponse,
    HTTPTransportError,
    Request,
    StreamBody,
)
from httpdeck.client._seam import STREAM, BodyLimit, declared_length, redact_url
from httpdeck.testing.cassettes._anonymize import Anonymizer
from httpdeck.testing.cassettes._cassette import Cassette, RecordMode, Slot, check_record_mode
from httpdeck.testing.cassettes._decode import decoded, is_compressed
from httpdeck.testing.cassettes._format import CacheDir, resolve_cache_dir
from httpdeck.testing.cassettes._matchers import DEFAULT_MATCH_ON, MatchOn, resolve
from httpdeck.testing.cassettes._model import (
    CassetteRequest,
    CassetteResponse,
    RecordedError,
    error_response,
    request_to_raw,
    response_to_raw,
)
from httpdeck.testing.cassettes._redact import Redactor, Secrets
from httpdeck.testing.cassettes._streams import RecordingStream, ReplayStream, Sleep

log = logging.getLogger("httpdeck.cassette")

BeforeRecordRequest = Callable[[CassetteRequest], "CassetteRequest | None"]
BeforeRecordResponse = Callable[[CassetteResponse], "CassetteResponse | None"]


class CassetteOptions(TypedDict, total=False):
    """The keyword options of `RecordReplayInterceptor` and `use_cassette`."""

    record_mode: RecordMode
    match_on: MatchOn
    allow_playback_repeats: bool
    redact: bool
    redact_headers: Iterable[str]
    redact_fields: Iterable[str]
    before_record_request: BeforeRecordRequest | None
    before_record_response: BeforeRecordResponse | None
    anonymize: Anonymizer | None
    decode_compressed_response: bool
    record_errors: bool
    replay_timing: bool
    sleep: Sleep
    clock: Callable[[], float]
    cache_dir: CacheDir


class RecordReplayInterceptor:
    """Record and replay HTTP interactions in a vcrpy-format cassette.

    Options (keyword-only):
        record_mode: `none`, `once` (default), `new_episodes`, `all`, `rewrite`.
        match_on: matcher names (`method`, `scheme`, `host`, `port`, `path`,
            `query` by default; also `uri`, `headers`, `body`, `raw_body`) or
            callables `(request, recorded) -> bool | None`.
        allow_playback_repeats: replay the last matching interaction again
            once every match was played.
        redact: redact secrets (on by default); `redact_headers` and
            `redact_fields` add names to the defaults.
        before_record_request / before_record_response: hooks that may change
            the `CassetteRequest` / `CassetteResponse`, or return None to skip
            it (a skipped request goes to the network, unrecorded).
        anonymize: an `Anonymizer` for personal data in JSON bodies.
        decode_compressed_response: store gzip/deflate bodies decoded and drop
            Content-Encoding (on by default).
        record_errors: record transport errors and replay them (on).
        replay_timing: True to wait the recorded time between streamed chunks,
            on `sleep` (default `asyncio.sleep`); anything but a bool raises
            `HTTPConfigError`. `clock` times recordings.
        cache_dir: where parsed cassettes are cached (False: no cache).

    `cassette` is the loaded `Cassette`; `save()` writes what was recorded.
    """

    def __init__(
        self,
        cassette_path: str | Path,
        *,
        record_mode: RecordMode = "once",
        match_on: MatchOn = DEFAULT_MATCH_ON,
        allow_playback_repeats: bool = False,
        redact: bool = True,
        redact_headers: Iterable[str] = (),
        redact_fields: Iterable[str] = (),
        before_record_request: BeforeRecordRequest | None = None,
        before_record_response: BeforeRecordResponse | None = None,
        anonymize: Anonymizer | None = None,
        decode_compressed_response: bool = True,
        record_errors: bool = True,
        replay_timing: bool = False,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        cache_dir: CacheDir = None,
    ) -> None:
        self.record_mode = check_record_mode(record_mode)
        if not isinstance(replay_timing, bool):
            msg = (
                f"Invalid replay_timing {replay_timing!r}: pass True to wait the recorded time "
                "between streamed chunks (on `sleep`), or False (the default) not to wait."
            )
            raise HTTPConfigError(msg)
        self._redactor = Redactor(headers=redact_headers, fields=redact_fields) if redact else None
        # Secrets seen in this session, scrubbed from every later response too: a
        # cookie set by one response and echoed in the body of the next.
        self._seen = Secrets()
        self._anonymizer = anonymize
        self._before_request = before_record_request
        self._before_response = before_record_response
        self.decode_compressed_response = decode_compressed_response
        self.record_errors = record_errors
        self.replay_timing = replay_timing
        self._sleep = sleep
        self._clock = clock
        self.cassette = Cassette(
            cassette_path,
            record_mode=self.record_mode,
            matchers=resolve(match_on),
            filter_request=_StoredFilter(self._redactor, before_record_request),
            allow_playback_repeats=allow_playback_repeats,
            cache_dir=resolve_cache_dir(cache_dir),
        )

    def __repr__(self) -> str:
        return f"<RecordReplayInterceptor {self.cassette.path} ({self.record_mode})>"

    def save(self) -> bool:
        """Write the interactions recorded so far; True if the file was written."""
        return self.cassette.save()

    # -- the request pipeline ----------------------------------------------------

    def _prepare(self, request: CassetteRequest) -> tuple[CassetteRequest | None, Secrets]:
        secrets = Secrets()
        if self._redactor is not None:
            request, secrets = self._redactor.request(request)
        if self._anonymizer is not None:
            request = self._anonymizer.request(request)
        if self._before_request is not None:
            return self._before_request(request), secrets
        return request, secrets

    async def intercept(self, request: Request, call_next: CallNext) -> HttpResponse:
        """Replay the recorded answer to `request`, or send it on and record what comes back.

        With nothing to replay and a record mode that does not record, raises
        `CassetteMissError`. A recorded transport error is raised again on
        replay. A request that `before_record_request` drops (returns None
        for) is sent and not recorded.
        """
        live = await _capture(request)
        filtered, secrets = self._prepare(live)
        if filtered is None:
            return await call_next(request)
        interaction = self.cassette.find(filtered)
        if interaction is not None:
            self._log("replaying %s %s from %s", filtered)
            try:
                return self._replay(interaction.response, request)
            finally:
                interaction.release()
        if not self.cassette.can_record:
            raise self.cassette.unmatched(filtered, request)
        self._log("recording %s %s into %s", filtered)
        slot = self.cassette.reserve(filtered)
        try:
            response = await call_next(request)
        except HTTPTransportError as exc:
            if self.record_errors:
                self._commit(
                    slot, error_response(RecordedError.from_exception(exc, exc.message)), secrets
                )
            else:
                self.cassette.discard(slot)
            raise
        except BaseException:
            self.cassette.discard(slot)
            raise
        if response.is_read:
            recorded = CassetteResponse(
                response.status, response.reason, CIMultiDict(response.headers), response.content
            )
            self._commit(slot, recorded, secrets)
            return response
        return self._tee(response, slot, secrets)

    def _log(self, text: str, request: CassetteRequest) -> None:
        # Also with redact=False: a log line is no place for a secret.
        if log.isEnabledFor(logging.DEBUG):
            log.debug(text, request.method, redact_url(request.uri), self.cassette.path)

    # -- record --------------------------------------------------------------------

    def _tee(self, response: HttpResponse, slot: Slot, secrets: Secrets) -> HttpResponse:
        status, reason, headers = response.status, response.reason, CIMultiDict(response.headers)

        def finish(
            chunks: list[bytes], times: list[float], partial: bool, error: HTTPTransportError | None
        ) -> None:
            recorded = CassetteResponse(
                status,
                reason,
                headers,
                b"".join(chunks),
                chunk_sizes=[len(c) for c in chunks],
                timing=times,
                partial=partial,
                error=None if error is None else RecordedError.from_exception(error, error.message),
            )
            self._commit(slot, recorded, secrets)

        assert response.stream is not None
        recorder = RecordingStream(response.stream, finish, self._clock)
        slot.close_partial = recorder.close_partial
        return HttpResponse(
            response.status,
            headers=response.headers,
            stream=recorder,
            request=response.request,
            url=response.url,
            reason=response.reason,
        )

    def _commit(self, slot: Slot, response: CassetteResponse, secrets: Secrets) -> None:
        if self.decode_compressed_response:
            response = decoded(response)
        length = len(response.body)
        if self._redactor is not None:
            secrets.values |= self._seen.values
            response = self._redactor.response(response, secrets)
            self._seen.values |= secrets.values
        if self._anonymizer is not None:
            response = self._anonymizer.response(response)
        if self._before_response is not None:
            hooked = self._before_response(response)
            if hooked is None:
                self.cassette.discard(slot)
                return
            response = hooked
        if len(response.body) != length and response.headers.get("Content-Length") == str(length):
            response.headers["Content-Length"] = str(len(response.body))
        fmt = self.cassette.format
        raw = {
            "request": request_to_raw(slot.request, fmt),
            "response": response_to_raw(response, fmt),
        }
        self.cassette.commit(slot, raw)

    # -- replay --------------------------------------------------------------------

    def _replay(self, recorded: CassetteResponse, request: Request) -> HttpResponse:
        if recorded.error is not None and not recorded.body:
            raise recorded.error.to_exception(request)
        # max_response_bytes applies as on the real transport: the declared
        # length first, then the bytes after decompression.
        limit = request.max_response_bytes
        budget = None if limit is None else BodyLimit(request, limit)
        wire = recorded.headers
        declared = declared_length(wire)
        if is_compressed(recorded):
            recorded = decoded(recorded, max_size=limit)
        headers = CIMultiDict(recorded.headers)
        if not request.extensions.get(STREAM):
            if budget is not None:
                budget.check_declared(declared, wire)
                budget.add(recorded.body)
            if recorded.error is not None:  # reading the body failed when recorded
                raise recorded.error.to_exception(request)
            return HttpResponse(
                recorded.status,
                headers=headers,
                content=recorded.body,
                request=request,
                reason=recorded.reason,
            )
        stream = ReplayStream(
            recorded.chunks(),
            timing=recorded.timing if self.replay_timing else None,
            error=recorded.error,
            sleep=self._sleep,
            request=request,
            limit=None if budget is None else (budget, declared, wire),
        )
        return HttpResponse(
            recorded.status, headers=headers, stream=stream, request=request, reason=recorded.reason
        )


class _StoredFilter:
    """What recorded requests go through before matching: redaction (idempotent,
    so safe to repeat; it catches cassettes recorded without it) and the user's
    hook, as vcrpy does. Not anonymization: recorded values are fakes already.
    (A separate object, so the cassette holds no reference back to the interceptor.)"""

    __slots__ = ("_hook", "_redactor")

    def __init__(self, redactor: Redactor | None, hook: BeforeRecordRequest | None) -> None:
        self._redactor = redactor
        self._hook = hook

    def __call__(self, request: CassetteRequest) -> CassetteRequest | None:
        if self._redactor is not None:
            request = self._redactor.request(request)[0]
        return self._hook(request) if self._hook is not None else request


async def _capture(request: Request) -> CassetteRequest:
    """The request as a cassette sees it; a streamed body is read and made replayable."""
    content = request.content
    body: bytes | None
    if isinstance(content, StreamBody):
        chunks = [bytes(chunk) async for chunk in content]
        body = b"".join(chunks)

        async def again() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

        request.content = StreamBody(again)
    else:
        body = content
    return CassetteRequest(request.method, str(request.url), request.headers, body)


@asynccontextmanager
async def use_cassette(
    client: HTTPClient | BaseURLHTTPClient, path: str | Path, **options: Unpack[CassetteOptions]
) -> AsyncIterator[Cassette]:
    """Install a `RecordReplayInterceptor` on `client` for the block, then save.

    Works with `HTTPClient`, `BaseURLHTTPClient` and anything with an
    `interceptors` chain (or a `.client` that has one). The interceptor goes
    innermost, next to the transport, so interceptors added earlier (fault
    injection, auth) run above it. The cassette is saved on exit, also when
    the block raised (as vcrpy does).
    """
    target = client if hasattr(client, "interceptors") else client.client
    interceptor = RecordReplayInterceptor(path, **options)
    target.interceptors.add_interceptor(interceptor)
    try:
        yield interceptor.cassette
    finally:
        target.interceptors.remove_interceptor(interceptor)
        interceptor.save()
