"""Metrics: the `MetricsRecorder` protocol the client reports to, and `InMemoryMetrics`.

Names and tags (every tag value is a string):

| name | kind | tags | when |
|---|---|---|---|
| `http.request.duration` | histogram (seconds) | method, host, status_class, attempt | every attempt |
| `http.request.status` | counter | method, host, status_class, attempt | every attempt |
| `http.client.retries` | counter | method, host, reason | a retry is scheduled |
| `http.client.retries_exhausted` | counter | method, host | the retry policy gave up |
| `http.client.circuit.state_changes` | counter | breaker, state | a breaker changed state |
| `http.client.circuit.rejected` | counter | breaker | an open breaker refused a request |
| `http.client.bulkhead.rejected` | counter | bulkhead | a full bulkhead refused a request |

`status_class` is `1xx` ... `5xx`, or `error` when the attempt raised.
`host` is the URL's host, with `:port` when the port is not the scheme's
default. Adapting to Prometheus, StatsD or OpenTelemetry is two methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

REQUEST_DURATION = "http.request.duration"
REQUEST_STATUS = "http.request.status"
RETRIES = "http.client.retries"
RETRIES_EXHAUSTED = "http.client.retries_exhausted"
CIRCUIT_STATE_CHANGES = "http.client.circuit.state_changes"
CIRCUIT_REJECTED = "http.client.circuit.rejected"
BULKHEAD_REJECTED = "http.client.bulkhead.rejected"

Tags = Mapping[str, str]


@runtime_checkable
class MetricsRecorder(Protocol):
    """Where the client reports metrics. Both methods must be cheap and must not raise.

    ```python
    class PrometheusRecorder:
        def counter(self, name, tags, value=1.0):
            COUNTERS[name].labels(**tags).inc(value)

        def histogram(self, name, value, tags):
            HISTOGRAMS[name].labels(**tags).observe(value)

    client = HTTPClient(metrics=PrometheusRecorder())
    ```
    """

    def counter(self, name: str, tags: Tags, value: float = 1.0) -> None:
        """Add `value` to the counter `name` for this tag set."""
        ...

    def histogram(self, name: str, value: float, tags: Tags) -> None:
        """Record one observation of `value` for the histogram `name`."""
        ...


_Key = tuple[str, tuple[tuple[str, str], ...]]


def _key(name: str, tags: Tags) -> _Key:
    return name, tuple(sorted(tags.items()))


def _matches(series: tuple[tuple[str, str], ...], wanted: Tags) -> bool:
    have = dict(series)
    return all(have.get(k) == v for k, v in wanted.items())


class InMemoryMetrics:
    """A `MetricsRecorder` that keeps everything in memory, for tests.

    ```python
    metrics = InMemoryMetrics()
    client = HTTPClient(metrics=metrics)
    ...
    assert metrics.count("http.request.status", status_class="5xx") == 2
    assert metrics.count("http.client.retries") == 1
    ```
    """

    def __init__(self) -> None:
        self.counters: dict[_Key, float] = {}
        self.histograms: dict[_Key, list[float]] = {}

    def counter(self, name: str, tags: Tags, value: float = 1.0) -> None:
        """Add `value` to the counter `name` for this tag set (read it back with `count()`)."""
        key = _key(name, tags)
        self.counters[key] = self.counters.get(key, 0.0) + value

    def histogram(self, name: str, value: float, tags: Tags) -> None:
        """Keep one observation of `value` for `name` and this tag set (see `values()`)."""
        self.histograms.setdefault(_key(name, tags), []).append(value)

    def count(self, name: str, **tags: str) -> float:
        """The sum of counter `name` over every series whose tags include `tags`."""
        return sum(
            value
            for (series_name, series), value in self.counters.items()
            if series_name == name and _matches(series, tags)
        )

    def values(self, name: str, **tags: str) -> list[float]:
        """Every observation of histogram `name` over series whose tags include `tags`."""
        return [
            value
            for (series_name, series), values in self.histograms.items()
            if series_name == name and _matches(series, tags)
            for value in values
        ]

    def series(self, name: str) -> list[dict[str, str]]:
        """The tag sets seen for `name` (counters and histograms), sorted."""
        seen = {
            series
            for store in (self.counters, self.histograms)
            for (series_name, series) in store
            if series_name == name
        }
        return [dict(series) for series in sorted(seen)]

    def clear(self) -> None:
        """Forget every counter and observation."""
        self.counters.clear()
        self.histograms.clear()
