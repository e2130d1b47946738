"""Fault schedules, as a namespace: `from httpdeck.testing import schedules`.

Every schedule is pure and seeded; they compose with `&`, `|` and `~`:

```python
schedules.First(2) | schedules.EveryNth(10)
schedules.Probability(0.2) & ~schedules.OnAttempt(0)
schedules.Sequence("fail", "fail", "ok")
```
"""

from httpdeck.testing.faults._schedules import (
    Always,
    Burst,
    EveryNth,
    First,
    Never,
    OnAttempt,
    Probability,
    Schedule,
    Sequence,
    Tick,
    TimeWindow,
)

__all__ = [
    "Always",
    "Burst",
    "EveryNth",
    "First",
    "Never",
    "OnAttempt",
    "Probability",
    "Schedule",
    "Sequence",
    "Tick",
    "TimeWindow",
]
