"""The fault catalog, as a namespace: `from httpdeck.testing import faults`.

```python
faults.ConnectionReset(after_send=True)
faults.Status(503, retry_after=1)
faults.Timeout("read")
faults.Latency(0.2, jitter=0.05)
```

See docs/faults.md for the table of what each fault produces.
"""

from httpdeck.testing.faults._body import (
    BadContentLength,
    InvalidJSON,
    SlowDrip,
    StallBody,
    TruncatedBody,
    WrongContentType,
)
from httpdeck.testing.faults._catalog import (
    BlackHole,
    ConnectionRefused,
    ConnectionReset,
    Disconnect,
    DNSFailure,
    Fault,
    FaultEnv,
    Latency,
    PoolExhausted,
    Status,
    Timeout,
    TLSFailure,
)

__all__ = [
    "BadContentLength",
    "BlackHole",
    "ConnectionRefused",
    "ConnectionReset",
    "DNSFailure",
    "Disconnect",
    "Fault",
    "FaultEnv",
    "InvalidJSON",
    "Latency",
    "PoolExhausted",
    "SlowDrip",
    "StallBody",
    "Status",
    "TLSFailure",
    "Timeout",
    "TruncatedBody",
    "WrongContentType",
]
