"""The cassettes of one test, for the pytest plugin's httpdeck_client / httpdeck_cassette.

Imported only by a test that uses cassettes (it imports vcrpy).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from httpdeck.client import CallNext, HTTPClient, HttpResponse, Request
from httpdeck.testing.cassettes._cassette import Cassette
from httpdeck.testing.cassettes._errors import CassetteMissError
from httpdeck.testing.cassettes._record import RecordReplayInterceptor
from httpdeck.testing.plugin._config import Settings
from httpdeck.testing.plugin._markers import CassetteSpec, cassette_specs
from httpdeck.testing.plugin._stats import RunStats


class _ReplayOnly:
    """A secondary cassette: replays what it has, passes the rest on inward."""

    def __init__(self, inner: RecordReplayInterceptor) -> None:
        self.inner = inner

    async def intercept(self, request: Request, call_next: CallNext) -> HttpResponse:
        try:
            return await self.inner.intercept(request, _never)
        except CassetteMissError:
            return await call_next(request)


async def _never(request: Request) -> HttpResponse:  # pragma: no cover - replay-only
    msg = f"A replay-only cassette tried to record {request!r}."
    raise AssertionError(msg)


class CassetteSet:
    """The cassettes of one test, installed on httpdeck_client.

    The primary cassette sits innermost (next to the transport): it replays,
    records or fails the request. Secondary cassettes sit outside it and only
    replay; what they do not have goes on to the primary.
    """

    def __init__(self, specs: list[CassetteSpec]) -> None:
        self.interceptors = [
            RecordReplayInterceptor(spec.path, record_mode=spec.record_mode, **spec.options)  # type: ignore[arg-type]
            for spec in specs
        ]
        for interceptor, spec in zip(self.interceptors, specs, strict=True):
            interceptor.cassette.looked_at = spec.looked_at or (spec.path,)
        self._installed: list[Any] = []

    @property
    def cassettes(self) -> list[Cassette]:
        return [interceptor.cassette for interceptor in self.interceptors]

    def install(self, client: HTTPClient) -> None:
        primary, *secondary = self.interceptors
        self._installed = [_ReplayOnly(i) for i in secondary] + [primary]
        for interceptor in self._installed:
            client.interceptors.add_interceptor(interceptor)

    def finish(self, client: HTTPClient, stats: RunStats, rootpath: Path) -> None:
        """Uninstall, save what was recorded, and count it all for the summary."""
        for interceptor in self._installed:
            client.interceptors.remove_interceptor(interceptor)
        for interceptor in self.interceptors:
            cassette = interceptor.cassette
            written = interceptor.save()
            try:
                label = cassette.path.resolve().relative_to(rootpath).as_posix()
            except ValueError:
                label = str(cassette.path)
            counts = cassette.play_counts
            stats.add_cassette(
                label,
                loaded=len(counts),
                played=(i for i, n in enumerate(counts) if n),
                replays=cassette.play_count,
                recorded=len(cassette.recorded) if written else 0,
                written=written,
            )


def make_cassettes(item: pytest.Item, settings: Settings) -> CassetteSet:
    try:
        return CassetteSet(cassette_specs(item, settings))
    except (TypeError, ValueError) as exc:
        pytest.fail(f"@pytest.mark.httpdeck_cassette: {exc}", pytrace=False)
