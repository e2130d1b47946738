"""`Cassette`: the recorded interactions of one file, indexed for replay.

Record modes keep vcrpy's meanings:

- `none`: replay only; a request with no recorded interaction is an error.
- `once` (the default): record when the file does not exist, else replay only.
- `new_episodes`: replay what matches, record the rest (appended on save).
- `all`: never replay; record everything; on save, recorded interactions
  replace the loaded ones they match and the others are kept.
- `rewrite`: never replay; the file is re-recorded from scratch.

Only interactions loaded from the file are replayed (each once, in recorded
order among identical requests). Saving re-reads the file under a lock and
merges, so parallel writers never lose each other's interactions.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, get_args

from httpdeck.client import Request
from httpdeck.testing.cassettes._errors import CassetteMissError
from httpdeck.testing.cassettes._format import (
    CassetteFile,
    format_for,
    gc_paused,
    locked,
    read_cassette,
    write_cassette,
)
from httpdeck.testing.cassettes._matchers import Matcher, all_match, failures, key_function
from httpdeck.testing.cassettes._model import (
    CassetteRequest,
    Interaction,
    KeyParts,
    Raw,
    key_parts,
)

log = logging.getLogger("httpdeck.cassette")

RecordMode = Literal["none", "once", "new_episodes", "all", "rewrite"]
RECORD_MODES: tuple[str, ...] = get_args(RecordMode)
RequestFilter = Callable[[CassetteRequest], "CassetteRequest | None"]
_MAX_CLOSEST = 3


def check_record_mode(record_mode: str) -> RecordMode:
    if record_mode not in RECORD_MODES:
        msg = (
            f"Invalid record_mode {record_mode!r}: choose one of "
            f"{', '.join(repr(m) for m in RECORD_MODES)}."
        )
        raise ValueError(msg)
    return record_mode  # type: ignore[return-value]


class Slot:
    """A place in the recording order, reserved when a request goes out and
    filled when its response (or error, or the end of its stream) is known."""

    __slots__ = ("close_partial", "interaction", "request", "saved")

    def __init__(self, request: CassetteRequest) -> None:
        self.request = request
        self.interaction: Interaction | None = None
        self.saved = False
        self.close_partial: Callable[[], None] | None = None


class Cassette:
    """The interactions of one cassette file, with play counts.

    `interactions` lists what the file holds plus what was recorded in this
    session; `play_count` counts replays; `all_played` says whether every
    loaded interaction was replayed at least once.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        record_mode: RecordMode,
        matchers: list[tuple[str, Matcher]],
        filter_request: RequestFilter,
        allow_playback_repeats: bool = False,
        cache_dir: Path | None = None,
    ) -> None:
        self.path = Path(path)
        # Where the file was looked for (the pytest plugin sets every path of
        # its lookup); a miss on a cassette that does not exist lists them.
        self.looked_at: tuple[Path, ...] = (self.path,)
        self.record_mode = record_mode
        self.format = format_for(self.path)
        self.allow_playback_repeats = allow_playback_repeats
        self._matchers = matchers
        self._key = key_function(matchers)
        self._filter = filter_request
        self._cache_dir = cache_dir
        with gc_paused():
            file = read_cassette(self.path, self.format, cache_dir=cache_dir)
            self._metadata = file.metadata
            self.existed = file.exists
            self._start_digest = file.digest
            self._base_digest = file.digest
            loaded = [Interaction(record) for record in file.records]
            self._base: list[Interaction] = [] if record_mode == "rewrite" else loaded
            replays = record_mode in ("none", "new_episodes") or (
                record_mode == "once" and file.exists
            )
            self._playable: list[Interaction] = loaded if replays else []
            self.can_record = record_mode != "none" and not (record_mode == "once" and file.exists)
            self._plays = [0] * len(self._playable)
            self._filtered: list[CassetteRequest | bool | None] = [False] * len(self._playable)
            self._index = self._build_index(file.keys) if self._playable else {}
            self._session: list[Slot] = []
        self.from_cache = file.from_cache

    # -- what it holds -----------------------------------------------------------

    @property
    def interactions(self) -> list[Interaction]:
        """What the file holds (nothing in `rewrite` mode) followed by what this
        session recorded and has not saved yet.
        """
        recorded = [s.interaction for s in self._session if s.interaction and not s.saved]
        return [*self._base, *recorded]

    @property
    def requests(self) -> list[CassetteRequest]:
        """The request of each of `interactions`, in the same order."""
        return [interaction.request for interaction in self.interactions]

    @property
    def play_count(self) -> int:
        """Replays so far, all interactions together (an interaction replayed twice counts 2)."""
        return sum(self._plays)

    @property
    def play_counts(self) -> list[int]:
        """How often each loaded interaction was replayed, in file order."""
        return list(self._plays)

    @property
    def all_played(self) -> bool:
        """True when every interaction loaded for replay was replayed at least once
        (also when none was loaded: the `all` and `rewrite` modes replay nothing).
        """
        return all(self._plays)

    @property
    def unplayed(self) -> list[Interaction]:
        """The interactions loaded for replay that were never replayed, in file order."""
        return [i for i, plays in zip(self._playable, self._plays, strict=True) if not plays]

    @property
    def recorded(self) -> list[Interaction]:
        """Interactions recorded in this session, in the order they were sent."""
        return [s.interaction for s in self._session if s.interaction is not None]

    def __len__(self) -> int:
        return len(self.interactions)

    def __repr__(self) -> str:
        return f"<Cassette {self.path} ({self.record_mode}): {len(self)} interactions>"

    # -- replay ------------------------------------------------------------------

    def _stored(self, index: int) -> CassetteRequest | None:
        filtered = self._filtered[index]
        if filtered is False:
            filtered = self._filter(self._playable[index].request)
            self._filtered[index] = filtered
        return filtered  # type: ignore[return-value]

    def _build_index(self, keys: list[KeyParts] | None) -> dict[tuple[Any, ...], list[int]]:
        if keys is None or len(keys) != len(self._playable):
            keys = [key_parts(i.method, i.uri) for i in self._playable]
        index: dict[tuple[Any, ...], list[int]] = {}
        make_key = self._key
        for number, parts in enumerate(keys):
            key = make_key(parts)
            bucket = index.get(key)
            if bucket is None:
                index[key] = [number]
            else:
                bucket.append(number)
        return index

    def find(self, request: CassetteRequest) -> Interaction | None:
        """The interaction to replay for `request` (marked played), else None."""
        if not self._playable:
            return None
        last = None
        for number in self._index.get(self._key(request.key_parts), ()):
            plays = self._plays[number]
            if plays and not self.allow_playback_repeats:
                continue
            stored = self._stored(number)
            if stored is None or not all_match(request, stored, self._matchers):
                continue
            if not plays:
                return self._play(number)
            last = number
        return None if last is None else self._play(last)

    def _play(self, number: int) -> Interaction:
        self._plays[number] += 1
        if not self.allow_playback_repeats:
            self._filtered[number] = False  # not needed again unless for an error message
        return self._playable[number]

    def unmatched(self, request: CassetteRequest, live: Request | None) -> CassetteMissError:
        """The error for a request that can be neither replayed nor recorded."""
        scored: list[tuple[int, int, CassetteRequest, list[tuple[str, str]]]] = []
        for number in range(len(self._playable)):
            stored = self._stored(number)
            if stored is not None:
                failed = failures(request, stored, self._matchers)
                scored.append((len(failed), number, stored, failed))
        scored.sort(key=lambda item: (item[0], item[1]))
        played_twins = [s for s in scored if s[0] == 0]
        best = scored[0][0] if scored else None
        closest = [s for s in scored if s[0] == best and best < len(self._matchers)]
        names = ", ".join(name for name, _ in self._matchers)
        where = f"{request.method} {request.uri}"
        mode = self.record_mode
        if not self.existed and mode == "none":
            problem = f"the cassette {self.path} does not exist"
        elif played_twins:
            count = len(played_twins)
            problem = (
                f"it matches {count} recorded interaction{'s' if count > 1 else ''} in "
                f"{self.path}, already played back"
            )
        elif closest:
            problem = f"no interaction recorded in {self.path} matches it"
        else:
            problem = f"the cassette {self.path} has nothing similar to it"
        lines = [
            f"Cannot play back {where}: {problem}, and record_mode={mode!r} does not record "
            "new requests.",
            f"  match_on: {names}",
            f"  interactions: {len(self._playable)} recorded, "
            f"{sum(1 for p in self._plays if p)} played",
        ]
        if not self.existed and len(self.looked_at) > 1:
            lines.insert(1, f"  looked for it at: {', '.join(map(str, self.looked_at))}")
        if request.body and any(n in ("body", "raw_body") for n, _ in self._matchers):
            lines.append(f"  request body: {_preview(request.body)}")
        if closest and not played_twins:
            lines.append("Closest recorded interactions:")
            for rank, (_, number, stored, failed) in enumerate(closest[:_MAX_CLOSEST], 1):
                lines.append(f"  {rank}. #{number + 1} {stored.method} {stored.uri}")
                for name, why in failed:
                    text = why.replace("\n", "\n       ")
                    lines.append(f"     {name} differs" + (f": {text}" if text else ""))
            if len(closest) > _MAX_CLOSEST:
                lines.append(f"  ... and {len(closest) - _MAX_CLOSEST} more as close.")
        lines.append("How to fix:")
        if not self.existed and mode == "none":
            lines += [
                "  * record it: record_mode='once' records a cassette that does not exist yet "
                "and replays it afterwards. Set it with",
                "      the option    pytest --httpdeck-record-mode=once",
                "      the marker    @pytest.mark.httpdeck_cassette(record_mode='once')",
                "      the ini       httpdeck_record_mode = once   "
                "(pytest.ini, or [tool.pytest.ini_options] in pyproject.toml)",
                "      in code       use_cassette(client, path, record_mode='once')",
                "  * or check the path: the cassette may have moved or been renamed",
            ]
        else:
            if played_twins:
                lines.append(
                    "  * if repeating the recorded response is fine, pass "
                    "allow_playback_repeats=True"
                )
            lines += [
                "  * record the new request: record_mode='new_episodes' "
                "(pytest: --httpdeck-record-mode=new_episodes)",
                "  * or re-record the cassette from scratch: record_mode='rewrite' "
                "(--httpdeck-record-mode=rewrite)",
                "  * if the difference changes on every run (a timestamp, an id), loosen "
                "match_on or normalize it in before_record_request",
            ]
        return CassetteMissError(
            "\n".join(lines),
            path=self.path,
            request=live,
            cassette_request=request,
            record_mode=mode,
            closest=[(s[2], [name for name, _ in s[3]]) for s in closest[:_MAX_CLOSEST]],
        )

    # -- record ------------------------------------------------------------------

    def reserve(self, request: CassetteRequest) -> Slot:
        """Take the next place in the recording order for `request`, as it goes out.

        `RecordReplayInterceptor` calls it, then `commit()` or `discard()` with the
        slot, so interactions are saved in the order their requests were sent.
        """
        slot = Slot(request)
        self._session.append(slot)
        return slot

    @staticmethod
    def commit(slot: Slot, raw: Raw) -> None:
        """Fill `slot` with the recorded interaction `raw` (vcrpy's dict); `save()` writes it."""
        slot.interaction = Interaction(raw, session=True)
        slot.close_partial = None

    @staticmethod
    def discard(slot: Slot) -> None:
        """Give `slot` up: nothing is recorded for its request."""
        slot.saved = True  # never written
        slot.close_partial = None

    @property
    def dirty(self) -> bool:
        """True when something was recorded that `save()` has not written yet."""
        return any(s.interaction is not None and not s.saved for s in self._session)

    def save(self) -> bool:
        """Write what was recorded (streams still open are saved as partial).
        Returns True when the file was written."""
        for slot in self._session:
            if slot.interaction is None and slot.close_partial is not None:
                slot.close_partial()
        new = [s for s in self._session if s.interaction is not None and not s.saved]
        if not new:
            if self.record_mode == "rewrite" and not any(s.saved for s in self._session):
                self._remove_unrewritten()
            return False
        fresh = [s.interaction for s in new if s.interaction is not None]
        with locked(self.path):
            disk = read_cassette(self.path, self.format, cache_dir=self._cache_dir)
            base = self._current_base(disk)
            if self.record_mode == "all":
                base = self._unreplaced(base, fresh)
            result = [*base, *fresh]
            digest = write_cassette(
                self.path,
                [i.raw for i in result],
                self.format,
                metadata=self._metadata,
                cache_dir=self._cache_dir,
            )
        for slot in new:
            slot.saved = True
        self._base, self._base_digest = result, digest
        log.debug("saved %d new interaction(s) to %s", len(fresh), self.path)
        return True

    def _current_base(self, disk: CassetteFile) -> list[Interaction]:
        if disk.digest == self._base_digest:
            return self._base
        # Another writer changed the file since we read it: build on theirs.
        self._metadata = disk.metadata or self._metadata
        return [Interaction(record) for record in disk.records]

    def _unreplaced(self, base: list[Interaction], fresh: list[Interaction]) -> list[Interaction]:
        by_key: dict[tuple[Any, ...], list[CassetteRequest]] = {}
        for interaction in fresh:
            request = interaction.request
            by_key.setdefault(self._key(request.key_parts), []).append(request)
        kept = []
        for interaction in base:
            stored = (
                interaction.request if interaction.session else self._filter(interaction.request)
            )
            twins = by_key.get(self._key(stored.key_parts), []) if stored is not None else []
            if interaction.session or not any(
                all_match(new, stored, self._matchers)  # type: ignore[arg-type]
                for new in twins
            ):
                kept.append(interaction)
        return kept

    def _remove_unrewritten(self) -> None:
        with locked(self.path):
            try:
                digest = hashlib.sha256(self.path.read_bytes()).hexdigest()
            except FileNotFoundError:
                return
            if digest == self._start_digest:
                self.path.unlink()
                self._start_digest = None


def _preview(body: bytes) -> str:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(body)} bytes of binary data>"
    return text if len(text) <= 300 else f"{text[:300]}... ({len(text)} characters)"
