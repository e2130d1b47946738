"""Server-sent events: `ServerSentEvent` and a parser that does no I/O.

`SSEDecoder` turns the bytes of a `text/event-stream` body into events,
following the WHATWG rules: lines end in LF, CRLF or CR (even split across
chunks); `data` lines join with LF; a line starting with `:` is a comment;
one leading space after the colon is dropped; an `id` holding NUL is
ignored; `retry` counts only when it is all ASCII digits and at most
2**31-1 ms (about 24.8 days, the longest timer browsers keep; a longer one
is ignored); an event without data
is not dispatched; a stream that ends mid-event drops that event.

```python
decoder = SSEDecoder()
events = decoder.feed(b"event: tick\\ndata: 1\\n\\n")   # [ServerSentEvent(event='tick', data='1')]
```
"""

from __future__ import annotations

import json as _json
from dataclasses import dataclass
from typing import Any

__all__ = ["SSEDecoder", "ServerSentEvent", "parse_sse"]

_BOM = b"\xef\xbb\xbf"
# The longest reconnection delay taken, in ms (browsers' timer limit); past
# it a `retry` field is ignored, so a 5,000-digit value costs no bignum.
_MAX_RETRY_MS = 2**31 - 1
_MAX_RETRY_DIGITS = len(str(_MAX_RETRY_MS))


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One event of a `text/event-stream`.

    - `event`: the event type, `"message"` when the server named none.
    - `data`: the `data` lines joined with `\\n`.
    - `id`: the last event ID seen on the stream so far (it carries over to
      later events, as in browsers), or None before any `id` line.
    - `retry`: the reconnection delay in milliseconds set by this event's
      `retry` line, else None.
    """

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None

    def json(self) -> Any:
        """`data` decoded as JSON."""
        return _json.loads(self.data)


class SSEDecoder:
    """An incremental `text/event-stream` parser: feed bytes, get events.

    `last_event_id` and `retry` keep the stream's state across events, which
    is what a reconnection sends back (`Last-Event-ID`) and waits for.
    """

    __slots__ = (
        "_data",
        "_event",
        "_event_retry",
        "_pending",
        "_skip_lf",
        "_started",
        "last_event_id",
        "retry",
    )

    def __init__(self) -> None:
        self._pending = b""
        self._skip_lf = False  # the last chunk ended in CR: a leading LF is its pair
        self._started = False
        self._event = ""
        self._data: list[str] = []
        self._event_retry: int | None = None
        self.last_event_id: str | None = None
        self.retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Parse `chunk` and return the events it completes (often none)."""
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
                if not chunk:
                    return []
        buffer = self._pending + chunk if self._pending else chunk
        lines = buffer.splitlines(keepends=True)
        last = lines[-1]
        if last.endswith(b"\n"):
            self._pending = b""
        elif last.endswith(b"\r"):
            self._pending = b""
            self._skip_lf = True
        else:
            self._pending = lines.pop()
        events: list[ServerSentEvent] = []
        for raw in lines:
            line = raw.rstrip(b"\r\n")
            if not self._started:
                self._started = True
                if line.startswith(_BOM):
                    line = line[len(_BOM) :]
            if not line:
                if self._data:
                    events.append(
                        ServerSentEvent(
                            self._event or "message",
                            "\n".join(self._data),
                            self.last_event_id,
                            self._event_retry,
                        )
                    )
                self._event, self._data, self._event_retry = "", [], None
                continue
            if line[:1] == b":":
                continue
            name, colon, value = line.partition(b":")
            if colon and value[:1] == b" ":
                value = value[1:]
            if name == b"data":
                self._data.append(value.decode("utf-8", errors="replace"))
            elif name == b"event":
                self._event = value.decode("utf-8", errors="replace")
            elif name == b"id":
                if b"\x00" not in value:
                    self.last_event_id = value.decode("utf-8", errors="replace")
            elif (
                name == b"retry"
                and value.isdigit()
                and len(value) <= _MAX_RETRY_DIGITS
                and int(value) <= _MAX_RETRY_MS
            ):
                self._event_retry = self.retry = int(value)
        return events

    def close(self) -> list[ServerSentEvent]:
        """End of stream: an event without its closing blank line is dropped."""
        self._pending = b""
        self._event, self._data, self._event_retry = "", [], None
        return []


def parse_sse(body: bytes) -> list[ServerSentEvent]:
    """Every complete event in a whole `text/event-stream` body."""
    decoder = SSEDecoder()
    return decoder.feed(body) + decoder.close()
