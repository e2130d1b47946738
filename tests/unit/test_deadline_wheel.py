"""DeadlineSlots: request deadlines share loop timers, one per slot, and fire on time."""

from __future__ import annotations

import asyncio
from typing import cast

from fake_loop import FakeLoop

from httpdeck.client._deadlines import DeadlineSlots
from httpdeck.client._transports._deadline import RequestTiming


def _setup() -> tuple[FakeLoop, DeadlineSlots]:
    loop = FakeLoop()
    return loop, DeadlineSlots(cast(asyncio.AbstractEventLoop, loop))


def _timing(loop: FakeLoop, wheel: DeadlineSlots, total: float) -> RequestTiming:
    timing = RequestTiming(
        total=total, pool_timeout=None, loop=cast(asyncio.AbstractEventLoop, loop), wheel=wheel
    )
    timing.slot_granted()
    return timing


def test_requests_in_one_slot_share_one_timer() -> None:
    loop, wheel = _setup()
    timings = [_timing(loop, wheel, 30.0) for _ in range(100)]
    loop.now += 0.05
    timings += [_timing(loop, wheel, 30.0) for _ in range(100)]
    assert len(loop.timers) == 1  # 30 s deadlines share 0.3 s slots
    loop.advance(30.0 + 0.3)
    assert all(t.expired for t in timings)


def test_a_deadline_fires_at_most_one_percent_late_and_never_early() -> None:
    loop, wheel = _setup()
    timing = _timing(loop, wheel, 2.0)
    loop.advance(1.999)
    assert not timing.expired
    loop.advance(0.02)
    assert timing.expired


def test_short_timeouts_use_10_ms_slots() -> None:
    loop, wheel = _setup()
    timing = _timing(loop, wheel, 0.1)
    loop.advance(0.099)
    assert not timing.expired
    loop.advance(0.011)
    assert timing.expired


def test_a_finished_request_does_not_expire() -> None:
    loop, wheel = _setup()
    done, running = _timing(loop, wheel, 5.0), _timing(loop, wheel, 5.0)
    done.finish()
    loop.advance(6.0)
    assert not done.expired
    assert running.expired


def test_an_emptied_slot_keeps_its_timer_for_the_next_request() -> None:
    loop, wheel = _setup()
    _timing(loop, wheel, 30.0).finish()
    late = _timing(loop, wheel, 30.0)
    assert len(loop.timers) == 1
    loop.advance(31.0)
    assert late.expired
    assert wheel._slots == {}


def test_expiry_frees_the_connection_when_nobody_is_reading() -> None:
    loop, wheel = _setup()
    closed: list[bool] = []
    timing = _timing(loop, wheel, 1.0)
    timing.on_expire = lambda: closed.append(True)
    loop.advance(1.1)
    assert closed == [True]
